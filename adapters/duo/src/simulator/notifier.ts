/**
 * DUO's side of the Notificatie API: `POST {hub}/notificaties` with only
 * `registratieDatumTijd`, `gebeurtenisId`, `bsn` and `vNummer`, routed by the `doel` header to
 * the gemeente. A failed delivery (network error, timeout, 429, 5xx) is sent again with the
 * same berichtId and body, as DUO would, so the hub can recognise the repeat; a 4xx is final.
 * Every attempt and its outcome is kept for `/_sim/notifications`.
 */

import { randomUUID } from 'node:crypto';
import type { DuoSpecs, SpecViolation } from './openapi-validator.ts';

/** Only `info` and `warn` are used, pino-style: `(fields, message)`. */
export interface SimulatorLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

export const NOTIFICATIE_API_VERSION = '1.8.0';

export interface NotificatieBody {
  registratieDatumTijd: string;
  gebeurtenisId: string;
  bsn: string;
  vNummer?: number;
}

export type NotificationOutcome = 'pending' | 'delivered' | 'rejected' | 'failed' | 'skipped';

export interface NotificationAttempt {
  at: string;
  /** Absent after a network error or timeout. */
  status?: number;
  error?: string;
  durationMs: number;
  /** Where the hub's answer departs from the Notificatie API spec (201, no body, API-Version). */
  responseViolations: SpecViolation[];
}

export interface NotificationRecord {
  id: number;
  /** The same for every attempt. */
  berichtId: string;
  gebeurtenisId: string;
  bsn: string;
  gemeentecode: string;
  /** The gemeente's OIN; absent when the hub does not serve the gemeente. */
  doel?: string;
  /** What caused it: `pip`, `event:<type>` or `notify`. */
  trigger: string;
  queuedAt: string;
  outcome: NotificationOutcome;
  reason?: string;
  body: NotificatieBody;
  /** Where this simulator's own request departs from the spec (e.g. a deliberate bad code). */
  requestViolations: SpecViolation[];
  attempts: NotificationAttempt[];
}

/** Timers and in-flight work, so tests can wait for quiet and reset/close can cancel. */
export interface Work {
  schedule(delayMs: number, fn: () => Promise<void> | void): void;
  /** Resolves true once nothing is scheduled or running, false on timeout. */
  drain(timeoutMs: number): Promise<boolean>;
  pending(): number;
  /** Drops every scheduled job and aborts running ones. */
  cancel(): void;
  signal(): AbortSignal;
}

export function createWork(onError: (err: unknown) => void): Work {
  const timers = new Set<NodeJS.Timeout>();
  const running = new Set<Promise<void>>();
  let controller = new AbortController();

  function run(fn: () => Promise<void> | void): void {
    const p = (async () => {
      try {
        await fn();
      } catch (err) {
        onError(err);
      }
    })();
    running.add(p);
    void p.finally(() => running.delete(p));
  }

  return {
    schedule(delayMs, fn) {
      const generation = controller;
      const t = setTimeout(
        () => {
          timers.delete(t);
          if (generation === controller) run(fn);
        },
        Math.max(0, delayMs),
      );
      timers.add(t);
    },
    async drain(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (timers.size > 0 || running.size > 0) {
        const left = deadline - Date.now();
        if (left <= 0) return false;
        await new Promise((r) => setTimeout(r, Math.min(10, left)));
      }
      return true;
    },
    pending: () => timers.size + running.size,
    cancel() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      controller.abort();
      controller = new AbortController();
    },
    signal: () => controller.signal,
  };
}

export interface NotifierOptions {
  /** Base URL of the hub's Notificatie API, e.g. `http://127.0.0.1:4302/v1`. */
  url?: string;
  /** Sent as `Authorization: Bearer …`. */
  apiKey?: string;
  duoOin: string;
  /** CBS code (4 digits) → the gemeente's OIN. */
  gemeenteOins: ReadonlyMap<string, string>;
  specs?: DuoSpecs;
  /** Attempts in all, the first included. */
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
  timeoutMs: number;
  now: () => number;
  fetchImpl: typeof fetch;
  work: Work;
  logger?: SimulatorLogger;
}

export interface NotifyRequest {
  bsn: string;
  vNummer?: number;
  gemeentecode: string;
  gebeurtenisId: string;
  trigger: string;
  delayMs: number;
}

export interface Notifier {
  enqueue(request: NotifyRequest): NotificationRecord;
  list(): NotificationRecord[];
  reset(): void;
}

function parseRetryAfter(value: string | null): number | undefined {
  if (value === null) return undefined;
  const s = Number(value);
  return Number.isFinite(s) && s >= 0 ? s * 1000 : undefined;
}

export function createNotifier(opts: NotifierOptions): Notifier {
  let records: NotificationRecord[] = [];
  let nextId = 1;
  const endpoint =
    opts.url === undefined ? undefined : `${opts.url.replace(/\/+$/, '')}/notificaties`;

  function headersFor(rec: NotificationRecord): Record<string, string> {
    return {
      'content-type': 'application/json',
      bron: opts.duoOin,
      doel: rec.doel ?? '',
      berichtId: rec.berichtId,
      'API-Version': NOTIFICATIE_API_VERSION,
      ...(opts.apiKey ? { authorization: `Bearer ${opts.apiKey}` } : {}),
    };
  }

  function finish(rec: NotificationRecord, outcome: NotificationOutcome, reason?: string): void {
    rec.outcome = outcome;
    if (reason !== undefined) rec.reason = reason;
    // The gebeurtenisId and gemeente, never the BSN.
    const fields = { id: rec.id, gebeurtenisId: rec.gebeurtenisId, gemeentecode: rec.gemeentecode };
    if (outcome === 'delivered') opts.logger?.info(fields, 'duo-simulator: notification delivered');
    else
      opts.logger?.warn(
        { ...fields, outcome, reason },
        'duo-simulator: notification not delivered',
      );
  }

  async function attempt(rec: NotificationRecord, url: string): Promise<void> {
    const started = opts.now();
    const at = new Date(started).toISOString();
    // Taken now: reset/close swap the work's signal, and an attempt they aborted must end here
    // instead of being retried into the next generation.
    const cancelled = opts.work.signal();
    let retryAfterMs: number | undefined;
    let retryable: boolean;
    let failure: string;
    try {
      const res = await opts.fetchImpl(url, {
        method: 'POST',
        headers: headersFor(rec),
        body: JSON.stringify(rec.body),
        signal: AbortSignal.any([AbortSignal.timeout(opts.timeoutMs), cancelled]),
      });
      const text = await res.text();
      let body: unknown;
      if (text !== '') {
        try {
          body = JSON.parse(text);
        } catch {
          body = text;
        }
      }
      const responseViolations =
        opts.specs?.validateResponse('POST', '/notificaties', res.status, res.headers, body) ?? [];
      rec.attempts.push({
        at,
        status: res.status,
        durationMs: opts.now() - started,
        responseViolations,
      });
      if (res.status >= 200 && res.status < 300) {
        finish(rec, 'delivered');
        return;
      }
      retryable = res.status === 429 || res.status >= 500;
      retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
      failure = `the hub answered ${res.status}`;
    } catch (err) {
      if (cancelled.aborted) return;
      const e = err as Error;
      const error = e.name === 'TimeoutError' ? `timeout after ${opts.timeoutMs} ms` : e.message;
      rec.attempts.push({ at, error, durationMs: opts.now() - started, responseViolations: [] });
      retryable = true;
      failure = error;
    }
    if (!retryable) {
      finish(rec, 'rejected', failure);
      return;
    }
    if (rec.attempts.length >= opts.maxAttempts) {
      finish(rec, 'failed', `${failure}; gave up after ${rec.attempts.length} attempts`);
      return;
    }
    const backoff = Math.min(opts.retryMaxMs, opts.retryBaseMs * 2 ** (rec.attempts.length - 1));
    const delay = retryAfterMs === undefined ? backoff : Math.min(opts.retryMaxMs, retryAfterMs);
    opts.work.schedule(delay, () => attempt(rec, url));
  }

  return {
    enqueue(request) {
      const doel = opts.gemeenteOins.get(request.gemeentecode);
      const body: NotificatieBody = {
        registratieDatumTijd: new Date(opts.now()).toISOString(),
        gebeurtenisId: request.gebeurtenisId,
        bsn: request.bsn,
        ...(request.vNummer === undefined ? {} : { vNummer: request.vNummer }),
      };
      const rec: NotificationRecord = {
        id: nextId++,
        berichtId: randomUUID(),
        gebeurtenisId: request.gebeurtenisId,
        bsn: request.bsn,
        gemeentecode: request.gemeentecode,
        ...(doel === undefined ? {} : { doel }),
        trigger: request.trigger,
        queuedAt: new Date(opts.now()).toISOString(),
        outcome: 'pending',
        body,
        requestViolations: [],
        attempts: [],
      };
      // Only what is really sent is checked; a skipped one has no doel to put in the header.
      if (endpoint !== undefined && doel !== undefined) {
        rec.requestViolations =
          opts.specs?.validateRequest('POST', '/notificaties', headersFor(rec), body) ?? [];
      }
      records.push(rec);
      if (endpoint === undefined) {
        finish(rec, 'skipped', 'no hub Notificatie URL configured');
      } else if (doel === undefined) {
        // Real DUO would notify that gemeente's own system, which is not this hub.
        finish(rec, 'skipped', `gemeente ${request.gemeentecode} has no OIN configured here`);
      } else {
        const url = endpoint;
        opts.work.schedule(request.delayMs, () => attempt(rec, url));
      }
      return rec;
    },
    list: () => records,
    reset() {
      records = [];
      nextId = 1;
    },
  };
}
