import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { policies, schemas } from '@ketenhub/contracts';
import type { BegeleidingAangevraagd } from '@ketenhub/contracts/generated';
import { privacyPlan, type Planted } from '@ketenhub/contracts/testing';
import { buildEvent } from '@ketenhub/kit';
import { createProjector } from '@ketenhub/kit/privacy';
import { GOLDEN_IDS } from './golden-context.ts';
import {
  AANGEVRAAGD,
  SCHEMA,
  VLUCHTELINGENWERK_PARTNER,
  aanvraagToBegeleiding,
} from './translate.ts';

/**
 * AVG data minimisation for VluchtelingenWerk, as properties over the whole catalogue:
 * schema-valid events of every type with a sentinel in every field an office must never see
 * (what the register keeps from it: BSN and V-nummer, names, address and contact details,
 * health, benefit and IBAN, education and work, taal, the leerroute, exams, ...; and by its
 * policy the hub's inburgeraarId and the gemeente's aanvraagId). None may survive the
 * vluchtelingenwerk projection, nor the aanvraag body built from it: VWN receives only what
 * begeleiding and the PVT need.
 */
const plan = privacyPlan({
  partner: VLUCHTELINGENWERK_PARTNER,
  forbiddenFields: ['inburgeraarId', 'aanvraagId', 'bsn', 'vnummer', 'iban', 'gezondheid'],
  ownSchemas: [SCHEMA.aanvraag],
});
const projector = createProjector(VLUCHTELINGENWERK_PARTNER);
const TYPES = schemas().eventTypes();
const RUNS = 200;
const AANVRAAG_RUNS = 1000;

/** The categories begeleiding and the PVT need, and no other. */
const NEEDED = [
  'pseudoniem',
  'gemeente',
  'begeleiding',
  'participatie',
  'huishouden',
  'contact-gemeente',
];

function event<D>(type: string, data: D & { gemeenteCode?: string }) {
  return buildEvent<D>({
    id: '4b3c2a1e-0000-4000-8000-000000000001',
    type,
    source: 'urn:nld:oin:00000001234567890000:systeem:gemeente-kvs',
    gemeente: data.gemeenteCode ?? 'gm0797',
    data,
  });
}

describe('VluchtelingenWerk receives only what begeleiding and the PVT need', () => {
  it('the register keeps every other category from VWN, and the policy asks only for the needed ones', () => {
    expect(plan.forbiddenCategories).toEqual(
      expect.arrayContaining([
        'identificatie',
        'naam',
        'persoonskenmerken',
        'gezondheid',
        'financieel',
        'opleiding-werk',
        'taal',
        'contact',
        'adres',
        'leerroute',
        'examen',
        'verblijfplaats',
      ]),
    );
    const register = policies().register;
    const allowed = register.activiteiten
      .filter((a) => a.ontvangers.includes(VLUCHTELINGENWERK_PARTNER))
      .flatMap((a) => a.categorieen);
    expect([...new Set(allowed)].sort()).toEqual([...NEEDED].sort());
    // Nothing VWN gets is a special category (AVG art. 9).
    for (const c of allowed) expect(register.categorieen[c]!.bijzonder, c).toBe(false);
    const { ontvangt } = policies().policy(VLUCHTELINGENWERK_PARTNER);
    expect(Object.keys(ontvangt)).toEqual([AANGEVRAAGD]);
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
            expect(d.categories.filter((c) => !NEEDED.includes(c))).toEqual([]);
            expect(plan.leaks(d.event.data, planted)).toEqual([]);
            const body = aanvraagToBegeleiding(
              d.event.data as Partial<BegeleidingAangevraagd>,
              GOLDEN_IDS,
            );
            expect(plan.leaks(body, planted)).toEqual([]);
            expect(schemas().validate(SCHEMA.aanvraag, body)).toEqual([]);
            // The person is only the begeleiding pseudonym; no name, address or number of theirs.
            expect(Object.keys(body).sort()).toEqual(
              expect.arrayContaining(['begeleidingId', 'gemeenteCode', 'onderdelen']),
            );
            for (const key of Object.keys(body)) {
              expect([
                'berichtId',
                'begeleidingId',
                'gemeenteCode',
                'onderdelen',
                'startwens',
                'pvtUiterlijk',
                'huishouden',
                'contactpersoon',
              ]).toContain(key);
            }
          }
          asserted++;
        }),
        { numRuns },
      );
      expect(asserted).toBe(numRuns);
    });
  }
});
