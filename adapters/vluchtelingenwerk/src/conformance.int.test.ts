import { fileURLToPath } from 'node:url';
import type { BegeleidingAangevraagd } from '@ketenhub/contracts/generated';
import { generateApiKey } from '@ketenhub/kit';
import {
  CONFORMANCE_GEMEENTEN,
  CONFORMANCE_SERVICE,
  describeConformance,
  sampleEvent,
} from '@ketenhub/kit/testing';
import { startVluchtelingenwerkSimulator } from '@ketenhub/simulator-vluchtelingenwerk';
import { GOLDEN_CASES, GOLDEN_IDS } from './golden-context.ts';
import { vluchtelingenwerkModule } from './module.ts';
import { AANGEVRAAGD, SCHEMA, aanvraagToBegeleiding } from './translate.ts';

const VESTIGING = 'vwn-conformance';
const KEY = generateApiKey();
const TOKEN = generateApiKey();

describeConformance({
  module: vluchtelingenwerkModule,
  async setup({ base }) {
    const sim = await startVluchtelingenwerkSimulator({ id: VESTIGING, token: TOKEN });
    return {
      config: {
        ...base,
        partners: {
          ...base.partners,
          vluchtelingenwerk: {
            organisations: [
              {
                id: VESTIGING,
                naam: VESTIGING,
                // The office of every gemeente of the run: a refused person is the tenant
                // check's doing, never the routing rule's.
                gemeenten: [...CONFORMANCE_GEMEENTEN],
                endpoint: { url: sim.url, token: TOKEN, timeoutMs: 3_000 },
                credential: { apiKey: KEY },
              },
            ],
            settings: { pvtBevestiging: { standaard: 'direct', gemeenten: { gm0796: 'kvs' } } },
          },
        },
        services: { ...base.services, vluchtelingenwerk: CONFORMANCE_SERVICE },
      },
      edgeKey: KEY,
      simulator: {
        url: sim.url,
        received: async (gemeente) =>
          sim.begeleidingen().filter((b) => !gemeente || b.aanvraag.gemeenteCode === gemeente)
            .length,
        close: () => sim.close(),
      },
      started: (running) => sim.setHub(running.url!, KEY),
    };
  },
  golden: {
    dir: fileURLToPath(new URL('../fixtures/golden/', import.meta.url)),
    cases: GOLDEN_CASES,
  },
  openapi: fileURLToPath(new URL('../openapi.yaml', import.meta.url)),
  privacy: {
    // The office gets a begeleiding pseudonym, never the hub's, nor what it has no purpose for.
    forbiddenFields: ['inburgeraarId', 'aanvraagId', 'bsn', 'vnummer', 'iban', 'gezondheid'],
    ownSchemas: [SCHEMA.aanvraag],
    requests: {
      [AANGEVRAAGD]: (data) =>
        aanvraagToBegeleiding(data as Partial<BegeleidingAangevraagd>, GOLDEN_IDS),
    },
  },
  outbound: {
    deliver: (person) => ({ event: sampleEvent(AANGEVRAAGD, person), partner: 'gemeente-kvs' }),
    tenant: 'person-register',
  },
});
