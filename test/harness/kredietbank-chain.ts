import {
  startKredietbankSimulator,
  type KredietbankSimulator,
} from '@ketenhub/simulator-kredietbank';
import {
  createLogger,
  generateApiKey,
  type HubConfig,
  type Logger,
  runModules,
  type RunningModules,
} from '@ketenhub/kit';
import { getFreePort } from '@ketenhub/kit/processes';
import { startTestChain, type TestChain } from './chain.ts';
import { kredietbankModule } from '@ketenhub/adapter-kredietbank';

export interface KredietbankTestChain extends TestChain {
  kbSim: KredietbankSimulator;
  kbService: RunningModules;
  /** The key the Kredietbank presents at the hub's webhook. */
  kbApiKey: string;
  /** The token the hub presents at the Kredietbank. */
  kbToken: string;
}

/** The test chain plus the Kredietbank simulator and the hub's Kredietbank adapter, wired. */
export async function startKredietbankTestChain(
  opts: { logger?: Logger; today?: string } = {},
): Promise<KredietbankTestChain> {
  const logger = opts.logger ?? createLogger('test', { level: process.env.LOG_LEVEL ?? 'error' });
  const chain = await startTestChain({ logger });
  const kbApiKey = generateApiKey();
  const kbToken = generateApiKey();
  const kbPort = await getFreePort();
  const kbSim = await startKredietbankSimulator({
    hubWebhookUrl: `http://127.0.0.1:${kbPort}/v1/webhooks`,
    hubApiKey: kbApiKey,
    token: kbToken,
    webhookRetryDelayMs: 100,
    ...(opts.today ? { today: opts.today } : {}),
  });
  const config: HubConfig = {
    ...chain.config,
    partners: {
      ...chain.config.partners,
      kredietbank: {
        endpoint: { url: kbSim.baseUrl, token: kbToken, timeoutMs: 3000 },
        credential: { apiKey: kbApiKey },
      },
    },
    services: {
      ...chain.config.services,
      kredietbank: {
        port: kbPort,
        opsPort: 0,
        concurrency: 4,
        ackWaitMs: 10_000,
        retry: { delaysMs: [100, 200, 400], maxAttempts: 30 },
        breaker: { resetTimeoutMs: 500, volumeThreshold: 5, errorThresholdPercentage: 50 },
      },
    },
  };
  const kbService = await runModules(config, [kredietbankModule()], { logger });
  return {
    ...chain,
    config,
    kbSim,
    kbService,
    kbApiKey,
    kbToken,
    async stop() {
      await kbService.stop();
      await kbSim.close();
      await chain.stop();
    },
  };
}
