import { schemas } from '@ketenhub/contracts';
import type { CoaKoppeling } from '@ketenhub/contracts/generated/coa';
import { describe, expect, it } from 'vitest';
import { bsnProblem, isTestBsn } from '@ketenhub/kit/privacy';
import { generateCohort, summarizeCohort } from './cohort.ts';
import type { Cohort } from './cohort.ts';
import { ageOn, isoToDay } from './dates.ts';

const KOPPELING = 'https://contracts.ketenhub.nl/coa/koppeling.schema.json';
const OVERDRACHT = 'https://contracts.ketenhub.nl/coa/warme-overdracht.schema.json';
const GEMEENTEN = [
  { code: '0797', naam: 'Heusden' },
  { code: '0796', naam: "'s-Hertogenbosch" },
  { code: '0865', naam: 'Vught' },
];
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const cache = new Map<string, Cohort>();
function cohort(size: number, seed: number): Cohort {
  const key = `${size}/${seed}`;
  let c = cache.get(key);
  if (!c) {
    c = generateCohort({ size, seed, gemeenten: GEMEENTEN });
    cache.set(key, c);
  }
  return c;
}

function households(c: Cohort): Map<string, CoaKoppeling[]> {
  const out = new Map<string, CoaKoppeling[]>();
  for (const k of c.koppelingen) {
    const list = out.get(k.huishouden.huishoudenId) ?? [];
    list.push(k);
    out.set(k.huishouden.huishoudenId, list);
  }
  return out;
}

const days = (from: string, to: string): number => isoToDay(to) - isoToDay(from);

describe('generateCohort', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    const a = generateCohort({ size: 40, seed: 7, gemeenten: GEMEENTEN });
    const b = generateCohort({ size: 40, seed: 7, gemeenten: GEMEENTEN });
    const c = generateCohort({ size: 40, seed: 8, gemeenten: GEMEENTEN });
    expect(b).toEqual(a);
    expect(c.koppelingen.map((k) => k.berichtId)).not.toEqual(
      a.koppelingen.map((k) => k.berichtId),
    );
  });

  for (const size of [1, 50, 1000]) {
    for (const seed of [1, 7, 42, 2026]) {
      it(`size ${size}, seed ${seed}: exactly ${size} persons, every message valid`, () => {
        const c = cohort(size, seed);
        expect(c.persons).toHaveLength(size);
        expect(c.koppelingen).toHaveLength(size);
        for (const k of c.koppelingen) expect(schemas().validate(KOPPELING, k)).toEqual([]);
        for (const o of c.overdrachten) expect(schemas().validate(OVERDRACHT, o)).toEqual([]);
      });
    }
  }

  it('a cohort of one is a single hoofdpersoon', () => {
    const c = cohort(1, 1);
    expect(c.koppelingen[0]?.huishouden).toMatchObject({ rol: 'HOOFDPERSOON', aantalLeden: 1 });
  });

  for (const seed of [1, 7, 42]) {
    it(`seed ${seed}: identifiers are unique and well formed`, () => {
      const c = cohort(1000, seed);
      const ids = (xs: string[]) => expect(new Set(xs).size).toBe(xs.length);
      ids(c.koppelingen.map((k) => k.koppelingId));
      ids(c.koppelingen.map((k) => k.persoon.vNummer));
      ids([...c.koppelingen, ...c.overdrachten].map((m) => m.berichtId));
      ids(c.overdrachten.map((o) => o.overdrachtId));
      const bsns = c.koppelingen.flatMap((k) => (k.persoon.bsn ? [k.persoon.bsn] : []));
      ids(bsns);
      for (const bsn of bsns) {
        expect(bsnProblem(bsn)).toBeUndefined();
        expect(isTestBsn(bsn)).toBe(true);
      }
      for (const k of c.koppelingen) {
        expect(k.persoon.vNummer).toMatch(/^[1-9][0-9]{9}$/);
        expect(k.koppelingId).toMatch(/^KOP-20[0-9]{2}-[0-9]{6}$/);
        expect(k.berichtId).toMatch(UUID_V4);
      }
      for (const o of c.overdrachten) expect(o.berichtId).toMatch(UUID_V4);
    });

    it(`seed ${seed}: persons, koppelingen and overdrachten agree`, () => {
      const c = cohort(1000, seed);
      const byKoppeling = new Map(c.koppelingen.map((k) => [k.koppelingId, k]));
      c.persons.forEach((p, i) => {
        const k = c.koppelingen[i] as CoaKoppeling;
        expect(p).toEqual({
          vNummer: k.persoon.vNummer,
          ...(k.persoon.bsn ? { bsn: k.persoon.bsn } : {}),
          koppelingId: k.koppelingId,
          gemeenteCode: k.gemeenteCode,
          huishoudenId: k.huishouden.huishoudenId,
          adult: ageOn(isoToDay(k.persoon.geboortedatum), isoToDay(k.koppelDatum)) >= 18,
        });
      });
      // Exactly one warme overdracht per adult, none for minors.
      const adults = c.persons.filter((p) => p.adult).map((p) => p.koppelingId);
      expect(c.overdrachten.map((o) => o.koppelingId).sort()).toEqual(adults.sort());
      for (const o of c.overdrachten) {
        const k = byKoppeling.get(o.koppelingId) as CoaKoppeling;
        expect(o.gemeenteCode).toBe(k.gemeenteCode);
        expect(o.persoon).toEqual({
          vNummer: k.persoon.vNummer,
          ...(k.persoon.bsn ? { bsn: k.persoon.bsn } : {}),
        });
        expect(days(k.koppelDatum, o.datum)).toBeGreaterThanOrEqual(7);
        expect(o.casemanager.email).toMatch(/@coa\.nl$/);
      }
      // Koppelingen come in koppelDatum order, overdrachten in datum order.
      const sorted = (xs: string[]) => expect(xs).toEqual([...xs].sort());
      sorted(c.koppelingen.map((k) => k.koppelDatum));
      sorted(c.overdrachten.map((o) => o.datum));
    });

    it(`seed ${seed}: households are consistent`, () => {
      const c = cohort(1000, seed);
      for (const [, members] of households(c)) {
        const hoofd = members.filter((k) => k.huishouden.rol === 'HOOFDPERSOON');
        expect(hoofd).toHaveLength(1);
        const h = hoofd[0] as CoaKoppeling;
        expect(members.length).toBeLessThanOrEqual(6);
        for (const k of members) {
          // aantalLeden counts the members actually in the cohort, also in a cut-short last one.
          expect(k.huishouden.aantalLeden).toBe(members.length);
          expect(k.gemeenteCode).toBe(h.gemeenteCode);
          const permit = days(k.vergunningDatum, k.koppelDatum);
          expect(permit).toBeGreaterThanOrEqual(1);
          expect(permit).toBeLessThanOrEqual(14);
          const age = ageOn(isoToDay(k.persoon.geboortedatum), isoToDay(k.koppelDatum));
          if (k.huishouden.rol === 'KIND') {
            expect(age).toBeLessThanOrEqual(21);
            expect(
              ageOn(isoToDay(h.persoon.geboortedatum), isoToDay(k.persoon.geboortedatum)),
            ).toBeGreaterThanOrEqual(15);
          } else {
            expect(age).toBeGreaterThanOrEqual(18);
          }
          if (k.huishouden.nareiziger) {
            expect(k.huishouden.rol).not.toBe('HOOFDPERSOON');
            expect(days(h.koppelDatum, k.koppelDatum)).toBeGreaterThanOrEqual(21);
          } else {
            expect(k.koppelDatum).toBe(h.koppelDatum);
            expect(k.azc).toEqual(h.azc);
          }
        }
      }
    });
  }

  it('has realistic shares over a large cohort', () => {
    const c = generateCohort({ size: 5000, seed: 11, gemeenten: GEMEENTEN });
    const s = summarizeCohort(c);
    expect(s.bsnShare).toBeGreaterThan(0.8);
    expect(s.bsnShare).toBeLessThan(0.9);
    expect(s.medischShare).toBeGreaterThan(0.12);
    expect(s.medischShare).toBeLessThan(0.18);
    expect(s.medischToestemming / s.medisch).toBeGreaterThan(0.55);
    expect(s.medischToestemming / s.medisch).toBeLessThan(0.78);
    expect(Object.keys(s.householdSizes).sort()).toEqual(['1', '2', '3', '4', '5', '6']);
    expect(s.householdSizes['1']).toBeGreaterThan(s.households * 0.3);
    expect(s.householdsWithNareizigers).toBeGreaterThan(s.households * 0.05);
    expect(Object.keys(s.perAzc).length).toBeGreaterThanOrEqual(5);
    expect(Object.keys(s.adultsPerHerkomstland).sort()).toEqual(
      ['Afghanistan', 'Eritrea', 'Irak', 'Jemen', 'Somalië', 'Syrië', 'Turkije'].sort(),
    );
    for (const g of GEMEENTEN) expect(s.perGemeente[g.code]?.persons).toBeGreaterThan(0);
    const niveaus = new Set(c.overdrachten.flatMap((o) => o.opleiding.map((x) => x.niveau)));
    expect([...niveaus].sort()).toEqual(['BASIS', 'GEEN', 'HBO', 'MBO', 'VOORTGEZET', 'WO']);
    const moedertalen = new Set(
      c.overdrachten.flatMap((o) =>
        o.talen.filter((t) => t.niveau === 'MOEDERTAAL').map((t) => t.taal),
      ),
    );
    for (const taal of ['Arabisch', 'Tigrinya', 'Dari', 'Pashto', 'Somalisch', 'Turks']) {
      expect(moedertalen).toContain(taal);
    }
  });

  it('gives gemeenten uneven shares', () => {
    // Over several seeds the largest gemeente gets clearly more than the smallest.
    const ratios = [1, 2, 3, 4, 5].map((seed) => {
      const s = summarizeCohort(generateCohort({ size: 600, seed, gemeenten: GEMEENTEN }));
      const counts = GEMEENTEN.map((g) => s.perGemeente[g.code]?.persons ?? 0);
      return Math.max(...counts) / Math.max(1, Math.min(...counts));
    });
    expect(Math.max(...ratios)).toBeGreaterThan(1.5);
  });

  it('puts idPrefix in front of every id', () => {
    const c = generateCohort({ size: 30, seed: 3, gemeenten: GEMEENTEN, idPrefix: 'D7' });
    for (const k of c.koppelingen) {
      expect(k.koppelingId).toMatch(/^D7-KOP-/);
      expect(k.huishouden.huishoudenId).toMatch(/^D7-HH-/);
      expect(schemas().validate(KOPPELING, k)).toEqual([]);
    }
    for (const o of c.overdrachten) expect(o.overdrachtId).toMatch(/^D7-WO-/);
  });

  it('starts on or after startDate', () => {
    const c = generateCohort({ size: 200, seed: 5, gemeenten: GEMEENTEN, startDate: '2027-01-04' });
    expect(c.koppelingen.every((k) => k.koppelDatum >= '2027-01-04')).toBe(true);
  });

  it('rejects impossible options', () => {
    expect(() => generateCohort({ size: 0, gemeenten: GEMEENTEN })).toThrow(/size/);
    expect(() => generateCohort({ size: 2.5, gemeenten: GEMEENTEN })).toThrow(/size/);
    expect(() => generateCohort({ size: 5, gemeenten: GEMEENTEN.slice(0, 1) })).toThrow(/two/);
    expect(() =>
      generateCohort({ size: 5, gemeenten: [{ code: 'gm0797', naam: 'x' }, ...GEMEENTEN] }),
    ).toThrow(/4-digit/);
    expect(() => generateCohort({ size: 5, gemeenten: [GEMEENTEN[0]!, GEMEENTEN[0]!] })).toThrow(
      /twice/,
    );
    expect(() =>
      generateCohort({ size: 5, gemeenten: GEMEENTEN, startDate: '2026-02-30' }),
    ).toThrow(/calendar/);
    expect(() => generateCohort({ size: 5, gemeenten: GEMEENTEN, idPrefix: 'a b' })).toThrow(
      /idPrefix/,
    );
  });
});
