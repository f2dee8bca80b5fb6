import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { schemas } from '@ketenhub/contracts';
import type { KredietbankWebhook, OntzorgenAangevraagd } from '@ketenhub/contracts/generated';
import { buildEvent, createProjector } from '@ketenhub/kit';
import {
  KREDIETBANK_TRAJECT_SCHEMA,
  KREDIETBANK_WEBHOOK_SCHEMA,
  WEBHOOK_TYPES,
  aanvraagToKredietbank,
  aanvraagViolations,
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

  it('refuses a mislukt webhook without its reden', () => {
    const violations = schemas().validate(
      KREDIETBANK_WEBHOOK_SCHEMA,
      hook('betaling.mislukt', betaling),
    );
    expect(violations.map((v) => v.field)).toContain('gegevens.reden');
  });
});
