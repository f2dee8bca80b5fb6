import { fileURLToPath } from 'node:url';
import { generateApiKey } from '@ketenhub/kit';
import { getFreePort } from '@ketenhub/kit/processes';
import { CONFORMANCE_SERVICE, chainEvent, describeConformance } from '@ketenhub/kit/testing';
import { duoModule } from './module.ts';
import { startDuoSimulator, type DuoSimulator } from '@ketenhub/simulator-duo';

const DUO_OIN = '00000001003214345000';
const KEY = generateApiKey();
let duo: DuoSimulator;
let pips = 0;

describeConformance({
  module: () => duoModule({ today: () => '2026-11-23' }),
  async setup({ base }) {
    const port = await getFreePort();
    duo = await startDuoSimulator({
      oin: DUO_OIN,
      gemeenten: Object.fromEntries(base.gemeenten.map((g) => [g.code, g.oin!])),
      hubNotificatieUrl: `http://127.0.0.1:${port}/v1`,
      hubApiKey: KEY,
      processingDelayMs: 50,
    });
    return {
      config: {
        ...base,
        partners: {
          ...base.partners,
          duo: {
            endpoint: { url: duo.baseUrl, timeoutMs: 3_000 },
            credential: { apiKey: KEY },
            settings: { oin: DUO_OIN },
          },
        },
        services: { ...base.services, duo: { ...CONFORMANCE_SERVICE, port } },
      },
      edgeKey: KEY,
      // DUO's Notificatie API routes on Digikoppeling headers.
      edgeHeaders: {
        bron: DUO_OIN,
        doel: base.gemeenten[0]!.oin!,
        berichtId: '5e0c1d9e-3a4b-4c5d-8e6f-7a8b9c0d1e2f',
      },
      simulator: {
        url: duo.url,
        // PIPs DUO registered, per gemeente.
        received: async (gemeente) =>
          duo
            .requests()
            .filter(
              (r) =>
                r.method === 'POST' &&
                r.api === 'PIP' &&
                r.status < 300 &&
                (!gemeente || `gm${r.gemeentecode}` === gemeente),
            ).length,
        close: () => duo.close(),
      },
    };
  },
  openapi: fileURLToPath(new URL('../openapi.yaml', import.meta.url)),
  outbound: {
    // DUO knows the person, settled in the gemeente.
    prepare: (person) => {
      duo.seed({
        bsn: person.bsn,
        vNummer: Number(person.bsn.slice(1)),
        gemeentecode: person.gemeente.slice(2),
        vestigingsdatum: '2026-09-01',
      });
    },
    // The gemeente's PIP: DUO registers it (a non-idempotent POST).
    deliver: (person) => ({
      event: chainEvent('nl.inburgering.pip.vastgesteld', person.gemeente, {
        inburgeraarId: person.id,
        gemeenteCode: person.gemeente,
        pipId: `PIP-${++pips}`,
        dagtekening: '2026-10-15',
        leerroute: 'b1-route',
        niveau: 'B1',
      }),
      partner: 'gemeente-kvs',
    }),
    tenant: 'person-register',
    // The melding itself; the rule checks read from DUO first.
    faultScope: { api: 'PIP', method: 'POST' },
  },
});
