import {
  startWoningcorporatieSimulator,
  type WoningcorporatieSimulator,
} from '@ketenhub/simulator-woningcorporatie';
import { woningcorporatieModule } from '@ketenhub/adapter-woningcorporatie';
import {
  DEFAULT_BACKOFF,
  STREAMS,
  connectNats,
  createLogger,
  generateApiKey,
  hashApiKey,
  runModules,
  runService,
  type HubConfig,
  type Logger,
  type PartnerOrganisationConfig,
  type RunningModules,
} from '@ketenhub/kit';
import {
  createIdentityHandler,
  createPseudonymizer,
  openIdentityStore,
} from '@ketenhub/kit/privacy';
import { startTestChain, type TestChain } from './chain.ts';

/** Woonpoort is contracted by gm0797 and gm0865, Stadswonen by gm0796 and gm0797. */
export const TEST_CORPORATIES = {
  woonpoort: ['gm0797', 'gm0865'],
  stadswonen: ['gm0796', 'gm0797'],
} as const;
export type TestCorporatie = keyof typeof TEST_CORPORATIES;

export interface WoningcorporatieTestChain extends TestChain {
  corporaties: Map<TestCorporatie, WoningcorporatieSimulator>;
  woningcorporatie: RunningModules;
  /** The hub's person pseudonym of a BSN. */
  idOf(bsn: string): string;
  stop(): Promise<void>;
}

/**
 * The test chain (NATS, the KVS simulator checking the delivery contract, COA and the KVS
 * delivery) plus two woningcorporatie simulators on a simulated clock and the hub's
 * woningcorporatie module, and the identity consumer that binds persons to their gemeente.
 */
export async function startWoningcorporatieTestChain(
  opts: { logger?: Logger; today?: string } = {},
): Promise<WoningcorporatieTestChain> {
  const logger = opts.logger ?? createLogger('test', { level: process.env.LOG_LEVEL ?? 'error' });
  const chain = await startTestChain({ logger });
  const corporaties = new Map<TestCorporatie, WoningcorporatieSimulator>();
  const keys = new Map<TestCorporatie, string>();
  const organisations: PartnerOrganisationConfig[] = [];
  for (const [id, gemeenten] of Object.entries(TEST_CORPORATIES) as [
    TestCorporatie,
    readonly string[],
  ][]) {
    const token = generateApiKey();
    const key = generateApiKey();
    const sim = await startWoningcorporatieSimulator({
      id,
      token,
      today: opts.today ?? '2026-10-01',
      retryDelayMs: 100,
    });
    corporaties.set(id, sim);
    keys.set(id, key);
    organisations.push({
      id,
      naam: id,
      gemeenten: [...gemeenten],
      endpoint: { url: sim.url, token, timeoutMs: 3000 },
      credential: { apiKeyHash: hashApiKey(key) },
    });
  }
  const config: HubConfig = {
    ...chain.config,
    partners: { ...chain.config.partners, woningcorporatie: { organisations } },
    services: {
      ...chain.config.services,
      woningcorporatie: {
        port: 0,
        opsPort: 0,
        concurrency: 8,
        ackWaitMs: 10_000,
        retry: { delaysMs: [100, 200, 400], maxAttempts: 30 },
        breaker: { resetTimeoutMs: 500, volumeThreshold: 5, errorThresholdPercentage: 50 },
      },
    },
  };
  const woningcorporatie = await runModules(config, [woningcorporatieModule()], { logger });
  for (const [id, sim] of corporaties) sim.setHub(woningcorporatie.url!, keys.get(id)!);
  // The corporaties get zoektochten only for persons the hub knows for the aanvraag's gemeente;
  // this chain runs no DUO or Kredietbank service to bind them, so it runs the identity consumer.
  const nc = await connectNats(chain.nats.url, 'test-woningcorporatie-identities');
  const identities = await runService({
    service: 'test-identiteiten',
    partner: 'test',
    flow: 'test',
    nc,
    consumer: {
      stream: STREAMS.keten,
      durable: 'test-identiteiten',
      filterSubject: 'keten.*.inburgeraar.>',
      ackWaitMs: 10_000,
    },
    backoff: { ...DEFAULT_BACKOFF, delaysMs: [100, 200, 400] },
    handler: createIdentityHandler(
      await openIdentityStore(nc, { ttlDays: 1 }),
      createPseudonymizer(config.hub.pseudonymKey),
    ),
    logger,
  });
  const pseudonymizer = createPseudonymizer(config.hub.pseudonymKey);
  return {
    ...chain,
    config,
    corporaties,
    woningcorporatie,
    idOf: (bsn) => pseudonymizer.inburgeraarId({ bsn, vnummer: '' }),
    async stop() {
      await woningcorporatie.stop();
      await identities.stop();
      await nc.drain();
      for (const sim of corporaties.values()) await sim.close();
      await chain.stop();
    },
  };
}
