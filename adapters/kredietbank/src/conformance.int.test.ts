import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import type {
  OntzorgenAangevraagd,
  OntzorgenBeeindigingAangevraagd,
} from '@ketenhub/contracts/generated';
import { generateApiKey } from '@ketenhub/kit';
import { getFreePort } from '@ketenhub/kit/processes';
import { CONFORMANCE_SERVICE, chainEvent, describeConformance } from '@ketenhub/kit/testing';
import { kredietbankModule } from './module.ts';
import { startKredietbankSimulator } from '@ketenhub/simulator-kredietbank';
import {
  KREDIETBANK_NEVER_FIELDS,
  KREDIETBANK_REQUEST_SCHEMAS,
  aanvraagToKredietbank,
  beeindigingToKredietbank,
  huurcontractToWoning,
  pipToLooptijd,
  type HuurcontractVoorKredietbank,
  type PipOntzorgen,
} from './translate.ts';

const KEY = generateApiKey();
const TOKEN = generateApiKey();
/** A sound aanvraag (valid IBANs and amounts), for any person. */
const AANVRAAG = JSON.parse(
  readFileSync(new URL('../fixtures/golden/aanvraag.event.json', import.meta.url), 'utf8'),
) as OntzorgenAangevraagd;
let trajecten = 0;

describeConformance({
  module: kredietbankModule,
  async setup({ base }) {
    const port = await getFreePort();
    const sim = await startKredietbankSimulator({
      hubWebhookUrl: `http://127.0.0.1:${port}/v1/webhooks`,
      hubApiKey: KEY,
      token: TOKEN,
      webhookRetryDelayMs: 100,
    });
    return {
      config: {
        ...base,
        partners: {
          ...base.partners,
          kredietbank: {
            endpoint: { url: sim.baseUrl, token: TOKEN, timeoutMs: 3_000 },
            credential: { apiKey: KEY },
          },
        },
        services: { ...base.services, kredietbank: { ...CONFORMANCE_SERVICE, port } },
      },
      edgeKey: KEY,
      simulator: {
        url: sim.url,
        received: async (gemeente) =>
          sim.trajecten().filter((t) => !gemeente || `gm${t.aanvraag.gemeentecode}` === gemeente)
            .length,
        close: () => sim.close(),
      },
    };
  },
  privacy: {
    forbiddenFields: KREDIETBANK_NEVER_FIELDS,
    ownSchemas: KREDIETBANK_REQUEST_SCHEMAS,
    requests: {
      'nl.inburgering.ontzorgen.aangevraagd': (d) =>
        aanvraagToKredietbank(d as OntzorgenAangevraagd, '111222333'),
      'nl.inburgering.ontzorgen.beeindiging-aangevraagd': (d) =>
        beeindigingToKredietbank(d as OntzorgenBeeindigingAangevraagd),
      'nl.inburgering.pip.vastgesteld': (d) => pipToLooptijd(d as PipOntzorgen),
      'nl.inburgering.huurcontract.getekend': (d) =>
        huurcontractToWoning(d as HuurcontractVoorKredietbank, 'OZ-1'),
    },
  },
  openapi: fileURLToPath(new URL('../openapi.yaml', import.meta.url)),
  outbound: {
    // The gemeente asks for ontzorgen: a new traject at the Kredietbank.
    deliver: (person) => ({
      event: chainEvent('nl.inburgering.ontzorgen.aangevraagd', person.gemeente, {
        ...AANVRAAG,
        inburgeraarId: person.id,
        gemeenteCode: person.gemeente,
        trajectId: `OZ-2026-${String(++trajecten).padStart(4, '0')}${person.bsn.slice(-4)}`,
      }),
      partner: 'gemeente-kvs',
    }),
    tenant: 'person-register',
  },
});
