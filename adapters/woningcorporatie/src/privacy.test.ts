import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { policies, schemas } from '@ketenhub/contracts';
import type { WoningAangevraagd } from '@ketenhub/contracts/generated';
import { eventDataArbitrary, privacyPlan, type Planted } from '@ketenhub/contracts/testing';
import { buildEvent } from '@ketenhub/kit';
import { createProjector } from '@ketenhub/kit/privacy';
import { GOLDEN_IDS } from './golden-context.ts';
import { AANGEVRAAGD, SCHEMA, WONINGCORPORATIE_PARTNER, aanvraagToZoektocht } from './translate.ts';

/**
 * AVG data minimisation for the woningcorporaties, as properties over the whole catalogue:
 * schema-valid events of every type with a sentinel in every field a corporatie must never see
 * (what the register keeps from it: BSN and V-nummer, names, health, benefit and IBAN, education
 * and work, ...; and by its policy the hub's inburgeraarId and the gemeente's aanvraagId). None
 * may survive the woningcorporatie projection, nor the zoektocht built from it. The
 * accessibility need reaches a corporatie only with the household's consent.
 */
const plan = privacyPlan({
  partner: WONINGCORPORATIE_PARTNER,
  forbiddenFields: ['inburgeraarId', 'aanvraagId', 'bsn', 'vnummer', 'iban', 'gezondheid'],
  ownSchemas: [SCHEMA.zoektocht],
});
const projector = createProjector(WONINGCORPORATIE_PARTNER);
const TYPES = schemas().eventTypes();
const RUNS = 200;
const AANVRAAG_RUNS = 1000;

function event<D>(type: string, data: D & { gemeenteCode?: string }) {
  return buildEvent<D>({
    id: '4b3c2a1e-0000-4000-8000-000000000001',
    type,
    source: 'urn:nld:oin:00000001234567890000:systeem:gemeente-kvs',
    gemeente: data.gemeenteCode ?? 'gm0797',
    data,
  });
}

describe('a woningcorporatie never receives BSN, V-nummer, names, health without consent, benefit or education data', () => {
  it('the register keeps those categories from corporaties, and the policy asks for none', () => {
    expect(plan.forbiddenCategories).toEqual(
      expect.arrayContaining([
        'identificatie',
        'naam',
        'gezondheid',
        'financieel',
        'opleiding-werk',
        'contact',
        'adres',
      ]),
    );
    const asked = Object.values(policies().policy(WONINGCORPORATIE_PARTNER).ontvangt).flatMap((r) =>
      Object.values(r.velden),
    );
    expect(asked.filter((c) => plan.forbiddenCategories.includes(c))).toEqual([]);
    expect(plan.recategorised()).toEqual([]);
  });

  for (const type of TYPES) {
    const numRuns = type === AANGEVRAAGD ? AANVRAAG_RUNS : RUNS;
    it(`over ${numRuns} generated ${type} events with sentinels planted (property)`, () => {
      let asserted = 0;
      fc.assert(
        fc.property(plan.arbitrary(type), (data) => {
          const e = event(type, data as { gemeenteCode?: string });
          expect(schemas().validateEvent(e)).toEqual([]);
          const planted: Planted[] = plan.planted(type, data);
          const d = projector.project(e);
          if (!d) {
            expect(type).not.toBe(AANGEVRAAGD);
          } else {
            expect(type).toBe(AANGEVRAAGD);
            expect(plan.leaks(d.event.data, planted)).toEqual([]);
            const zoektocht = aanvraagToZoektocht(
              d.event.data as Partial<WoningAangevraagd>,
              GOLDEN_IDS,
            );
            expect(plan.leaks(zoektocht, planted)).toEqual([]);
            expect(schemas().validate(SCHEMA.zoektocht, zoektocht)).toEqual([]);
          }
          asserted++;
        }),
        { numRuns },
      );
      expect(asserted).toBe(numRuns);
    });
  }
});

describe('the accessibility need goes only with consent', () => {
  const aanvragen = eventDataArbitrary<WoningAangevraagd>(AANGEVRAAGD);

  it('a zoektocht holds it exactly when the aanvraag had it, always with toestemming true (property)', () => {
    fc.assert(
      fc.property(aanvragen, (data) => {
        const d = projector.project(event(AANGEVRAAGD, data))!;
        const zoektocht = aanvraagToZoektocht(d.event.data, GOLDEN_IDS);
        expect('toegankelijkheid' in zoektocht).toBe(data.toegankelijkheid !== undefined);
        if (zoektocht.toegankelijkheid) expect(zoektocht.toegankelijkheid.toestemming).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('the chain contract refuses the need without consent, and the translation refuses it too', () => {
    const [data] = fc.sample(aanvragen, 1);
    const without = {
      ...data!,
      toegankelijkheid: { toestemming: false, behoeften: ['lift'] },
    } as unknown as WoningAangevraagd;
    expect(schemas().validateEvent(event(AANGEVRAAGD, without))).toContainEqual(
      expect.objectContaining({ field: expect.stringContaining('toegankelijkheid.toestemming') }),
    );
    expect(() => aanvraagToZoektocht(without, GOLDEN_IDS)).toThrow(/consent/);
  });
});
