/**
 * A realistic cohort of asylum permit holders as COA's TVS would hold them: households linked
 * to gemeenten, with the koppeling per person and the warme overdracht per adult. Deterministic
 * for a seed, so the demo, `npm start` and tests can name the people they expect to see.
 */

import type { CoaKoppeling, CoaWarmeOverdracht } from '@ketenhub/contracts/generated/coa';
import { ageOn, dayToIso, isoToDay, nextWorkday, previousWorkday, yearsBefore } from './dates.ts';
import {
  AZC_LOCATIONS,
  BEROEPEN,
  MEDISCHE_BIJZONDERHEDEN,
  NAREIZIGER_AZC,
  ORIGINS,
  VERWACHTINGEN,
  VOORINBURGERING_ACTIVITEITEN,
} from './origins.ts';
import type { AzcLocation, Niveau, Origin } from './origins.ts';
import { createRng } from './prng.ts';
import type { Rng } from './prng.ts';

export interface Gemeente {
  /** CBS gemeentecode, 4 digits, e.g. '0797'. */
  code: string;
  naam: string;
}

export interface CohortOptions {
  /** Number of inburgeraars (persons, children included). */
  size: number;
  seed?: number;
  /** At least two; a household is linked to one of them. */
  gemeenten: Gemeente[];
  /** ISO date of the first possible koppeling; default 2026-09-01. */
  startDate?: string;
  /**
   * Put in front of koppelingId, huishoudenId and overdrachtId (`D7-KOP-2026-000123`), so
   * cohorts sent to the same running hub with different seeds never share an id.
   */
  idPrefix?: string;
}

/** What a caller needs to check the hub's deliveries against the cohort. */
export interface CohortPerson {
  vNummer: string;
  bsn?: string;
  koppelingId: string;
  gemeenteCode: string;
  huishoudenId: string;
  /** 18 or older on the koppelDatum; exactly the persons with a warme overdracht. */
  adult: boolean;
}

export interface Cohort {
  /** Same order as `koppelingen`. */
  persons: CohortPerson[];
  /** In koppelDatum order, as COA would push them. */
  koppelingen: CoaKoppeling[];
  /** In datum order; each follows its koppeling. */
  overdrachten: CoaWarmeOverdracht[];
}

export const DEFAULT_START_DATE = '2026-09-01';

export const MAX_COHORT_SIZE = 1_000_000;
/**
 * The 999 range holds about 91,000 valid test BSNs. Numbers outside it could belong to real
 * people, so a cohort stops handing out BSNs when this many are used: in very large cohorts
 * the later persons arrive without one, as if not yet in the BRP.
 */
export const MAX_TEST_BSNS = 88_000;

/** Koppelingen of the main group are spread over this many days from the start date. */
const KOPPEL_WINDOW_DAYS = 91;
/** Chance that a person has a BSN at koppeling; nareizigers have had less time in the BRP. */
const BSN_CHANCE = 0.92;
const BSN_CHANCE_NAREIZIGER = 0.6;
const MEDISCH_CHANCE = 0.15;
const MEDISCH_TOESTEMMING_CHANCE = 2 / 3;
/**
 * The inburgeringsplicht starts at 16, but COA hands over 16- and 17-year-olds with their
 * parents' file and the gemeente starts their route at 18, so only persons of 18 and older on
 * the koppelDatum get a warme overdracht of their own.
 */
const OVERDRACHT_MIN_AGE = 18;

type Rol = CoaKoppeling['huishouden']['rol'];
type Geslacht = 'M' | 'V';
type HouseholdType = 'ALLEENSTAAND' | 'STEL' | 'GEZIN' | 'EENOUDER';

const HOUSEHOLD_TYPES: readonly (readonly [HouseholdType, number])[] = [
  ['ALLEENSTAAND', 46],
  ['STEL', 8],
  ['GEZIN', 32],
  ['EENOUDER', 14],
];
const CHILD_COUNTS: readonly (readonly [number, number])[] = [
  [1, 30],
  [2, 32],
  [3, 22],
  [4, 12],
  [5, 4],
];
const MAX_HOUSEHOLD = 6;
const NAREIZIGER_CHANCE = 0.35;
const OVERIG_CHANCE = 0.08;

interface Member {
  rol: Rol;
  geslacht: Geslacht;
  birthDay: number;
  voornamen: string;
  achternaam: string;
  geboorteland: string;
  nationaliteit?: string;
  nareiziger: boolean;
  vNummer: string;
  bsn?: string;
}

interface Household {
  huishoudenId: string;
  origin: Origin;
  /** A family shares its mother tongue. */
  moedertaal: string;
  gemeente: Gemeente;
  azc: AzcLocation;
  koppelDay: number;
  vergunningDay: number;
  /** Casemanager of the AZC where the household (or the nareizigers) stayed. */
  casemanagerIndex: number;
  nareisDay?: number;
  nareisVergunningDay?: number;
  members: Member[];
}

function validateOptions(opts: CohortOptions): void {
  if (!Number.isInteger(opts.size) || opts.size < 1 || opts.size > MAX_COHORT_SIZE) {
    throw new RangeError(`size must be an integer from 1 to ${MAX_COHORT_SIZE}`);
  }
  if (opts.idPrefix !== undefined && !/^[A-Za-z0-9][A-Za-z0-9-]{0,19}$/.test(opts.idPrefix)) {
    throw new RangeError('idPrefix must be 1 to 20 letters, digits or hyphens');
  }
  if (opts.seed !== undefined && !Number.isFinite(opts.seed)) {
    throw new RangeError('seed must be a finite number');
  }
  if (opts.gemeenten.length < 2) throw new RangeError('at least two gemeenten are needed');
  const codes = new Set<string>();
  for (const g of opts.gemeenten) {
    if (!/^[0-9]{4}$/.test(g.code)) {
      throw new RangeError(`gemeente code '${g.code}' must be a 4-digit CBS code`);
    }
    if (codes.has(g.code)) throw new RangeError(`gemeente code ${g.code} appears twice`);
    if (g.naam.trim() === '') throw new RangeError(`gemeente ${g.code} needs a name`);
    codes.add(g.code);
  }
}

/** Identifiers that must be unique within the cohort. */
class IdentifierPool {
  readonly #rng: Rng;
  readonly #vNummers = new Set<string>();
  readonly #bsns = new Set<string>();

  constructor(rng: Rng) {
    this.#rng = rng;
  }

  vNummer(): string {
    for (;;) {
      const v = `${this.#rng.int(1, 9)}${String(this.#rng.int(0, 999_999_999)).padStart(9, '0')}`;
      if (!this.#vNummers.has(v)) {
        this.#vNummers.add(v);
        return v;
      }
    }
  }

  /** A test BSN (999 range) that passes the elfproef; undefined once MAX_TEST_BSNS are used. */
  bsn(): string | undefined {
    if (this.#bsns.size >= MAX_TEST_BSNS) return undefined;
    for (let attempt = 0; attempt < 100_000; attempt++) {
      const digits = `999${String(this.#rng.int(0, 99_999)).padStart(5, '0')}`;
      let sum = 0;
      for (let i = 0; i < 8; i++) sum += Number(digits[i]) * (9 - i);
      // sum − check ≡ 0 (mod 11); a remainder of 10 has no digit, so that prefix is redrawn.
      const check = sum % 11;
      if (check === 10) continue;
      const bsn = `${digits}${check}`;
      if (this.#bsns.has(bsn)) continue;
      this.#bsns.add(bsn);
      return bsn;
    }
    throw new RangeError('the 999 test range has no unused BSN left');
  }
}

function givenNames(rng: Rng, origin: Origin, geslacht: Geslacht): string {
  const list = geslacht === 'M' ? origin.male : origin.female;
  const first = rng.pick(list);
  if (!rng.chance(origin.twoGivenNames)) return first;
  const second = rng.pick(list);
  return second === first ? first : `${first} ${second}`;
}

function firstGivenName(voornamen: string): string {
  return voornamen.split(' ')[0] ?? voornamen;
}

/** A birth date that makes the person `age` on `on`, optionally registered as 1 January. */
function birthDayFor(rng: Rng, origin: Origin, age: number, on: number): number {
  const latest = yearsBefore(on, age);
  const earliest = yearsBefore(on, age + 1) + 1;
  const day = rng.int(earliest, latest);
  if (!rng.chance(origin.unknownBirthDay)) return day;
  // People whose day of birth is unknown are registered on 1 January of the birth year.
  return isoToDay(`${dayToIso(day).slice(0, 4)}-01-01`);
}

function adultAge(rng: Rng, type: HouseholdType): number {
  switch (type) {
    case 'ALLEENSTAAND': {
      const [lo, hi] = rng.weighted<readonly [number, number]>([
        [[18, 24], 30],
        [[25, 34], 40],
        [[35, 49], 20],
        [[50, 66], 10],
      ]);
      return rng.int(lo, hi);
    }
    case 'STEL':
      return rng.int(20, 52);
    case 'GEZIN':
      return rng.int(25, 55);
    case 'EENOUDER':
      return rng.int(21, 50);
  }
}

function sex(rng: Rng, maleShare: number): Geslacht {
  return rng.chance(maleShare) ? 'M' : 'V';
}

interface Draft {
  rol: Rol;
  geslacht: Geslacht;
  age: number;
  voornamen: string;
  achternaam: string;
}

/** Who is in the household, before identifiers and dates are fixed. */
function draftMembers(rng: Rng, origin: Origin, type: HouseholdType): Draft[] {
  const hoofdGeslacht = sex(
    rng,
    // Single mothers often head a household; single men are the larger group of singles.
    type === 'EENOUDER' ? 0.2 : type === 'ALLEENSTAAND' ? 0.72 : 0.9,
  );
  const hoofd: Draft = {
    rol: 'HOOFDPERSOON',
    geslacht: hoofdGeslacht,
    age: adultAge(rng, type),
    voornamen: givenNames(rng, origin, hoofdGeslacht),
    achternaam: rng.pick(origin.family),
  };
  const out: Draft[] = [hoofd];

  if (type === 'STEL' || type === 'GEZIN') {
    const geslacht: Geslacht = hoofd.geslacht === 'M' ? 'V' : 'M';
    // Husbands are usually a few years older than their wives.
    const gap = rng.int(-2, 8);
    const age = Math.max(18, hoofd.geslacht === 'M' ? hoofd.age - gap : hoofd.age + gap);
    let achternaam = rng.pick(origin.family);
    if (origin.partnerTakesName) {
      // The wife carries the husband's family name, whichever of them TVS lists first.
      if (geslacht === 'V') achternaam = hoofd.achternaam;
      else hoofd.achternaam = achternaam;
    }
    out.push({
      rol: 'PARTNER',
      geslacht,
      age,
      voornamen: givenNames(rng, origin, geslacht),
      achternaam,
    });
  }

  if (type === 'GEZIN' || type === 'EENOUDER') {
    const parents = out.slice();
    const father = parents.find((p) => p.geslacht === 'M');
    const youngestParentAge = Math.min(...parents.map((p) => p.age));
    // Children still living with their parents may be just past 18.
    const ceiling = youngestParentAge >= 38 && rng.chance(0.12) ? 20 : 17;
    // Both parents were at least 17 when the eldest was born.
    const maxAge = Math.min(ceiling, youngestParentAge - 17);
    const count = Math.min(rng.weighted(CHILD_COUNTS), MAX_HOUSEHOLD - out.length);
    const ages: number[] = [];
    for (let i = 0; i < count; i++) ages.push(rng.int(0, Math.max(0, maxAge)));
    ages.sort((a, b) => b - a);
    const familyName = origin.patronymic
      ? father
        ? firstGivenName(father.voornamen)
        : rng.pick(origin.male)
      : father
        ? father.achternaam
        : origin.partnerTakesName
          ? hoofd.achternaam
          : rng.pick(origin.family);
    for (const age of ages) {
      const geslacht = sex(rng, 0.51);
      out.push({
        rol: 'KIND',
        geslacht,
        age,
        voornamen: givenNames(rng, origin, geslacht),
        achternaam: familyName,
      });
    }
  }

  if (type !== 'ALLEENSTAAND' && out.length < MAX_HOUSEHOLD && rng.chance(OVERIG_CHANCE)) {
    // A grandparent or an adult brother or sister who fled with the family.
    const grandparent = hoofd.age <= 50 && rng.chance(0.6);
    const geslacht = sex(rng, grandparent ? 0.3 : 0.5);
    out.push({
      rol: 'OVERIG',
      geslacht,
      age: grandparent ? Math.min(85, hoofd.age + rng.int(18, 30)) : rng.int(18, 30),
      voornamen: givenNames(rng, origin, geslacht),
      achternaam: grandparent || origin.patronymic ? rng.pick(origin.family) : hoofd.achternaam,
    });
  }
  return out;
}

/** Seeded, uneven weights: gemeenten take statushouders roughly by population (taakstelling). */
function gemeenteWeights(rng: Rng, gemeenten: Gemeente[]): (readonly [Gemeente, number])[] {
  return gemeenten.map((g) => {
    const spread = rng.next() + rng.next() + rng.next() - 1.5;
    return [g, Math.exp(1.2 * spread)] as const;
  });
}

function buildHouseholds(rng: Rng, opts: CohortOptions, ids: IdentifierPool): Household[] {
  const startDay = isoToDay(opts.startDate ?? DEFAULT_START_DATE);
  const weights = gemeenteWeights(rng, opts.gemeenten);
  // The first households go to the gemeenten in a seeded order so every gemeente gets someone
  // whenever the cohort is large enough; after that the weights decide.
  const firstRound = opts.gemeenten.slice();
  for (let i = firstRound.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [firstRound[i], firstRound[j]] = [firstRound[j] as Gemeente, firstRound[i] as Gemeente];
  }
  const originWeights = ORIGINS.map((o) => [o, o.weight] as const);
  const azcWeights = AZC_LOCATIONS.map((a) => [a, a.weight] as const);
  const nareizigerAzc = AZC_LOCATIONS.find((a) => a.locatieCode === NAREIZIGER_AZC);
  if (!nareizigerAzc) throw new Error(`AZC ${NAREIZIGER_AZC} is missing from AZC_LOCATIONS`);

  const prefix = opts.idPrefix ? `${opts.idPrefix}-` : '';
  const households: Household[] = [];
  const hhSeqStart = rng.int(1, 900) * 10;
  let persons = 0;
  while (persons < opts.size) {
    const type = rng.weighted(HOUSEHOLD_TYPES);
    const origin = rng.weighted(originWeights);
    const gemeente = firstRound[households.length] ?? rng.weighted(weights);
    const azc = rng.weighted(azcWeights);
    const koppelDay = nextWorkday(startDay + rng.int(0, KOPPEL_WINDOW_DAYS - 1));
    const vergunningDay = permitBefore(rng, koppelDay);

    let drafts = draftMembers(rng, origin, type);
    const nareis =
      drafts.length > 1 && drafts[0]?.geslacht === 'M' && type !== 'ALLEENSTAAND'
        ? rng.chance(NAREIZIGER_CHANCE)
        : false;
    // The members who follow arrive together, weeks to months after the hoofdpersoon.
    const nareisDay = nareis ? nextWorkday(koppelDay + 7 * rng.int(4, 26)) : undefined;
    const nareisVergunningDay = nareisDay === undefined ? undefined : permitBefore(rng, nareisDay);

    const room = opts.size - persons;
    if (drafts.length > room) drafts = drafts.slice(0, room);

    const members: Member[] = drafts.map((d, i) => {
      const isNareiziger = nareisDay !== undefined && i > 0;
      const on = isNareiziger ? nareisDay : koppelDay;
      const birthDay = birthDayFor(rng, origin, d.age, on);
      const bornOnTheWay =
        d.rol === 'KIND' &&
        d.age <= 10 &&
        origin.transitBirthCountries.length > 0 &&
        rng.chance(0.35);
      const nationaliteit =
        origin.land === 'Syrië' && rng.chance(0.03)
          ? 'Staatloos'
          : rng.chance(0.02)
            ? undefined
            : origin.nationaliteit;
      const vNummer = ids.vNummer();
      const bsn = rng.chance(isNareiziger ? BSN_CHANCE_NAREIZIGER : BSN_CHANCE)
        ? ids.bsn()
        : undefined;
      return {
        rol: d.rol,
        geslacht: d.geslacht,
        birthDay,
        voornamen: d.voornamen,
        achternaam: d.achternaam,
        geboorteland: bornOnTheWay ? rng.pick(origin.transitBirthCountries) : origin.land,
        ...(nationaliteit !== undefined ? { nationaliteit } : {}),
        nareiziger: isNareiziger,
        vNummer,
        ...(bsn !== undefined ? { bsn } : {}),
      };
    });
    const household: Household = {
      huishoudenId: `${prefix}HH-${String(hhSeqStart + households.length).padStart(6, '0')}`,
      origin,
      moedertaal: rng.weighted(origin.moedertaal),
      gemeente,
      azc,
      koppelDay,
      vergunningDay,
      casemanagerIndex: rng.int(0, 9),
      members,
    };
    if (nareisDay !== undefined && members.length > 1 && nareisVergunningDay !== undefined) {
      household.nareisDay = nareisDay;
      household.nareisVergunningDay = nareisVergunningDay;
    }
    households.push(household);
    persons += members.length;
  }
  return households;
}

/** The permit is granted 1 to 14 days before the koppeling, on a workday. */
function permitBefore(rng: Rng, koppelDay: number): number {
  const day = previousWorkday(koppelDay - rng.int(1, 14));
  // Stepping back over a weekend can overshoot the 14 days; the Monday after is then used.
  return koppelDay - day > 14 ? day + 3 : day;
}

function capLevel(level: Niveau, age: number): Niveau {
  const order: Niveau[] = ['GEEN', 'BASIS', 'VOORTGEZET', 'MBO', 'HBO', 'WO'];
  const max: Niveau = age < 19 ? 'VOORTGEZET' : age < 21 ? 'MBO' : age < 23 ? 'HBO' : 'WO';
  return order.indexOf(level) > order.indexOf(max) ? max : level;
}

type Opleiding = CoaWarmeOverdracht['opleiding'][number];
type Taal = CoaWarmeOverdracht['talen'][number];

function opleidingFor(rng: Rng, level: Niveau, land: string): Opleiding[] {
  if (level === 'GEEN') return [{ niveau: 'GEEN', aantalJaren: 0 }];
  const out: Opleiding[] = [];
  if ((level === 'MBO' || level === 'HBO' || level === 'WO') && rng.chance(0.6)) {
    out.push({ niveau: 'VOORTGEZET', land, aantalJaren: rng.int(3, 6), diploma: true });
  } else if (level === 'VOORTGEZET' && rng.chance(0.4)) {
    out.push({ niveau: 'BASIS', land, aantalJaren: 6, diploma: true });
  }
  const [years, diplomaChance] = {
    BASIS: [[2, 6], 0.55],
    VOORTGEZET: [[2, 6], 0.55],
    MBO: [[2, 4], 0.75],
    HBO: [[3, 4], 0.85],
    WO: [[4, 6], 0.85],
  }[level] as [[number, number], number];
  out.push({
    niveau: level,
    land,
    aantalJaren: rng.int(years[0], years[1]),
    diploma: rng.chance(diplomaChance),
  });
  return out;
}

function werkervaringFor(
  rng: Rng,
  level: Niveau,
  geslacht: Geslacht,
  age: number,
): CoaWarmeOverdracht['werkervaring'] {
  const none = age < 21 ? 0.75 : geslacht === 'V' ? 0.5 : 0.15;
  if (rng.chance(none)) return [];
  const pool: readonly string[] =
    level === 'GEEN' || level === 'BASIS'
      ? BEROEPEN.laag
      : level === 'VOORTGEZET' || level === 'MBO'
        ? [...BEROEPEN.laag, ...BEROEPEN.midden]
        : BEROEPEN.hoog;
  const count = rng.weighted([
    [1, 60],
    [2, 30],
    [3, 10],
  ] as const);
  // Jobs follow one another, so together they fit in the years since leaving school.
  let yearsLeft = Math.max(1, Math.min(30, age - 17));
  const seen = new Set<string>();
  const out: CoaWarmeOverdracht['werkervaring'] = [];
  for (let i = 0; i < count; i++) {
    // Highly educated people often did lower-skilled work in a transit country.
    const beroep = i > 0 && rng.chance(0.25) ? rng.pick(BEROEPEN.laag) : rng.pick(pool);
    if (seen.has(beroep)) continue;
    seen.add(beroep);
    if (yearsLeft < 1) break;
    const aantalJaren = rng.int(1, Math.min(yearsLeft, 15));
    yearsLeft -= aantalJaren;
    out.push({ beroep, aantalJaren });
  }
  return out;
}

type Niveaus = readonly (readonly [Taal['niveau'], number])[];
// prettier-ignore
const TAALNIVEAUS = {
  tweedeLandstaal: [['GOED', 60], ['REDELIJK', 40]],
  anders: [['GOED', 30], ['REDELIJK', 45], ['BEGINNER', 25]],
  engelsHoog: [['GOED', 45], ['REDELIJK', 40], ['BEGINNER', 15]],
  engelsLaag: [['GOED', 10], ['REDELIJK', 35], ['BEGINNER', 55]],
  nederlandsNaVoorinburgering: [['A0', 25], ['A1', 55], ['A2', 20]],
} as const satisfies { [k: string]: Niveaus };
const ENGELS_CHANCE: { [n in Niveau]: number } = {
  GEEN: 0.03,
  BASIS: 0.1,
  VOORTGEZET: 0.3,
  MBO: 0.4,
  HBO: 0.7,
  WO: 0.85,
};

function talenFor(
  rng: Rng,
  origin: Origin,
  moedertaal: string,
  level: Niveau,
  voorinburgering: boolean,
): Taal[] {
  const out: Taal[] = [{ taal: moedertaal, niveau: 'MOEDERTAAL' }];
  const add = (taal: string, niveaus: Niveaus): void => {
    const niveau = rng.weighted(niveaus);
    if (!out.some((t) => t.taal === taal)) out.push({ taal, niveau });
  };
  // Speakers of a minority language nearly always speak the country's main language too.
  const main = origin.moedertaal[0]?.[0];
  if (main && main !== moedertaal) add(main, TAALNIVEAUS.tweedeLandstaal);
  for (const [taal, chance] of origin.otherLanguages) {
    if (rng.chance(chance)) add(taal, TAALNIVEAUS.anders);
  }
  if (rng.chance(ENGELS_CHANCE[level])) {
    const high = level === 'HBO' || level === 'WO';
    add('Engels', high ? TAALNIVEAUS.engelsHoog : TAALNIVEAUS.engelsLaag);
  }
  if (voorinburgering) add('Nederlands', TAALNIVEAUS.nederlandsNaVoorinburgering);
  else if (rng.chance(0.4)) add('Nederlands', [['A0', 1]]);
  return out;
}

function motivatieFor(
  rng: Rng,
  level: Niveau,
  werk: CoaWarmeOverdracht['werkervaring'],
  geslacht: Geslacht,
  age: number,
  hasChildren: boolean,
): string {
  const options: string[] = ['Is gemotiveerd om snel de taal te leren en mee te doen in de buurt.'];
  const beroep = werk[0]?.beroep;
  if (beroep)
    options.push(`Wil graag weer aan het werk als ${beroep} en daarvoor snel Nederlands leren.`);
  if (level === 'HBO' || level === 'WO') {
    options.push('Wil het diploma laten waarderen en een vervolgopleiding of passend werk vinden.');
  }
  if (age < 27) options.push('Wil een opleiding volgen en daarna werken; denkt aan het mbo.');
  if (hasChildren && geslacht === 'V' && werk.length === 0) {
    options.push('Wil eerst de kinderen laten wennen en daarna taalles volgen.');
  }
  if (level === 'GEEN') options.push('Kan nog niet goed lezen en schrijven; wil dat graag leren.');
  return rng.pick(options);
}

function medischFor(rng: Rng, geslacht: Geslacht, age: number): CoaWarmeOverdracht['medisch'] {
  const options: string[] = [...MEDISCHE_BIJZONDERHEDEN];
  if (geslacht === 'V' && age <= 42) options.push('Zwanger; verloskundige in de regio nodig.');
  return {
    bijzonderheden: rng.pick(options),
    toestemmingDelen: rng.chance(MEDISCH_TOESTEMMING_CHANCE),
  };
}

/** Code-unit order: unlike localeCompare it does not depend on the machine's locale. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

interface Placement {
  household: Household;
  member: Member;
  index: number;
  koppelDay: number;
  vergunningDay: number;
}

export function generateCohort(opts: CohortOptions): Cohort {
  validateOptions(opts);
  const rng = createRng(opts.seed ?? 1);
  const ids = new IdentifierPool(rng);
  const households = buildHouseholds(rng, opts, ids);
  const prefix = opts.idPrefix ? `${opts.idPrefix}-` : '';

  const records: Placement[] = households.flatMap((household) =>
    household.members.map((member, index) => ({
      household,
      member,
      index,
      koppelDay: member.nareiziger
        ? (household.nareisDay ?? household.koppelDay)
        : household.koppelDay,
      vergunningDay: member.nareiziger
        ? (household.nareisVergunningDay ?? household.vergunningDay)
        : household.vergunningDay,
    })),
  );
  // TVS numbers koppelingen as they are made, so ids follow the koppelDatum.
  records.sort(
    (a, b) =>
      a.koppelDay - b.koppelDay ||
      compareText(a.household.huishoudenId, b.household.huishoudenId) ||
      a.index - b.index,
  );

  const nareisAzc = AZC_LOCATIONS.find((a) => a.locatieCode === NAREIZIGER_AZC) as AzcLocation;
  const kopSeqStart = rng.int(100, 999);
  const persons: CohortPerson[] = [];
  const koppelingen: CoaKoppeling[] = [];
  const pending: { datum: number; build: (overdrachtId: string) => CoaWarmeOverdracht }[] = [];

  records.forEach((r, i) => {
    const { household: h, member: m } = r;
    const koppelDatum = dayToIso(r.koppelDay);
    const koppelingId = `${prefix}KOP-${koppelDatum.slice(0, 4)}-${String(kopSeqStart + i).padStart(6, '0')}`;
    const azc = m.nareiziger ? nareisAzc : h.azc;
    const koppeling: CoaKoppeling = {
      berichtId: rng.uuid(),
      koppelingId,
      koppelDatum,
      gemeenteCode: h.gemeente.code,
      vergunningDatum: dayToIso(r.vergunningDay),
      persoon: {
        vNummer: m.vNummer,
        ...(m.bsn !== undefined ? { bsn: m.bsn } : {}),
        voornamen: m.voornamen,
        achternaam: m.achternaam,
        geboortedatum: dayToIso(m.birthDay),
        geslacht: m.geslacht,
        ...(m.nationaliteit !== undefined ? { nationaliteit: m.nationaliteit } : {}),
        geboorteland: m.geboorteland,
      },
      azc: { locatieCode: azc.locatieCode, naam: azc.naam },
      huishouden: {
        huishoudenId: h.huishoudenId,
        rol: m.rol,
        aantalLeden: h.members.length,
        nareiziger: m.nareiziger,
      },
    };
    koppelingen.push(koppeling);
    const age = ageOn(m.birthDay, r.koppelDay);
    const adult = age >= OVERDRACHT_MIN_AGE;
    persons.push({
      vNummer: m.vNummer,
      ...(m.bsn !== undefined ? { bsn: m.bsn } : {}),
      koppelingId,
      gemeenteCode: h.gemeente.code,
      huishoudenId: h.huishoudenId,
      adult,
    });
    if (!adult) return;

    // Everything random is drawn now, in koppeling order, so the cohort stays deterministic.
    const origin = h.origin;
    const level = capLevel(
      rng.weighted(origin.education[m.geslacht === 'M' ? 'male' : 'female']),
      age,
    );
    const opleiding = opleidingFor(rng, level, origin.land);
    const werkervaring = werkervaringFor(rng, level, m.geslacht, age);
    const gevolgd = rng.chance(m.nareiziger ? 0.2 : 0.7);
    const activiteiten: string[] = [];
    if (gevolgd) {
      const wanted = rng.int(1, 3);
      if (rng.chance(0.8)) activiteiten.push(VOORINBURGERING_ACTIVITEITEN[0]);
      while (activiteiten.length < wanted) {
        const a = rng.pick(VOORINBURGERING_ACTIVITEITEN);
        if (!activiteiten.includes(a)) activiteiten.push(a);
      }
    }
    const talen = talenFor(rng, origin, h.moedertaal, level, gevolgd);
    const hasChildren =
      h.members.some((x) => x.rol === 'KIND') && m.rol !== 'KIND' && m.rol !== 'OVERIG';
    const motivatie = motivatieFor(rng, level, werkervaring, m.geslacht, age, hasChildren);
    const verwachtingen = rng.pick(VERWACHTINGEN);
    const medisch = rng.chance(MEDISCH_CHANCE) ? medischFor(rng, m.geslacht, age) : undefined;
    const cmAzc = m.nareiziger ? nareisAzc : h.azc;
    const casemanager = cmAzc.casemanagers[h.casemanagerIndex % cmAzc.casemanagers.length] ?? {
      naam: 'COA casemanager',
    };
    const berichtId = rng.uuid();
    const datum = nextWorkday(r.koppelDay + rng.int(7, 35));

    pending.push({
      datum,
      build: (overdrachtId) => ({
        berichtId,
        overdrachtId,
        koppelingId,
        gemeenteCode: h.gemeente.code,
        datum: dayToIso(datum),
        persoon: { vNummer: m.vNummer, ...(m.bsn !== undefined ? { bsn: m.bsn } : {}) },
        opleiding,
        werkervaring,
        talen,
        voorinburgering: gevolgd ? { gevolgd, activiteiten } : { gevolgd },
        motivatie,
        verwachtingen,
        herkomstland: origin.land,
        ...(medisch !== undefined ? { medisch } : {}),
        casemanager: { ...casemanager },
      }),
    });
  });

  const woSeqStart = rng.int(100, 999);
  // A stable sort keeps koppeling order among overdrachten of the same day.
  pending.sort((a, b) => a.datum - b.datum);
  const overdrachten = pending.map((p, i) =>
    p.build(
      `${prefix}WO-${dayToIso(p.datum).slice(0, 4)}-${String(woSeqStart + i).padStart(6, '0')}`,
    ),
  );
  return { persons, koppelingen, overdrachten };
}

/** Counts for a printed summary and for tests. */
export interface CohortSummary {
  households: number;
  persons: number;
  adults: number;
  minors: number;
  nareizigers: number;
  /** Households with at least one nareiziger. */
  householdsWithNareizigers: number;
  overdrachten: number;
  withBsn: number;
  /** Share of persons with a BSN, 0–1. */
  bsnShare: number;
  /** Overdrachten with medical particulars, and how many of those may be shared. */
  medisch: number;
  medischToestemming: number;
  /** Share of adults with medical particulars, 0–1. */
  medischShare: number;
  householdSizes: { [size: string]: number };
  perGemeente: { [code: string]: { households: number; persons: number; adults: number } };
  perAzc: { [locatieCode: string]: number };
  adultsPerHerkomstland: { [land: string]: number };
  firstKoppelDatum: string;
  lastKoppelDatum: string;
}

export function summarizeCohort(cohort: Cohort): CohortSummary {
  const households = new Map<string, { size: number; gemeente: string; nareis: boolean }>();
  const perGemeente: CohortSummary['perGemeente'] = {};
  const perAzc: CohortSummary['perAzc'] = {};
  const adultsPerHerkomstland: CohortSummary['adultsPerHerkomstland'] = {};
  const adultIds = new Set(cohort.persons.filter((p) => p.adult).map((p) => p.koppelingId));
  let nareizigers = 0;
  let withBsn = 0;
  for (const k of cohort.koppelingen) {
    const hh = households.get(k.huishouden.huishoudenId) ?? {
      size: k.huishouden.aantalLeden,
      gemeente: k.gemeenteCode,
      nareis: false,
    };
    if (k.huishouden.nareiziger) {
      hh.nareis = true;
      nareizigers++;
    }
    households.set(k.huishouden.huishoudenId, hh);
    if (k.persoon.bsn !== undefined) withBsn++;
    const g = (perGemeente[k.gemeenteCode] ??= { households: 0, persons: 0, adults: 0 });
    g.persons++;
    if (adultIds.has(k.koppelingId)) g.adults++;
    perAzc[k.azc.locatieCode] = (perAzc[k.azc.locatieCode] ?? 0) + 1;
  }
  for (const o of cohort.overdrachten) {
    const land = o.herkomstland ?? 'onbekend';
    adultsPerHerkomstland[land] = (adultsPerHerkomstland[land] ?? 0) + 1;
  }
  const householdSizes: CohortSummary['householdSizes'] = {};
  for (const hh of households.values()) {
    householdSizes[hh.size] = (householdSizes[hh.size] ?? 0) + 1;
    const g = perGemeente[hh.gemeente];
    if (g) g.households++;
  }
  const medischList = cohort.overdrachten.filter((o) => o.medisch !== undefined);
  const dates = cohort.koppelingen.map((k) => k.koppelDatum).sort();
  const persons = cohort.persons.length;
  return {
    households: households.size,
    persons,
    adults: adultIds.size,
    minors: persons - adultIds.size,
    nareizigers,
    householdsWithNareizigers: [...households.values()].filter((h) => h.nareis).length,
    overdrachten: cohort.overdrachten.length,
    withBsn,
    bsnShare: persons === 0 ? 0 : withBsn / persons,
    medisch: medischList.length,
    medischToestemming: medischList.filter((o) => o.medisch?.toestemmingDelen).length,
    medischShare: adultIds.size === 0 ? 0 : medischList.length / adultIds.size,
    householdSizes,
    perGemeente,
    perAzc,
    adultsPerHerkomstland,
    firstKoppelDatum: dates[0] ?? '',
    lastKoppelDatum: dates[dates.length - 1] ?? '',
  };
}
