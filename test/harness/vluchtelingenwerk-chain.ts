import {
  startVluchtelingenwerkSimulator,
  type VluchtelingenwerkSimulator,
} from '@ketenhub/simulator-vluchtelingenwerk';
import { vluchtelingenwerkModule } from '@ketenhub/adapter-vluchtelingenwerk';
import {
  createLogger,
  runModules,
  type HubConfig,
  type Logger,
  type RunningModules,
} from '@ketenhub/kit';
import { TEST_SERVICE, startOrganisations } from './organisations.ts';
import { createPseudonymizer } from '@ketenhub/kit/privacy';
import { startDuoTestChain, type DuoTestChain } from './duo-chain.ts';

/** Den Bosch serves gm0796 and gm0865, Langstraat gm0797. */
export const TEST_VWN_OFFICES = {
  'vwn-den-bosch': ['gm0796', 'gm0865'],
  'vwn-langstraat': ['gm0797'],
} as const;
export type TestVwnOffice = keyof typeof TEST_VWN_OFFICES;

/** The signing goes on to DUO at once, except in gm0796, where the KVS confirms it. */
export const TEST_PVT_BEVESTIGING = { standaard: 'direct', gemeenten: { gm0796: 'kvs' } } as const;

export interface VluchtelingenwerkTestChain extends DuoTestChain {
  offices: Map<TestVwnOffice, VluchtelingenwerkSimulator>;
  vluchtelingenwerk: RunningModules;
  /** The hub's person pseudonym of a BSN. */
  idOf(bsn: string): string;
  stop(): Promise<void>;
}

/**
 * The DUO test chain (NATS, the KVS simulator checking the delivery contract, COA, the KVS
 * delivery, the DUO simulator and the hub's DUO module, which also binds persons to their
 * gemeente) plus two VluchtelingenWerk office simulators on a simulated clock and the hub's
 * vluchtelingenwerk module with the pvtBevestiging rule above.
 */
export async function startVluchtelingenwerkTestChain(
  opts: { logger?: Logger; today?: string } = {},
): Promise<VluchtelingenwerkTestChain> {
  const logger = opts.logger ?? createLogger('test', { level: process.env.LOG_LEVEL ?? 'error' });
  const chain = await startDuoTestChain({ logger });
  const {
    sims: offices,
    organisations,
    connect,
  } = await startOrganisations(TEST_VWN_OFFICES, ({ id, token }) =>
    startVluchtelingenwerkSimulator({
      id,
      token,
      today: opts.today ?? '2025-01-06',
      retryDelayMs: 100,
    }),
  );
  const config: HubConfig = {
    ...chain.config,
    partners: {
      ...chain.config.partners,
      vluchtelingenwerk: {
        organisations,
        settings: { pvtBevestiging: structuredClone(TEST_PVT_BEVESTIGING) },
      },
    },
    services: {
      ...chain.config.services,
      vluchtelingenwerk: TEST_SERVICE,
    },
  };
  const vluchtelingenwerk = await runModules(config, [vluchtelingenwerkModule()], { logger });
  connect(vluchtelingenwerk.url!);
  const pseudonymizer = createPseudonymizer(config.hub.pseudonymKey);
  return {
    ...chain,
    config,
    offices,
    vluchtelingenwerk,
    idOf: (bsn) => pseudonymizer.inburgeraarId({ bsn, vnummer: '' }),
    async stop() {
      await vluchtelingenwerk.stop();
      for (const sim of offices.values()) await sim.close();
      await chain.stop();
    },
  };
}
