/**
 * A stand-in for the klantvolgsysteem (KVS) of several gemeenten: a real HTTP server that
 * receives CloudEvents in structured mode the way the hub delivers them, remembers what it got,
 * and can be told to fail so the hub's retries, breaker and dead-lettering can be exercised.
 *
 * Used by the demo, by `npm start` and by integration tests. Everything lives in memory; the
 * read-back API under `/_sim` has no authentication, which is why the default bind address is
 * loopback.
 */

import { createHash, timingSafeEqual } from 'node:crypto';
import type { Violation } from '@ketenhub/contracts';
import type { FastifyReply } from 'fastify';
import { SIMULATED_FAULT_TYPE, createSimServer } from '@ketenhub/simulator-kit';
import type {
  DeliveryStats,
  FaultInput,
  SimControls,
  SimulatorLogger,
} from '@ketenhub/simulator-kit';

export type { FaultInput, SimulatorLogger, Violation };

export interface StoredEvent {
  gemeente: string;
  id: string;
  type: string;
  receivedAt: string;
  /** How often this id reached this gemeente (1 + the duplicates answered with 409). */
  deliveries: number;
  idempotencyKey?: string;
  /** The whole CloudEvent as received. */
  event: unknown;
}

export interface GemeenteStats {
  /** First deliveries accepted with 201. */
  received: number;
  /** Second and later deliveries of an id, answered with 409. */
  duplicates: number;
  /** Requests answered (or not) by an injected fault. */
  faulted: number;
  /** Events whose `gemeente` extension named another gemeente (422), plus ids already
   * accepted by another gemeente (still accepted here, as a real KVS could not know). */
  misrouted: number;
}

/** The kit's DeliveryStats (`received`, `duplicates`, `byGemeente`: the totals), and per gemeente. */
export interface Stats extends DeliveryStats {
  byGemeente: Record<string, number>;
  gemeenten: Record<string, GemeenteStats>;
  total: GemeenteStats;
}

/** Where one event id was received. */
export interface EventLocation {
  id: string;
  /** The gemeente that accepted the id first. */
  gemeente: string;
  /** Deliveries summed over every gemeente that got the id. */
  deliveries: number;
  receivedBy: { gemeente: string; deliveries: number; receivedAt: string }[];
}

export interface KvsSimulatorOptions {
  /** Default 127.0.0.1: the `/_sim` API is unauthenticated. */
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** CBS codes in lower case, e.g. `['gm0797', 'gm0363']`. */
  gemeenten: string[];
  /** Bearer token the hub must present, per gemeente; no auth for a gemeente not listed. */
  tokens?: Record<string, string>;
  /** Contract check injected by the caller; an empty list means valid. */
  validate?: (event: unknown) => Violation[];
  logger?: SimulatorLogger;
  /**
   * Events whose whole body is kept (default 200 000, over all gemeenten). Beyond that the
   * oldest bodies are dropped but their ids, delivery counts and the counters are kept, so
   * duplicate detection and `stats()` stay exact and `/_sim/events/:id` still answers;
   * `received()` and `/_sim/gemeenten/:code/events` return only the events still held.
   */
  maxEvents?: number;
  /** Largest request body accepted (default 1 MiB); larger bodies get 413. */
  bodyLimit?: number;
  /** Clock for fault durations and `receivedAt`; injectable for tests. */
  now?: () => number;
}

/**
 * The simulator; its faults (`injectFault`) are the simulator kit's, `scope.gemeente` one of
 * the gemeenten; `reset` forgets events, counters and faults.
 */
export interface KvsSimulator extends SimControls {
  /** Base URL, e.g. `http://127.0.0.1:4310`. */
  url: string;
  port: number;
  close(): Promise<void>;
  /** The URL the hub must POST events for this gemeente to. */
  endpointFor(gemeente: string): string;
  /** Events still held, in arrival order; all gemeenten when none is given. */
  received(gemeente?: string): StoredEvent[];
  stats(): Stats;
}

export const KVS_PROBLEM_TYPES = {
  validation: 'https://ketenhub.nl/problems/validation',
  wrongGemeente: 'https://ketenhub.nl/problems/wrong-gemeente',
  duplicateEvent: 'https://ketenhub.nl/problems/duplicate-event',
  unauthorized: 'https://ketenhub.nl/problems/unauthorized',
  unsupportedMediaType: 'https://ketenhub.nl/problems/unsupported-media-type',
  unknownGemeente: 'https://ketenhub.nl/problems/unknown-gemeente',
  notFound: 'https://ketenhub.nl/problems/not-found',
  simulatedFault: SIMULATED_FAULT_TYPE,
  payloadTooLarge: 'https://ketenhub.nl/problems/payload-too-large',
  internal: 'https://ketenhub.nl/problems/internal',
} as const;

const GEMEENTE_CODE = /^gm\d{4}$/;
const ACCEPTED_MEDIA_TYPES = new Set(['application/cloudevents+json', 'application/json']);

interface EventRecord {
  gemeente: string;
  id: string;
  type: string;
  receivedAt: string;
  deliveries: number;
  idempotencyKey?: string;
  /** Undefined once the body has been dropped to stay under `maxEvents`. */
  event: unknown;
}

interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  errors?: Violation[];
  [extra: string]: unknown;
}

class HttpProblem extends Error {
  override readonly name = 'HttpProblem';
  readonly problem: Problem;
  constructor(problem: Problem) {
    super(problem.detail ?? problem.title);
    this.problem = problem;
  }
}

function emptyStats(): GemeenteStats {
  return { received: 0, duplicates: 0, faulted: 0, misrouted: 0 };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkGemeente(code: string, where: string): void {
  if (!GEMEENTE_CODE.test(code)) {
    throw new Error(`${where}: '${code}' is not a lower-case CBS gemeente code like gm0797`);
  }
}

/** The structural rules of a CloudEvents 1.0 structured-mode event; contracts come later. */
function checkCloudEvent(body: unknown): Violation[] {
  if (!isRecord(body)) {
    return [{ field: '', rule: 'type', message: 'must be a JSON object (one structured event)' }];
  }
  const out: Violation[] = [];
  if (body.specversion !== '1.0') {
    out.push({
      field: 'specversion',
      rule: body.specversion === undefined ? 'required' : 'const',
      message: 'must be "1.0"',
    });
  }
  for (const attr of ['id', 'source', 'type'] as const) {
    const v = body[attr];
    if (v === undefined) out.push({ field: attr, rule: 'required', message: 'is required' });
    else if (typeof v !== 'string' || v.length === 0) {
      out.push({ field: attr, rule: 'minLength', message: 'must be a non-empty string' });
    }
  }
  return out;
}

function parseJson(body: unknown): unknown {
  const text = Buffer.isBuffer(body) ? body.toString('utf8') : '';
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new HttpProblem({
      type: KVS_PROBLEM_TYPES.validation,
      title: 'Body is not valid JSON',
      status: 400,
      errors: [{ field: '', rule: 'json', message: (err as Error).message }],
    });
  }
}

function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  return reply.code(problem.status).type('application/problem+json').send(problem);
}

export async function startKvsSimulator(opts: KvsSimulatorOptions): Promise<KvsSimulator> {
  const host = opts.host ?? '127.0.0.1';
  const now = opts.now ?? Date.now;
  const maxEvents = opts.maxEvents ?? 200_000;
  const log = opts.logger;
  if (!Number.isInteger(maxEvents) || maxEvents < 0) {
    throw new Error('maxEvents: must be a non-negative integer');
  }

  const gemeenten = [...new Set(opts.gemeenten)];
  if (gemeenten.length === 0) throw new Error('gemeenten: at least one gemeente is needed');
  for (const g of gemeenten) checkGemeente(g, 'gemeenten');
  const known: ReadonlySet<string> = new Set(gemeenten);

  // Digests, so the comparison is constant-time whatever the token lengths.
  const tokenDigests = new Map<string, Buffer>();
  for (const [g, token] of Object.entries(opts.tokens ?? {})) {
    if (!known.has(g)) throw new Error(`tokens: '${g}' is not one of the simulated gemeenten`);
    if (token.length === 0) throw new Error(`tokens.${g}: must not be empty`);
    tokenDigests.set(g, digest(token));
  }

  let byGemeente = new Map<string, Map<string, EventRecord>>();
  let counters = new Map<string, GemeenteStats>();
  // Id → gemeenten that accepted it, to spot one event reaching two gemeenten.
  let whereSeen = new Map<string, string[]>();
  // Records that still hold their body, in arrival order; the first is the next to drop.
  let held = new Set<EventRecord>();

  function clearState(): void {
    byGemeente = new Map(gemeenten.map((g) => [g, new Map()]));
    counters = new Map(gemeenten.map((g) => [g, emptyStats()]));
    whereSeen = new Map();
    held = new Set();
  }
  clearState();

  function count(gemeente: string, key: keyof GemeenteStats): void {
    const c = counters.get(gemeente);
    if (c) c[key] += 1;
  }

  function authorized(gemeente: string, header: string | undefined): boolean {
    const expected = tokenDigests.get(gemeente);
    if (!expected) return true;
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    if (!match?.[1]) return false;
    return timingSafeEqual(digest(match[1]), expected);
  }

  function toStored(r: EventRecord): StoredEvent {
    return {
      gemeente: r.gemeente,
      id: r.id,
      type: r.type,
      receivedAt: r.receivedAt,
      deliveries: r.deliveries,
      ...(r.idempotencyKey === undefined ? {} : { idempotencyKey: r.idempotencyKey }),
      event: r.event,
    };
  }

  function received(gemeente?: string): StoredEvent[] {
    const out: StoredEvent[] = [];
    if (gemeente === undefined) {
      for (const r of held) out.push(toStored(r));
    } else {
      for (const r of byGemeente.get(gemeente)?.values() ?? []) {
        if (held.has(r)) out.push(toStored(r));
      }
    }
    return out;
  }

  function stats(): Stats {
    const total = emptyStats();
    const perGemeente: Record<string, GemeenteStats> = {};
    for (const [g, c] of counters) {
      perGemeente[g] = { ...c };
      total.received += c.received;
      total.duplicates += c.duplicates;
      total.faulted += c.faulted;
      total.misrouted += c.misrouted;
    }
    return {
      received: total.received,
      duplicates: total.duplicates,
      byGemeente: Object.fromEntries(Object.entries(perGemeente).map(([g, c]) => [g, c.received])),
      gemeenten: perGemeente,
      total,
    };
  }

  function locate(id: string): EventLocation | undefined {
    const gs = whereSeen.get(id);
    if (!gs || gs.length === 0) return undefined;
    const receivedBy = gs.flatMap((g) => {
      const r = byGemeente.get(g)?.get(id);
      return r ? [{ gemeente: g, deliveries: r.deliveries, receivedAt: r.receivedAt }] : [];
    });
    return {
      id,
      gemeente: gs[0] as string,
      deliveries: receivedBy.reduce((n, x) => n + x.deliveries, 0),
      receivedBy,
    };
  }

  function store(record: EventRecord): void {
    byGemeente.get(record.gemeente)?.set(record.id, record);
    if (maxEvents === 0) {
      record.event = undefined;
      return;
    }
    held.add(record);
    while (held.size > maxEvents) {
      const oldest = held.values().next().value as EventRecord;
      oldest.event = undefined;
      held.delete(oldest);
    }
  }

  const server = createSimServer({
    name: 'kvs-simulator',
    ...(opts.bodyLimit === undefined ? {} : { bodyLimit: opts.bodyLimit }),
    scopes: { gemeente: { values: gemeenten } },
    now,
    stats,
    reset: clearState,
    // Only deliveries to a gemeente served here; an unknown one is a 404 first.
    scopeOf: (request) => {
      const code = (request.params as { code?: string }).code;
      return request.routeOptions.url === '/gemeenten/:code/events' &&
        code !== undefined &&
        known.has(code)
        ? { gemeente: code }
        : undefined;
    },
    // Faulted requests are not stored and count as `faulted` (the hook answers them).
    onFault: (fault, request) => {
      const gemeente = (request.params as { code: string }).code;
      count(gemeente, 'faulted');
      log?.info({ gemeente, fault: fault.id, kind: fault.kind }, 'kvs-simulator: fault');
    },
  });
  const app = server.app;

  // One catch-all parser: the media type is checked per route so it can be a 415 problem.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err: unknown, _request, reply) => {
    if (err instanceof HttpProblem) return sendProblem(reply, err.problem);
    const e = err as { statusCode?: number; message?: string };
    const status = typeof e.statusCode === 'number' && e.statusCode >= 400 ? e.statusCode : 500;
    if (status >= 500) log?.warn({ err }, 'kvs-simulator: internal error');
    return sendProblem(reply, {
      type: status === 413 ? KVS_PROBLEM_TYPES.payloadTooLarge : KVS_PROBLEM_TYPES.internal,
      title: status === 413 ? 'Payload too large' : 'Request failed',
      status,
      detail: e.message ?? String(err),
    });
  });

  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, {
      type: KVS_PROBLEM_TYPES.notFound,
      title: 'Not found',
      status: 404,
      detail: `${request.method} ${request.url}`,
    }),
  );

  app.post<{ Params: { code: string } }>('/gemeenten/:code/events', async (request, reply) => {
    const gemeente = request.params.code;
    if (!known.has(gemeente)) {
      return sendProblem(reply, {
        type: KVS_PROBLEM_TYPES.unknownGemeente,
        title: 'Unknown gemeente',
        status: 404,
        detail: `this simulator does not serve '${gemeente}'`,
      });
    }

    if (!authorized(gemeente, request.headers.authorization)) {
      log?.warn({ gemeente }, 'kvs-simulator: rejected credential');
      reply.header('www-authenticate', `Bearer realm="kvs-${gemeente}"`);
      return sendProblem(reply, {
        type: KVS_PROBLEM_TYPES.unauthorized,
        title: 'Missing or wrong bearer token',
        status: 401,
      });
    }

    const mediaType = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (!mediaType || !ACCEPTED_MEDIA_TYPES.has(mediaType)) {
      return sendProblem(reply, {
        type: KVS_PROBLEM_TYPES.unsupportedMediaType,
        title: 'Unsupported media type',
        status: 415,
        detail: `expected one structured CloudEvent as application/cloudevents+json, got '${mediaType ?? ''}'`,
      });
    }

    const body = parseJson(request.body);
    let violations = checkCloudEvent(body);
    if (violations.length === 0 && opts.validate) violations = opts.validate(body);
    if (violations.length > 0) {
      log?.warn({ gemeente, errors: violations }, 'kvs-simulator: invalid event');
      return sendProblem(reply, {
        type: KVS_PROBLEM_TYPES.validation,
        title: 'The event does not satisfy the contract',
        status: 400,
        errors: violations,
      });
    }
    // checkCloudEvent has established these.
    const event = body as Record<string, unknown> & { id: string; type: string };

    if (event.gemeente !== undefined && event.gemeente !== gemeente) {
      count(gemeente, 'misrouted');
      log?.warn({ gemeente, id: event.id, for: event.gemeente }, 'kvs-simulator: misrouted');
      return sendProblem(reply, {
        type: KVS_PROBLEM_TYPES.wrongGemeente,
        title: 'Event is for another gemeente',
        status: 422,
        detail: `event ${event.id} names gemeente '${String(event.gemeente)}', this is ${gemeente}`,
      });
    }

    const existing = byGemeente.get(gemeente)?.get(event.id);
    if (existing) {
      existing.deliveries += 1;
      count(gemeente, 'duplicates');
      log?.info({ gemeente, id: event.id, deliveries: existing.deliveries }, 'kvs-simulator: dup');
      return sendProblem(reply, {
        type: KVS_PROBLEM_TYPES.duplicateEvent,
        title: 'Event already received',
        status: 409,
        detail: `event ${event.id} was already received by ${gemeente}`,
        id: event.id,
      });
    }

    const elsewhere = whereSeen.get(event.id);
    if (elsewhere) {
      // A real KVS cannot see other gemeenten, so accept; the counter is for the tests.
      count(gemeente, 'misrouted');
      elsewhere.push(gemeente);
      log?.warn({ gemeente, id: event.id, also: elsewhere[0] }, 'kvs-simulator: id seen twice');
    } else {
      whereSeen.set(event.id, [gemeente]);
    }

    const idempotencyKey = request.headers['idempotency-key'];
    store({
      gemeente,
      id: event.id,
      type: event.type,
      receivedAt: new Date(now()).toISOString(),
      deliveries: 1,
      ...(typeof idempotencyKey === 'string' ? { idempotencyKey } : {}),
      event,
    });
    count(gemeente, 'received');
    log?.info({ gemeente, id: event.id, type: event.type }, 'kvs-simulator: received');
    return reply.code(201).send({ id: event.id });
  });

  app.get<{ Params: { code: string }; Querystring: { type?: string } }>(
    '/_sim/gemeenten/:code/events',
    async (request, reply) => {
      const { code } = request.params;
      if (!known.has(code)) {
        return sendProblem(reply, {
          type: KVS_PROBLEM_TYPES.unknownGemeente,
          title: 'Unknown gemeente',
          status: 404,
          detail: `this simulator does not serve '${code}'`,
        });
      }
      const type = request.query.type;
      const events = received(code).filter((e) => type === undefined || e.type === type);
      return { events };
    },
  );

  app.get<{ Params: { id: string } }>('/_sim/events/:id', async (request, reply) => {
    const found = locate(request.params.id);
    if (found) return found;
    return sendProblem(reply, {
      type: KVS_PROBLEM_TYPES.notFound,
      title: 'Event not received',
      status: 404,
      detail: `no gemeente received event ${request.params.id}`,
    });
  });

  const listening = await server.listen({
    host,
    port: opts.port ?? 0,
    ...(log ? { logger: log } : {}),
  });
  const url = listening.url;

  return {
    url,
    port: listening.port,
    close: listening.close,
    endpointFor(gemeente: string) {
      if (!known.has(gemeente)) throw new Error(`'${gemeente}' is not a simulated gemeente`);
      return `${url}/gemeenten/${gemeente}/events`;
    },
    received,
    stats,
    ...server.controls,
  };
}
