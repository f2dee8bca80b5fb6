import { fileURLToPath } from 'node:url';
import type { PipVastgesteld } from '@ketenhub/contracts/generated';
import { generateApiKey } from '@ketenhub/kit';
import { CONFORMANCE_SERVICE, describeConformance, sampleEvent } from '@ketenhub/kit/testing';
import { taalaanbiederModule } from './module.ts';
import { startTaalaanbiederSimulator } from '@ketenhub/simulator-taalaanbieder';
import { SCHEMA, pipToAanmelding } from './translate.ts';

const SCHOOL = 'taalschool-conformance';
const KEY = generateApiKey();
const TOKEN = generateApiKey();

describeConformance({
  module: taalaanbiederModule,
  async setup({ base }) {
    const school = await startTaalaanbiederSimulator({ id: SCHOOL, token: TOKEN });
    return {
      config: {
        ...base,
        partners: {
          ...base.partners,
          taalaanbieder: {
            organisations: [
              {
                id: SCHOOL,
                naam: SCHOOL,
                endpoint: { url: school.url, token: TOKEN, timeoutMs: 3_000 },
                credential: { apiKey: KEY },
              },
            ],
          },
        },
        services: { ...base.services, taalaanbieder: CONFORMANCE_SERVICE },
      },
      edgeKey: KEY,
      simulator: {
        url: school.url,
        received: async (gemeente) =>
          school.aanmeldingen().filter((a) => !gemeente || a.gemeenteCode === gemeente).length,
        close: () => school.close(),
      },
      started: (running) => school.setHub(running.url!, KEY),
    };
  },
  openapi: fileURLToPath(new URL('../openapi.yaml', import.meta.url)),
  privacy: {
    // The school gets a traject pseudonym, never the hub's, nor what it has no purpose for.
    forbiddenFields: ['inburgeraarId', 'bsn', 'vnummer', 'iban', 'uitkering', 'gezondheid'],
    ownSchemas: [SCHEMA.aanmelding],
    requests: {
      'nl.inburgering.pip.vastgesteld': (data) =>
        pipToAanmelding(data as PipVastgesteld, {
          trajectId: `tr-${'0'.repeat(32)}`,
          aanmeldingId: '4b3c2a1e-0000-4000-8000-000000000001',
        }),
    },
  },
  outbound: {
    // A PIP naming the school, with the learner's name: the aanmelding.
    deliver: (person) => ({
      event: sampleEvent('nl.inburgering.pip.vastgesteld', person, {
        taalaanbieder: SCHOOL,
        deelnemer: { voornamen: 'Lina', geslachtsnaam: 'Haddad' },
      }),
      partner: 'gemeente-kvs',
    }),
    tenant: 'person-register',
  },
});
