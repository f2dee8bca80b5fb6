import { startDuoSimulator, type DuoSimulator } from '@ketenhub/simulator-duo';
import {
  createLogger,
  generateApiKey,
  type HubConfig,
  type Logger,
  runModules,
  type RunningModules,
} from '@ketenhub/kit';
import { getFreePort } from '@ketenhub/kit/processes';
import { TEST_GEMEENTEN, startTestChain, type TestChain } from './chain.ts';
import { duoModule } from '@ketenhub/adapter-duo';

export const TEST_DUO_OIN = '00000001003214345000';

export interface DuoTestChain extends TestChain {
  duoSim: DuoSimulator;
  duoService: RunningModules;
  duoApiKey: string;
  /** OIN of a test gemeente (gm0797 → its OIN). */
  oinOf(gemeente: string): string;
}

/** The test chain plus the DUO simulator and the hub's DUO adapter, wired to each other. */
export async function startDuoTestChain(
  opts: { logger?: Logger; today?: () => string; admin?: boolean } = {},
): Promise<DuoTestChain> {
  const logger = opts.logger ?? createLogger('test', { level: process.env.LOG_LEVEL ?? 'error' });
  const chain = await startTestChain({ logger, ...(opts.admin ? { admin: true } : {}) });
  const duoApiKey = generateApiKey();
  const duoPort = await getFreePort();
  const oinOf = (g: string) => chain.config.gemeenten.find((x) => x.code === g)!.oin!;
  const duoSim = await startDuoSimulator({
    oin: TEST_DUO_OIN,
    gemeenten: Object.fromEntries(TEST_GEMEENTEN.map((g) => [g, oinOf(g)])),
    hubNotificatieUrl: `http://127.0.0.1:${duoPort}/v1`,
    hubApiKey: duoApiKey,
    processingDelayMs: 50,
  });
  const config: HubConfig = {
    ...chain.config,
    partners: {
      ...chain.config.partners,
      duo: {
        endpoint: { url: duoSim.baseUrl, timeoutMs: 3000 },
        credential: { apiKey: duoApiKey },
        settings: { oin: TEST_DUO_OIN },
      },
    },
    services: {
      ...chain.config.services,
      duo: {
        port: duoPort,
        opsPort: 0,
        concurrency: 8,
        ackWaitMs: 10_000,
        retry: { delaysMs: [100, 200, 400], maxAttempts: 30 },
        breaker: { resetTimeoutMs: 500, volumeThreshold: 5, errorThresholdPercentage: 50 },
      },
    },
  };
  const duoService = await runModules(
    config,
    [duoModule(opts.today ? { today: opts.today } : {})],
    { logger },
  );
  return {
    ...chain,
    config,
    duoSim,
    duoService,
    duoApiKey,
    oinOf,
    async stop() {
      await duoService.stop();
      await duoSim.close();
      await chain.stop();
    },
  };
}
