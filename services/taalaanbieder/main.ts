import { createLogger, loadHubConfig, stopOnSignals } from '@ketenhub/kit';
import { startTaalaanbiederService } from './service.ts';

const logger = createLogger('taalaanbieder');
const service = await startTaalaanbiederService(loadHubConfig(), { logger });
stopOnSignals(() => service.stop(), logger);
