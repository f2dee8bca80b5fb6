import { createLogger, loadHubConfig, stopOnSignals } from '@ketenhub/kit';
import { startDuoService } from './service.ts';

const logger = createLogger('duo');
const service = await startDuoService(loadHubConfig(), { logger });
stopOnSignals(() => service.stop(), logger);
