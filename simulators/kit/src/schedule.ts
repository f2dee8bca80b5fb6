/**
 * A partner that answers over weeks and months (a woningcorporatie's offers, a VluchtelingenWerk
 * office's reports): what it will send is planned when a request arrives, each message on a day
 * of a simulated clock, and nothing is sent until the clock moves (`POST /_sim/clock
 * {"advanceDays": 7}` or `{"date": "YYYY-MM-DD"}`). What falls due goes to the hub in date order,
 * one notifier per kind (each to its own path of the hub's API), with the notifier's retries and
 * `Retry-After`.
 */
import type { FastifyInstance } from 'fastify';
import { schemas } from '@ketenhub/contracts';
import { problem } from '@ketenhub/kit';
import { createNotifier, type NotifierStats } from './notifier.ts';
import { createDeliveryCount, type DeliveryStats } from './stats.ts';
import { createSimServer, type SimControls, type SimulatorLogger } from './server.ts';
import { createWork } from './work.ts';

const DAY = 24 * 60 * 60 * 1000;

/** `datum` (YYYY-MM-DD) moved by `days`. */
export function addDays(datum: string, days: number): string {
  return new Date(Date.parse(`${datum}T00:00:00Z`) + days * DAY).toISOString().slice(0, 10);
}

/** One message planned for a day of the simulated clock. */
export interface Scheduled<K extends string, B> {
  kind: K;
  /** The simulated day it is sent. */
  datum: string;
  body: B;
  sent: boolean;
}

export interface ScheduleOptions<K extends string, B> {
  /** Names the simulator in log lines. */
  name: string;
  /** The hub's path for each kind of message. */
  paths: Record<K, string>;
  hubUrl?: string;
  hubApiKey?: string;
  /** The simulated day it starts on; default today. */
  today?: string;
  /** Delay between retries of a message the hub did not take; default 200 ms. */
  retryDelayMs?: number;
  /** Log fields of a message: never personal data. */
  describe(body: B): Record<string, unknown>;
  logger?: SimulatorLogger;
}

export interface Schedule<K extends string, B> {
  today(): string;
  /** Plans messages; each is sent once the clock reaches its day. */
  add(messages: Scheduled<K, B>[]): void;
  /** Moves the clock by `days`, sending every message that falls due, in date order. */
  advance(days: number): string;
  /**
   * Restarts the calendar at an earlier `date`, for a time-lapse run after run whose partner must
   * stay behind the real date (a PVT signed "in the future" is refused by DUO's rules). Only when
   * every planned message has been sent: what was told stays told. Returns false otherwise.
   */
  rewind(date: string): boolean;
  /** Per kind, what its notifier did. */
  stats(): Record<K, NotifierStats>;
  /** Where to send, and the key to present (after the hub started). */
  setHub(url: string, apiKey: string): void;
  /** Resolves once nothing is pending (delivered, rejected or given up). */
  idle(timeoutMs?: number): Promise<boolean>;
  /** Back to the first day, nothing planned, counters cleared. */
  reset(): void;
  close(): void;
  /** `GET` and `POST /_sim/clock` on the simulator's server. */
  routes(app: FastifyInstance): void;
}

export function createSchedule<K extends string, B>(opts: ScheduleOptions<K, B>): Schedule<K, B> {
  const startDay = opts.today ?? new Date().toISOString().slice(0, 10);
  const kinds = Object.keys(opts.paths) as K[];
  const retryDelayMs = opts.retryDelayMs ?? 200;
  const work = createWork((err) => opts.logger?.warn({ err }, `${opts.name}: send job failed`));
  let today = startDay;
  let hub = { url: opts.hubUrl, apiKey: opts.hubApiKey };
  let planned: Scheduled<K, B>[] = [];

  const notifierFor = (kind: K) =>
    createNotifier<B, { kind: K }, object>({
      name: opts.name,
      ...(hub.url ? { url: `${hub.url}${opts.paths[kind]}` } : {}),
      ...(hub.apiKey ? { headers: { authorization: `Bearer ${hub.apiKey}` } } : {}),
      ordered: true,
      work,
      retry: { maxAttempts: 30, baseDelayMs: retryDelayMs, maxDelayMs: retryDelayMs * 10 },
      describe: (r) => ({ id: r.id, kind: r.kind, ...opts.describe(r.body) }),
      ...(opts.logger ? { logger: opts.logger } : {}),
    });
  const notifiersFor = () =>
    Object.fromEntries(kinds.map((k) => [k, notifierFor(k)])) as Record<
      K,
      ReturnType<typeof notifierFor>
    >;
  let notifiers = notifiersFor();

  function advance(days: number): string {
    const until = addDays(today, days);
    const due = planned
      .filter((m) => !m.sent && m.datum <= until)
      .sort((a, b) => a.datum.localeCompare(b.datum));
    for (const m of due) {
      m.sent = true;
      notifiers[m.kind].send({ body: m.body, meta: { kind: m.kind } });
    }
    today = until;
    return today;
  }

  function rewind(date: string): boolean {
    if (date > today || planned.some((m) => !m.sent)) return false;
    today = date;
    return true;
  }

  return {
    today: () => today,
    add(messages) {
      planned.push(...messages);
    },
    advance,
    rewind,
    stats: () =>
      Object.fromEntries(kinds.map((k) => [k, notifiers[k].stats()])) as Record<K, NotifierStats>,
    setHub(url, apiKey) {
      for (const k of kinds) notifiers[k].close();
      hub = { url, apiKey };
      notifiers = notifiersFor();
    },
    async idle(timeoutMs = 10_000) {
      const drained = await Promise.all(kinds.map((k) => notifiers[k].drain(timeoutMs)));
      return drained.every(Boolean);
    },
    reset() {
      today = startDay;
      planned = [];
      for (const k of kinds) notifiers[k].reset();
    },
    close() {
      for (const k of kinds) notifiers[k].close();
      work.cancel();
    },
    routes(app) {
      app.get('/_sim/clock', () => ({ today }));
      app.post('/_sim/clock', (request, reply) => {
        const b = (request.body ?? {}) as {
          advanceDays?: unknown;
          date?: unknown;
          rewind?: unknown;
        };
        if (b.rewind === true && typeof b.date === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(b.date)) {
          if (rewind(b.date)) return { today };
          return reply
            .code(409)
            .type('application/problem+json')
            .send({
              type: 'https://ketenhub.nl/problems/conflict',
              title: 'rewind only to a date not after today, once every planned message is sent',
              status: 409,
              errors: [
                { field: 'rewind', rule: 'nothing planned ahead', message: 'messages pending' },
              ],
            });
        }
        const days =
          typeof b.date === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(b.date)
            ? Math.round((Date.parse(b.date) - Date.parse(today)) / DAY)
            : Number(b.advanceDays);
        if (!Number.isInteger(days) || days < 0 || days > 3660) {
          const field = typeof b.date === 'string' ? 'date' : 'advanceDays';
          return reply
            .code(400)
            .type('application/problem+json')
            .send({
              type: 'https://ketenhub.nl/problems/validation',
              title: 'advanceDays must be a whole number from 0 to 3660, or date not before today',
              status: 400,
              errors: [{ field, rule: '0..3660 days ahead', message: 'out of range' }],
            });
        }
        return { today: advance(days) };
      });
    },
  };
}

/** One request a partner that answers over time took, with its story. */
export interface PlannedRequest<R, K extends string, B> {
  request: R;
  /** The simulated day it arrived. */
  ontvangenOp: string;
  plan: Scheduled<K, B>[];
}

export interface PlannedIntakeOptions<R, K extends string, B> {
  /** The partner API's path the hub POSTs requests to, e.g. `/zoektochten`. */
  path: string;
  /** The partner's contract for a request, and its name in a refusal. */
  schemaId: string;
  what: string;
  /** The bearer token the hub must present; none when absent. */
  token?: string;
  /** What keeps a request's story: a request sent again under it is a change, not a new one. */
  idOf(request: R): string;
  /** Its story, from the day it arrived. */
  plan(request: R, today: string): Scheduled<K, B>[];
  /** The 201 answer's body. */
  answer(request: R): object;
}

export interface PlannedIntake<R, K extends string, B> {
  /** Requests taken, once per Idempotency-Key, in arrival order (a change replaces). */
  requests(): PlannedRequest<R, K, B>[];
  /** What was received once per key, the repeats, by gemeente. */
  stats(): DeliveryStats;
  /** Every POST that reached the API, repeats included. */
  deliveries(): number;
  reset(): void;
}

/**
 * The API of a partner that answers over time (a corporatie, a VluchtelingenWerk office):
 * `POST <path>` checks the bearer token (401) and the contract (400 naming each field), takes a
 * request once per `Idempotency-Key` (else its `berichtId`), keeps a change of a known request's
 * story, and plans a new one's on the schedule.
 */
export function registerPlannedIntake<
  R extends { berichtId: string; gemeenteCode: string },
  K extends string,
  B,
>(
  app: FastifyInstance,
  schedule: Schedule<K, B>,
  opts: PlannedIntakeOptions<R, K, B>,
): PlannedIntake<R, K, B> {
  const byId = new Map<string, PlannedRequest<R, K, B>>();
  const count = createDeliveryCount();
  let deliveries = 0;
  app.post(opts.path, async (request, reply) => {
    deliveries++;
    if (opts.token && request.headers.authorization !== `Bearer ${opts.token}`) {
      return reply.code(401).type('application/problem+json').send(problem(401));
    }
    const violations = schemas().validate(opts.schemaId, request.body);
    if (violations.length > 0) {
      return reply
        .code(400)
        .type('application/problem+json')
        .send(problem(400, `Invalid ${opts.what}`, undefined, violations));
    }
    const body = request.body as R;
    const key = String(request.headers['idempotency-key'] ?? body.berichtId);
    if (count.record(key, body.gemeenteCode)) {
      const known = byId.get(opts.idOf(body));
      // A change of a request keeps its story; a new one gets its own.
      if (known) known.request = body;
      else {
        const plan = opts.plan(body, schedule.today());
        byId.set(opts.idOf(body), { request: body, ontvangenOp: schedule.today(), plan });
        schedule.add(plan);
      }
    }
    return reply.code(201).send(opts.answer(body));
  });
  return {
    requests: () => [...byId.values()],
    stats: () => count.stats(),
    deliveries: () => deliveries,
    reset() {
      byId.clear();
      count.reset();
      deliveries = 0;
    },
  };
}

/** What a simulator of a partner that answers over time is started with (its `main.ts` flags). */
export interface PlannedSimulatorOptions {
  /** The organisation it plays; default the partner's id. */
  id?: string;
  host?: string;
  port?: number;
  logger?: SimulatorLogger;
  /** The bearer token the hub must present; none when absent. */
  token?: string;
  /** Base URL of the hub's API for the partner (`services.<partner>`), and the key it presents. */
  hubUrl?: string;
  hubApiKey?: string;
  /** The simulated day it starts on (YYYY-MM-DD); default today. */
  today?: string;
  /** Delay between retries of a message the hub did not take; default 200 ms. */
  retryDelayMs?: number;
}

/** The partner's own part: its API, its story and the names of what it shows. */
export interface PlannedSimulatorSpec<R, K extends string, B, V, S extends string> extends Omit<
  PlannedIntakeOptions<R, K, B>,
  'token'
> {
  /** The partner's id: the default organisation, and `<partner>-simulator-<id>` in log lines. */
  partner: string;
  /** The hub's path for each kind of message it sends. */
  paths: Record<K, string>;
  /** Log fields of a message: never personal data. */
  describe(body: B): Record<string, unknown>;
  /** `GET <path>` lists the requests taken, each as `view` shows it (`/_sim/zoektochten`). */
  list: { path: string; view(request: PlannedRequest<R, K, B>): V };
  /** The key under which its stats hold each kind's notifier counts (`answers`). */
  statsKey: S;
}

/** `GET /_sim/stats` of such a simulator. */
export type PlannedSimStats<K extends string, S extends string> = DeliveryStats & {
  /** Every POST that reached the API, repeats included. */
  deliveries: number;
} & Record<S, Record<K, NotifierStats>>;

export interface PlannedSimulator<K extends string, V, S extends string> extends SimControls {
  url: string;
  /** The organisation this simulator plays. */
  id: string;
  /** Requests taken, once per Idempotency-Key, in arrival order (a change replaces). */
  requests(): V[];
  stats(): PlannedSimStats<K, S>;
  today(): string;
  /** Moves the clock by `days`, sending every message that falls due, in order. */
  advance(days: number): string;
  /** Where to send, and the key to present (after the hub started). */
  setHub(url: string, apiKey: string): void;
  /** Resolves once no message is pending (delivered, rejected or given up). */
  idle(timeoutMs?: number): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * A partner that answers over time, started: the simulator server (`/health`, faults, stats,
 * reset), its API by `registerPlannedIntake`, the story of each request on a `createSchedule`
 * clock (`GET`/`POST /_sim/clock`), the requests taken at `list.path`, and the in-process
 * controls. The partner gives its contract, paths and story (`spec`); the flags are the same for
 * every such partner (`opts`).
 */
export async function startPlannedSimulator<
  R extends { berichtId: string; gemeenteCode: string },
  K extends string,
  B,
  V,
  S extends string,
>(
  opts: PlannedSimulatorOptions,
  spec: PlannedSimulatorSpec<R, K, B, V, S>,
): Promise<PlannedSimulator<K, V, S>> {
  const id = opts.id ?? spec.partner;
  const name = `${spec.partner}-simulator-${id}`;
  const schedule = createSchedule<K, B>({
    name,
    paths: spec.paths,
    ...(opts.hubUrl ? { hubUrl: opts.hubUrl } : {}),
    ...(opts.hubApiKey ? { hubApiKey: opts.hubApiKey } : {}),
    ...(opts.today ? { today: opts.today } : {}),
    ...(opts.retryDelayMs ? { retryDelayMs: opts.retryDelayMs } : {}),
    describe: spec.describe,
    ...(opts.logger ? { logger: opts.logger } : {}),
  });

  const sim = createSimServer({
    name,
    stats: () => snapshot(),
    reset: () => {
      intake.reset();
      schedule.reset();
    },
  });
  const intake = registerPlannedIntake<R, K, B>(sim.app, schedule, {
    path: spec.path,
    schemaId: spec.schemaId,
    what: spec.what,
    ...(opts.token ? { token: opts.token } : {}),
    idOf: spec.idOf,
    plan: spec.plan,
    answer: spec.answer,
  });
  const requests = (): V[] => intake.requests().map(spec.list.view);
  function snapshot(): PlannedSimStats<K, S> {
    const counts = { [spec.statsKey]: schedule.stats() } as Record<S, Record<K, NotifierStats>>;
    return { ...intake.stats(), deliveries: intake.deliveries(), ...counts };
  }

  schedule.routes(sim.app);
  sim.app.get(spec.list.path, requests);

  const listening = await sim.listen({
    ...(opts.host ? { host: opts.host } : {}),
    ...(opts.port !== undefined ? { port: opts.port } : {}),
    ...(opts.logger ? { logger: opts.logger } : {}),
  });
  return {
    ...sim.controls,
    url: listening.url,
    id,
    requests,
    stats: snapshot,
    today: schedule.today,
    advance: schedule.advance,
    setHub: schedule.setHub,
    idle: schedule.idle,
    async close() {
      schedule.close();
      await listening.close();
    },
  };
}
