import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { policies, schemas } from '@ketenhub/contracts';
import type {
  OntzorgenAangevraagd,
  OntzorgenBeeindigingAangevraagd,
} from '@ketenhub/contracts/generated';
import { SENTINEL_TEXT, privacyPlan, type Planted } from '@ketenhub/contracts/testing';
import { buildEvent } from '@ketenhub/kit';
import { createProjector } from '@ketenhub/kit/privacy';
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

/**
 * AVG data minimisation for the Kredietbank, as properties over the whole catalogue:
 * schema-valid events of every type (contracts/testing generates them from the schemas), with
 * an unmistakable sentinel in every leerbaarheid, education, health, leerroute or other field
 * the Kredietbank must never see. What is forbidden comes from the contracts: every register
 * category that no activity sending to the Kredietbank processes, the fields the policies file
 * under them and the `$defs` only used for them. Nothing of it may survive the kredietbank
 * projection, nor the request body the adapter builds from that projection.
 */

const PARTNER = 'kredietbank';
const AANVRAAG = 'nl.inburgering.ontzorgen.aangevraagd';
const BEEINDIGING = 'nl.inburgering.ontzorgen.beeindiging-aangevraagd';
const PIP = 'nl.inburgering.pip.vastgesteld';
const HUURCONTRACT = 'nl.inburgering.huurcontract.getekend';
/** Resolved by the adapter from the identity store; elfproef-valid and no sentinel. */
const BSN = '111222333';

/** Categories the Kredietbank must never receive (policies/kredietbank.yaml, va-010). */
const NEVER = [
  'leerbaarheid',
  'opleiding-werk',
  'taal',
  'achtergrond',
  'gezondheid',
  'pip',
  'leerroute',
  'examen',
  'uren',
  'verzuim',
  'participatie',
  'inburgeringsplicht',
  'inburgeringstermijn',
  'contact-ketenpartner',
];

const plan = privacyPlan({
  partner: PARTNER,
  // Whatever a schema calls them, on top of what the policies file under NEVER.
  forbiddenFields: KREDIETBANK_NEVER_FIELDS,
  // The Kredietbank's own request bodies: their names are not forbidden keys.
  ownSchemas: KREDIETBANK_REQUEST_SCHEMAS,
});

/** The request body the adapter builds from each projected event type (handlers.ts). */
const REQUESTS: Record<string, (data: unknown) => unknown> = {
  [AANVRAAG]: (d) => aanvraagToKredietbank(d as OntzorgenAangevraagd, BSN),
  [BEEINDIGING]: (d) => beeindigingToKredietbank(d as OntzorgenBeeindigingAangevraagd),
  [PIP]: (d) => pipToLooptijd(d as PipOntzorgen),
  [HUURCONTRACT]: (d) => huurcontractToWoning(d as HuurcontractVoorKredietbank, 'OZ-1'),
};

const GOLDEN = JSON.parse(
  readFileSync(new URL('../fixtures/golden/aanvraag.event.json', import.meta.url), 'utf8'),
) as OntzorgenAangevraagd;

const TYPES = schemas().eventTypes();
const RUNS = 300;
const projector = createProjector(PARTNER);

function event(type: string, data: unknown) {
  return buildEvent({
    id: '2f0c1d9e-3a4b-4c5d-8e6f-7a8b9c0d1e2f',
    type,
    source: 'urn:nld:oin:00000001000797000000:systeem:suite4sd',
    gemeente: (data as { gemeenteCode?: string }).gemeenteCode ?? 'gm0797',
    data,
  });
}

describe('the Kredietbank never receives leerbaarheid, education, health or leerroute data', () => {
  it('the register keeps those categories from it, and its policy asks for none', () => {
    expect(plan.forbiddenCategories).toEqual(expect.arrayContaining(NEVER));
    const rules = Object.values(policies().policy(PARTNER).ontvangt);
    const asked = rules.flatMap((r) => Object.values(r.velden));
    expect(asked.filter((c) => plan.forbiddenCategories.includes(c))).toEqual([]);
  });

  it('what it gets that other policies file under a forbidden category is a reviewed decision', () => {
    // The sweep does not plant sentinels where the kredietbank policy itself lets a field out;
    // a field the others file under a forbidden category must then be listed here, on purpose:
    // pipId and dagtekening are the grondslag of a new end date; of a signed lease, the rent is
    // a fixed charge it pays (financieel), and the offer, the day of signing and the first day
    // are what the new rent rests on and runs from (ontzorgen), not the housing search
    // (policies/kredietbank.yaml).
    expect(plan.recategorised()).toEqual([
      `${HUURCONTRACT} aanbodId: ontzorgen here, woning elsewhere`,
      `${HUURCONTRACT} getekendOp: ontzorgen here, woning elsewhere`,
      `${HUURCONTRACT} huurprijsCent: financieel here, woning elsewhere`,
      `${HUURCONTRACT} ingangsdatum: ontzorgen here, woning elsewhere`,
      `${PIP} dagtekening: ontzorgen here, pip elsewhere`,
      `${PIP} pipId: ontzorgen here, dossier elsewhere`,
    ]);
  });

  it('every event type it receives has its request body checked here', () => {
    expect(Object.keys(REQUESTS).sort()).toEqual([...projector.eventTypes].sort());
  });

  it('the plan knows where such data sits in the catalogue', () => {
    const where = (type: string) => plan.sites(type).map((s) => s.path);
    expect(where('nl.inburgering.inburgeraar.overgedragen')).toEqual(
      expect.arrayContaining(['profiel.opleidingen[].land', 'gezondheid.bijzonderheden']),
    );
    expect(where('nl.inburgering.leerbaarheidstoets.afgerond')).toEqual(
      expect.arrayContaining(['resultaten[].behaaldeScore']),
    );
    expect(where(PIP)).toEqual(expect.arrayContaining(['leerroute', 'startdatumLeerroute']));
  });

  it('the golden aanvraag becomes a request without any forbidden key', () => {
    expect(plan.leaks(aanvraagToKredietbank(GOLDEN, BSN), [])).toEqual([]);
  });

  for (const type of TYPES) {
    it(`over ${RUNS} generated ${type} events with sentinels planted (property)`, () => {
      const stats = { asserted: 0, withSentinels: 0, projected: 0 };
      fc.assert(
        fc.property(plan.arbitrary(type), (data) => {
          const e = event(type, data);
          // Every generated event is valid: nothing returns early, and a generator that
          // regresses fails here instead of silently testing nothing.
          expect(schemas().validateEvent(e)).toEqual([]);
          const planted: Planted[] = plan.planted(type, data);
          if (planted.length > 0) stats.withSentinels++;
          const d = projector.project(e);
          if (!d) {
            expect(projector.eventTypes).not.toContain(type);
          } else {
            stats.projected++;
            expect(d.categories.filter((c) => plan.forbiddenCategories.includes(c))).toEqual([]);
            expect(plan.leaks(d.event.data, planted)).toEqual([]);
            const body = REQUESTS[type]!(d.event.data);
            expect(plan.leaks(body, planted)).toEqual([]);
          }
          stats.asserted++;
        }),
        { numRuns: RUNS },
      );
      expect(stats.asserted).toBe(RUNS);
      if (plan.sites(type).some((s) => s.sentinel !== undefined)) {
        expect(stats.withSentinels).toBeGreaterThan(0);
      }
      if (projector.eventTypes.includes(type)) expect(stats.projected).toBe(RUNS);
    });
  }

  it('an aanvraag carrying such fields anywhere is refused by the contract, and its request is clean (property)', () => {
    const forbiddenValue = fc.constantFrom<unknown>(
      SENTINEL_TEXT,
      { waarde: SENTINEL_TEXT },
      [SENTINEL_TEXT],
      { scores: [{ vaardigheid: SENTINEL_TEXT }] },
    );
    const extras = fc.dictionary(fc.constantFrom(...plan.forbiddenKeys), forbiddenValue, {
      minKeys: 1,
      maxKeys: 4,
    });
    const planted: Planted[] = [{ path: '(injected)', value: SENTINEL_TEXT }];
    let asserted = 0;
    fc.assert(
      fc.property(plan.arbitrary(AANVRAAG), fc.nat(), extras, (data, pick, extra) => {
        // Every object in the aanvraag is a place to slip the extras in.
        const copy = structuredClone(data);
        const places = objectsIn(copy);
        const place = places[pick % places.length]!;
        Object.assign(place.value, extra);
        const e = event(AANVRAAG, copy);
        // additionalProperties: false everywhere: every edge and the adapter's own parse refuse it.
        expect(schemas().validateEvent(e).length).toBeGreaterThan(0);
        const disclosure = projector.project(e)!;
        expect(disclosure.categories.filter((c) => plan.forbiddenCategories.includes(c))).toEqual(
          [],
        );
        // Extras beside the allowed fields never pass the projection, even unvalidated; below a
        // field allowed whole (client.adres, vasteLasten[i]) only the contract stops them.
        if (place.path === '' || place.path === 'client') {
          expect(plan.leaks(disclosure.event.data, planted)).toEqual([]);
        }
        // The request is built field by field: clean either way.
        const body = aanvraagToKredietbank(disclosure.event.data as OntzorgenAangevraagd, BSN);
        expect(plan.leaks(body, planted)).toEqual([]);
        asserted++;
      }),
      { numRuns: RUNS },
    );
    expect(asserted).toBe(RUNS);
  });
});

/** Every plain object in a JSON value, with its dotted path ('' for the root). */
function objectsIn(value: unknown, path = ''): { path: string; value: object }[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => objectsIn(v, `${path}[${i}]`));
  if (!value || typeof value !== 'object') return [];
  return [
    { path, value },
    ...Object.entries(value).flatMap(([k, v]) => objectsIn(v, path ? `${path}.${k}` : k)),
  ];
}
