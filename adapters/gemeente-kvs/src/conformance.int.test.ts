import { fileURLToPath } from 'node:url';
import { deliveryViolations } from '@ketenhub/contracts';
import { CONFORMANCE_SERVICE, describeConformance, sampleEvent } from '@ketenhub/kit/testing';
import { KVS_PARTNER } from './deliver.ts';
import { kvsModule } from './module.ts';
import { startKvsSimulator } from '@ketenhub/simulator-gemeente-kvs';

const KEY = 'conformance-kvs-key-0123456789';

describeConformance({
  module: kvsModule,
  async setup({ base }) {
    const kvs = await startKvsSimulator({
      gemeenten: base.gemeenten.map((g) => g.code),
      validate: (event) => deliveryViolations(KVS_PARTNER, event),
    });
    return {
      config: {
        ...base,
        partners: {
          ...base.partners,
          'gemeente-kvs': {
            organisations: base.gemeenten.map((g) => ({
              id: `kvs-${g.code}`,
              gemeenten: [g.code],
              endpoint: { url: kvs.endpointFor(g.code), timeoutMs: 5_000 },
              credential: { apiKey: `${KEY}-${g.code}` },
            })),
          },
        },
        services: { ...base.services, 'gemeente-kvs': CONFORMANCE_SERVICE },
      },
      edgeKey: `${KEY}-gm0797`,
      simulator: {
        url: kvs.url,
        received: async (gemeente) => kvs.received(gemeente).length,
        close: () => kvs.close(),
      },
    };
  },
  privacy: {
    // The KVS gets the COA casemanager whole (contact-ketenpartner): their `telefoon` is not
    // the inburgeraar's (contact), which the KVS never gets.
    ownSchemas: ['https://contracts.ketenhub.nl/events/inburgeraar.overgedragen.schema.json'],
  },
  openapi: fileURLToPath(new URL('../openapi.yaml', import.meta.url)),
  outbound: {
    // DUO's outcome of a PIP, for the gemeente's KVS.
    deliver: (person) => ({
      event: sampleEvent('nl.inburgering.pip.geregistreerd', person),
      partner: 'duo',
    }),
    tenant: 'subject',
  },
});
