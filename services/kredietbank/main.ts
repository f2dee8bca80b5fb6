import { createLogger, loadHubConfig, stopOnSignals } from '@ketenhub/kit';
import { startKredietbankService } from './service.ts';

const logger = createLogger('kredietbank');
const service = await startKredietbankService(loadHubConfig(), { logger });
stopOnSignals(() => service.stop(), logger);
