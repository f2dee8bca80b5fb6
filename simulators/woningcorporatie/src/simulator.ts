/**
 * A woningcorporatie as the hub sees it. `POST /zoektochten` (bearer token, checked against the
 * contract, idempotent by `Idempotency-Key`) takes a woningzoektocht; the corporatie then
 * answers on a simulated clock, as corporaties do: an offer after 3 to 9 weeks (direct
 * bemiddeling), for about a third of the households first an offer that does not fit (too few
 * rooms for the household and its nareizigers) which is refused and followed by a new one two
 * weeks later, the acceptance 3 days after a fitting offer, the lease signed a week after the
 * acceptance with the sleuteloverdracht two weeks after it. Nothing happens until the clock is
 * advanced (`POST /_sim/clock {"advanceDays": 7}` or `{"date": "YYYY-MM-DD"}`); every answer that
 * falls due is sent to the hub's corporatie API through the simulator kit's notifier, with
 * retries and `Retry-After`. Everything is in memory; `/_sim` has no authentication, hence
 * loopback by default.
 */
import { createHash } from 'node:crypto';
import { schemas } from '@ketenhub/contracts';
import type {
  WoningcorporatieAanbod,
  WoningcorporatieAcceptatie,
  WoningcorporatieHuurcontract,
  WoningcorporatieWeigering,
  WoningcorporatieZoektocht,
} from '@ketenhub/contracts/generated/woningcorporatie';
import {
  createDeliveryCount,
  createNotifier,
  createSimServer,
  createWork,
  type DeliveryStats,
  type NotifierStats,
  type SimControls,
  type SimulatorLogger,
} from '@ketenhub/simulator-kit';

const ZOEKTOCHT_SCHEMA = 'https://contracts.ketenhub.nl/woningcorporatie/zoektocht.schema.json';
const DAY = 24 * 60 * 60 * 1000;

/** The hub's corporatie API: one path per kind of answer. */
export const ANSWER_PATHS = {
  aanbod: '/v1/aanbiedingen',
  acceptatie: '/v1/acceptaties',
  weigering: '/v1/weigeringen',
  huurcontract: '/v1/huurcontracten',
} as const;
export type AnswerKind = keyof typeof ANSWER_PATHS;

type AnswerBody =
  | WoningcorporatieAanbod
  | WoningcorporatieAcceptatie
  | WoningcorporatieWeigering
  | WoningcorporatieHuurcontract;

/** One answer planned for a zoektocht, sent on its day. */
export interface PlannedAnswer {
  kind: AnswerKind;
  /** The simulated day it is sent. */
  datum: string;
  body: AnswerBody;
  sent: boolean;
}

export interface SimZoektocht {
  zoektocht: WoningcorporatieZoektocht;
  ontvangenOp: string;
  plan: PlannedAnswer[];
}

export interface WoningcorporatieSimStats extends DeliveryStats {
  /** Every POST that reached the API, repeats included. */
  deliveries: number;
  answers: Record<AnswerKind, NotifierStats>;
}

export interface WoningcorporatieSimulator extends SimControls {
  url: string;
  /** The corporatie this simulator plays (its organisation id). */
  id: string;
  /** Zoektochten accepted, once per Idempotency-Key, in arrival order (a change replaces). */
  zoektochten(): SimZoektocht[];
  stats(): WoningcorporatieSimStats;
  today(): string;
  /** Moves the clock by `days`, sending every answer that falls due, in order. */
  advance(days: number): string;
  /** Where to send answers, and the key to present (after the hub started). */
  setHub(url: string, apiKey: string): void;
  /** Resolves once no answer is pending (delivered, rejected or given up). */
  idle(timeoutMs?: number): Promise<boolean>;
  close(): Promise<void>;
}

export interface WoningcorporatieSimulatorOptions {
  /** The corporatie it plays; default `woningcorporatie`. */
  id?: string;
  host?: string;
  port?: number;
  logger?: SimulatorLogger;
  /** The bearer token the hub must present; none when absent. */
  token?: string;
  /** Base URL of the hub's corporatie API (`services.woningcorporatie`), and the key it presents. */
  hubUrl?: string;
  hubApiKey?: string;
  /** The simulated day it starts on (YYYY-MM-DD); default today. */
  today?: string;
  /** Delay between retries of an answer the hub did not take; default 200 ms. */
  retryDelayMs?: number;
}

const addDays = (datum: string, days: number) =>
  new Date(Date.parse(`${datum}T00:00:00Z`) + days * DAY).toISOString().slice(0, 10);

/** A number from the zoektocht id, so the same zoektocht always gets the same story. */
function seed(zoektochtId: string, salt: string): number {
  return createHash('sha256').update(`${salt}:${zoektochtId}`).digest().readUInt32BE(0);
}

const STRATEN = [
  'Kerkstraat',
  'Molenweg',
  'Schoolstraat',
  'Dorpsstraat',
  'Beukenlaan',
  'Julianastraat',
];

/** Rooms a household needs: a living room, one bedroom for the adults, one per two children. */
export function kamersNodig(z: WoningcorporatieZoektocht): number {
  const leden = [...z.huishouden.leden, ...(z.nareizigers.leden ?? [])];
  const kinderen = leden.filter((l) => l.rol === 'kind').length;
  const personen = Math.max(z.huishouden.omvang + z.nareizigers.aantal, leden.length);
  const volwassenen = Math.max(1, personen - kinderen);
  return Math.min(15, 1 + Math.ceil(volwassenen / 2) + Math.ceil(kinderen / 2));
}

/** The corporatie's story for one zoektocht, from the day it arrived. */
export function planFor(z: WoningcorporatieZoektocht, ontvangenOp: string): PlannedAnswer[] {
  const s = seed(z.zoektochtId, 'plan');
  const nodig = kamersNodig(z);
  const woning = (n: number, kamers: number) => ({
    adres: {
      straat: STRATEN[(s + n) % STRATEN.length]!,
      huisnummer: 1 + ((s >>> 3) % 180) + n,
      postcode: `${7400 + ((s >>> 5) % 500)}${'ABCDEFGH'[(s + n) % 8]}K`,
      woonplaats: z.voorkeurKern ?? 'Centrum',
    },
    huurprijsCent: 52_000 + kamers * 6_500 + ((s >>> 7) % 40) * 100,
    aantalKamers: kamers,
  });
  const plan: PlannedAnswer[] = [];
  const base = { zoektochtId: z.zoektochtId };
  let dag = ontvangenOp;
  let offer = 1;
  // An offer after 3 to 9 weeks.
  dag = addDays(dag, 21 + (s % 43));
  if (s % 3 === 0 && nodig > 2) {
    // A home that does not fit the household with its nareizigers: refused, a new offer later.
    const aanbodId = `AB-${z.zoektochtId.slice(3, 11)}-${offer++}`;
    const te = woning(0, nodig - 1);
    plan.push({
      kind: 'aanbod',
      datum: dag,
      sent: false,
      body: { ...base, aanbodId, ...te, ingangsdatum: addDays(dag, 21), aangebodenOp: dag },
    });
    dag = addDays(dag, 5);
    plan.push({
      kind: 'weigering',
      datum: dag,
      sent: false,
      body: {
        ...base,
        aanbodId,
        geweigerdOp: dag,
        reden: 'te-klein',
        toelichting: 'te weinig slaapkamers voor het huishouden met nareizigers',
      },
    });
    dag = addDays(dag, 14);
  }
  const aanbodId = `AB-${z.zoektochtId.slice(3, 11)}-${offer}`;
  const past = woning(1, nodig);
  const geaccepteerd = addDays(dag, 3);
  const sleutel = addDays(geaccepteerd, 14);
  plan.push({
    kind: 'aanbod',
    datum: dag,
    sent: false,
    body: { ...base, aanbodId, ...past, ingangsdatum: sleutel, aangebodenOp: dag },
  });
  plan.push({
    kind: 'acceptatie',
    datum: geaccepteerd,
    sent: false,
    body: { ...base, aanbodId, geaccepteerdOp: geaccepteerd },
  });
  const getekend = addDays(geaccepteerd, 7);
  plan.push({
    kind: 'huurcontract',
    datum: getekend,
    sent: false,
    body: {
      ...base,
      aanbodId,
      adres: past.adres,
      huurprijsCent: past.huurprijsCent,
      ingangsdatum: sleutel,
      sleuteloverdracht: sleutel,
      getekendOp: getekend,
    },
  });
  return plan;
}

function problem(status: number, title: string, extra: object = {}) {
  return {
    type: `https://ketenhub.nl/problems/${status === 401 ? 'unauthorized' : 'validation'}`,
    title,
    status,
    ...extra,
  };
}

export async function startWoningcorporatieSimulator(
  opts: WoningcorporatieSimulatorOptions = {},
): Promise<WoningcorporatieSimulator> {
  const id = opts.id ?? 'woningcorporatie';
  const name = `woningcorporatie-simulator-${id}`;
  const startDay = opts.today ?? new Date().toISOString().slice(0, 10);
  let today = startDay;
  let hub = { url: opts.hubUrl, apiKey: opts.hubApiKey };
  const byId = new Map<string, SimZoektocht>();
  const count = createDeliveryCount();
  let deliveries = 0;
  const work = createWork((err) => opts.logger?.warn({ err }, `${name}: answer job failed`));
  const retryDelayMs = opts.retryDelayMs ?? 200;

  const notifierFor = (kind: AnswerKind) =>
    createNotifier<AnswerBody, { kind: AnswerKind }>({
      name,
      ...(hub.url ? { url: `${hub.url}${ANSWER_PATHS[kind]}` } : {}),
      ...(hub.apiKey ? { headers: { authorization: `Bearer ${hub.apiKey}` } } : {}),
      ordered: true,
      work,
      retry: { maxAttempts: 30, baseDelayMs: retryDelayMs, maxDelayMs: retryDelayMs * 10 },
      describe: (r) => ({ id: r.id, kind: r.kind, zoektochtId: r.body.zoektochtId }),
      ...(opts.logger ? { logger: opts.logger } : {}),
    });
  let notifiers = Object.fromEntries(
    (Object.keys(ANSWER_PATHS) as AnswerKind[]).map((k) => [k, notifierFor(k)]),
  ) as Record<AnswerKind, ReturnType<typeof notifierFor>>;

  function advance(days: number): string {
    const until = addDays(today, days);
    const due = [...byId.values()]
      .flatMap((z) => z.plan)
      .filter((a) => !a.sent && a.datum <= until)
      .sort((a, b) => a.datum.localeCompare(b.datum));
    for (const a of due) {
      a.sent = true;
      notifiers[a.kind].send({ body: a.body, meta: { kind: a.kind } });
    }
    today = until;
    return today;
  }

  const sim = createSimServer({
    name,
    stats: () => snapshot(),
    reset: () => {
      today = startDay;
      byId.clear();
      count.reset();
      deliveries = 0;
      for (const n of Object.values(notifiers)) n.reset();
    },
  });
  function snapshot(): WoningcorporatieSimStats {
    return {
      ...count.stats(),
      deliveries,
      answers: Object.fromEntries(
        Object.entries(notifiers).map(([k, n]) => [k, n.stats()]),
      ) as Record<AnswerKind, NotifierStats>,
    };
  }

  sim.app.post('/zoektochten', async (request, reply) => {
    deliveries++;
    if (opts.token && request.headers.authorization !== `Bearer ${opts.token}`) {
      return reply.code(401).type('application/problem+json').send(problem(401, 'Unauthorized'));
    }
    const violations = schemas().validate(ZOEKTOCHT_SCHEMA, request.body);
    if (violations.length > 0) {
      return reply
        .code(400)
        .type('application/problem+json')
        .send(problem(400, 'Invalid zoektocht', { errors: violations }));
    }
    const zoektocht = request.body as WoningcorporatieZoektocht;
    const key = String(request.headers['idempotency-key'] ?? zoektocht.berichtId);
    if (count.record(key, zoektocht.gemeenteCode)) {
      const known = byId.get(zoektocht.zoektochtId);
      // A change of a zoektocht keeps its story; a new one gets its own.
      if (known) known.zoektocht = zoektocht;
      else
        byId.set(zoektocht.zoektochtId, {
          zoektocht,
          ontvangenOp: today,
          plan: planFor(zoektocht, today),
        });
    }
    return reply.code(201).send({ zoektochtId: zoektocht.zoektochtId });
  });
  sim.app.get('/_sim/clock', () => ({ today }));
  sim.app.post('/_sim/clock', (request, reply) => {
    const b = (request.body ?? {}) as { advanceDays?: unknown; date?: unknown };
    const days =
      typeof b.date === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(b.date)
        ? Math.round((Date.parse(b.date) - Date.parse(today)) / DAY)
        : Number(b.advanceDays);
    if (!Number.isInteger(days) || days < 0 || days > 3660) {
      return reply
        .code(400)
        .type('application/problem+json')
        .send(
          problem(400, 'advanceDays must be an integer 0..3660, or date not before today', {
            errors: [{ field: 'advanceDays', rule: '0..3660', message: 'out of range' }],
          }),
        );
    }
    return { today: advance(days) };
  });
  sim.app.get('/_sim/zoektochten', () => [...byId.values()]);

  const listening = await sim.listen({
    ...(opts.host ? { host: opts.host } : {}),
    ...(opts.port !== undefined ? { port: opts.port } : {}),
    ...(opts.logger ? { logger: opts.logger } : {}),
  });
  return {
    ...sim.controls,
    url: listening.url,
    id,
    zoektochten: () => [...byId.values()],
    stats: snapshot,
    today: () => today,
    advance,
    setHub(url, apiKey) {
      for (const n of Object.values(notifiers)) n.close();
      hub = { url, apiKey };
      notifiers = Object.fromEntries(
        (Object.keys(ANSWER_PATHS) as AnswerKind[]).map((k) => [k, notifierFor(k)]),
      ) as Record<AnswerKind, ReturnType<typeof notifierFor>>;
    },
    async idle(timeoutMs = 10_000) {
      const results = await Promise.all(Object.values(notifiers).map((n) => n.drain(timeoutMs)));
      return results.every(Boolean);
    },
    async close() {
      for (const n of Object.values(notifiers)) n.close();
      work.cancel();
      await listening.close();
    },
  };
}
