/**
 * A partner that answers over weeks and months (a woningcorporatie's offers, a VluchtelingenWerk
 * office's reports): what it will send is planned when a request arrives, each message on a day
 * of a simulated clock, and nothing is sent until the clock moves (`POST /_sim/clock
 * {"advanceDays": 7}` or `{"date": "YYYY-MM-DD"}`). What falls due goes to the hub in date order,
 * one notifier per kind (each to its own path of the hub's API), with the notifier's retries and
 * `Retry-After`.
 */
import type { FastifyInstance } from 'fastify';
import { createNotifier, type NotifierStats } from './notifier.ts';
import type { SimulatorLogger } from './server.ts';
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

  return {
    today: () => today,
    add(messages) {
      planned.push(...messages);
    },
    advance,
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
        const b = (request.body ?? {}) as { advanceDays?: unknown; date?: unknown };
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
