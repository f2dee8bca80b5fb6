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

/** The Kredietbank simulator and the hub's Kredietbank module, wired to a running chain. */
export interface KredietbankPart {
  kbSim: KredietbankSimulator;
  kbService: RunningModules;
  /** The key the Kredietbank presents at the hub's webhook. */
  kbApiKey: string;
  /** The token the hub presents at the Kredietbank. */
  kbToken: string;
  /** The chain's configuration with the Kredietbank's partner and service blocks. */
  config: HubConfig;
  stop(): Promise<void>;
}

export interface KredietbankTestChain extends TestChain, Omit<KredietbankPart, 'stop'> {}

/**
 * Adds the Kredietbank simulator and the hub's Kredietbank module to a running chain (its NATS
 * and configuration): `chain` may be the bare test chain or one with other partners.
 */
export async function addKredietbank(
  chain: Pick<TestChain, 'config'>,
  opts: { logger: Logger; today?: string },
): Promise<KredietbankPart> {
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
  const kbService = await runModules(config, [kredietbankModule()], { logger: opts.logger });
  return {
    kbSim,
    kbService,
    kbApiKey,
    kbToken,
    config,
    async stop() {
      await kbService.stop();
      await kbSim.close();
    },
  };
}

/** The test chain plus the Kredietbank simulator and the hub's Kredietbank adapter, wired. */
export async function startKredietbankTestChain(
  opts: { logger?: Logger; today?: string } = {},
): Promise<KredietbankTestChain> {
  const logger = opts.logger ?? createLogger('test', { level: process.env.LOG_LEVEL ?? 'error' });
  const chain = await startTestChain({ logger });
  const { stop, ...kb } = await addKredietbank(chain, { logger, ...opts });
  return {
    ...chain,
    ...kb,
    async stop() {
      await stop();
      await chain.stop();
    },
  };
}
