import { createLogger, loadHubConfig, stopOnSignals } from '@ketenhub/kit';
import { startAdminService } from './service.ts';

const logger = createLogger('admin');
const service = await startAdminService(loadHubConfig(), { logger });
stopOnSignals(() => service.stop(), logger);
