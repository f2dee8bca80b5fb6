/**
 * The one way a service calls a partner: axios behind an opossum circuit breaker, with a real
 * per-call cancellation on timeout and a classification of every outcome into "done", "retry
 * later" (PartnerUnavailableError) or "never" (PartnerRejectedError), which decides between a
 * delayed nak and a dead letter.
 *
 * A PartnerUnavailableError without a partner status carries `rule` 'timeout', 'network' or
 * 'circuit-open', so a caller can tell them apart without parsing the message.
 */

import axios from 'axios';
import type { AxiosInstance, AxiosResponse } from 'axios';
import CircuitBreaker from 'opossum';
import { PartnerRejectedError, PartnerUnavailableError } from './errors.ts';
import { scrubText } from './log.ts';
import type { Logger } from './log.ts';
import { BREAKER_STATE } from './metrics.ts';
import type { Metrics, PartnerCallOutcome } from './metrics.ts';
import type { ConsumerGate } from './run-service.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface PartnerRequest {
  method: HttpMethod;
  /** Relative to `baseURL`. Never logged unredacted, never a metric label. */
  url: string;
  data?: unknown;
  headers?: Record<string, string>;
  /** Sent as `Idempotency-Key`, so a retried delivery is not applied twice. */
  idempotencyKey?: string;
}

export interface PartnerResponse<T = unknown> {
  status: number;
  data: T;
  /** Lower-case header names. */
  headers: Record<string, string>;
}

export interface BreakerOptions {
  /** Failure percentage in the rolling window that opens the breaker. Default 50. */
  errorThresholdPercentage?: number;
  /** How long the breaker stays open before one probe is let through. Default 30 000. */
  resetTimeoutMs?: number;
  /** Calls needed in the window before the breaker may open. Default 10. */
  volumeThreshold?: number;
  /** Length of the rolling statistics window. Default 10 000. */
  rollingCountTimeoutMs?: number;
}

export interface PartnerClientOptions {
  /** Partner name, a metric label: 'kvs', 'duo', 'coa', ... */
  partner: string;
  /** Endpoint label, e.g. a CBS code 'gm0797'. Never a URL path. */
  endpoint: string;
  baseURL: string;
  /** Per call; the request is aborted when it passes. Default 5000. */
  timeoutMs?: number;
  headers?: Record<string, string>;
  breaker?: BreakerOptions;
  logger: Logger;
  metrics?: Metrics;
  /**
   * Statuses that mean the hub's own credential is refused (retried, not dead-lettered).
   * Default 401 and 403; DUO answers 403 for a business-rule refusal, so its client says [401].
   */
  credentialStatuses?: number[];
  /** Non-2xx answers that mean "done", e.g. a KVS 409 for an event it already has. */
  treatAsSuccess?: (status: number, body: unknown) => boolean;
}

export type BreakerStateName = 'closed' | 'open' | 'half-open';

export interface PartnerClient {
  request<T = unknown>(req: PartnerRequest): Promise<PartnerResponse<T>>;
  state(): BreakerStateName;
  /** Lets runService stop pulling while the breaker is open and probe one by one when half-open. */
  gate: ConsumerGate;
  /** Stops the breaker's timers and aborts calls in flight. */
  shutdown(): void;
  breaker: CircuitBreaker<[PartnerRequest], PartnerResponse>;
}

const MAX_TEXT = 200;
const MAX_ERRORS = 10;

function clip(value: unknown, max = MAX_TEXT): string | undefined {
  if (typeof value !== 'string' || value.length === 0) return undefined;
  const text = scrubText(value);
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** `Retry-After` as seconds or an HTTP date, in ms; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

interface RejectionSummary {
  text: string;
  field?: string;
  rule?: string;
}

/**
 * What is kept of a refusal: only the problem's type, title and the names of the fields and
 * rules. A partner's answer may echo the message we sent, personal data included, and this
 * text ends up in logs and on the dead-letter stream.
 */
export function summariseRejection(
  status: number,
  headers: Record<string, string>,
  body: unknown,
): RejectionSummary {
  const summary: RejectionSummary = { text: `HTTP ${status}` };
  // DUO's Foutmelding (or a list of them): short functional texts naming the rule, no data.
  const foutmeldingen = (Array.isArray(body) ? body : [body])
    .map((f) => clip((f as { fouttekst?: unknown } | null)?.fouttekst))
    .filter((t): t is string => t !== undefined);
  if (foutmeldingen.length > 0) {
    summary.text = `HTTP ${status} ${foutmeldingen.slice(0, MAX_ERRORS).join('; ')}`;
    summary.rule = foutmeldingen[0]!;
    return summary;
  }
  const isProblem =
    (headers['content-type'] ?? '').includes('problem+json') ||
    (typeof body === 'object' && body !== null && ('title' in body || 'type' in body));
  if (!isProblem || typeof body !== 'object' || body === null) return summary;

  const b = body as Record<string, unknown>;
  const title = clip(b.title);
  const type = clip(b.type);
  // RFC 9457 extension `errors` as the hub uses it; ZGW/Common Ground APIs say `invalidParams`.
  const rawErrors = Array.isArray(b.errors)
    ? b.errors
    : Array.isArray(b.invalidParams)
      ? b.invalidParams
      : [];
  const errors = (rawErrors as unknown[])
    .slice(0, MAX_ERRORS)
    .filter((e): e is Record<string, unknown> => typeof e === 'object' && e !== null)
    .map((e) => ({
      field: clip(e.field ?? e.name ?? e.pointer, 100) ?? '',
      rule: clip(e.rule ?? e.code, 100) ?? '',
    }));

  const parts = [summary.text];
  if (title) parts.push(title);
  if (type) parts.push(`[${type}]`);
  if (errors.length > 0) {
    parts.push(`errors: ${errors.map((e) => `${e.field} (${e.rule})`).join(', ')}`);
    const first = errors[0];
    if (first?.field) summary.field = first.field;
    if (first?.rule) summary.rule = first.rule;
  }
  summary.text = parts.join(' ');
  return summary;
}

function headersOf(res: AxiosResponse): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(res.headers ?? {})) {
    if (value === undefined || value === null) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return out;
}

function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function createPartnerClient(opts: PartnerClientOptions): PartnerClient {
  const { partner, endpoint } = opts;
  const name = `${partner}/${endpoint}`;
  const timeoutMs = opts.timeoutMs ?? 5000;
  const log = opts.logger.child({ partner, endpoint });
  const labels = { partner, endpoint };
  const inFlight = new Set<AbortController>();

  const http: AxiosInstance = axios.create({
    baseURL: opts.baseURL,
    // Classified below; axios must not turn statuses into its own errors.
    validateStatus: () => true,
    // A redirect would carry the payload and the idempotency key to a place nobody configured.
    maxRedirects: 0,
    headers: { accept: 'application/json, application/problem+json', ...opts.headers },
  });

  async function call(req: PartnerRequest): Promise<PartnerResponse> {
    // One controller per call: opossum's own `abortController` option is one per breaker, so a
    // timeout of one call would abort every concurrent call to the partner.
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    inFlight.add(controller);
    const started = Date.now();

    let res: AxiosResponse;
    try {
      const headers: Record<string, string> = { ...req.headers };
      if (req.idempotencyKey !== undefined) headers['idempotency-key'] = req.idempotencyKey;
      res = await http.request({
        method: req.method,
        url: req.url,
        data: req.data,
        headers,
        signal: controller.signal,
      });
    } catch (err) {
      const code = timedOut ? 'timeout' : (errorCode(err) ?? 'network error');
      throw new PartnerUnavailableError(
        timedOut ? `${name}: no answer within ${timeoutMs} ms` : `${name}: ${code}`,
        { cause: err, rule: timedOut ? 'timeout' : 'network' },
      );
    } finally {
      clearTimeout(timer);
      inFlight.delete(controller);
    }

    const status = res.status;
    const headers = headersOf(res);
    log.debug(
      { method: req.method, url: req.url, status, ms: Date.now() - started },
      'partner call',
    );

    if ((status >= 200 && status < 300) || opts.treatAsSuccess?.(status, res.data) === true) {
      return { status, data: res.data, headers };
    }
    if ((opts.credentialStatuses ?? [401, 403]).includes(status)) {
      // Our credential is wrong or expired: a configuration fault, not the message's. Retried
      // (and counted by the breaker, which then holds the consumer) instead of dead-lettering
      // every message until someone fixes the key.
      throw new PartnerUnavailableError(
        `${name}: answered HTTP ${status} to the hub's credentials`,
        {
          partnerStatus: status,
          rule: 'credentials',
        },
      );
    }
    if (status === 408 || status === 429 || status >= 500) {
      const retryAfterMs = parseRetryAfter(headers['retry-after']);
      throw new PartnerUnavailableError(`${name}: answered HTTP ${status}`, {
        partnerStatus: status,
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      });
    }
    const summary = summariseRejection(status, headers, res.data);
    throw new PartnerRejectedError(`${name} refused the request: ${summary.text}`, status, {
      ...(summary.field === undefined ? {} : { field: summary.field }),
      ...(summary.rule === undefined ? {} : { rule: summary.rule }),
    });
  }

  const resetTimeout = opts.breaker?.resetTimeoutMs ?? 30_000;
  const breaker = new CircuitBreaker<[PartnerRequest], PartnerResponse>(call, {
    name,
    // The call enforces its own deadline; this only backs it up should a call never settle.
    timeout: timeoutMs + 1000,
    errorThresholdPercentage: opts.breaker?.errorThresholdPercentage ?? 50,
    resetTimeout,
    volumeThreshold: opts.breaker?.volumeThreshold ?? 10,
    rollingCountTimeout: opts.breaker?.rollingCountTimeoutMs ?? 10_000,
    // A refusal says the partner is up and judged the message: not a reason to stop calling it.
    errorFilter: (err: unknown) =>
      (err as { name?: unknown } | null)?.name === 'PartnerRejectedError',
  });

  const setState = (state: BreakerStateName): void => {
    opts.metrics?.breakerState.set(labels, BREAKER_STATE[state]);
  };
  setState('closed');
  breaker.on('open', () => {
    setState('open');
    log.warn({ resetTimeoutMs: resetTimeout }, 'circuit opened');
  });
  breaker.on('halfOpen', () => {
    setState('half-open');
    log.info('circuit half-open, probing');
  });
  breaker.on('close', () => {
    setState('closed');
    log.info('circuit closed');
  });

  const count = (outcome: PartnerCallOutcome): void => {
    opts.metrics?.partnerCalls.inc({ ...labels, outcome });
  };

  async function request<T = unknown>(req: PartnerRequest): Promise<PartnerResponse<T>> {
    try {
      const res = await breaker.fire(req);
      count('success');
      return res as PartnerResponse<T>;
    } catch (err) {
      const code = errorCode(err);
      if (code === 'EOPENBREAKER' || code === 'ESEMLOCKED' || code === 'ESHUTDOWN') {
        count('short_circuit');
        throw new PartnerUnavailableError(
          code === 'ESHUTDOWN' ? `${name}: client shut down` : `circuit open for ${name}`,
          { cause: err, rule: 'circuit-open', retryAfterMs: resetTimeout },
        );
      }
      // opossum's backstop timer; the call's own deadline normally comes first.
      if (code === 'ETIMEDOUT') {
        count('timeout');
        throw new PartnerUnavailableError(`${name}: no answer within ${timeoutMs} ms`, {
          cause: err,
          rule: 'timeout',
        });
      }
      const e = err as { name?: unknown; rule?: unknown; partnerStatus?: unknown };
      if (e?.name === 'PartnerRejectedError') {
        count('rejected');
        log.warn({ method: req.method, url: req.url, status: e.partnerStatus }, 'partner refused');
      } else {
        count(e?.rule === 'timeout' ? 'timeout' : 'unavailable');
        log.warn(
          { method: req.method, url: req.url, status: e?.partnerStatus, reason: e?.rule },
          'partner unavailable',
        );
      }
      throw err;
    }
  }

  const state = (): BreakerStateName =>
    breaker.opened ? 'open' : breaker.halfOpen ? 'half-open' : 'closed';
  let waiters: (() => void)[] = [];
  const wake = () => {
    const ready = waiters;
    waiters = [];
    for (const w of ready) w();
  };
  breaker.on('open', wake);
  breaker.on('halfOpen', wake);
  breaker.on('close', wake);
  breaker.on('shutdown', wake);
  const gate: ConsumerGate = {
    state: () => (({ open: 'hold', 'half-open': 'probe', closed: 'pass' }) as const)[state()],
    holdMs: () => resetTimeout,
    changed: (maxMs) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, maxMs);
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };

  return {
    request,
    state,
    gate,
    shutdown: () => {
      for (const controller of inFlight) controller.abort();
      breaker.shutdown();
    },
    breaker,
  };
}
