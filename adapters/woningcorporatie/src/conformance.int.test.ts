import { fileURLToPath } from 'node:url';
import type { WoningAangevraagd } from '@ketenhub/contracts/generated';
import { generateApiKey } from '@ketenhub/kit';
import {
  CONFORMANCE_GEMEENTEN,
  CONFORMANCE_SERVICE,
  describeConformance,
  sampleEvent,
} from '@ketenhub/kit/testing';
import { startWoningcorporatieSimulator } from '@ketenhub/simulator-woningcorporatie';
import { GOLDEN_CASES, GOLDEN_IDS } from './golden-context.ts';
import { woningcorporatieModule } from './module.ts';
import { SCHEMA, aanvraagToZoektocht } from './translate.ts';

const CORPORATIE = 'corporatie-conformance';
const KEY = generateApiKey();
const TOKEN = generateApiKey();

describeConformance({
  module: woningcorporatieModule,
  async setup({ base }) {
    const sim = await startWoningcorporatieSimulator({ id: CORPORATIE, token: TOKEN });
    return {
      config: {
        ...base,
        partners: {
          ...base.partners,
          woningcorporatie: {
            organisations: [
              {
                id: CORPORATIE,
                naam: CORPORATIE,
                // Contracted by every gemeente of the run: a refused person is the tenant
                // check's doing, never the routing rule's.
                gemeenten: [...CONFORMANCE_GEMEENTEN],
                endpoint: { url: sim.url, token: TOKEN, timeoutMs: 3_000 },
                credential: { apiKey: KEY },
              },
            ],
          },
        },
        services: { ...base.services, woningcorporatie: CONFORMANCE_SERVICE },
      },
      edgeKey: KEY,
      simulator: {
        url: sim.url,
        received: async (gemeente) =>
          sim.zoektochten().filter((z) => !gemeente || z.zoektocht.gemeenteCode === gemeente)
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
    // The corporatie gets a zoektocht pseudonym, never the hub's, nor what it has no purpose for.
    forbiddenFields: ['inburgeraarId', 'aanvraagId', 'bsn', 'vnummer', 'iban', 'gezondheid'],
    ownSchemas: [SCHEMA.zoektocht],
    requests: {
      'nl.inburgering.woning.aangevraagd': (data) =>
        aanvraagToZoektocht(data as Partial<WoningAangevraagd>, GOLDEN_IDS),
    },
  },
  outbound: {
    // Every aanvraag goes to the one corporatie (it names none): the zoektocht.
    deliver: (person) => {
      const event = sampleEvent('nl.inburgering.woning.aangevraagd', person);
      delete (event.data as { corporatie?: string }).corporatie;
      return { event, partner: 'gemeente-kvs' };
    },
    tenant: 'person-register',
  },
});
