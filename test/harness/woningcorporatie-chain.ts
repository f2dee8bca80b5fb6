import {
  startWoningcorporatieSimulator,
  type WoningcorporatieSimulator,
} from '@ketenhub/simulator-woningcorporatie';
import { woningcorporatieModule } from '@ketenhub/adapter-woningcorporatie';
import {
  createLogger,
  runModules,
  type HubConfig,
  type Logger,
  type RunningModules,
} from '@ketenhub/kit';
import { createPseudonymizer } from '@ketenhub/kit/privacy';
import { startTestChain, type TestChain } from './chain.ts';
import { TEST_SERVICE, startIdentityFeed, startOrganisations } from './organisations.ts';

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
  const {
    sims: corporaties,
    organisations,
    connect,
  } = await startOrganisations(TEST_CORPORATIES, ({ id, token }) =>
    startWoningcorporatieSimulator({
      id,
      token,
      today: opts.today ?? '2026-10-01',
      retryDelayMs: 100,
    }),
  );
  const config: HubConfig = {
    ...chain.config,
    partners: { ...chain.config.partners, woningcorporatie: { organisations } },
    services: {
      ...chain.config.services,
      woningcorporatie: TEST_SERVICE,
    },
  };
  const woningcorporatie = await runModules(config, [woningcorporatieModule()], { logger });
  connect(woningcorporatie.url!);
  // The corporaties get zoektochten only for persons the hub knows for the aanvraag's gemeente;
  // this chain runs no DUO or Kredietbank service to bind them, so it runs the identity consumer.
  const identities = await startIdentityFeed(chain.nats.url, config.hub.pseudonymKey, logger);
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
      for (const sim of corporaties.values()) await sim.close();
      await chain.stop();
    },
  };
}
