/**
 * A stand-in for DUO's M2M APIs for gemeenten: a real HTTP server that answers the hub's DUO
 * adapter on DUO's paths (base path `/v1`), enforces DUO's business rules, keeps per-person
 * state in memory, and calls the hub's Notificatie API the way DUO does when something changes.
 * It can be told to fail, so the hub's retries and breaker can be exercised.
 *
 * When DUO's OpenAPI files are available every request received and every answer given is
 * checked against them; a request off the spec is answered 400, an answer off the spec is a
 * bug in this simulator and is counted so tests fail on it.
 *
 * Status codes and bodies follow the specs to the letter, which differs from the hub's own
 * APIs: DUO documents a body (a list of `Foutmelding { fouttekst }`) only for the 403 of the
 * mutating operations, and none for 400 or 404. So a business-rule refusal is a 403 with one
 * fouttekst per broken rule, and a 400/404 has an empty body; the reason is in
 * `/_sim/requests`.
 *
 * The `/_sim` API has no authentication, which is why the default bind address is loopback.
 */

import type { FastifyReply, FastifyRequest } from 'fastify';
import { createDeliveryCount, createSimServer, createWork, faultOf } from '@ketenhub/simulator-kit';
import type {
  DeliveryStats,
  FaultInput,
  FaultKind,
  NotifierStats,
  SimControls,
} from '@ketenhub/simulator-kit';
import { todayInNl } from './dates.ts';
import { createNotifier, NOTIFICATIE_API_VERSION } from './notifier.ts';
import type { NotificationRecord, SimulatorLogger } from './notifier.ts';
import { DEFAULT_DUO_SPEC_DIR, duoSpecsAvailable, loadDuoSpecs } from './openapi-validator.ts';
import type { DuoSpecs, SpecViolation } from './openapi-validator.ts';
import {
  checkInburgeringsaanbod,
  checkMapPvt,
  checkPipRegistratie,
  checkPipVerwijdering,
} from './rules.ts';
import type { JaNee, RuleViolation } from './rules.ts';
import {
  SimInputError,
  applySimEvent,
  currentPipGroup,
  gemeentePips,
  hasCourseHours,
  lastOf,
  normaliseGemeentecode,
  parseAanbod,
  parsePip,
  parseSeed,
  startTermijn,
  toDuoPip,
  toGevolgdeUren,
  toPipVersie,
  urenOf,
} from './state.ts';
import type { AppliedEvent, PersonState } from './state.ts';

export type { FaultInput, SimulatorLogger };

/** A synthetic OIN; pass the real one with `oin` when it matters. */
export const DEFAULT_DUO_OIN = '00000001999999999000';

/**
 * The versions of DUO's APIs this simulator speaks (NOTES.md, June 2026). When the spec files
 * are loaded their `info.version` wins, with a warning if it differs.
 */
export const DUO_API_VERSIONS: Readonly<Record<string, string>> = {
  Contactpersoon: '1.0.0',
  Examen: '1.0.0',
  GevolgdeUren: '1.0.0',
  Inburgeringsaanbod: '1.2.0',
  Inburgeringsplicht: '1.2.2',
  Inburgeringstermijn: '1.0.0',
  Leerbaarheidstoets: '1.2.0',
  'MAP-PVT-Zroute': '1.0.0',
  Notificatie: NOTIFICATIE_API_VERSION,
  Ontheffing: '1.0.0',
  PIP: '1.2.0',
  Vrijstelling: '1.0.0',
};

export interface Instelling {
  instellingsnummer: string;
  naam: string;
  postcode: string;
  huisnummer: number;
  huisnummertoevoeging?: string;
  plaatsnaam: string;
  bow?: string;
  brin?: string;
  indicatieBowKeurmerk?: boolean;
  indicatieTstKeurmerk?: boolean;
}

/**
 * DUO's list of cursusinstellingen, fixed: two with a Blik op Werk keurmerk, one taalschakel
 * (onderwijsroute) institution with only the TST keurmerk, and one whose keurmerk lapsed (still
 * known to DUO, no longer acceptable). Names and numbers are invented.
 */
export const DEFAULT_INSTELLINGEN: readonly Instelling[] = [
  {
    instellingsnummer: '1000000001',
    naam: 'Taalcentrum De Meierij',
    postcode: '5261AB',
    huisnummer: 12,
    plaatsnaam: 'Vught',
    bow: '40123',
    indicatieBowKeurmerk: true,
    indicatieTstKeurmerk: false,
  },
  {
    instellingsnummer: '1000000002',
    naam: 'Z-route Academie Den Bosch',
    postcode: '5211CD',
    huisnummer: 3,
    huisnummertoevoeging: 'A',
    plaatsnaam: "'s-Hertogenbosch",
    bow: '40456',
    indicatieBowKeurmerk: true,
    indicatieTstKeurmerk: false,
  },
  {
    instellingsnummer: '1000000003',
    naam: 'ROC Taalschakeltraject Brabant',
    postcode: '5223DE',
    huisnummer: 100,
    plaatsnaam: "'s-Hertogenbosch",
    brin: '25LH',
    indicatieBowKeurmerk: false,
    indicatieTstKeurmerk: true,
  },
  {
    instellingsnummer: '1000000004',
    naam: 'Taalschool Oud Keurmerk',
    postcode: '5251EF',
    huisnummer: 7,
    plaatsnaam: 'Vlijmen',
    bow: '40789',
    indicatieBowKeurmerk: false,
    indicatieTstKeurmerk: false,
  },
];

/** One of DUO's grounds for extending an inburgeringstermijn (Inburgeringstermijn API). */
export interface Verlengingsgrond {
  /** 1 to 10 characters: "een cijfer en/of eventueel een letter". */
  code: string;
  /** 1 to 200 characters. */
  omschrijving: string;
}

/**
 * DUO's list of verlengingsgronden, fixed. DUO publishes the list only through this operation;
 * the grounds follow those the Wet inburgering 2021 gives for extending the termijn, the codes
 * (a digit, in the form the spec describes) are invented.
 */
export const DEFAULT_VERLENGINGSGRONDEN: readonly Verlengingsgrond[] = [
  { code: '1', omschrijving: 'Ziekte of gebrek van de inburgeringsplichtige' },
  { code: '2', omschrijving: 'Zwangerschap en bevalling' },
  {
    code: '3',
    omschrijving: 'Voldoende inspanningen geleverd: examens afgelegd, nog niet geslaagd',
  },
  { code: '4', omschrijving: 'Onderwijsroute: de inburgeringsplichtige mag de opleiding afmaken' },
  {
    code: '5',
    omschrijving:
      'Vertraging in het inburgeringsaanbod die de inburgeringsplichtige niet is aan te rekenen',
  },
  { code: '6', omschrijving: 'Overige bijzondere omstandigheden, niet verwijtbaar' },
];

/** DUO's `Contactpersoongegevens`. */
export interface Contactpersoongegevens {
  naam: string;
  email: string;
  telefoonnummer: string;
}

/** A contactpersoon a gemeente registered with DUO, and the persons it is linked to. */
export interface ContactpersoonRecord {
  /** DUO's number, 1 to 99999, unique over all gemeenten and not reused. */
  id: number;
  gemeentecode: string;
  contactpersoongegevens: Contactpersoongegevens;
  /** BSNs of the persons the gemeente linked it to, in the order they were linked. */
  personen: string[];
}

export interface DuoSimulatorOptions {
  /** Default 127.0.0.1: the `/_sim` API is unauthenticated. */
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** DUO's OIN: the `doel` every request must carry and the `bron` of notifications. */
  oin?: string;
  /** CBS code (`0797` or `gm0797`) → that gemeente's OIN, the `bron` it calls DUO with. */
  gemeenten: Record<string, string>;
  /** Base URL of the hub's Notificatie API, e.g. `http://127.0.0.1:4302/v1`. */
  hubNotificatieUrl?: string;
  /** Sent to the hub as `Authorization: Bearer …`. */
  hubApiKey?: string;
  /** Folder with DUO's OpenAPI files; `false` turns validation off. Default DEFAULT_DUO_SPEC_DIR. */
  specDir?: string | false;
  /** Already loaded specs (tests share one); wins over `specDir`. */
  specs?: DuoSpecs;
  /** How long DUO takes to process an accepted message or a change before it notifies. Default 100. */
  processingDelayMs?: number;
  notificationRetry?: {
    /** Attempts in all, the first included; default 5. */
    maxAttempts?: number;
    /** First retry delay, doubling per attempt; default 100 ms. */
    baseDelayMs?: number;
    /** Default 2000 ms. */
    maxDelayMs?: number;
    /** Per attempt; default 5000 ms. */
    timeoutMs?: number;
  };
  /** Requests kept for `/_sim/requests` (oldest dropped first); default 10 000. */
  maxRequests?: number;
  /** Largest request body accepted (default 1 MiB). */
  bodyLimit?: number;
  instellingen?: readonly Instelling[];
  verlengingsgronden?: readonly Verlengingsgrond[];
  /** Clock for dates ("today" in the Netherlands), faults and records; injectable for tests. */
  now?: () => number;
  fetchImpl?: typeof fetch;
  logger?: SimulatorLogger;
}

export interface RequestRecord {
  seq: number;
  at: string;
  method: string;
  /** The path with the BSN replaced by `{bsn}`, no query. */
  path: string;
  api?: string;
  /** The spec's path template, when the request matched an operation. */
  operation?: string;
  /** CBS code of the calling gemeente, once `bron` identified it. */
  gemeentecode?: string;
  berichtId?: string;
  status: number;
  /** Why a 4xx was answered. */
  reason?: string;
  /** Business rules the request broke (ids from DUO_RULES). */
  rules?: string[];
  faulted?: FaultKind;
  requestViolations: SpecViolation[];
  responseViolations: SpecViolation[];
  durationMs: number;
}

export interface ApiStats {
  requests: number;
  ok: number;
  clientErrors: number;
  serverErrors: number;
}

/**
 * With the kit's DeliveryStats: `received` counts the distinct `berichtId`s of the gemeenten's
 * calls DUO accepted (2xx, every method but GET), `duplicates` a berichtId accepted again.
 */
export interface DuoSimStats extends DeliveryStats {
  requests: number;
  byApi: Record<string, ApiStats>;
  faulted: number;
  /** Requests answered 400 because they broke the spec. */
  requestViolations: number;
  /** Answers of this simulator that broke the spec: should always be 0. */
  responseViolations: number;
  /** Requests refused (403) on a business rule. */
  ruleViolations: number;
  persons: number;
  notifications: NotifierStats & {
    /** Notifications whose own request broke the spec (only deliberate ones via /_sim/notify). */
    requestViolations: number;
  };
  validation: 'on' | 'off';
}

export interface SimEventResult {
  type: string;
  gebeurtenisId?: string;
  notification?: NotificationRecord;
  person: PersonState;
}

export interface NotifyInput {
  bsn: string;
  gebeurtenisId: string;
  /** Defaults to the person's gemeente; required for a BSN that was not seeded. */
  gemeentecode?: string;
  vNummer?: number;
  delayMs?: number;
}

/**
 * The simulator; its faults (`injectFault`) are the simulator kit's, `scope.api` one of DUO's
 * APIs (`PIP`, ...); `reset` forgets persons, requests, notifications, faults and pending work.
 */
export interface DuoSimulator extends SimControls {
  /** e.g. `http://127.0.0.1:4320`. */
  url: string;
  /** `url` + `/v1`: where the hub's DUO adapter points. */
  baseUrl: string;
  port: number;
  oin: string;
  /** Undefined when validation is off. */
  specs: DuoSpecs | undefined;
  close(): Promise<void>;
  seed(person: unknown, options?: { replace?: boolean }): PersonState;
  person(bsn: string): PersonState | undefined;
  applyEvent(bsn: string, event: unknown): SimEventResult;
  notify(input: NotifyInput): NotificationRecord;
  notifications(): NotificationRecord[];
  /** Every gemeente's contactpersonen (copies), optionally of one gemeente or linked to one BSN. */
  contactpersonen(filter?: { gemeentecode?: string; bsn?: string }): ContactpersoonRecord[];
  requests(): RequestRecord[];
  stats(): DuoSimStats;
  /** Waits until no processing or notification is pending; false on timeout (default 10 s). */
  drain(timeoutMs?: number): Promise<boolean>;
  /** The headers a gemeente's call to DUO carries: bron, doel, a fresh berichtId. */
  headersFor(gemeentecode: string): Record<string, string>;
}

const OIN = /^\d{20}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface Outcome {
  status: number;
  body?: unknown;
  reason?: string;
  rules?: RuleViolation[];
}

interface Ctx {
  gemeentecode: string;
  params: Record<string, string>;
  body: unknown;
  /** Set on every route with `{bsn}` (the person exists and belongs to the gemeente). */
  person: PersonState;
  today: string;
}

interface Route {
  api: string;
  method: string;
  path: string;
  pattern: RegExp;
  names: string[];
  /**
   * maxItems of the Foutmelding list the spec documents for this operation's 403 (Infinity when
   * it sets none); undefined when its 403 has no body.
   */
  errorList?: number;
  /** GET /instellingen and /verlengingsgronden document no 403: a refused caller gets 400. */
  no403?: boolean;
  handle(ctx: Ctx): Outcome;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function maskPath(path: string): string {
  return (path.split('?')[0] ?? '').replace(/\/personen\/[^/]+/, '/personen/{bsn}');
}

function refuse(rules: RuleViolation[]): Outcome {
  return { status: 403, rules, reason: rules.map((r) => r.rule).join(', ') };
}

function notFound(reason: string): Outcome {
  return { status: 404, reason };
}

function bodyObject(body: unknown): Record<string, unknown> {
  if (!isRecord(body)) throw new SimInputError('body', 'must be a JSON object');
  return body;
}

function optJaNee(value: unknown, field: string): JaNee | undefined {
  if (value === undefined) return undefined;
  if (value !== 'Ja' && value !== 'Nee') throw new SimInputError(field, "must be 'Ja' or 'Nee'");
  return value;
}

function optDateField(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    throw new SimInputError(field, 'must be a date YYYY-MM-DD');
  }
  return value;
}

/**
 * The Contactpersoongegevens of a POST or PUT, checked as the spec states them (also without
 * the spec files). The spec's `naam` pattern is not anchored, so in JSON Schema terms it admits
 * any string; Reading: DUO means what it lists, a name of letters, spaces, `'`, `‘`, `.` and
 * dashes, and that is what is checked here.
 */
function parseContactpersoongegevens(body: unknown): Contactpersoongegevens {
  const b = bodyObject(body);
  const text = (field: string, min: number, max: number, pattern?: RegExp): string => {
    const v = b[field];
    if (v === undefined) throw new SimInputError(`body.${field}`, 'is required');
    if (typeof v !== 'string' || v.length < min || v.length > max) {
      throw new SimInputError(`body.${field}`, `must be a string of ${min} to ${max} characters`);
    }
    if (pattern && !pattern.test(v)) {
      throw new SimInputError(`body.${field}`, `must match ${String(pattern)}`);
    }
    return v;
  };
  return {
    naam: text('naam', 0, 100, /^[\s'‘.\p{L}\p{Pd}]{0,100}$/u),
    email: text('email', 4, 241),
    telefoonnummer: text(
      'telefoonnummer',
      3,
      22,
      /^(\+|[0-9])((\s|\s?(-|\(0\))\s?)?[0-9]){2,15}([,][1-9][0-9]{1,8})?$/,
    ),
  };
}

/** The `{id}` of the Contactpersoon API: an integer from 1 to 99999. */
function contactpersoonId(raw: string | undefined): number {
  if (raw === undefined || !/^\d{1,5}$/.test(raw) || Number(raw) < 1) {
    throw new SimInputError('id', 'must be an integer from 1 to 99999');
  }
  return Number(raw);
}

function copyContactpersoon(c: ContactpersoonRecord): ContactpersoonRecord {
  return {
    id: c.id,
    gemeentecode: c.gemeentecode,
    contactpersoongegevens: { ...c.contactpersoongegevens },
    personen: [...c.personen],
  };
}

function emptyApiStats(): ApiStats {
  return { requests: 0, ok: 0, clientErrors: 0, serverErrors: 0 };
}

export async function startDuoSimulator(opts: DuoSimulatorOptions): Promise<DuoSimulator> {
  const host = opts.host ?? '127.0.0.1';
  const now = opts.now ?? Date.now;
  const log = opts.logger;
  const duoOin = opts.oin ?? DEFAULT_DUO_OIN;
  if (!OIN.test(duoOin)) throw new Error(`oin: '${duoOin}' is not a 20-digit OIN`);
  const processingDelayMs = opts.processingDelayMs ?? 100;
  const maxRequests = opts.maxRequests ?? 10_000;
  const instellingen = opts.instellingen ?? DEFAULT_INSTELLINGEN;
  const verlengingsgronden = opts.verlengingsgronden ?? DEFAULT_VERLENGINGSGRONDEN;

  // gemeente CBS code ↔ OIN, both ways: bron identifies the caller.
  const gemeenteOins = new Map<string, string>();
  const byOin = new Map<string, string>();
  for (const [code, oin] of Object.entries(opts.gemeenten)) {
    const cbs = normaliseGemeentecode(code, `gemeenten.${code}`);
    if (!OIN.test(oin)) throw new Error(`gemeenten.${code}: '${oin}' is not a 20-digit OIN`);
    if (oin === duoOin) throw new Error(`gemeenten.${code}: the OIN is DUO's own`);
    if (byOin.has(oin)) throw new Error(`gemeenten.${code}: OIN ${oin} is used twice`);
    gemeenteOins.set(cbs, oin);
    byOin.set(oin, cbs);
  }
  if (gemeenteOins.size === 0) throw new Error('gemeenten: at least one gemeente is needed');

  let specs = opts.specs;
  if (!specs && opts.specDir !== false) {
    const dir = opts.specDir ?? DEFAULT_DUO_SPEC_DIR;
    if (duoSpecsAvailable(dir)) {
      specs = loadDuoSpecs(dir);
    } else {
      const line = `duo-simulator: no DUO OpenAPI files in ${dir}; requests and responses are not validated against the spec`;
      if (log) log.warn({ specDir: dir }, line);
      else console.error(line);
    }
  }
  const versions: Record<string, string> = { ...DUO_API_VERSIONS };
  for (const api of specs?.apis ?? []) {
    if (versions[api.name] !== undefined && versions[api.name] !== api.version) {
      log?.warn(
        { api: api.name, pinned: versions[api.name], spec: api.version },
        'duo-simulator: the spec file has another version than the simulator pins; using the spec',
      );
    }
    versions[api.name] = api.version;
  }

  const work = createWork((err) => log?.warn({ err }, 'duo-simulator: background job failed'));
  const notifier = createNotifier({
    ...(opts.hubNotificatieUrl === undefined ? {} : { url: opts.hubNotificatieUrl }),
    ...(opts.hubApiKey === undefined ? {} : { apiKey: opts.hubApiKey }),
    duoOin,
    gemeenteOins,
    ...(specs ? { specs } : {}),
    maxAttempts: opts.notificationRetry?.maxAttempts ?? 5,
    retryBaseMs: opts.notificationRetry?.baseDelayMs ?? 100,
    retryMaxMs: opts.notificationRetry?.maxDelayMs ?? 2000,
    timeoutMs: opts.notificationRetry?.timeoutMs ?? 5000,
    now,
    fetchImpl: opts.fetchImpl ?? fetch,
    work,
    ...(log ? { logger: log } : {}),
  });

  let persons = new Map<string, PersonState>();
  // The Contactpersoon API's state: per id, the gemeente that registered it and its links.
  let contactpersonen = new Map<number, ContactpersoonRecord>();
  let nextContactpersoonId = 1;
  let requests: RequestRecord[] = [];
  let requestSeq = 0;
  let registratieSeq = 0;
  let counters = {
    requests: 0,
    faulted: 0,
    requestViolations: 0,
    responseViolations: 0,
    ruleViolations: 0,
  };
  let byApi = new Map<string, ApiStats>();
  const berichten = createDeliveryCount();
  const nextSeq = (): number => ++registratieSeq;
  const today = (): string => todayInNl(now());

  function clearState(): void {
    work.cancel();
    notifier.reset();
    persons = new Map();
    contactpersonen = new Map();
    nextContactpersoonId = 1;
    requests = [];
    requestSeq = 0;
    counters = {
      requests: 0,
      faulted: 0,
      requestViolations: 0,
      responseViolations: 0,
      ruleViolations: 0,
    };
    byApi = new Map();
    berichten.reset();
  }

  function enqueue(
    person: Pick<PersonState, 'bsn' | 'vNummer'>,
    gemeentecode: string,
    gebeurtenisId: string,
    trigger: string,
    delayMs: number,
  ): NotificationRecord {
    return notifier.enqueue({
      bsn: person.bsn,
      ...(person.vNummer === undefined ? {} : { vNummer: person.vNummer }),
      gemeentecode,
      gebeurtenisId,
      trigger,
      delayMs,
    });
  }

  // -------------------------------------------------------------------------------------------
  // DUO's operations

  const routes: Route[] = [];
  function route(
    api: string,
    method: string,
    path: string,
    handle: (ctx: Ctx) => Outcome,
    extra: { errorList?: number; no403?: boolean } = {},
  ): void {
    const names: string[] = [];
    const source = path
      .split('/')
      .map((seg) => {
        const m = /^\{(.+)\}$/.exec(seg);
        if (!m?.[1]) return seg;
        names.push(m[1]);
        return '([^/]+)';
      })
      .join('/');
    routes.push({ api, method, path, pattern: new RegExp(`^${source}$`), names, handle, ...extra });
  }

  route('Inburgeringsplicht', 'GET', '/personen/{bsn}/inburgeringsplicht', ({ person }) => ({
    status: 200,
    body: { ...person.inburgeringsplicht },
  }));
  route(
    'Inburgeringsplicht',
    'GET',
    '/personen/{bsn}/inburgeringsplicht/historie',
    ({ person }) => ({
      status: 200,
      body: person.plichtHistorie.map((h) => {
        const { indicatorInburgeringsplicht, begindatum, einddatum, wijzigingsdatum } = h;
        return {
          indicatorInburgeringsplicht,
          ...(begindatum === undefined ? {} : { begindatum }),
          ...(einddatum === undefined ? {} : { einddatum }),
          ...(wijzigingsdatum === undefined ? {} : { wijzigingsdatum }),
        };
      }),
    }),
  );
  route('Inburgeringsplicht', 'GET', '/personen/{bsn}/doelgroep', ({ person }) => ({
    status: 200,
    body: { ...person.doelgroep },
  }));
  route('Inburgeringsplicht', 'GET', '/personen/{bsn}/doelgroep/historie', ({ person }) => ({
    status: 200,
    body: [
      ...person.doelgroepHistorie,
      {
        indeling: person.doelgroep.indeling,
        ...(person.doelgroep.begindatum === undefined
          ? {}
          : { begindatum: person.doelgroep.begindatum }),
      },
    ],
  }));

  route('Leerbaarheidstoets', 'GET', '/personen/{bsn}/lbt/examennummer', ({ person }) =>
    person.lbt.examennummer === undefined
      ? notFound('no leerbaarheidstoets registration')
      : { status: 200, body: { examennummer: person.lbt.examennummer } },
  );
  route('Leerbaarheidstoets', 'DELETE', '/personen/{bsn}/lbt/examennummer', ({ person }) => {
    if (person.lbt.examennummer === undefined)
      return notFound('no leerbaarheidstoets registration');
    delete person.lbt.examennummer;
    return { status: 200 };
  });
  route('Leerbaarheidstoets', 'GET', '/personen/{bsn}/lbt/resultaten', ({ person }) => ({
    status: 200,
    body: person.lbt.resultaten.map((r) => ({ ...r })),
  }));

  route('Inburgeringstermijn', 'GET', '/personen/{bsn}/inburgeringstermijn', ({ person }) =>
    person.inburgeringstermijn
      ? { status: 200, body: { ...person.inburgeringstermijn } }
      : notFound('no inburgeringstermijn (yet)'),
  );
  route(
    'Inburgeringstermijn',
    'GET',
    '/personen/{bsn}/inburgeringstermijn/historie',
    ({ person }) => ({
      status: 200,
      body: person.termijnHistorie.map((h) => ({ ...h })),
    }),
  );

  route(
    'Inburgeringstermijn',
    'GET',
    '/verlengingsgronden',
    () => ({
      status: 200,
      body: verlengingsgronden.map((g) => ({ ...g })),
    }),
    { no403: true },
  );

  route('PIP', 'GET', '/personen/{bsn}/PIP', ({ person }) => {
    const group = currentPipGroup(person);
    const current = group ? lastOf(group.versies) : undefined;
    if (!group || !current) return notFound('no PIP');
    return { status: 200, body: { gemeentecode: group.gemeentecode, pip: toDuoPip(current) } };
  });
  route(
    'PIP',
    'POST',
    '/personen/{bsn}/PIP',
    ({ person, body, gemeentecode }) => {
      const pip = parsePip(body, 'body');
      const own = gemeentePips(person, gemeentecode);
      const initial = own?.versies[0];
      const current = own ? lastOf(own.versies) : undefined;
      const rules = checkPipRegistratie(pip, {
        ...(person.inburgeringsplicht.begindatum === undefined
          ? {}
          : { plichtBegindatum: person.inburgeringsplicht.begindatum }),
        // The person belongs to the calling gemeente (checked before any handler runs), so
        // their vestigingsdatum is the one in this gemeente.
        ...(person.vestigingsdatum === undefined
          ? {}
          : { vestigingsdatum: person.vestigingsdatum }),
        doelgroep: person.doelgroep.indeling,
        ...(initial && current
          ? {
              gemeentePip: {
                initieleDagtekening: initial.dagtekeningPip,
                actueleDagtekening: current.dagtekeningPip,
              },
            }
          : {}),
        eerderePipBekend: currentPipGroup(person) !== undefined,
      });
      if (rules.length > 0) return refuse(rules);

      const versie = toPipVersie(pip, nextSeq());
      if (own) {
        own.versies.push(versie);
        own.volgorde = versie.registratie;
      } else {
        person.pips.push({ gemeentecode, versies: [versie], volgorde: versie.registratie });
      }
      // DUO processes the PIP later: the first one starts the inburgeringstermijn (3 years from
      // its dagtekening) and DUO notifies SS102. Until then the PIP can still be deleted.
      if (!person.inburgeringstermijn) {
        const bsn = person.bsn;
        work.schedule(processingDelayMs, () => {
          const p = persons.get(bsn);
          if (!p || p.inburgeringstermijn) return;
          const still = p.pips.some((g) => lastOf(g.versies)?.registratie === versie.registratie);
          if (!still) return;
          startTermijn(p, versie.dagtekeningPip, undefined, today());
          enqueue(p, p.gemeentecode, 'SS102', 'pip', 0);
        });
      }
      return { status: 201 };
    },
    { errorList: 50 },
  );
  route(
    'PIP',
    'DELETE',
    '/personen/{bsn}/PIP',
    ({ person, gemeentecode }) => {
      const own = gemeentePips(person, gemeentecode);
      if (!own) return notFound('the gemeente has no PIP for the person');
      const rules = checkPipVerwijdering({
        termijnGezet: person.inburgeringstermijn !== undefined,
        cursusurenGeregistreerd: hasCourseHours(person),
      });
      if (rules.length > 0) return refuse(rules);
      // Deleting the current PIP makes the previous version of this gemeente current again.
      own.versies.pop();
      if (own.versies.length === 0) person.pips = person.pips.filter((g) => g !== own);
      return { status: 200 };
    },
    { errorList: 100 },
  );

  route('MAP-PVT-Zroute', 'GET', '/personen/{bsn}/map', ({ person }) =>
    person.map.datumEindgesprekMap === undefined
      ? notFound('no MAP date')
      : { status: 200, body: { datumEindgesprekMap: person.map.datumEindgesprekMap } },
  );
  route('MAP-PVT-Zroute', 'GET', '/personen/{bsn}/pvt', ({ person }) =>
    person.pvt.datumOndertekeningPvt === undefined
      ? notFound('no PVT date')
      : { status: 200, body: { datumOndertekeningPvt: person.pvt.datumOndertekeningPvt } },
  );
  for (const kind of ['map', 'pvt'] as const) {
    const field = kind === 'map' ? 'datumEindgesprekMap' : 'datumOndertekeningPvt';
    route(
      'MAP-PVT-Zroute',
      'PUT',
      `/personen/{bsn}/${kind}`,
      ({ person, body, gemeentecode, today: day }) => {
        const b = bodyObject(body);
        const datum = optDateField(b[field], `body.${field}`);
        const verwijtbaar = optJaNee(b.verwijtbaar, 'body.verwijtbaar');
        const rules = checkMapPvt(
          kind,
          { ...(datum === undefined ? {} : { datum }), ...(verwijtbaar ? { verwijtbaar } : {}) },
          {
            today: day,
            gemeenteHeeftActuelePip: gemeentePips(person, gemeentecode) !== undefined,
            plichtVoldaanViaZroute: person.plichtVoldaanVia === 'zroute',
            ...(person.inburgeringstermijn ? { termijn: person.inburgeringstermijn } : {}),
            ...(person.zroute.datumAfrondingZroute === undefined
              ? {}
              : { datumAfrondingZroute: person.zroute.datumAfrondingZroute }),
          },
        );
        if (rules.length > 0) return refuse(rules);
        // PUT replaces the whole resource: a field left out is withdrawn.
        const next = {
          ...(datum === undefined ? {} : { [field]: datum }),
          ...(verwijtbaar === undefined ? {} : { verwijtbaar }),
        };
        if (kind === 'map') person.map = next;
        else person.pvt = next;
        return { status: 200 };
      },
      { errorList: 20 },
    );
  }
  route(
    'MAP-PVT-Zroute',
    'PUT',
    '/personen/{bsn}/zroute',
    ({ person, body }) => {
      // NOTES.md lists no rule for the Z-route; DUO accepts what the spec allows.
      const datum = optDateField(
        bodyObject(body).datumAfrondingZroute,
        'body.datumAfrondingZroute',
      );
      person.zroute = datum === undefined ? {} : { datumAfrondingZroute: datum };
      return { status: 200 };
    },
    { errorList: 20 },
  );

  route('GevolgdeUren', 'GET', '/personen/{bsn}/uren', ({ person }) => ({
    status: 200,
    body: toGevolgdeUren(person),
  }));
  for (const [suffix, kind] of [
    ['participatietaalles', 'participatietaalles'],
    ['participatieactiviteiten', 'participatieactiviteiten'],
    ['bredeintake/taallesknm', 'taallesknm'],
  ] as const) {
    route(
      'GevolgdeUren',
      'PUT',
      `/personen/{bsn}/uren/${suffix}`,
      ({ person, body, gemeentecode }) => {
        const uren = bodyObject(body).uren;
        if (typeof uren !== 'number' || !Number.isInteger(uren) || uren < 0 || uren > 9999) {
          throw new SimInputError('body.uren', 'must be an integer from 0 to 9999');
        }
        // The total so far for this gemeente: a PUT replaces it.
        urenOf(person, gemeentecode)[kind] = uren;
        return { status: 200 };
      },
    );
  }

  route(
    'Inburgeringsaanbod',
    'GET',
    '/instellingen',
    () => ({
      status: 200,
      body: instellingen.map((i) => ({ ...i })),
    }),
    { no403: true },
  );
  route(
    'Inburgeringsaanbod',
    'POST',
    '/personen/{bsn}/Inburgeringsaanbod/{instellingsnummer}',
    ({ person, body, params, gemeentecode }) => {
      const nummer = params.instellingsnummer ?? '';
      if (nummer.length !== 10) {
        throw new SimInputError('instellingsnummer', 'must be 10 characters');
      }
      const aanbod = parseAanbod(body, 'body', gemeentecode, nummer);
      const group = currentPipGroup(person);
      const pip = group ? lastOf(group.versies) : undefined;
      const instelling = instellingen.find((i) => i.instellingsnummer === nummer);
      const rules = checkInburgeringsaanbod(aanbod, {
        doelgroep: person.doelgroep.indeling,
        ...(pip
          ? { actuelePip: { dagtekeningPip: pip.dagtekeningPip, leerroute: pip.leerroute } }
          : {}),
        ...(person.inburgeringstermijn ? { termijn: person.inburgeringstermijn } : {}),
        ...(instelling
          ? {
              instelling: {
                ...(instelling.indicatieBowKeurmerk === undefined
                  ? {}
                  : { indicatieBowKeurmerk: instelling.indicatieBowKeurmerk }),
                ...(instelling.indicatieTstKeurmerk === undefined
                  ? {}
                  : { indicatieTstKeurmerk: instelling.indicatieTstKeurmerk }),
              },
            }
          : {}),
      });
      if (rules.length > 0) return refuse(rules);
      // "Per instelling wordt er één actueel inburgeringsaanbod geaccepteerd": a new one
      // replaces the current one at that instelling.
      person.aanbod = [...person.aanbod.filter((a) => a.instellingsnummer !== nummer), aanbod];
      return { status: 201 };
    },
    { errorList: 100 },
  );
  route(
    'Inburgeringsaanbod',
    'DELETE',
    '/personen/{bsn}/Inburgeringsaanbod/{instellingsnummer}',
    ({ person, params }) => {
      const nummer = params.instellingsnummer ?? '';
      if (!person.aanbod.some((a) => a.instellingsnummer === nummer)) {
        return notFound('no inburgeringsaanbod at that instelling');
      }
      person.aanbod = person.aanbod.filter((a) => a.instellingsnummer !== nummer);
      return { status: 204 };
    },
    { errorList: 10 },
  );

  route('Examen', 'GET', '/personen/{bsn}/examens/resultaten', ({ person }) => ({
    status: 200,
    body: person.examens.map((e) => ({ ...e })),
  }));
  route('Examen', 'GET', '/personen/{bsn}/examens/gratispogingen', ({ person }) => ({
    status: 200,
    body: person.gratispogingen.map((g) => ({ ...g })),
  }));
  route('Vrijstelling', 'GET', '/personen/{bsn}/vrijstellingen', ({ person }) => ({
    status: 200,
    body: structuredClone(person.vrijstellingen),
  }));
  route('Ontheffing', 'GET', '/personen/{bsn}/ontheffingen', ({ person }) => ({
    status: 200,
    body: structuredClone(person.ontheffingen),
  }));

  // Contactpersoon: a gemeente registers its contactpersonen (DUO numbers them) and links them
  // to its inburgeraars. A gemeente sees and changes only its own: another gemeente's id is
  // refused with 403, an id DUO never gave or deleted is 404. The spec states no business rule
  // beyond its schema and has no read operation (the state is in `/_sim/contactpersonen`).
  function ownContactpersoon(
    id: number,
    gemeentecode: string,
  ): { found: ContactpersoonRecord } | { refused: Outcome } {
    const found = contactpersonen.get(id);
    if (!found) return { refused: notFound('unknown contactpersoon') };
    if (found.gemeentecode !== gemeentecode) {
      return {
        refused: { status: 403, reason: 'the contactpersoon belongs to another gemeente' },
      };
    }
    return { found };
  }
  route(
    'Contactpersoon',
    'POST',
    '/contactpersonen',
    ({ body, gemeentecode }) => {
      const gegevens = parseContactpersoongegevens(body);
      if (nextContactpersoonId > 99_999) {
        return { status: 403, reason: 'no contactpersoon id left: DUO numbers them 1 to 99999' };
      }
      const id = nextContactpersoonId++;
      contactpersonen.set(id, {
        id,
        gemeentecode,
        contactpersoongegevens: gegevens,
        personen: [],
      });
      return { status: 201, body: { id, contactpersoongegevens: { ...gegevens } } };
    },
    { errorList: Number.POSITIVE_INFINITY },
  );
  route(
    'Contactpersoon',
    'PUT',
    '/contactpersonen/{id}',
    ({ body, params, gemeentecode }) => {
      const own = ownContactpersoon(contactpersoonId(params.id), gemeentecode);
      if ('refused' in own) return own.refused;
      // The whole Contactpersoongegevens is replaced.
      own.found.contactpersoongegevens = parseContactpersoongegevens(body);
      return { status: 200 };
    },
    { errorList: Number.POSITIVE_INFINITY },
  );
  route('Contactpersoon', 'DELETE', '/contactpersonen/{id}', ({ params, gemeentecode }) => {
    const own = ownContactpersoon(contactpersoonId(params.id), gemeentecode);
    if ('refused' in own) return own.refused;
    // Reading: the spec does not say what happens to its links; they go with it, so no person
    // keeps a contactpersoon that no longer exists.
    contactpersonen.delete(own.found.id);
    return { status: 200 };
  });
  route(
    'Contactpersoon',
    'POST',
    '/contactpersonen/{id}/personen/{bsn}',
    ({ params, person, gemeentecode }) => {
      const own = ownContactpersoon(contactpersoonId(params.id), gemeentecode);
      if ('refused' in own) return own.refused;
      // Reading: nothing limits the number of contactpersonen of a person (the link is named by
      // both id and BSN); linking the same one again changes nothing.
      if (!own.found.personen.includes(person.bsn)) own.found.personen.push(person.bsn);
      return { status: 201 };
    },
  );
  route(
    'Contactpersoon',
    'DELETE',
    '/contactpersonen/{id}/personen/{bsn}',
    ({ params, person, gemeentecode }) => {
      const own = ownContactpersoon(contactpersoonId(params.id), gemeentecode);
      if ('refused' in own) return own.refused;
      if (!own.found.personen.includes(person.bsn)) {
        return notFound('the contactpersoon is not linked to the person');
      }
      own.found.personen = own.found.personen.filter((b) => b !== person.bsn);
      return { status: 200 };
    },
  );

  function unlinkPerson(bsn: string): void {
    for (const c of contactpersonen.values()) c.personen = c.personen.filter((b) => b !== bsn);
  }

  function listContactpersonen(
    filter: { gemeentecode?: string; bsn?: string } = {},
  ): ContactpersoonRecord[] {
    const code =
      filter.gemeentecode === undefined
        ? undefined
        : normaliseGemeentecode(filter.gemeentecode, 'gemeentecode');
    return [...contactpersonen.values()]
      .filter(
        (c) =>
          (code === undefined || c.gemeentecode === code) &&
          (filter.bsn === undefined || c.personen.includes(filter.bsn)),
      )
      .map(copyContactpersoon);
  }

  // -------------------------------------------------------------------------------------------
  // The HTTP server

  const server = createSimServer({
    name: 'duo-simulator',
    ...(opts.bodyLimit === undefined ? {} : { bodyLimit: opts.bodyLimit }),
    scopes: { api: { values: Object.keys(versions) } },
    now,
    stats,
    reset: clearState,
    scopeOf: (request) => {
      if (!request.url.startsWith('/v1/')) return undefined;
      const pathname = request.url.split('?')[0] ?? '';
      const api =
        matchOperation(request.method, pathname).matched?.route.api ?? specs?.apiOf(pathname)?.name;
      return api === undefined ? {} : { api };
    },
    // A request a fault answers (or never answers) is recorded here; one it lets through
    // (`version`, a delaying `hang`) by handleDuo.
    onFault: (fault, request, reply) => {
      if (fault.kind === 'version' || (fault.kind === 'hang' && fault.delayMs !== undefined)) {
        return;
      }
      const { record, apiName } = describeRequest(request, now());
      record.faulted = fault.kind;
      record.status = fault.kind === 'status' ? fault.status : 0;
      record.reason = 'injected fault';
      keep(record);
      log?.info({ path: record.path, fault: fault.id, kind: fault.kind }, 'duo-simulator: fault');
      // DUO documents no body for its 500 and 503 (statusBody 'none'). Not validated: a fault
      // is off-spec on purpose where the operation documents no 5xx (e.g. MAP-PVT-Zroute).
      const version = apiName === undefined ? undefined : versions[apiName];
      if (fault.kind === 'status' && version) reply.header('API-Version', version);
    },
    statusBody: 'none',
  });
  const app = server.app;
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err: unknown, _request, reply) => {
    const e = err as { statusCode?: number; message?: string };
    const status = typeof e.statusCode === 'number' && e.statusCode >= 400 ? e.statusCode : 500;
    if (status >= 500) log?.warn({ err }, 'duo-simulator: internal error');
    return reply
      .code(status)
      .type('application/problem+json')
      .send({ title: 'Request failed', status, detail: e.message ?? String(err) });
  });

  function countApi(api: string | undefined, status: number): void {
    const key = api ?? '(none)';
    let s = byApi.get(key);
    if (!s) {
      s = emptyApiStats();
      byApi.set(key, s);
    }
    s.requests += 1;
    if (status < 400) s.ok += 1;
    else if (status < 500) s.clientErrors += 1;
    else s.serverErrors += 1;
  }

  function keep(record: RequestRecord): void {
    requests.push(record);
    if (requests.length > maxRequests) requests.splice(0, requests.length - maxRequests);
    counters.requests += 1;
    countApi(record.api, record.status);
    if (record.faulted) counters.faulted += 1;
    if (record.requestViolations.length > 0 && record.status === 400)
      counters.requestViolations += 1;
    if (record.responseViolations.length > 0) {
      counters.responseViolations += 1;
      log?.warn(
        { path: record.path, status: record.status, violations: record.responseViolations },
        'duo-simulator: answer departs from the DUO spec (simulator bug)',
      );
    }
    if (record.rules && record.rules.length > 0) counters.ruleViolations += 1;
    if (record.method !== 'GET' && record.status < 300 && record.berichtId !== undefined) {
      berichten.record(
        record.berichtId,
        record.gemeentecode === undefined ? undefined : `gm${record.gemeentecode}`,
      );
    }
  }

  function parseBody(raw: unknown): { body?: unknown; error?: string } {
    if (!Buffer.isBuffer(raw) || raw.length === 0) return {};
    try {
      return { body: JSON.parse(raw.toString('utf8')) as unknown };
    } catch (err) {
      return { error: `body is not valid JSON: ${(err as Error).message}` };
    }
  }

  function header(request: FastifyRequest, name: string): string | undefined {
    const v = request.headers[name];
    return Array.isArray(v) ? v.join(', ') : v;
  }

  /** The operation a request to `/v1/...` is for; `pathKnown` when only the method is off. */
  function matchOperation(
    method: string,
    pathname: string,
  ): { matched?: { route: Route; params: Record<string, string> }; pathKnown: boolean } {
    const rel = pathname.slice('/v1'.length);
    let pathKnown = false;
    for (const r of routes) {
      const m = r.pattern.exec(rel);
      if (!m) continue;
      pathKnown = true;
      if (r.method !== method) continue;
      const params: Record<string, string> = {};
      r.names.forEach((n, i) => {
        const raw = m[i + 1] ?? '';
        try {
          params[n] = decodeURIComponent(raw);
        } catch {
          // A broken %-escape: kept as sent, so it fails the parameter's checks with a 400.
          params[n] = raw;
        }
      });
      return { matched: { route: r, params }, pathKnown };
    }
    return { pathKnown };
  }

  /** The operation, its API and the request's record, not kept yet. */
  function describeRequest(request: FastifyRequest, started: number) {
    const pathname = request.url.split('?')[0] ?? '';
    const { matched, pathKnown } = matchOperation(request.method, pathname);
    const apiName = matched?.route.api ?? specs?.apiOf(pathname)?.name;
    const berichtId = header(request, 'berichtid');
    const record: RequestRecord = {
      seq: ++requestSeq,
      at: new Date(started).toISOString(),
      method: request.method,
      path: maskPath(pathname),
      ...(apiName === undefined ? {} : { api: apiName }),
      ...(matched ? { operation: matched.route.path } : {}),
      ...(berichtId === undefined ? {} : { berichtId }),
      status: 0,
      requestViolations: [],
      responseViolations: [],
      durationMs: 0,
    };
    return { matched, pathKnown, apiName, berichtId, record };
  }

  async function handleDuo(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const started = now();
    const url = request.url;
    const { matched, pathKnown, apiName, berichtId, record } = describeRequest(request, started);
    let version = apiName === undefined ? undefined : versions[apiName];
    const fault = faultOf(request);
    if (fault) record.faulted = fault.kind;
    if (fault?.kind === 'version') {
      // Handled as usual, answered as another version of the API would be (a DUO release).
      version = fault.apiVersion;
    }

    const send = (outcome: Outcome): FastifyReply => {
      const route = matched?.route;
      let body = outcome.body;
      if (outcome.status === 403 && route?.errorList !== undefined) {
        // The only error body DUO documents: a list of Foutmeldingen on a 403.
        const texts = outcome.rules?.map((r) => r.fouttekst) ?? [
          outcome.reason ?? 'Niet geautoriseerd',
        ];
        body = texts
          .slice(0, route.errorList)
          .map((fouttekst) => ({ fouttekst: fouttekst.slice(0, 200) }));
      }
      record.status = outcome.status;
      if (outcome.reason !== undefined) record.reason = outcome.reason;
      if (outcome.rules) record.rules = outcome.rules.map((r) => r.rule);
      const sentHeaders: Record<string, string> = {};
      // Checked with the version the spec pins: another one from a version fault is off-spec
      // on purpose, and the rest of the answer must still conform.
      const specVersion = apiName === undefined ? undefined : versions[apiName];
      if (specVersion) sentHeaders['api-version'] = specVersion;
      if (body !== undefined) sentHeaders['content-type'] = 'application/json';
      if (specs && matched) {
        record.responseViolations = specs.validateResponse(
          request.method,
          url,
          outcome.status,
          sentHeaders,
          body,
        );
      }
      record.durationMs = now() - started;
      keep(record);
      if (version) reply.header('API-Version', version);
      // PIP's spec: "In het antwoordbericht wordt vervolgens hetzelfde berichtId teruggegeven".
      if (berichtId !== undefined) reply.header('berichtId', berichtId);
      reply.code(outcome.status);
      if (body === undefined) return reply.send();
      return reply.type('application/json').send(JSON.stringify(body));
    };

    if (!matched) {
      return send(
        pathKnown
          ? { status: 405, reason: `${request.method} is not an operation on this path` }
          : { status: 404, reason: 'no such operation in this simulator' },
      );
    }
    const { route, params } = matched;

    const parsed = parseBody(request.body);
    if (parsed.error !== undefined) return send({ status: 400, reason: parsed.error });
    const body = parsed.body;

    if (specs) {
      record.requestViolations = specs.validateRequest(request.method, url, request.headers, body);
      const first = record.requestViolations[0];
      if (first) {
        const where = first.field ? `${first.in} ${first.field}` : first.in;
        return send({ status: 400, reason: `breaks the spec: ${where} ${first.message}` });
      }
    }

    // The same header checks without the spec files, so behaviour does not depend on them.
    const bron = header(request, 'bron');
    const doel = header(request, 'doel');
    if (bron === undefined || bron.length !== 20) {
      return send({ status: 400, reason: 'header bron must be a 20-character OIN' });
    }
    if (doel === undefined || doel.length !== 20) {
      return send({ status: 400, reason: 'header doel must be a 20-character OIN' });
    }
    if (berichtId === undefined || !UUID.test(berichtId)) {
      return send({ status: 400, reason: 'header berichtId must be a UUID' });
    }
    if (route.names.includes('bsn') && !/^\d{9}$/.test(params.bsn ?? '')) {
      return send({ status: 400, reason: 'path bsn must be 9 digits' });
    }
    const forbidden = route.no403 ? 400 : 403;
    if (doel !== duoOin) {
      return send({ status: forbidden, reason: "doel is not DUO's OIN" });
    }
    const gemeentecode = byOin.get(bron);
    if (gemeentecode === undefined) {
      return send({ status: forbidden, reason: 'bron is not the OIN of a gemeente known here' });
    }
    record.gemeentecode = gemeentecode;

    let person: PersonState | undefined;
    if (route.names.includes('bsn')) {
      person = persons.get(params.bsn ?? '');
      if (!person) return send(notFound('unknown person'));
      if (person.gemeentecode !== gemeentecode) {
        // A gemeente only sees its own inburgeraars.
        return send({
          status: forbidden,
          reason: 'the person is not registered with the calling gemeente',
        });
      }
    }

    try {
      return send(
        route.handle({
          gemeentecode,
          params,
          body,
          person: person as PersonState,
          today: today(),
        }),
      );
    } catch (err) {
      if (err instanceof SimInputError) return send({ status: 400, reason: err.message });
      throw err;
    }
  }

  app.all('/v1/*', handleDuo);

  // -------------------------------------------------------------------------------------------
  // The test-control API

  function problem(
    reply: FastifyReply,
    status: number,
    title: string,
    detail?: string,
    field?: string,
  ) {
    return reply
      .code(status)
      .type('application/problem+json')
      .send({ title, status, ...(detail ? { detail } : {}), ...(field ? { field } : {}) });
  }

  function jsonBody(request: FastifyRequest): unknown {
    const parsed = parseBody(request.body);
    if (parsed.error !== undefined) throw new SimInputError('body', parsed.error);
    return parsed.body ?? {};
  }

  function seed(input: unknown, options: { replace?: boolean } = {}): PersonState {
    const person = parseSeed(input, today(), nextSeq);
    if (persons.has(person.bsn) && options.replace !== true) {
      throw new SimInputError(
        'bsn',
        'a person with this BSN is already seeded (send replace: true)',
        409,
      );
    }
    // A replaced person is a new one: the links of the old one go.
    unlinkPerson(person.bsn);
    persons.set(person.bsn, person);
    return person;
  }

  function applyEvent(bsn: string, event: unknown): SimEventResult {
    const person = persons.get(bsn);
    if (!person) throw new SimInputError('bsn', 'unknown person', 404);
    // On a copy, so a bad event changes nothing.
    const copy = structuredClone(person);
    const applied: AppliedEvent = applySimEvent(copy, withVerlengingsgrond(event), today());
    persons.set(bsn, copy);
    const e = isRecord(event) ? event : {};
    const notify = e.notify !== false;
    const delayMs = typeof e.delayMs === 'number' && e.delayMs >= 0 ? e.delayMs : processingDelayMs;
    const result: SimEventResult = { type: applied.type, person: copy };
    if (applied.gebeurtenisId) {
      result.gebeurtenisId = applied.gebeurtenisId;
      if (notify) {
        result.notification = enqueue(
          copy,
          applied.gemeentecode,
          applied.gebeurtenisId,
          `event:${applied.type}`,
          delayMs,
        );
      }
    }
    log?.info(
      { type: applied.type, gebeurtenisId: applied.gebeurtenisId },
      'duo-simulator: DUO-side change applied',
    );
    return result;
  }

  /** A termijn-verlengd with a known code and no omschrijving gets the omschrijving DUO lists. */
  function withVerlengingsgrond(event: unknown): unknown {
    if (!isRecord(event) || event.type !== 'termijn-verlengd') return event;
    if (event.verlengingsgrondomschrijving !== undefined) return event;
    const grond = verlengingsgronden.find((g) => g.code === event.verlengingsgrondcode);
    return grond ? { ...event, verlengingsgrondomschrijving: grond.omschrijving } : event;
  }

  function notify(input: NotifyInput): NotificationRecord {
    if (typeof input.bsn !== 'string' || !/^\d{9}$/.test(input.bsn)) {
      throw new SimInputError('bsn', 'must be 9 digits');
    }
    if (typeof input.gebeurtenisId !== 'string' || input.gebeurtenisId === '') {
      throw new SimInputError('gebeurtenisId', 'is required');
    }
    const person = persons.get(input.bsn);
    const gemeentecode =
      input.gemeentecode === undefined
        ? person?.gemeentecode
        : normaliseGemeentecode(input.gemeentecode, 'gemeentecode');
    if (gemeentecode === undefined) {
      throw new SimInputError('gemeentecode', 'is required for a person that was not seeded');
    }
    if (input.delayMs !== undefined && (typeof input.delayMs !== 'number' || input.delayMs < 0)) {
      throw new SimInputError('delayMs', 'must be a non-negative number of milliseconds');
    }
    // vNummer is passed on as given, so a test can send a deliberately malformed one.
    const vNummer = input.vNummer ?? person?.vNummer;
    return enqueue(
      { bsn: input.bsn, ...(vNummer === undefined ? {} : { vNummer }) },
      gemeentecode,
      input.gebeurtenisId,
      'notify',
      input.delayMs ?? 0,
    );
  }

  function stats(): DuoSimStats {
    const list = notifier.list();
    return {
      ...berichten.stats(),
      requests: counters.requests,
      byApi: Object.fromEntries([...byApi].map(([k, v]) => [k, { ...v }])),
      faulted: counters.faulted,
      requestViolations: counters.requestViolations,
      responseViolations: counters.responseViolations,
      ruleViolations: counters.ruleViolations,
      persons: persons.size,
      notifications: {
        ...notifier.stats(),
        requestViolations: list.filter((n) => n.requestViolations.length > 0).length,
      },
      validation: specs ? 'on' : 'off',
    };
  }

  function withInputErrors(
    reply: FastifyReply,
    fn: () => FastifyReply | Promise<FastifyReply>,
  ): FastifyReply | Promise<FastifyReply> {
    try {
      return fn();
    } catch (err) {
      if (err instanceof SimInputError) {
        return problem(reply, err.status, 'Invalid simulator request', err.message, err.field);
      }
      throw err;
    }
  }

  app.post('/_sim/personen', async (request, reply) =>
    withInputErrors(reply, () => {
      const body = jsonBody(request);
      const person = seed(body, { replace: isRecord(body) && body.replace === true });
      return reply.code(201).send(person);
    }),
  );
  app.get('/_sim/personen', async () => ({
    personen: [...persons.values()].map((p) => ({ bsn: p.bsn, gemeentecode: p.gemeentecode })),
  }));
  app.get<{ Params: { bsn: string } }>('/_sim/personen/:bsn', async (request, reply) => {
    const p = persons.get(request.params.bsn);
    return p ? p : problem(reply, 404, 'Unknown person');
  });
  app.delete<{ Params: { bsn: string } }>('/_sim/personen/:bsn', async (request, reply) => {
    if (!persons.delete(request.params.bsn)) return problem(reply, 404, 'Unknown person');
    unlinkPerson(request.params.bsn);
    return reply.code(204).send();
  });
  app.get<{ Querystring: { gemeentecode?: string; bsn?: string } }>(
    '/_sim/contactpersonen',
    async (request, reply) =>
      withInputErrors(reply, () => {
        const { gemeentecode, bsn } = request.query;
        return reply.code(200).send({
          contactpersonen: listContactpersonen({
            ...(gemeentecode === undefined ? {} : { gemeentecode }),
            ...(bsn === undefined ? {} : { bsn }),
          }),
        });
      }),
  );
  app.post<{ Params: { bsn: string } }>('/_sim/personen/:bsn/events', async (request, reply) =>
    withInputErrors(reply, () =>
      reply.code(200).send(applyEvent(request.params.bsn, jsonBody(request))),
    ),
  );
  app.post('/_sim/notify', async (request, reply) =>
    withInputErrors(reply, () => {
      const b = jsonBody(request);
      if (!isRecord(b)) throw new SimInputError('body', 'must be an object');
      return reply.code(202).send(notify(b as unknown as NotifyInput));
    }),
  );
  app.get<{ Querystring: { bsn?: string; gebeurtenisId?: string; outcome?: string } }>(
    '/_sim/notifications',
    async (request) => {
      const { bsn, gebeurtenisId, outcome } = request.query;
      return {
        notifications: notifier
          .list()
          .filter(
            (n) =>
              (bsn === undefined || n.bsn === bsn) &&
              (gebeurtenisId === undefined || n.gebeurtenisId === gebeurtenisId) &&
              (outcome === undefined || n.outcome === outcome),
          ),
      };
    },
  );
  app.get<{ Querystring: { api?: string; method?: string; status?: string } }>(
    '/_sim/requests',
    async (request) => {
      const { api, method, status } = request.query;
      return {
        requests: requests.filter(
          (r) =>
            (api === undefined || r.api === api) &&
            (method === undefined || r.method === method.toUpperCase()) &&
            (status === undefined || String(r.status) === status),
        ),
      };
    },
  );
  app.post('/_sim/drain', async (request, reply) =>
    withInputErrors(reply, async () => {
      const b = jsonBody(request);
      const t = isRecord(b) && typeof b.timeoutMs === 'number' ? b.timeoutMs : 10_000;
      const idle = await work.drain(Math.min(t, 60_000));
      return reply.code(200).send({ idle, pending: work.pending() });
    }),
  );
  const listening = await server.listen({
    host,
    port: opts.port ?? 0,
    ...(log ? { logger: log } : {}),
  });
  const url = listening.url;

  let closing: Promise<void> | undefined;
  return {
    url,
    baseUrl: `${url}/v1`,
    port: listening.port,
    oin: duoOin,
    specs,
    close() {
      closing ??= (async () => {
        work.cancel();
        await listening.close();
      })();
      return closing;
    },
    seed,
    person: (bsn) => persons.get(bsn),
    applyEvent,
    notify,
    notifications: () => notifier.list(),
    contactpersonen: listContactpersonen,
    requests: () => requests,
    stats,
    ...server.controls,
    drain: (timeoutMs = 10_000) => work.drain(timeoutMs),
    headersFor(gemeentecode) {
      const oin = gemeenteOins.get(normaliseGemeentecode(gemeentecode, 'gemeentecode'));
      if (!oin) throw new Error(`gemeente ${gemeentecode} is not configured`);
      return { bron: oin, doel: duoOin, berichtId: crypto.randomUUID() };
    },
  };
}
