import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { policies, schemas } from '@ketenhub/contracts';
import type {
  HuurcontractGetekend,
  OntzorgenAangevraagd,
  OntzorgenBeeindigingAangevraagd,
  PipVastgesteld,
} from '@ketenhub/contracts/generated';
import type { KredietbankWebhook } from '@ketenhub/contracts/generated/kredietbank';
import { buildEvent } from '@ketenhub/kit';
import { createProjector } from '@ketenhub/kit/privacy';
import {
  KREDIETBANK_BEEINDIGING_SCHEMA,
  KREDIETBANK_LOOPTIJD_SCHEMA,
  KREDIETBANK_WONING_SCHEMA,
  KREDIETBANK_TRAJECT_SCHEMA,
  KREDIETBANK_WEBHOOK_SCHEMA,
  WEBHOOK_TYPES,
  aanvraagToKredietbank,
  aanvraagViolations,
  beeindigingToKredietbank,
  huurcontractToWoning,
  pipToLooptijd,
  webhookToChain,
} from './translate.ts';

const golden = (name: string) =>
  JSON.parse(
    readFileSync(new URL(`../fixtures/golden/${name}`, import.meta.url), 'utf8'),
  ) as unknown;
const AANVRAAG = golden('aanvraag.event.json') as OntzorgenAangevraagd;
const ID = AANVRAAG.inburgeraarId;

describe('aanvraag → Kredietbank (golden)', () => {
  it('the golden aanvraag is a valid chain event and projects to itself for the Kredietbank', () => {
    const event = buildEvent({
      id: '3b1f4c1e-9d7a-4c39-8f0e-4f4f8f1f2a11',
      type: 'nl.inburgering.ontzorgen.aangevraagd',
      source: 'urn:nld:oin:00000001000797000000:systeem:suite4sd',
      gemeente: 'gm0797',
      data: AANVRAAG,
    });
    expect(schemas().validateEvent(event)).toEqual([]);
    const disclosure = createProjector('kredietbank').project(event)!;
    expect(disclosure.event.data).toEqual(AANVRAAG);
    expect(disclosure.activity).toBe('va-010');
    expect(disclosure.categories).toEqual([
      'adres',
      'financieel',
      'gemeente',
      'naam',
      'ontzorgen',
      'pseudoniem',
    ]);
  });

  it('translates to exactly the golden request body, which the Kredietbank contract accepts', () => {
    const body = aanvraagToKredietbank(AANVRAAG, '999990019');
    expect(body).toEqual(golden('aanvraag.kredietbank.json'));
    expect(schemas().validate(KREDIETBANK_TRAJECT_SCHEMA, body)).toEqual([]);
  });

  it('finds what the schema cannot: check digits, amounts, dates', () => {
    expect(aanvraagViolations(AANVRAAG)).toEqual([]);
    const bad = structuredClone(AANVRAAG);
    bad.client.iban = 'NL91ABNA0417164301';
    bad.vasteLasten[0]!.bedragCent = 0;
    bad.einddatum = bad.startdatum;
    expect(aanvraagViolations(bad).map((v) => `${v.field} ${v.rule}`)).toEqual([
      'data.client.iban iban',
      'data.vasteLasten[0].bedragCent bedrag-cent',
      'data.einddatum after startdatum',
    ]);
  });
});

const kvsEvent = (type: string, data: unknown) =>
  buildEvent({
    id: '5d2c8a0e-1f3b-4e6a-9c7d-2b4e6f8a0c13',
    type,
    source: 'urn:nld:oin:00000001000797000000:systeem:suite4sd',
    gemeente: 'gm0797',
    data,
  });

describe('beeindiging → Kredietbank (golden)', () => {
  const BEEINDIGING = golden('beeindiging.event.json') as OntzorgenBeeindigingAangevraagd;
  const event = kvsEvent('nl.inburgering.ontzorgen.beeindiging-aangevraagd', BEEINDIGING);

  it('the golden beeindiging is a valid chain event and projects to itself for the Kredietbank', () => {
    expect(schemas().validateEvent(event)).toEqual([]);
    const disclosure = createProjector('kredietbank').project(event)!;
    expect(disclosure.event.data).toEqual(BEEINDIGING);
    expect(disclosure.activity).toBe('va-010');
    expect(disclosure.categories).toEqual(['gemeente', 'ontzorgen', 'pseudoniem']);
  });

  it('translates to exactly the golden call, whose body the Kredietbank contract accepts', () => {
    const call = beeindigingToKredietbank(BEEINDIGING);
    expect(call).toEqual(golden('beeindiging.kredietbank.json'));
    expect(schemas().validate(KREDIETBANK_BEEINDIGING_SCHEMA, call.body)).toEqual([]);
  });

  it.each([
    ['op-verzoek-gemeente', 'OP_VERZOEK_GEMEENTE'],
    ['verhuisd', 'VERHUISD'],
    ['overig', 'OVERIG'],
  ] as const)('maps reden %s to %s', (reden, kb) => {
    expect(beeindigingToKredietbank({ ...BEEINDIGING, reden }).body.reden).toBe(kb);
  });

  it('the chain contract refuses an unknown reden and extra fields', () => {
    const bad = kvsEvent('nl.inburgering.ontzorgen.beeindiging-aangevraagd', {
      ...BEEINDIGING,
      reden: 'ziek',
      bsn: '999990019',
    });
    expect(
      schemas()
        .validateEvent(bad)
        .map((v) => v.field),
    ).toEqual(expect.arrayContaining(['data.reden', 'data.bsn']));
  });

  it('a KVS may send it and only the Kredietbank receives it', () => {
    expect(policies().policy('gemeente-kvs').levert).toContain(event.type);
    const receivers = [...policies().policies.values()].filter((p) => p.ontvangt[event.type]);
    expect(receivers.map((p) => p.partner)).toEqual(['kredietbank']);
  });
});

describe("a signed lease → the traject's new home (golden)", () => {
  const LEASE = golden('huurcontract.event.json') as HuurcontractGetekend;
  const event = kvsEvent('nl.inburgering.huurcontract.getekend', LEASE);

  it('the Kredietbank gets the address, the rent and where it is paid, not the search or the keys', () => {
    expect(schemas().validateEvent(event)).toEqual([]);
    const disclosure = createProjector('kredietbank').project(event)!;
    expect(disclosure.event.data).toEqual({
      inburgeraarId: LEASE.inburgeraarId,
      gemeenteCode: 'gm0797',
      aanbodId: 'AB-2026-17',
      adres: LEASE.adres,
      huurprijsCent: 71250,
      betaling: LEASE.betaling,
      ingangsdatum: '2027-03-01',
      getekendOp: '2027-02-20',
    });
    expect(disclosure.activity).toBe('va-010');
    expect(disclosure.categories).toEqual([
      'adres',
      'financieel',
      'gemeente',
      'ontzorgen',
      'pseudoniem',
    ]);
  });

  it('translates to exactly the golden call, whose body the Kredietbank contract accepts', () => {
    const data = createProjector('kredietbank').project(event)!.event.data as HuurcontractGetekend;
    const call = huurcontractToWoning(data, 'OZ-2026-0042');
    expect(call).toEqual(golden('huurcontract.kredietbank.json'));
    expect(schemas().validate(KREDIETBANK_WONING_SCHEMA, call.body)).toEqual([]);
  });
});

describe('the ontzorgen part of a PIP → Kredietbank (golden)', () => {
  const PIP = golden('pip-ontzorgen.event.json') as PipVastgesteld;
  const event = kvsEvent('nl.inburgering.pip.vastgesteld', PIP);

  it('the Kredietbank gets only the ontzorgen part and what identifies the PIP', () => {
    expect(schemas().validateEvent(event)).toEqual([]);
    const disclosure = createProjector('kredietbank').project(event)!;
    expect(disclosure.event.data).toEqual({
      inburgeraarId: PIP.inburgeraarId,
      gemeenteCode: 'gm0797',
      pipId: 'PIP-2027-0042-2',
      dagtekening: '2027-04-15',
      ontzorgen: { trajectId: 'OZ-2026-0042', einddatum: '2027-12-01' },
    });
    expect(disclosure.activity).toBe('va-010');
    expect(disclosure.categories).toEqual(['gemeente', 'ontzorgen', 'pseudoniem']);
  });

  it('translates to exactly the golden call, whose body the Kredietbank contract accepts', () => {
    const data = createProjector('kredietbank').project(event)!.event.data as PipVastgesteld;
    const call = pipToLooptijd(data)!;
    expect(call).toEqual(golden('pip-ontzorgen.kredietbank.json'));
    expect(schemas().validate(KREDIETBANK_LOOPTIJD_SCHEMA, call.body)).toEqual([]);
  });

  it('a PIP without ontzorgen has nothing for the Kredietbank', () => {
    const { ontzorgen: _o, ...zonder } = PIP;
    expect(pipToLooptijd(zonder)).toBeUndefined();
  });

  it('DUO and the taalaanbieder never get the ontzorgen part', () => {
    for (const partner of ['duo', 'taalaanbieder']) {
      const velden = Object.keys(policies().policy(partner).ontvangt[event.type]!.velden);
      expect(
        velden.filter((v) => v.split('.')[0] === 'ontzorgen'),
        partner,
      ).toEqual([]);
      const data = createProjector(partner).project(event)!.event.data as Record<string, unknown>;
      expect(data, partner).not.toHaveProperty('ontzorgen');
      expect(JSON.stringify(data), partner).not.toContain('OZ-2026-0042');
    }
  });

  it('the chain contract refuses an ontzorgen part without einddatum or with extra fields', () => {
    const bad = (ontzorgen: object) =>
      schemas()
        .validateEvent(kvsEvent('nl.inburgering.pip.vastgesteld', { ...PIP, ontzorgen }))
        .map((v) => `${v.field} ${v.rule}`);
    expect(bad({ trajectId: 'OZ-1' })).toContain('data.ontzorgen.einddatum required');
    expect(bad({ trajectId: 'OZ-1', einddatum: '2027-12-01', iban: 'x' })).toContain(
      'data.ontzorgen.iban additionalProperties',
    );
  });
});

const hook = (type: KredietbankWebhook['type'], gegevens: object): KredietbankWebhook => ({
  id: '0b7e4a55-2a53-4bde-9c6a-1f0f3f0c9e01',
  type,
  referentie: 'OZ-2026-0042',
  gemeentecode: '0797',
  dossiernummer: 'KB-000001',
  tijdstip: '2027-01-01T12:00:00.000Z',
  gegevens: gegevens as KredietbankWebhook['gegevens'],
});
const betaling = {
  betalingId: 'KB-000001-2027-01-HUUR',
  soort: 'HUUR',
  crediteurNaam: 'Woonveste',
  bedrag: 65000,
  periode: '2027-01',
  datum: '2027-01-01',
};
const HOOKS: KredietbankWebhook[] = [
  hook('traject.gestart', { start: '2026-12-01', eind: '2027-06-01' }),
  hook('betaling.uitgevoerd', betaling),
  hook('betaling.mislukt', { ...betaling, reden: 'ONVOLDOENDE_SALDO' }),
  hook('traject.geevalueerd', {
    datum: '2027-03-01',
    advies: 'AFBOUWEN',
    aantalBetalingen: 12,
    aantalMislukt: 0,
  }),
  hook('traject.beeindigd', {
    datum: '2027-06-01',
    reden: 'EINDDATUM_BEREIKT',
    aantalBetalingen: 24,
    aantalMislukt: 1,
  }),
];

describe('webhooks → chain events', () => {
  it.each(HOOKS.map((h) => [h.type, h] as const))('%s is a valid chain event', (_t, h) => {
    expect(schemas().validate(KREDIETBANK_WEBHOOK_SCHEMA, h)).toEqual([]);
    const chain = webhookToChain(h, ID);
    expect(chain.type).toBe(WEBHOOK_TYPES[h.type]);
    expect(chain.gemeente).toBe('gm0797');
    const event = buildEvent({
      id: '7c0d1c7e-65b5-4c43-a0f5-5d1f61a4f0b2',
      type: chain.type,
      source: 'urn:nld:oin:00000001234567890000:systeem:kredietbank',
      gemeente: chain.gemeente,
      data: chain.data,
    });
    expect(schemas().validateEvent(event)).toEqual([]);
    // What the KVS gets is all of it: the gemeente-kvs policy lists every field.
    expect(createProjector('gemeente-kvs').project(event)!.event.data).toEqual(chain.data);
  });

  it('maps the Kredietbank codes to the chain vocabulary', () => {
    expect(webhookToChain(HOOKS[2]!, ID).data).toMatchObject({
      soort: 'huur',
      reden: 'onvoldoende-saldo',
      misluktOp: '2027-01-01',
      bedragCent: 65000,
    });
    expect(webhookToChain(HOOKS[3]!, ID).data).toMatchObject({
      advies: 'afbouwen',
      betalingen: { uitgevoerd: 12, mislukt: 0 },
    });
    expect(webhookToChain(HOOKS[4]!, ID).data).toMatchObject({ reden: 'termijn-verstreken' });
  });

  it.each([
    ['OP_VERZOEK', 'op-verzoek-gemeente'],
    ['VERHUISD', 'verhuisd'],
    ['OVERIG', 'overig'],
  ])('an early end for reason %s reaches the KVS as %s', (bank, chain) => {
    const h = hook('traject.beeindigd', {
      datum: '2027-02-15',
      reden: bank,
      aantalBetalingen: 8,
      aantalMislukt: 0,
    });
    expect(schemas().validate(KREDIETBANK_WEBHOOK_SCHEMA, h)).toEqual([]);
    const data = webhookToChain(h, ID).data;
    expect(data).toMatchObject({ reden: chain, einddatum: '2027-02-15' });
    expect(
      schemas().validateEvent(
        buildEvent({
          id: '7c0d1c7e-65b5-4c43-a0f5-5d1f61a4f0b3',
          type: 'nl.inburgering.ontzorgen.beeindigd',
          source: 'urn:nld:oin:00000001234567890000:systeem:kredietbank',
          gemeente: 'gm0797',
          data,
        }),
      ),
    ).toEqual([]);
  });

  it('refuses a mislukt webhook without its reden', () => {
    const violations = schemas().validate(
      KREDIETBANK_WEBHOOK_SCHEMA,
      hook('betaling.mislukt', betaling),
    );
    expect(violations.map((v) => v.field)).toContain('gegevens.reden');
  });
});
