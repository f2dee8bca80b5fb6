/**
 * What the DUO simulator knows about one person, how a test seeds it, how DUO-side changes
 * ("events": a leerbaarheidstoets result, an exam, a move) alter it and which notification
 * (gebeurtenisId) each change makes DUO send, and how the state is shown in the shapes of DUO's
 * GET APIs.
 *
 * Field names of the DUO shapes follow the OpenAPI files (`Inburgeringsplicht`, `Doelgroep`,
 * `PIP`, ...); the simulator's own bookkeeping (per-gemeente PIP versions, vestigingen) uses
 * Dutch names too, so the `/_sim` read-back reads like the domain.
 */

import { addYears, isIsoDate } from './dates.ts';
import { recordedNiveau } from './rules.ts';
import type { Doelgroepindeling, JaNee, Leerroute, NiveauPip } from './rules.ts';

export type GedetailleerdeDoelgroep =
  | 'Asielstatushouder'
  | 'Geestelijk bedienaar'
  | 'Gezinshereniger'
  | 'Gezinshereniger met Asielstatushouder'
  | 'Gezinsvormer'
  | 'Gezinsvormer met Asielstatushouder'
  | 'Overig';

export type RedenGeenInburgeringsplicht =
  | 'Volledige ontheffing'
  | 'Volledige vrijstelling'
  | 'Inburgeringsplicht voldaan'
  | 'Verblijfsdoel gewijzigd'
  | 'Vertrek uit Nederland langer dan een jaar'
  | 'Overlijden'
  | 'Overig'
  | 'Tijdelijke vrijstelling';

export type Alfabetisering = 'A' | 'AA' | 'NVT';

export interface Doelgroep {
  indeling: Doelgroepindeling;
  begindatum?: string;
  gedetailleerdeDoelgroep?: GedetailleerdeDoelgroep;
  asielrechtenWijzigingVerblijfsdoel?: string;
}

export interface Inburgeringsplicht {
  indicatorInburgeringsplicht: boolean;
  begindatum?: string;
  einddatum?: string;
  wijzigingsdatum?: string;
  datumKennisgevingInburgeringsplicht?: string;
  redenGeenInburgeringsplicht?: RedenGeenInburgeringsplicht;
}

export interface Inburgeringstermijn {
  startdatum: string;
  /** Exclusive: startdatum + 3 years. */
  einddatum: string;
  wijzigingsdatum?: string;
  verlengingsgrondcode?: string;
  verlengingsgrondomschrijving?: string;
}

export interface LbtResultaat {
  resultaat: 'B1-route haalbaar' | 'B1-route niet haalbaar' | 'Onbekend';
  /** Decimal comma, e.g. `"61,50"`. */
  behaaldeScore: string;
  benodigdeScore: string;
  datumAfname: string;
}

export interface Examenresultaat {
  examendatum: string;
  resultaat: 'Geslaagd' | 'Gezakt' | 'Geen';
  redenGeenResultaat?: 'Verwijtbaar' | 'Nietverwijtbaar' | 'Afgemeld' | 'Absent';
  onderdeel: 'KNM' | 'LE' | 'LU' | 'SC' | 'SP';
  niveau?: 'A2' | 'B1' | 'B2';
}

/** Free exam attempts the person still has, per examenonderdeel (Examen API). */
export interface GratisPogingTegoed {
  onderdeel: Examenresultaat['onderdeel'];
  gratisPogingenTegoed: number;
}

export interface Pip {
  dagtekeningPip: string;
  leerroute: Leerroute;
  niveau?: NiveauPip;
  geschatteIntensiteitB1Route?: number;
  indicatorMagOpleidingAfmaken?: boolean;
  indicatorAlfabetiseringsonderwijs?: Alfabetisering;
}

/** A PIP as registered: DUO's fields plus the simulator's registration number. */
export interface PipVersie extends Pip {
  /** Unique per simulator run; lets delayed processing find "its" PIP after a change. */
  registratie: number;
}

/** One gemeente's PIPs for the person: the first is the initial PIP, the last the current. */
export interface GemeentePips {
  gemeentecode: string;
  versies: PipVersie[];
  /** Order of the last registration over all gemeenten: the highest is the PIP DUO shows. */
  volgorde: number;
}

export interface Uren {
  gemeentecode: string;
  /** Exclusive: set when the person moved away, the hours of this gemeente are known until then. */
  bekendTot?: string;
  participatietaalles?: number;
  participatieactiviteiten?: number;
  taallesknm?: number;
}

export interface Inburgeringsaanbod {
  gemeentecode: string;
  instellingsnummer: string;
  datumInburgeringsaanbod?: string;
  verwachteStartdatumOpleiding?: string;
  verwachteEinddatumOpleiding?: string;
  indicatorAlfabetiseringsonderwijs: Alfabetisering;
}

export interface Vrijstelling {
  GeheleVrijstelling?: {
    oordeel: 'Toekenning' | 'Afwijzing';
    reden: string;
    datumOordeel?: string;
  };
  TijdelijkeVrijstelling?: {
    oordeel: 'Toekenning' | 'Afwijzing';
    reden: string;
    datumOordeel?: string;
    startdatum?: string;
    einddatum?: string;
  };
  GedeeltelijkeVrijstelling?: {
    oordeel: 'Toekenning' | 'Afwijzing';
    reden: string;
    datumOordeel?: string;
    examenonderdeel?: 'LE' | 'LU' | 'SC' | 'SP';
    examenniveau?: 'A2' | 'B1';
  };
}

export interface Ontheffing {
  GeheleOntheffing?: {
    oordeel: 'Toekenning' | 'Afwijzing';
    datumOordeel: string;
    grond: 'BIO' | 'MED';
  };
  GedeeltelijkeOntheffing?: {
    oordeel: 'Toekenning' | 'Afwijzing';
    datumOordeel: string;
    grond: 'BIO' | 'MED';
    examenonderdeel?: 'KNM' | 'LE' | 'LU' | 'SC' | 'SP';
    /** Z-route with a medical limitation: the most hours of participation (0: none at all). */
    urenBelastbaarheidParticipatieactiviteit?: number;
  };
}

export type VoldaanVia = 'diploma' | 'vrijstelling' | 'ontheffing' | 'zroute';

export interface PersonState {
  bsn: string;
  /** An integer, as the Notificatie API carries it. */
  vNummer?: number;
  /** CBS code (4 digits) of the gemeente responsible for the person: the one notifications go to. */
  gemeentecode: string;
  /** When the person settled (BRP) in that gemeente; absent while still in COA housing. */
  vestigingsdatum?: string;
  vestigingen: { gemeentecode: string; datum: string }[];
  doelgroep: Doelgroep;
  doelgroepHistorie: { indeling: Doelgroepindeling; begindatum?: string; einddatum?: string }[];
  inburgeringsplicht: Inburgeringsplicht;
  plichtHistorie: Inburgeringsplicht[];
  plichtVoldaanVia?: VoldaanVia;
  lbt: { examennummer?: string; resultaten: LbtResultaat[] };
  inburgeringstermijn?: Inburgeringstermijn;
  termijnHistorie: Omit<Inburgeringstermijn, 'startdatum'>[];
  pips: GemeentePips[];
  map: { datumEindgesprekMap?: string; verwijtbaar?: JaNee };
  pvt: { datumOndertekeningPvt?: string; verwijtbaar?: JaNee };
  zroute: { datumAfrondingZroute?: string };
  uren: Uren[];
  examens: Examenresultaat[];
  /** Seeded only; DUO's own bookkeeping of attempts is not simulated. */
  gratispogingen: GratisPogingTegoed[];
  vrijstellingen: Vrijstelling[];
  ontheffingen: Ontheffing[];
  aanbod: Inburgeringsaanbod[];
}

/** A problem with a seed or event body, naming the field. */
export class SimInputError extends Error {
  override readonly name = 'SimInputError';
  readonly field: string;
  /** The HTTP status the `/_sim` API answers with. */
  readonly status: number;
  constructor(field: string, message: string, status = 400) {
    super(`${field}: ${message}`);
    this.field = field;
    this.status = status;
  }
}

type Json = Record<string, unknown>;

function isJson(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function obj(value: unknown, field: string): Json {
  if (!isJson(value)) throw new SimInputError(field, 'must be an object');
  return value;
}

function optDate(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (!isIsoDate(value)) throw new SimInputError(field, 'must be a date YYYY-MM-DD');
  return value;
}

function date(value: unknown, field: string): string {
  const d = optDate(value, field);
  if (d === undefined) throw new SimInputError(field, 'is required');
  return d;
}

function optEnum<T extends string>(
  value: unknown,
  allowed: readonly T[],
  field: string,
): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new SimInputError(field, `must be one of ${allowed.map((a) => `'${a}'`).join(', ')}`);
  }
  return value as T;
}

function optInt(value: unknown, field: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new SimInputError(field, `must be an integer from ${min} to ${max}`);
  }
  return value;
}

function optString(value: unknown, field: string, pattern: RegExp): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !pattern.test(value)) {
    throw new SimInputError(field, `must match ${String(pattern)}`);
  }
  return value;
}

function optBool(value: unknown, field: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw new SimInputError(field, 'must be true or false');
  return value;
}

function list(value: unknown, field: string): unknown[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new SimInputError(field, 'must be an array');
  return value;
}

export const LEERROUTES = ['B', 'O', 'Z'] as const;
export const NIVEAUS = ['A2', 'B1'] as const;
export const DOELGROEPINDELINGEN = [
  'Asielstatushouder',
  'Gezinsmigrant en overige migrant',
] as const;
export const GEDETAILLEERDE_DOELGROEPEN = [
  'Asielstatushouder',
  'Geestelijk bedienaar',
  'Gezinshereniger',
  'Gezinshereniger met Asielstatushouder',
  'Gezinsvormer',
  'Gezinsvormer met Asielstatushouder',
  'Overig',
] as const;
export const ASIELRECHTEN = [
  'Asielrechten toegekend',
  'Behoud asielrechten',
  'Op verzoek behoud rechten van gezins- en overige migrant',
  'Op verzoek rechten van gezins- en overige migrant toegekend',
] as const;
export const REDENEN_GEEN_PLICHT = [
  'Volledige ontheffing',
  'Volledige vrijstelling',
  'Inburgeringsplicht voldaan',
  'Verblijfsdoel gewijzigd',
  'Vertrek uit Nederland langer dan een jaar',
  'Overlijden',
  'Overig',
  'Tijdelijke vrijstelling',
] as const;
export const ALFABETISERING = ['A', 'AA', 'NVT'] as const;
export const LBT_RESULTATEN = ['B1-route haalbaar', 'B1-route niet haalbaar', 'Onbekend'] as const;
export const EXAMENONDERDELEN = ['KNM', 'LE', 'LU', 'SC', 'SP'] as const;
export const EXAMENRESULTATEN = ['Geslaagd', 'Gezakt', 'Geen'] as const;
export const EXAMENNIVEAUS = ['A2', 'B1', 'B2'] as const;
export const REDENEN_GEEN_RESULTAAT = [
  'Verwijtbaar',
  'Nietverwijtbaar',
  'Afgemeld',
  'Absent',
] as const;
const SCORE = /^\d{1,3},\d{2}$/;

/** `0797` or `gm0797` → `0797`. */
export function normaliseGemeentecode(value: unknown, field: string): string {
  if (typeof value === 'string') {
    const m = /^(?:gm)?(\d{4})$/i.exec(value.trim());
    if (m?.[1]) return m[1];
  }
  throw new SimInputError(field, "must be a CBS gemeente code like '0797' or 'gm0797'");
}

function vNummer(value: unknown, field: string): number | undefined {
  if (value === undefined) return undefined;
  const n = typeof value === 'string' && /^\d{1,10}$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 9_999_999_999) {
    throw new SimInputError(field, 'must be an integer from 1 to 9999999999 (or its digits)');
  }
  return n;
}

export function parsePip(value: unknown, field: string): Pip {
  const p = obj(value, field);
  const pip: Pip = {
    dagtekeningPip: date(p.dagtekeningPip, `${field}.dagtekeningPip`),
    leerroute:
      optEnum(p.leerroute, LEERROUTES, `${field}.leerroute`) ?? missing(`${field}.leerroute`),
  };
  const niveau = optEnum(p.niveau, NIVEAUS, `${field}.niveau`);
  const intensiteit = optInt(
    p.geschatteIntensiteitB1Route,
    `${field}.geschatteIntensiteitB1Route`,
    1,
    9999,
  );
  const afmaken = optBool(p.indicatorMagOpleidingAfmaken, `${field}.indicatorMagOpleidingAfmaken`);
  const alfa = optEnum(
    p.indicatorAlfabetiseringsonderwijs,
    ALFABETISERING,
    `${field}.indicatorAlfabetiseringsonderwijs`,
  );
  if (niveau !== undefined) pip.niveau = niveau;
  if (intensiteit !== undefined) pip.geschatteIntensiteitB1Route = intensiteit;
  if (afmaken !== undefined) pip.indicatorMagOpleidingAfmaken = afmaken;
  if (alfa !== undefined) pip.indicatorAlfabetiseringsonderwijs = alfa;
  return pip;
}

function missing(field: string): never {
  throw new SimInputError(field, 'is required');
}

export function parseLbtResultaat(value: unknown, field: string, today: string): LbtResultaat {
  const r = obj(value, field);
  const resultaat =
    optEnum(r.resultaat, LBT_RESULTATEN, `${field}.resultaat`) ?? 'B1-route haalbaar';
  const behaalde = optString(r.behaaldeScore, `${field}.behaaldeScore`, SCORE);
  const benodigde = optString(r.benodigdeScore, `${field}.benodigdeScore`, SCORE) ?? '55,00';
  return {
    resultaat,
    // A plausible score on the side of the threshold the result says.
    behaaldeScore: behaalde ?? (resultaat === 'B1-route niet haalbaar' ? '41,25' : '63,50'),
    benodigdeScore: benodigde,
    datumAfname: optDate(r.datumAfname, `${field}.datumAfname`) ?? today,
  };
}

export function parseExamenresultaat(
  value: unknown,
  field: string,
  today: string,
): Examenresultaat {
  const e = obj(value, field);
  const out: Examenresultaat = {
    examendatum: optDate(e.examendatum, `${field}.examendatum`) ?? today,
    resultaat: optEnum(e.resultaat, EXAMENRESULTATEN, `${field}.resultaat`) ?? 'Geslaagd',
    onderdeel:
      optEnum(e.onderdeel, EXAMENONDERDELEN, `${field}.onderdeel`) ?? missing(`${field}.onderdeel`),
  };
  const niveau = optEnum(e.niveau, EXAMENNIVEAUS, `${field}.niveau`);
  const reden = optEnum(
    e.redenGeenResultaat,
    REDENEN_GEEN_RESULTAAT,
    `${field}.redenGeenResultaat`,
  );
  if (niveau !== undefined) out.niveau = niveau;
  else if (out.onderdeel !== 'KNM') out.niveau = 'B1';
  if (reden !== undefined) out.redenGeenResultaat = reden;
  return out;
}

function parseGratisPoging(value: unknown, field: string): GratisPogingTegoed {
  const g = obj(value, field);
  return {
    onderdeel:
      optEnum(g.onderdeel, EXAMENONDERDELEN, `${field}.onderdeel`) ?? missing(`${field}.onderdeel`),
    gratisPogingenTegoed:
      optInt(g.gratisPogingenTegoed, `${field}.gratisPogingenTegoed`, 0, 99) ??
      missing(`${field}.gratisPogingenTegoed`),
  };
}

const OORDELEN = ['Toekenning', 'Afwijzing'] as const;

/** The one key of a seeded vrijstelling or ontheffing: its kind, as in DUO's API. */
function kindOf<K extends string>(v: Json, field: string, kinds: readonly K[]): K {
  const keys = Object.keys(v);
  if (keys.length !== 1 || !(kinds as readonly string[]).includes(keys[0]!)) {
    throw new SimInputError(field, `must have exactly one of ${kinds.join(', ')}`);
  }
  return keys[0] as K;
}

/** A seeded vrijstelling in the shape of DUO's Vrijstelling API (one decision of one kind). */
function parseVrijstelling(value: unknown, field: string): Vrijstelling {
  const v = obj(value, field);
  const kind = kindOf(v, field, [
    'GeheleVrijstelling',
    'TijdelijkeVrijstelling',
    'GedeeltelijkeVrijstelling',
  ] as const);
  const at = `${field}.${kind}`;
  const d = obj(v[kind], at);
  const out: Json = {
    oordeel: optEnum(d.oordeel, OORDELEN, `${at}.oordeel`) ?? missing(`${at}.oordeel`),
    reden:
      optEnum(d.reden, ['AVI', 'DIP', 'DOC', 'GED', 'INB', 'INS', 'OPL'] as const, `${at}.reden`) ??
      missing(`${at}.reden`),
  };
  const dates =
    kind === 'TijdelijkeVrijstelling'
      ? (['datumOordeel', 'startdatum', 'einddatum'] as const)
      : (['datumOordeel'] as const);
  for (const k of dates) if (d[k] !== undefined) out[k] = optDate(d[k], `${at}.${k}`);
  if (kind === 'GedeeltelijkeVrijstelling') {
    const o = optEnum(
      d.examenonderdeel,
      ['LE', 'LU', 'SC', 'SP'] as const,
      `${at}.examenonderdeel`,
    );
    const n = optEnum(d.examenniveau, NIVEAUS, `${at}.examenniveau`);
    if (o !== undefined) out.examenonderdeel = o;
    if (n !== undefined) out.examenniveau = n;
  }
  return { [kind]: out } as Vrijstelling;
}

/** A seeded ontheffing in the shape of DUO's Ontheffing API (one decision of one kind). */
function parseOntheffing(value: unknown, field: string): Ontheffing {
  const v = obj(value, field);
  const kind = kindOf(v, field, ['GeheleOntheffing', 'GedeeltelijkeOntheffing'] as const);
  const at = `${field}.${kind}`;
  const d = obj(v[kind], at);
  const out: Json = {
    oordeel: optEnum(d.oordeel, OORDELEN, `${at}.oordeel`) ?? missing(`${at}.oordeel`),
    datumOordeel: date(d.datumOordeel, `${at}.datumOordeel`),
    grond: optEnum(d.grond, ['BIO', 'MED'] as const, `${at}.grond`) ?? missing(`${at}.grond`),
  };
  if (kind === 'GedeeltelijkeOntheffing') {
    const o = optEnum(d.examenonderdeel, EXAMENONDERDELEN, `${at}.examenonderdeel`);
    const uren = optInt(
      d.urenBelastbaarheidParticipatieactiviteit,
      `${at}.urenBelastbaarheidParticipatieactiviteit`,
      0,
      9999,
    );
    if (o !== undefined) out.examenonderdeel = o;
    if (uren !== undefined) out.urenBelastbaarheidParticipatieactiviteit = uren;
  }
  return { [kind]: out } as Ontheffing;
}

function parseUren(value: unknown, field: string, fallbackGemeente: string): Uren {
  const u = obj(value, field);
  const out: Uren = {
    gemeentecode:
      u.gemeentecode === undefined
        ? fallbackGemeente
        : normaliseGemeentecode(u.gemeentecode, `${field}.gemeentecode`),
  };
  const bekendTot = optDate(u.bekendTot, `${field}.bekendTot`);
  if (bekendTot !== undefined) out.bekendTot = bekendTot;
  for (const kind of ['participatietaalles', 'participatieactiviteiten', 'taallesknm'] as const) {
    const n = optInt(u[kind], `${field}.${kind}`, 0, 9999);
    if (n !== undefined) out[kind] = n;
  }
  return out;
}

export function parseAanbod(
  value: unknown,
  field: string,
  gemeentecode: string,
  instellingsnummer: string,
): Inburgeringsaanbod {
  const a = obj(value, field);
  const out: Inburgeringsaanbod = {
    gemeentecode,
    instellingsnummer,
    indicatorAlfabetiseringsonderwijs:
      optEnum(
        a.indicatorAlfabetiseringsonderwijs,
        ALFABETISERING,
        `${field}.indicatorAlfabetiseringsonderwijs`,
      ) ?? missing(`${field}.indicatorAlfabetiseringsonderwijs`),
  };
  for (const k of [
    'datumInburgeringsaanbod',
    'verwachteStartdatumOpleiding',
    'verwachteEinddatumOpleiding',
  ] as const) {
    const d = optDate(a[k], `${field}.${k}`);
    if (d !== undefined) out[k] = d;
  }
  return out;
}

/**
 * The body of `POST /_sim/personen`. Everything but `bsn` and `gemeentecode` has a default: an
 * asielstatushouder, inburgeringsplichtig from the vestigingsdatum (or today), nothing else yet.
 * The DUO-shaped parts (`doelgroep`, `inburgeringsplicht`, `inburgeringstermijn`, PIPs, results)
 * use the field names of DUO's OpenAPI files.
 */
export function parseSeed(body: unknown, today: string, seq: () => number): PersonState {
  const s = obj(body, 'body');
  const bsn =
    typeof s.bsn === 'string' && /^\d{9}$/.test(s.bsn) ? s.bsn : missing('bsn (9 digits)');
  const gemeentecode = normaliseGemeentecode(s.gemeentecode, 'gemeentecode');
  const vestigingsdatum = optDate(s.vestigingsdatum, 'vestigingsdatum');

  const plichtIn =
    s.inburgeringsplicht === undefined ? {} : obj(s.inburgeringsplicht, 'inburgeringsplicht');
  const indicator =
    optBool(
      plichtIn.indicatorInburgeringsplicht,
      'inburgeringsplicht.indicatorInburgeringsplicht',
    ) ?? true;
  const plicht: Inburgeringsplicht = { indicatorInburgeringsplicht: indicator };
  const begindatum =
    optDate(plichtIn.begindatum, 'inburgeringsplicht.begindatum') ??
    (indicator ? (vestigingsdatum ?? today) : undefined);
  if (begindatum !== undefined) plicht.begindatum = begindatum;
  for (const k of [
    'einddatum',
    'wijzigingsdatum',
    'datumKennisgevingInburgeringsplicht',
  ] as const) {
    const d = optDate(plichtIn[k], `inburgeringsplicht.${k}`);
    if (d !== undefined) plicht[k] = d;
  }
  const reden = optEnum(
    plichtIn.redenGeenInburgeringsplicht,
    REDENEN_GEEN_PLICHT,
    'inburgeringsplicht.redenGeenInburgeringsplicht',
  );
  if (reden !== undefined) plicht.redenGeenInburgeringsplicht = reden;

  const dgIn = s.doelgroep === undefined ? {} : obj(s.doelgroep, 'doelgroep');
  const indeling =
    optEnum(dgIn.indeling, DOELGROEPINDELINGEN, 'doelgroep.indeling') ?? 'Asielstatushouder';
  const doelgroep: Doelgroep = {
    indeling,
    gedetailleerdeDoelgroep:
      optEnum(
        dgIn.gedetailleerdeDoelgroep,
        GEDETAILLEERDE_DOELGROEPEN,
        'doelgroep.gedetailleerdeDoelgroep',
      ) ?? (indeling === 'Asielstatushouder' ? 'Asielstatushouder' : 'Gezinsvormer'),
  };
  const dgBegin = optDate(dgIn.begindatum, 'doelgroep.begindatum') ?? plicht.begindatum;
  if (dgBegin !== undefined) doelgroep.begindatum = dgBegin;
  const asielrechten = optEnum(
    dgIn.asielrechtenWijzigingVerblijfsdoel,
    ASIELRECHTEN,
    'doelgroep.asielrechtenWijzigingVerblijfsdoel',
  );
  if (asielrechten !== undefined) doelgroep.asielrechtenWijzigingVerblijfsdoel = asielrechten;

  const person: PersonState = {
    bsn,
    gemeentecode,
    vestigingen: vestigingsdatum === undefined ? [] : [{ gemeentecode, datum: vestigingsdatum }],
    doelgroep,
    doelgroepHistorie: [],
    inburgeringsplicht: plicht,
    plichtHistorie: [],
    lbt: { resultaten: [] },
    termijnHistorie: [],
    pips: [],
    map: {},
    pvt: {},
    zroute: {},
    uren: [],
    examens: [],
    gratispogingen: [],
    vrijstellingen: [],
    ontheffingen: [],
    aanbod: [],
  };
  const vn = vNummer(s.vNummer, 'vNummer');
  if (vn !== undefined) person.vNummer = vn;
  if (vestigingsdatum !== undefined) person.vestigingsdatum = vestigingsdatum;
  const via = optEnum(
    s.plichtVoldaanVia,
    ['diploma', 'vrijstelling', 'ontheffing', 'zroute'] as const,
    'plichtVoldaanVia',
  );
  if (via !== undefined) person.plichtVoldaanVia = via;

  if (s.lbt !== undefined) {
    const lbt = obj(s.lbt, 'lbt');
    const nr = optString(lbt.examennummer, 'lbt.examennummer', /^.{1,12}$/);
    if (nr !== undefined) person.lbt.examennummer = nr;
    person.lbt.resultaten = list(lbt.resultaten, 'lbt.resultaten').map((r, i) =>
      parseLbtResultaat(r, `lbt.resultaten[${i}]`, today),
    );
  }
  if (s.inburgeringstermijn !== undefined) {
    const t = obj(s.inburgeringstermijn, 'inburgeringstermijn');
    const start = date(t.startdatum, 'inburgeringstermijn.startdatum');
    person.inburgeringstermijn = {
      startdatum: start,
      einddatum: optDate(t.einddatum, 'inburgeringstermijn.einddatum') ?? addYears(start, 3),
    };
  }
  // `pip` is one PIP of the person's own gemeente; `pips` is the full form, per gemeente.
  const pipGroups: unknown[] = s.pip === undefined ? list(s.pips, 'pips') : [{ versies: [s.pip] }];
  person.pips = pipGroups.map((g, i) => {
    const group = obj(g, `pips[${i}]`);
    const versies = list(group.versies, `pips[${i}].versies`).map((p, j) =>
      toPipVersie(parsePip(p, `pips[${i}].versies[${j}]`), seq()),
    );
    if (versies.length === 0)
      throw new SimInputError(`pips[${i}].versies`, 'needs at least one PIP');
    return {
      gemeentecode:
        group.gemeentecode === undefined
          ? gemeentecode
          : normaliseGemeentecode(group.gemeentecode, `pips[${i}].gemeentecode`),
      versies,
      volgorde: seq(),
    };
  });
  if (s.map !== undefined) {
    const m = obj(s.map, 'map');
    const d = optDate(m.datumEindgesprekMap, 'map.datumEindgesprekMap');
    const v = optEnum(m.verwijtbaar, ['Ja', 'Nee'] as const, 'map.verwijtbaar');
    if (d !== undefined) person.map.datumEindgesprekMap = d;
    if (v !== undefined) person.map.verwijtbaar = v;
  }
  if (s.pvt !== undefined) {
    const p = obj(s.pvt, 'pvt');
    const d = optDate(p.datumOndertekeningPvt, 'pvt.datumOndertekeningPvt');
    const v = optEnum(p.verwijtbaar, ['Ja', 'Nee'] as const, 'pvt.verwijtbaar');
    if (d !== undefined) person.pvt.datumOndertekeningPvt = d;
    if (v !== undefined) person.pvt.verwijtbaar = v;
  }
  if (s.zroute !== undefined) {
    const d = optDate(obj(s.zroute, 'zroute').datumAfrondingZroute, 'zroute.datumAfrondingZroute');
    if (d !== undefined) person.zroute.datumAfrondingZroute = d;
  }
  person.uren = list(s.uren, 'uren').map((u, i) => parseUren(u, `uren[${i}]`, gemeentecode));
  person.vrijstellingen = list(s.vrijstellingen, 'vrijstellingen').map((v, i) =>
    parseVrijstelling(v, `vrijstellingen[${i}]`),
  );
  person.ontheffingen = list(s.ontheffingen, 'ontheffingen').map((o, i) =>
    parseOntheffing(o, `ontheffingen[${i}]`),
  );
  person.examens = list(s.examens, 'examens').map((e, i) =>
    parseExamenresultaat(e, `examens[${i}]`, today),
  );
  person.gratispogingen = list(s.gratispogingen, 'gratispogingen').map((g, i) =>
    parseGratisPoging(g, `gratispogingen[${i}]`),
  );
  const seen = new Set<string>();
  person.gratispogingen.forEach((g, i) => {
    if (seen.has(g.onderdeel)) {
      throw new SimInputError(`gratispogingen[${i}].onderdeel`, 'is given twice');
    }
    seen.add(g.onderdeel);
  });
  return person;
}

// ---------------------------------------------------------------------------------------------
// Reading the state as DUO's APIs show it

export function currentPipGroup(p: PersonState): GemeentePips | undefined {
  let best: GemeentePips | undefined;
  for (const g of p.pips)
    if (g.versies.length > 0 && (!best || g.volgorde > best.volgorde)) best = g;
  return best;
}

export function gemeentePips(p: PersonState, gemeentecode: string): GemeentePips | undefined {
  return p.pips.find((g) => g.gemeentecode === gemeentecode && g.versies.length > 0);
}

export function lastOf<T>(items: readonly T[]): T | undefined {
  return items[items.length - 1];
}

/** Course hours in the sense of the PIP-deletion rule: taalles hours above 0, any gemeente. */
export function hasCourseHours(p: PersonState): boolean {
  return p.uren.some((u) => (u.participatietaalles ?? 0) > 0 || (u.taallesknm ?? 0) > 0);
}

/** A PIP as DUO records it: "No niveau sent with B or O means DUO records B1". */
export function toPipVersie(pip: Pip, registratie: number): PipVersie {
  const niveau = recordedNiveau(pip);
  return { ...pip, ...(niveau === undefined ? {} : { niveau }), registratie };
}

/** The PIP in the shape of DUO's PIP schema (niveau as DUO records it). */
export function toDuoPip(v: PipVersie): Pip {
  const { registratie: _r, ...pip } = v;
  return pip;
}

export function toGevolgdeUren(p: PersonState): Json[] {
  return p.uren.map((u) => {
    const out: Json = { gemeentecode: u.gemeentecode };
    if (u.bekendTot !== undefined) out.bekendTot = u.bekendTot;
    if (u.participatietaalles !== undefined)
      out.ParticipatieAlsTaalles = { uren: u.participatietaalles };
    if (u.participatieactiviteiten !== undefined) {
      out.ParticipatieactiviteitenBredeIntake = { uren: u.participatieactiviteiten };
    }
    if (u.taallesknm !== undefined) out.TaallesEnKnmBredeIntake = { uren: u.taallesknm };
    return out;
  });
}

/** The hours record of a gemeente, created on first use. */
export function urenOf(p: PersonState, gemeentecode: string): Uren {
  let u = p.uren.find((x) => x.gemeentecode === gemeentecode && x.bekendTot === undefined);
  if (!u) {
    u = { gemeentecode };
    p.uren.push(u);
  }
  return u;
}

// ---------------------------------------------------------------------------------------------
// DUO-side changes

/** The notification codes of NOTES.md, with what they mean. */
export const GEBEURTENISSEN = {
  SS101: 'person became inburgeringsplichtig',
  SS128: 'inburgeringsplichtig, reaches AOW age within 6 months',
  SS139: 'inburgeringsplichtig and the 10-week term for setting the leerroute has started',
  SS129: 'temporary exemption withdrawn, no leerroute known yet',
  SS120: 'settled in the gemeente without a PIP',
  SS121: 'settled in the gemeente with a PIP of a previous gemeente',
  SS124: 'doelgroep changed asiel → gezins/overige migrant',
  SS125: 'doelgroep changed gezins/overige migrant → asiel',
  SS109: 'temporary exemption granted',
  SS110: 'inburgeringsplicht withdrawn',
  SS111: 'person deceased',
  SS106: 'plicht fulfilled: diploma',
  SS107: 'plicht fulfilled: full exemption',
  SS108: 'plicht fulfilled: full ontheffing',
  SS137: 'registered for the leerbaarheidstoets',
  SS131: 'leerbaarheidstoets taken, result known',
  SS102: 'inburgeringstermijn started',
  SS199: 'exam result',
} as const;

export type GebeurtenisId = keyof typeof GEBEURTENISSEN;

export const SIM_EVENT_TYPES = [
  'plicht-ontstaan',
  'vestiging',
  'lbt-aangemeld',
  'lbt-resultaat',
  'examen-resultaat',
  'plicht-voldaan',
  'plicht-vervallen',
  'overleden',
  'tijdelijke-vrijstelling',
  'tijdelijke-vrijstelling-ingetrokken',
  'doelgroep-gewijzigd',
  'termijn-gestart',
  'termijn-verlengd',
] as const;

export type SimEventType = (typeof SIM_EVENT_TYPES)[number];

export interface AppliedEvent {
  type: SimEventType;
  /** What DUO notifies about it; none when NOTES.md has no code for the change. */
  gebeurtenisId?: GebeurtenisId;
  /** The gemeente to notify (after a move: the new one). */
  gemeentecode: string;
}

function setPlicht(p: PersonState, next: Inburgeringsplicht): void {
  p.plichtHistorie.push({ ...p.inburgeringsplicht });
  p.inburgeringsplicht = next;
}

/**
 * Applies one DUO-side change (the body of `POST /_sim/personen/:bsn/events`) to the person and
 * says which notification DUO sends for it. Throws SimInputError (nothing changed) on a bad body.
 */
export function applySimEvent(p: PersonState, body: unknown, today: string): AppliedEvent {
  const e = obj(body, 'body');
  const type = optEnum(e.type, SIM_EVENT_TYPES, 'type') ?? missing('type');
  const datum = optDate(e.datum, 'datum') ?? today;
  const done = (gebeurtenisId?: GebeurtenisId): AppliedEvent => ({
    type,
    gemeentecode: p.gemeentecode,
    ...(gebeurtenisId ? { gebeurtenisId } : {}),
  });

  switch (type) {
    case 'plicht-ontstaan': {
      const begindatum = optDate(e.begindatum, 'begindatum') ?? datum;
      const kennisgeving = optDate(
        e.datumKennisgevingInburgeringsplicht,
        'datumKennisgevingInburgeringsplicht',
      );
      const aow = optBool(e.aowBinnenZesMaanden, 'aowBinnenZesMaanden') ?? false;
      setPlicht(p, {
        indicatorInburgeringsplicht: true,
        begindatum,
        wijzigingsdatum: today,
        ...(kennisgeving === undefined
          ? {}
          : { datumKennisgevingInburgeringsplicht: kennisgeving }),
      });
      delete p.plichtVoldaanVia;
      return done(aow ? 'SS128' : 'SS101');
    }
    case 'vestiging': {
      const target =
        e.gemeentecode === undefined
          ? p.gemeentecode
          : normaliseGemeentecode(e.gemeentecode, 'gemeentecode');
      const firstVestiging = p.vestigingen.length === 0;
      const moved = target !== p.gemeentecode;
      const pipElsewhere = p.pips.some((g) => g.gemeentecode !== target && g.versies.length > 0);
      if (moved) {
        // The old gemeente's hours stay, known until the move; the new gemeente starts at zero.
        for (const u of p.uren) {
          if (u.gemeentecode === p.gemeentecode && u.bekendTot === undefined) u.bekendTot = datum;
        }
      }
      p.gemeentecode = target;
      p.vestigingsdatum = datum;
      p.vestigingen.push({ gemeentecode: target, datum });
      if (!p.inburgeringsplicht.indicatorInburgeringsplicht) return done();
      // SS121 when a previous gemeente set a PIP; SS139 when the person settles for the first
      // time (leaving COA housing), which starts the 10-week PIP term; SS120 for a later move
      // without a PIP.
      if (pipElsewhere) return done('SS121');
      return done(firstVestiging ? 'SS139' : 'SS120');
    }
    case 'lbt-aangemeld': {
      p.lbt.examennummer =
        optString(e.examennummer, 'examennummer', /^.{1,12}$/) ??
        `LBT${p.bsn.slice(-6)}${String(p.lbt.resultaten.length + 1).padStart(3, '0')}`;
      return done('SS137');
    }
    case 'lbt-resultaat': {
      p.lbt.resultaten.push(parseLbtResultaat(e, 'body', today));
      return done('SS131');
    }
    case 'examen-resultaat': {
      p.examens.push(parseExamenresultaat(e, 'body', today));
      return done('SS199');
    }
    case 'plicht-voldaan': {
      const via =
        optEnum(e.via, ['diploma', 'vrijstelling', 'ontheffing', 'zroute'] as const, 'via') ??
        'diploma';
      const reden: RedenGeenInburgeringsplicht =
        via === 'vrijstelling'
          ? 'Volledige vrijstelling'
          : via === 'ontheffing'
            ? 'Volledige ontheffing'
            : 'Inburgeringsplicht voldaan';
      setPlicht(p, {
        ...p.inburgeringsplicht,
        indicatorInburgeringsplicht: false,
        einddatum: datum,
        wijzigingsdatum: today,
        redenGeenInburgeringsplicht: reden,
      });
      p.plichtVoldaanVia = via;
      if (via === 'vrijstelling') {
        p.vrijstellingen.push({
          GeheleVrijstelling: { oordeel: 'Toekenning', reden: 'DIP', datumOordeel: datum },
        });
        return done('SS107');
      }
      if (via === 'ontheffing') {
        p.ontheffingen.push({
          GeheleOntheffing: { oordeel: 'Toekenning', datumOordeel: datum, grond: 'MED' },
        });
        return done('SS108');
      }
      // NOTES.md has a code for a diploma only; completing the Z-route is known to the
      // gemeente, which registered it, so DUO has nothing to tell it.
      return done(via === 'diploma' ? 'SS106' : undefined);
    }
    case 'plicht-vervallen': {
      const reden =
        optEnum(
          e.reden,
          [
            'Verblijfsdoel gewijzigd',
            'Vertrek uit Nederland langer dan een jaar',
            'Overlijden',
            'Overig',
          ] as const,
          'reden',
        ) ?? 'Overig';
      setPlicht(p, {
        ...p.inburgeringsplicht,
        indicatorInburgeringsplicht: false,
        einddatum: datum,
        wijzigingsdatum: today,
        redenGeenInburgeringsplicht: reden,
      });
      return done('SS110');
    }
    case 'overleden': {
      // SS111 only: the plicht ends with it, but one death is one notification.
      setPlicht(p, {
        ...p.inburgeringsplicht,
        indicatorInburgeringsplicht: false,
        einddatum: datum,
        wijzigingsdatum: today,
        redenGeenInburgeringsplicht: 'Overlijden',
      });
      return done('SS111');
    }
    case 'tijdelijke-vrijstelling': {
      const startdatum = optDate(e.startdatum, 'startdatum') ?? datum;
      const einddatum = optDate(e.einddatum, 'einddatum') ?? addYears(startdatum, 1);
      const reden = optEnum(e.reden, ['INS', 'OPL'] as const, 'reden') ?? 'OPL';
      p.vrijstellingen.push({
        TijdelijkeVrijstelling: {
          oordeel: 'Toekenning',
          reden,
          datumOordeel: datum,
          startdatum,
          einddatum,
        },
      });
      setPlicht(p, {
        ...p.inburgeringsplicht,
        indicatorInburgeringsplicht: false,
        wijzigingsdatum: today,
        redenGeenInburgeringsplicht: 'Tijdelijke vrijstelling',
      });
      return done('SS109');
    }
    case 'tijdelijke-vrijstelling-ingetrokken': {
      for (const v of p.vrijstellingen) {
        const t = v.TijdelijkeVrijstelling;
        if (t && (t.einddatum === undefined || t.einddatum > datum)) t.einddatum = datum;
      }
      const { redenGeenInburgeringsplicht: _gone, einddatum: _end, ...rest } = p.inburgeringsplicht;
      setPlicht(p, { ...rest, indicatorInburgeringsplicht: true, wijzigingsdatum: today });
      // NOTES.md's SS129 is for "no leerroute known yet"; with a PIP there is no code.
      return done(currentPipGroup(p) ? undefined : 'SS129');
    }
    case 'doelgroep-gewijzigd': {
      const indeling = optEnum(e.indeling, DOELGROEPINDELINGEN, 'indeling') ?? missing('indeling');
      const begindatum = optDate(e.begindatum, 'begindatum') ?? datum;
      const previous = p.doelgroep;
      p.doelgroepHistorie.push({
        indeling: previous.indeling,
        ...(previous.begindatum === undefined ? {} : { begindatum: previous.begindatum }),
        einddatum: begindatum,
      });
      const next: Doelgroep = {
        indeling,
        begindatum,
        gedetailleerdeDoelgroep:
          optEnum(
            e.gedetailleerdeDoelgroep,
            GEDETAILLEERDE_DOELGROEPEN,
            'gedetailleerdeDoelgroep',
          ) ?? (indeling === 'Asielstatushouder' ? 'Asielstatushouder' : 'Overig'),
      };
      const rechten = optEnum(
        e.asielrechtenWijzigingVerblijfsdoel,
        ASIELRECHTEN,
        'asielrechtenWijzigingVerblijfsdoel',
      );
      if (rechten !== undefined) next.asielrechtenWijzigingVerblijfsdoel = rechten;
      p.doelgroep = next;
      if (previous.indeling === indeling) return done();
      return done(indeling === 'Asielstatushouder' ? 'SS125' : 'SS124');
    }
    case 'termijn-gestart': {
      const pip = currentPipGroup(p);
      const startdatum =
        optDate(e.startdatum, 'startdatum') ?? lastOf(pip?.versies ?? [])?.dagtekeningPip ?? datum;
      startTermijn(p, startdatum, optDate(e.einddatum, 'einddatum'), today);
      return done('SS102');
    }
    case 'termijn-verlengd': {
      const t = p.inburgeringstermijn;
      if (!t) throw new SimInputError('type', 'the person has no inburgeringstermijn to extend');
      const einddatum = date(e.einddatum, 'einddatum');
      p.termijnHistorie.push({
        einddatum: t.einddatum,
        ...(t.wijzigingsdatum === undefined ? {} : { wijzigingsdatum: t.wijzigingsdatum }),
      });
      t.einddatum = einddatum;
      t.wijzigingsdatum = today;
      const code = optString(e.verlengingsgrondcode, 'verlengingsgrondcode', /^.{1,10}$/);
      const omschrijving = optString(
        e.verlengingsgrondomschrijving,
        'verlengingsgrondomschrijving',
        /^.{1,200}$/,
      );
      if (code !== undefined) t.verlengingsgrondcode = code;
      if (omschrijving !== undefined) t.verlengingsgrondomschrijving = omschrijving;
      // NOTES.md lists no notification for an extension.
      return done();
    }
  }
}

/** DOMAIN.md: the inburgeringstermijn is 3 years from the PIP (end exclusive). */
export function startTermijn(
  p: PersonState,
  startdatum: string,
  einddatum: string | undefined,
  today: string,
): void {
  p.inburgeringstermijn = {
    startdatum,
    einddatum: einddatum ?? addYears(startdatum, 3),
    wijzigingsdatum: today,
  };
}
