import { createLogger, loadHubConfig, stopOnSignals } from '@ketenhub/kit';
import { startCoaService } from './service.ts';

const logger = createLogger('coa');
const service = await startCoaService(loadHubConfig(), { logger });
stopOnSignals(() => service.stop(), logger);
