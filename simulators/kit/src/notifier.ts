/**
 * How a partner simulator calls the hub on its own (DUO's notifications, the Kredietbank's
 * webhooks): each message is POSTed as JSON and, when that fails, sent again the same way (same
 * body and headers, so the hub can recognise the repeat) until it is delivered or given up.
 *
 * - 2xx: delivered.
 * - a network error, a timeout, 429 or 5xx: retried after an exponential backoff with jitter,
 *   or, on a 429 or 503 with `Retry-After` (seconds or an HTTP date), no sooner than it says;
 *   after `maxAttempts` attempts: failed.
 * - another status: rejected, at once (sending it again will not help).
 * - no URL, or the simulator says so: skipped, never sent.
 *
 * Every attempt is recorded with its status or error, for a simulator's listing and stats.
 */

import { parseRetryAfter } from '@ketenhub/kit';
import type { SimulatorLogger } from './server.ts';
import { createWork } from './work.ts';
import type { Work } from './work.ts';

export type NotificationOutcome = 'pending' | 'delivered' | 'rejected' | 'failed' | 'skipped';

/** One attempt; `X` is what the simulator's `inspect` adds (e.g. spec violations). */
export type NotificationAttempt<X extends object = object> = {
  at: string;
  /** Absent after a network error or timeout. */
  status?: number;
  error?: string;
  durationMs: number;
  /** The `Retry-After` of a 429 or 503, in ms. */
  retryAfterMs?: number;
} & X;

/** One message and its attempts; `M` is the simulator's own fields of it (flat, for listings). */
export type NotificationRecord<
  B = unknown,
  M extends object = object,
  X extends object = object,
> = {
  id: number;
  queuedAt: string;
  outcome: NotificationOutcome;
  /** Why it was rejected, failed or skipped. */
  reason?: string;
  body: B;
  /** Headers of this message besides the notifier's own (e.g. a message id). */
  headers: Record<string, string>;
  attempts: NotificationAttempt<X>[];
} & M;

export interface RetryPolicy {
  /** Attempts in all, the first included; default 5. */
  maxAttempts?: number;
  /** The delay after the first failed attempt, doubling per attempt; default 100 ms. */
  baseDelayMs?: number;
  /** Default 2000 ms. */
  maxDelayMs?: number;
  /** The longest `Retry-After` honoured: a hub asking for an hour must not stall a test. Default 60 s. */
  maxRetryAfterMs?: number;
  /** Up to this share is taken off each backoff at random, so retries spread; default 0.2. */
  jitter?: number;
  /** Per attempt; default 5000 ms. */
  timeoutMs?: number;
}

/** The hub's answer to an attempt as `inspect` sees it; undefined after a network error. */
export interface AttemptResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON, the text when it is not JSON, undefined when empty. */
  body: unknown;
}

export interface NotifierOptions<B, M extends object, X extends object> {
  /** Names the simulator in log lines. */
  name: string;
  /** Where messages are POSTed; without it every message is skipped. */
  url?: string;
  /** On every request (besides `content-type: application/json`), e.g. `authorization`. */
  headers?: Record<string, string>;
  retry?: RetryPolicy;
  /** One message at a time, in the order sent: the next waits until the previous is done. */
  ordered?: boolean;
  /** Adds the simulator's own fields to each attempt. */
  inspect?: (response: AttemptResponse | undefined) => X;
  /** Log fields of a record: never personal data. Default its id. */
  describe?: (record: NotificationRecord<B, M, X>) => Record<string, unknown>;
  /** Shared with the simulator's other background jobs, so one drain/cancel covers both. */
  work?: Work;
  now?: () => number;
  random?: () => number;
  fetchImpl?: typeof fetch;
  logger?: SimulatorLogger;
}

export interface SendOptions<B, M extends object> {
  body: B;
  headers?: Record<string, string>;
  /** Wait this long before the first attempt; default 0. */
  delayMs?: number;
  meta: M;
  /** Record the message as skipped with this reason instead of sending it. */
  skip?: string;
}

export interface NotifierStats {
  queued: number;
  pending: number;
  delivered: number;
  rejected: number;
  failed: number;
  skipped: number;
  attempts: number;
}

export interface Notifier<B, M extends object, X extends object> {
  send(message: SendOptions<B, M>): NotificationRecord<B, M, X>;
  list(): NotificationRecord<B, M, X>[];
  stats(): NotifierStats;
  /** Forgets every record; cancels what is pending when the notifier owns its work. */
  reset(): void;
  /** Resolves true once nothing is pending, false on timeout. */
  drain(timeoutMs?: number): Promise<boolean>;
  /** Stops: nothing more is attempted. */
  close(): void;
}

/** The backoff before attempt `n + 1` after attempt `n` failed, before any `Retry-After`. */
export function backoffDelay(
  attempt: number,
  policy: Pick<Required<RetryPolicy>, 'baseDelayMs' | 'maxDelayMs' | 'jitter'>,
  random: () => number = Math.random,
): number {
  const capped = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(capped * (1 - policy.jitter * random()));
}

function parseBody(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function createNotifier<B, M extends object = object, X extends object = object>(
  opts: NotifierOptions<B, M, X>,
): Notifier<B, M, X> {
  type Rec = NotificationRecord<B, M, X>;
  const now = opts.now ?? Date.now;
  const random = opts.random ?? Math.random;
  const fetchImpl = opts.fetchImpl ?? fetch;
  const log = opts.logger;
  const ownWork = opts.work === undefined;
  const work =
    opts.work ?? createWork((err) => log?.warn({ err }, `${opts.name}: notification job failed`));
  const policy = {
    maxAttempts: opts.retry?.maxAttempts ?? 5,
    baseDelayMs: opts.retry?.baseDelayMs ?? 100,
    maxDelayMs: opts.retry?.maxDelayMs ?? 2000,
    maxRetryAfterMs: opts.retry?.maxRetryAfterMs ?? 60_000,
    jitter: opts.retry?.jitter ?? 0.2,
    timeoutMs: opts.retry?.timeoutMs ?? 5000,
  };
  const describe = opts.describe ?? ((r: Rec) => ({ id: r.id }));
  let records: Rec[] = [];
  let nextId = 1;
  let closed = false;
  // Ordered: the messages waiting behind the one being delivered.
  let queue: { rec: Rec; delayMs: number }[] = [];
  let busy = false;

  function finish(rec: Rec, outcome: NotificationOutcome, reason?: string): void {
    rec.outcome = outcome;
    if (reason !== undefined) rec.reason = reason;
    if (outcome === 'delivered') log?.info(describe(rec), `${opts.name}: notification delivered`);
    else
      log?.warn({ ...describe(rec), outcome, reason }, `${opts.name}: notification not delivered`);
    if (opts.ordered && outcome !== 'skipped') {
      busy = false;
      pump();
    }
  }

  function pump(): void {
    if (busy || closed) return;
    const next = queue.shift();
    if (!next) return;
    busy = true;
    work.schedule(next.delayMs, () => attempt(next.rec));
  }

  async function attempt(rec: Rec): Promise<void> {
    const url = opts.url as string;
    const started = now();
    const at = new Date(started).toISOString();
    // Taken now: reset/close swap the work's signal, and an attempt they aborted must end here
    // instead of being retried into the next generation.
    const cancelled = work.signal();
    let retryAfterMs: number | undefined;
    let retryable: boolean;
    let failure: string;
    try {
      const res = await fetchImpl(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...opts.headers, ...rec.headers },
        body: JSON.stringify(rec.body),
        signal: AbortSignal.any([AbortSignal.timeout(policy.timeoutMs), cancelled]),
      });
      const body = parseBody(await res.text());
      if (res.status === 429 || res.status === 503) {
        retryAfterMs = parseRetryAfter(res.headers.get('retry-after') ?? undefined, now());
      }
      rec.attempts.push({
        at,
        status: res.status,
        durationMs: now() - started,
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
        ...(opts.inspect?.({ status: res.status, headers: res.headers, body }) as X),
      } as NotificationAttempt<X>);
      if (res.status >= 200 && res.status < 300) {
        finish(rec, 'delivered');
        return;
      }
      retryable = res.status === 429 || res.status >= 500;
      failure = `answered ${res.status}`;
    } catch (err) {
      if (cancelled.aborted) return;
      const e = err as Error;
      const error = e.name === 'TimeoutError' ? `timeout after ${policy.timeoutMs} ms` : e.message;
      rec.attempts.push({
        at,
        error,
        durationMs: now() - started,
        ...(opts.inspect?.(undefined) as X),
      } as NotificationAttempt<X>);
      retryable = true;
      failure = error;
    }
    if (!retryable) {
      finish(rec, 'rejected', failure);
      return;
    }
    if (rec.attempts.length >= policy.maxAttempts) {
      finish(rec, 'failed', `${failure}; gave up after ${rec.attempts.length} attempts`);
      return;
    }
    const backoff = backoffDelay(rec.attempts.length, policy, random);
    const delay =
      retryAfterMs === undefined
        ? backoff
        : Math.max(backoff, Math.min(retryAfterMs, policy.maxRetryAfterMs));
    work.schedule(delay, () => attempt(rec));
  }

  return {
    send(message) {
      const rec = {
        ...message.meta,
        id: nextId++,
        queuedAt: new Date(now()).toISOString(),
        outcome: 'pending',
        body: message.body,
        headers: { ...message.headers },
        attempts: [],
      } as Rec;
      records.push(rec);
      const skip = message.skip ?? (opts.url === undefined ? 'no hub URL configured' : undefined);
      if (skip !== undefined) {
        finish(rec, 'skipped', skip);
      } else if (opts.ordered) {
        queue.push({ rec, delayMs: message.delayMs ?? 0 });
        pump();
      } else if (!closed) {
        work.schedule(message.delayMs ?? 0, () => attempt(rec));
      }
      return rec;
    },
    list: () => records,
    stats() {
      const count = (o: NotificationOutcome) => records.filter((r) => r.outcome === o).length;
      return {
        queued: records.length,
        pending: count('pending'),
        delivered: count('delivered'),
        rejected: count('rejected'),
        failed: count('failed'),
        skipped: count('skipped'),
        attempts: records.reduce((n, r) => n + r.attempts.length, 0),
      };
    },
    reset() {
      if (ownWork) work.cancel();
      records = [];
      nextId = 1;
      queue = [];
      busy = false;
    },
    drain: (timeoutMs = 10_000) => work.drain(timeoutMs),
    close() {
      closed = true;
      queue = [];
      work.cancel();
    },
  };
}
