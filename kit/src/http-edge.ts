/**
 * The partner-facing HTTP edge every inbound adapter builds on: it authenticates the partner,
 * limits and parses bodies, and answers every failure as RFC 9457 problem+json naming the field
 * and the rule, so partners get the same behaviour from every hub API.
 */

import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import Fastify, { LogController } from 'fastify';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createAjv, toViolations } from '@ketenhub/contracts';
import type { Violation } from '@ketenhub/contracts';
import type { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject } from 'ajv';
import { AuthenticationError, ConfigError, ForbiddenError } from './errors.ts';
import type { Logger } from './log.ts';
import type { Metrics } from './metrics.ts';

export interface PartnerCredential {
  /** Who this is, e.g. 'coa', 'kvs-gm0797'. Used in logs and metric labels. */
  id: string;
  /** 'coa' | 'gemeente-kvs' | 'duo' | 'kredietbank' | 'taalaanbieder' | ... */
  kind: string;
  /** The secret, from the environment. */
  apiKey: string;
  /** CBS codes (e.g. 'gm0797') this credential may act for; undefined = every one served. */
  gemeenten?: string[];
}

/** The authenticated caller; never holds the key. */
export interface Principal {
  id: string;
  kind: string;
  gemeenten?: string[];
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the edge for every route that is not `config: { public: true }`. */
    principal?: Principal;
  }
  interface FastifyContextConfig {
    /** Opt a route out of partner authentication (e.g. a health probe). */
    public?: boolean;
  }
}

export interface HttpEdgeOptions {
  service: string;
  logger: Logger;
  metrics?: Metrics;
  credentials: PartnerCredential[];
  /** Limit for JSON bodies. Default 1 MiB. */
  bodyLimitBytes?: number;
  /** Limit for text/csv bodies (bulk exports). Default 50 MiB. */
  csvBodyLimitBytes?: number;
  /**
   * The ajv that compiles route schemas; default `createAjv()`. Pass one with the contract
   * schemas added when route schemas `$ref` them. Query strings and params are not coerced:
   * declare them as strings.
   */
  ajv?: Ajv2020;
}

export interface ProblemError {
  field: string;
  rule: string;
  message: string;
}

/** RFC 9457 problem details. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  errors?: ProblemError[];
}

export const PROBLEM_BASE = 'https://ketenhub.nl/problems/';

const PROBLEM_TYPES: Record<number, { slug: string; title: string }> = {
  400: { slug: 'validation', title: 'Invalid request' },
  401: { slug: 'unauthorized', title: 'Unauthorized' },
  403: { slug: 'forbidden', title: 'Forbidden' },
  404: { slug: 'not-found', title: 'Not found' },
  405: { slug: 'method-not-allowed', title: 'Method not allowed' },
  409: { slug: 'conflict', title: 'Conflict' },
  413: { slug: 'payload-too-large', title: 'Payload too large' },
  415: { slug: 'unsupported-media-type', title: 'Unsupported media type' },
  429: { slug: 'too-many-requests', title: 'Too many requests' },
  500: { slug: 'internal', title: 'Internal error' },
  503: { slug: 'unavailable', title: 'Service unavailable' },
};

/** Builds a problem document; `type` follows from the status. */
export function problem(
  status: number,
  title?: string,
  detail?: string,
  errors?: ProblemError[],
): Problem {
  const known = PROBLEM_TYPES[status] ?? (status >= 500 ? PROBLEM_TYPES[500] : undefined);
  const out: Problem = {
    type: known ? `${PROBLEM_BASE}${known.slug}` : 'about:blank',
    title: title ?? known?.title ?? STATUS_CODES[status] ?? 'Error',
    status,
  };
  if (detail !== undefined) out.detail = detail;
  if (errors !== undefined && errors.length > 0) out.errors = errors;
  return out;
}

/** The principal of an authenticated request; throws 401 on a public route. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new AuthenticationError('no partner credential on this request');
  return request.principal;
}

/** Asserts the caller's credential is of one of these kinds (403 otherwise). */
export function requireKind(request: FastifyRequest, ...kinds: string[]): Principal {
  const principal = principalOf(request);
  if (!kinds.includes(principal.kind)) {
    throw new ForbiddenError(`credential ${principal.id} may not use this API`, {
      field: 'credential',
      rule: 'credential-scope',
    });
  }
  return principal;
}

/**
 * Asserts the caller may act for gemeente `code` (a CBS code such as 'gm0797'), e.g. a KVS key
 * only for its own gemeente. `field` names where the code came from, for the problem document.
 */
export function requireGemeente(
  request: FastifyRequest,
  code: string,
  field = 'gemeente',
): Principal {
  const principal = principalOf(request);
  const wanted = code.toLowerCase();
  if (principal.gemeenten && !principal.gemeenten.some((g) => g.toLowerCase() === wanted)) {
    throw new ForbiddenError(`credential ${principal.id} may not act for gemeente ${code}`, {
      field,
      rule: 'credential-scope',
    });
  }
  return principal;
}

interface KeyEntry {
  digest: Buffer;
  principal: Principal;
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

function buildKeyTable(credentials: PartnerCredential[]): KeyEntry[] {
  const seenIds = new Set<string>();
  const seenKeys = new Set<string>();
  return credentials.map((c) => {
    // An empty or shared key would let one partner pose as another (or anyone as everyone).
    if (!c.apiKey) throw new ConfigError(`credential ${c.id}: apiKey is empty`);
    if (seenIds.has(c.id)) throw new ConfigError(`credential ${c.id}: id is used twice`);
    const hex = sha256(c.apiKey).toString('hex');
    if (seenKeys.has(hex)) throw new ConfigError(`credential ${c.id}: apiKey is used twice`);
    seenIds.add(c.id);
    seenKeys.add(hex);
    const principal: Principal = { id: c.id, kind: c.kind };
    if (c.gemeenten) principal.gemeenten = c.gemeenten.map((g) => g.toLowerCase());
    return { digest: sha256(c.apiKey), principal };
  });
}

function presentedKey(request: FastifyRequest): string | undefined {
  const auth = request.headers.authorization;
  if (typeof auth === 'string' && auth.length > 0) {
    const match = /^Bearer\s+(.+)$/i.exec(auth.trim());
    // Another scheme (Basic, ...) counts as a wrong key, not a missing one.
    return match?.[1] ?? '';
  }
  const apiKey = request.headers['x-api-key'];
  if (typeof apiKey === 'string' && apiKey.length > 0) return apiKey;
  return undefined;
}

function lookup(table: KeyEntry[], key: string): Principal | undefined {
  // Hashing gives equal lengths for timingSafeEqual; every entry is compared so the time taken
  // does not tell which credential almost matched.
  const digest = sha256(key);
  let found: Principal | undefined;
  for (const entry of table) {
    if (timingSafeEqual(entry.digest, digest)) found = entry.principal;
  }
  return found;
}

interface ErrorLike {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  statusCode?: unknown;
  status?: unknown;
  retryable?: unknown;
  field?: unknown;
  rule?: unknown;
  violations?: unknown;
  validation?: unknown;
  validationContext?: unknown;
  retryAfterMs?: unknown;
}

/** Hub errors are recognised by shape, not `instanceof` (see errors.ts). */
function isHubError(err: ErrorLike): boolean {
  return typeof err.status === 'number' && typeof err.retryable === 'boolean';
}

function statusOf(err: ErrorLike): number {
  const status = isHubError(err) ? err.status : err.statusCode;
  return typeof status === 'number' && status >= 400 && status <= 599 ? status : 500;
}

function violationsOf(err: ErrorLike): ProblemError[] | undefined {
  if (Array.isArray(err.validation)) {
    const context = typeof err.validationContext === 'string' ? err.validationContext : 'body';
    return toViolations(err.validation as ErrorObject[]).map((v) =>
      // A body field is named as partners know it; other parts say where they are.
      context === 'body' ? v : { ...v, field: v.field ? `${context}.${v.field}` : context },
    );
  }
  if (Array.isArray(err.violations)) {
    return (err.violations as Violation[]).map(({ field, rule, message }) => ({
      field,
      rule,
      message,
    }));
  }
  if (isHubError(err) && typeof err.field === 'string' && typeof err.rule === 'string') {
    return [{ field: err.field, rule: err.rule, message: String(err.message) }];
  }
  return undefined;
}

function toProblem(err: ErrorLike, status: number, instance: string): Problem {
  let body: Problem;
  if (status >= 500) {
    // Internals (stack, hostnames, partner answers) stay in the log.
    body = problem(
      status,
      undefined,
      status === 503 ? 'temporarily unavailable, retry later' : 'internal error',
    );
  } else {
    switch (err.code) {
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        body = problem(400, 'Malformed JSON', 'the body is not valid JSON');
        body.type = `${PROBLEM_BASE}malformed-json`;
        break;
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        body = problem(413, undefined, 'the body exceeds the size limit of this API');
        break;
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        body = problem(415, undefined, 'this content type is not accepted here');
        break;
      default: {
        const errors = violationsOf(err);
        const title = errors && status === 400 ? 'Validation failed' : undefined;
        body = problem(
          status,
          title,
          typeof err.message === 'string' ? err.message : undefined,
          errors,
        );
      }
    }
  }
  body.instance = instance;
  return body;
}

/** Route pattern for metrics and logs: the URL itself may hold personal data. */
function routeOf(request: FastifyRequest): string {
  return request.routeOptions.url ?? 'unmatched';
}

export function createHttpEdge(opts: HttpEdgeOptions): FastifyInstance {
  const table = buildKeyTable(opts.credentials);
  const bodyLimit = opts.bodyLimitBytes ?? 1024 * 1024;
  const csvBodyLimit = opts.csvBodyLimitBytes ?? 50 * 1024 * 1024;
  const ajv = opts.ajv ?? createAjv();
  const logger = opts.logger.child({ component: 'http-edge' });

  const app = Fastify({
    // Typed as Fastify's base logger so the app is a plain FastifyInstance for adapters.
    loggerInstance: logger as FastifyBaseLogger,
    // Fastify's own request lines carry the URL; the onResponse hook logs the route instead.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit,
    genReqId: () => randomUUID(),
    return503OnClosing: true,
  });

  // Contract schemas are JSON Schema 2020-12, which Fastify's own ajv does not speak. Each
  // schema object is compiled once; a schema with an $id that ajv already knows is reused.
  const compiled = new WeakMap<object, ReturnType<Ajv2020['compile']>>();
  app.setValidatorCompiler(({ schema }) => {
    const key = schema as object;
    let validate = compiled.get(key);
    if (!validate) {
      const id = (schema as { $id?: unknown }).$id;
      validate = (typeof id === 'string' ? ajv.getSchema(id) : undefined) ?? ajv.compile(key);
      compiled.set(key, validate);
    }
    return validate;
  });

  // Only the media types partners send; anything else is a 415, not a silently accepted string.
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser(
    ['application/cloudevents+json', 'application/cloudevents-batch+json'],
    { parseAs: 'string' },
    app.getDefaultJsonParser('error', 'error'),
  );
  app.addContentTypeParser(
    'text/csv',
    { parseAs: 'string', bodyLimit: csvBodyLimit },
    (_request, body, done) => done(null, body),
  );

  app.addHook('onRequest', async (request) => {
    if (request.routeOptions.config?.public === true) return;
    const key = presentedKey(request);
    const reason = key === undefined ? 'missing' : 'invalid';
    const principal = key === undefined ? undefined : lookup(table, key);
    if (!principal) {
      opts.metrics?.authFailures.inc({ partner: 'unknown', reason });
      throw new AuthenticationError(
        reason === 'missing' ? 'no API key presented' : 'the API key is not valid',
      );
    }
    request.principal = principal;
  });

  app.addHook('onResponse', async (request, reply) => {
    const route = routeOf(request);
    opts.metrics?.httpRequests.inc({ route, status: String(reply.statusCode) });
    request.log.info(
      {
        method: request.method,
        route,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
        partner: request.principal?.id,
      },
      'request done',
    );
  });

  app.setNotFoundHandler((request, reply) => {
    sendProblem(reply, problem(404, undefined, `no ${request.method} route here`), request);
  });

  app.setErrorHandler((error: ErrorLike, request, reply) => {
    const status = statusOf(error);
    if (status >= 500) {
      request.log.error({ err: error, route: routeOf(request) }, 'request failed');
    } else if (status === 403) {
      opts.metrics?.authFailures.inc({
        partner: request.principal?.id ?? 'unknown',
        reason: 'forbidden',
      });
    }
    if (status === 401) reply.header('www-authenticate', 'Bearer realm="ketenhub"');
    if (status === 503 && typeof error.retryAfterMs === 'number') {
      reply.header('retry-after', String(Math.max(1, Math.ceil(error.retryAfterMs / 1000))));
    }
    sendProblem(reply, toProblem(error, status, `urn:uuid:${request.id}`), request);
  });

  return app;
}

function sendProblem(reply: FastifyReply, body: Problem, request: FastifyRequest): void {
  if (body.instance === undefined) body.instance = `urn:uuid:${request.id}`;
  void reply.code(body.status).type('application/problem+json').send(body);
}
