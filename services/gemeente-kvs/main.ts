import { createLogger, loadHubConfig, stopOnSignals } from '@ketenhub/kit';
import { startKvsService } from './service.ts';

const logger = createLogger('gemeente-kvs');
const service = await startKvsService(loadHubConfig(), { logger });
stopOnSignals(() => service.stop(), logger);
