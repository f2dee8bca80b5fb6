/**
 * The partner-facing HTTP edge every inbound adapter builds on: it authenticates the partner,
 * limits and parses bodies, and answers every failure as RFC 9457 problem+json naming the field
 * and the rule, so partners get the same behaviour from every hub API.
 */

import { X509Certificate, createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { ServerOptions as HttpsServerOptions } from 'node:https';
import type { TLSSocket } from 'node:tls';
import Fastify, { LogController } from 'fastify';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createAjv, toViolations } from '@ketenhub/contracts';
import type { Violation } from '@ketenhub/contracts';
import type { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject } from 'ajv';
import { parseApiKeyHash, verifyApiKey, type ApiKeyHash } from './api-key-hash.ts';
import { AuthenticationError, ConfigError, ForbiddenError } from './errors.ts';
import type { Logger } from './log.ts';
import type { Metrics } from './metrics.ts';

/**
 * A client certificate that identifies a partner. The certificate must chain to the edge's CA
 * (`EdgeTls.ca`); then every attribute named in `subject` must be in the certificate's subject,
 * and `fingerprint256`, when given, pins the one certificate.
 */
export interface ClientCertificateBinding {
  /** Distinguished name attributes, e.g. `CN=tvs.coa.nl,O=COA`; order does not matter. */
  subject?: string;
  /** SHA-256 fingerprint of the certificate, hex, with or without colons. */
  fingerprint256?: string;
}

/**
 * How a partner authenticates: an API key (stored hashed), a client certificate, or both. With
 * both, a request needs both: the key alone, from a machine without the certificate, is refused.
 */
export interface PartnerCredential {
  /** Who this is, e.g. 'coa', 'kvs-gm0797'. Used in logs and metric labels. */
  id: string;
  /** 'coa' | 'gemeente-kvs' | 'duo' | 'kredietbank' | 'taalaanbieder' | ... */
  kind: string;
  /** `scrypt:N:r:p:salt:hash` from `npm run hash-key`; empty = none. */
  apiKeyHash?: string;
  /**
   * The key itself: development and tests only (`credentialFromConfig` refuses it when
   * `hub.production` is set). Empty = none.
   */
  apiKey?: string;
  mtls?: ClientCertificateBinding;
  /** CBS codes (e.g. 'gm0797') this credential may act for; undefined = every one served. */
  gemeenten?: string[];
}

/** TLS for the edge: PEM contents, not paths. */
export interface EdgeTls {
  cert: string | Buffer;
  key: string | Buffer;
  /** CA(s) whose client certificates are accepted; needed for any `mtls` binding. */
  ca?: string | Buffer;
  /** Ask clients for a certificate; default true when `ca` is given. */
  requestCert?: boolean;
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
  /** Listen with TLS (and optionally ask for client certificates) instead of plain HTTP. */
  tls?: EdgeTls;
  /**
   * How long a verified (or refused) key is remembered, so the slow hash runs once per key per
   * period rather than per request. Default 60 s; 0 turns the cache off.
   */
  keyCacheMs?: number;
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
  principal: Principal;
  /** A plaintext key's sha-256, compared in constant time. */
  digest?: Buffer;
  /** A stored scrypt hash. */
  hash?: ApiKeyHash;
  mtls?: { subject: [string, string][]; fingerprint?: string };
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** `CN=a,O=b` → [['CN','a'],['O','b']]; attribute names upper-cased. */
function parseDn(dn: string, where: string): [string, string][] {
  const pairs = dn
    .split(/[,\n]/)
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map((part): [string, string] => {
      const at = part.indexOf('=');
      if (at <= 0) throw new ConfigError(`${where}: "${part}" is not attribute=value`);
      return [part.slice(0, at).trim().toUpperCase(), part.slice(at + 1).trim()];
    });
  if (pairs.length === 0) throw new ConfigError(`${where}: empty subject`);
  return pairs;
}

function normaliseFingerprint(fp: string): string {
  return fp.replace(/:/g, '').toUpperCase();
}

function buildKeyTable(credentials: PartnerCredential[], tls: EdgeTls | undefined): KeyEntry[] {
  const seenIds = new Set<string>();
  const seenKeys = new Set<string>();
  const seenCerts = new Set<string>();
  return credentials.map((c) => {
    if (seenIds.has(c.id)) throw new ConfigError(`credential ${c.id}: id is used twice`);
    seenIds.add(c.id);
    const principal: Principal = { id: c.id, kind: c.kind };
    if (c.gemeenten) principal.gemeenten = c.gemeenten.map((g) => g.toLowerCase());
    const entry: KeyEntry = { principal };
    const apiKey = c.apiKey ?? '';
    const apiKeyHash = c.apiKeyHash ?? '';
    if (apiKey !== '' && apiKeyHash !== '') {
      throw new ConfigError(`credential ${c.id}: set apiKeyHash or apiKey, not both`);
    }
    if (apiKeyHash !== '') entry.hash = parseApiKeyHash(apiKeyHash, `credential ${c.id}`);
    if (apiKey !== '') {
      // A shared key would let one partner pose as another.
      const hex = sha256(apiKey).toString('hex');
      if (seenKeys.has(hex)) throw new ConfigError(`credential ${c.id}: apiKey is used twice`);
      seenKeys.add(hex);
      entry.digest = sha256(apiKey);
    }
    if (c.mtls && (c.mtls.subject || c.mtls.fingerprint256)) {
      // Without a CA the edge cannot tell a partner's certificate from a self-made one.
      if (!tls?.ca || tls.requestCert === false) {
        throw new ConfigError(
          `credential ${c.id}: a client certificate binding needs TLS with a CA that asks for client certificates`,
        );
      }
      const binding = {
        subject: c.mtls.subject ? parseDn(c.mtls.subject, `credential ${c.id}: mtls.subject`) : [],
        ...(c.mtls.fingerprint256
          ? { fingerprint: normaliseFingerprint(c.mtls.fingerprint256) }
          : {}),
      };
      const token = JSON.stringify(binding);
      if (seenCerts.has(token))
        throw new ConfigError(
          `credential ${c.id}: the same client certificate binding is used twice`,
        );
      seenCerts.add(token);
      entry.mtls = binding;
    }
    // An entry without any secret would let anyone in as this partner.
    if (!entry.digest && !entry.hash && !entry.mtls) {
      throw new ConfigError(`credential ${c.id}: no apiKeyHash, apiKey or mtls binding`);
    }
    return entry;
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

interface PeerCertificate {
  /** The chain verified against the edge's CA, and the certificate is within its dates. */
  authorized: boolean;
  cert: X509Certificate;
}

function peerCertificate(request: FastifyRequest): PeerCertificate | undefined {
  const socket = request.raw.socket as Partial<TLSSocket> | undefined;
  if (typeof socket?.getPeerX509Certificate !== 'function') return undefined;
  const cert = socket.getPeerX509Certificate();
  if (!cert) return undefined;
  return { authorized: socket.authorized === true, cert };
}

function subjectOf(cert: X509Certificate): [string, string][] {
  return cert.subject
    .split('\n')
    .map((line): [string, string] => {
      const at = line.indexOf('=');
      return [line.slice(0, at).trim().toUpperCase(), line.slice(at + 1).trim()];
    })
    .filter(([name]) => name !== '');
}

function certMatches(binding: NonNullable<KeyEntry['mtls']>, cert: X509Certificate): boolean {
  // A fingerprint is public (the certificate is sent in the clear): a plain compare will do.
  if (
    binding.fingerprint !== undefined &&
    normaliseFingerprint(cert.fingerprint256) !== binding.fingerprint
  ) {
    return false;
  }
  const subject = subjectOf(cert);
  return binding.subject.every(([name, value]) =>
    subject.some(([n, v]) => n === name && v === value),
  );
}

/**
 * Verifies presented keys against the table. Verdicts are remembered under the sha-256 of the
 * key (never the key), so the slow hash does not run on every request:
 * - an accepted key for `ttlMs` after its last use, so a partner that keeps calling is hashed
 *   once; a flood of made-up keys cannot push it out, refusals are kept apart;
 * - a refused key for `ttlMs`, so a client retrying with an old key costs one hash per period;
 * - requests with the same uncached key at the same moment share one hash.
 * Uncached hashes run at most `MAX_HASHING` at a time; more waiting than `MAX_WAITING` is
 * answered 429, so made-up keys cannot take all memory and CPU while known keys keep working.
 */
class KeyVerifier {
  private static readonly MAX_REMEMBERED = 1024;
  private static readonly MAX_HASHING = 2;
  private static readonly MAX_WAITING = 64;
  private readonly accepted = new Map<string, { entry: KeyEntry; until: number }>();
  private readonly refused = new Map<string, number>();
  private readonly inFlight = new Map<string, Promise<KeyEntry | undefined>>();
  private readonly waiting: (() => void)[] = [];
  private hashing = 0;
  private readonly table: KeyEntry[];
  private readonly ttlMs: number;
  private readonly hashed: boolean;

  constructor(table: KeyEntry[], ttlMs: number) {
    this.table = table;
    this.ttlMs = ttlMs;
    this.hashed = table.some((e) => e.hash);
  }

  async verify(key: string): Promise<KeyEntry | undefined> {
    const digest = sha256(key);
    const id = digest.toString('hex');
    const now = Date.now();
    const hit = this.accepted.get(id);
    if (hit && hit.until > now) {
      hit.until = now + this.ttlMs;
      return hit.entry;
    }
    if ((this.refused.get(id) ?? 0) > now) return undefined;

    // Plaintext keys: one constant-time compare per entry, all of them, so the time taken does
    // not tell which credential almost matched.
    let found: KeyEntry | undefined;
    for (const entry of this.table) {
      if (entry.digest && timingSafeEqual(entry.digest, digest)) found = entry;
    }
    if (!found && this.hashed) {
      let pending = this.inFlight.get(id);
      if (!pending) {
        pending = this.verifyHashed(key).finally(() => this.inFlight.delete(id));
        this.inFlight.set(id, pending);
      }
      found = await pending;
    }
    this.remember(id, found);
    return found;
  }

  private async verifyHashed(key: string): Promise<KeyEntry | undefined> {
    if (this.hashing >= KeyVerifier.MAX_HASHING) {
      if (this.waiting.length >= KeyVerifier.MAX_WAITING) throw tooManyVerifications();
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.hashing++;
    }
    try {
      let found: KeyEntry | undefined;
      for (const entry of this.table) {
        if (entry.hash && (await verifyApiKey(key, entry.hash))) found = entry;
      }
      return found;
    } finally {
      // Hand the slot straight to the next waiter, or free it.
      const next = this.waiting.shift();
      if (next) next();
      else this.hashing--;
    }
  }

  private remember(id: string, entry: KeyEntry | undefined): void {
    if (this.ttlMs <= 0) return;
    const until = Date.now() + this.ttlMs;
    const map: Map<string, unknown> = entry ? this.accepted : this.refused;
    map.delete(id);
    if (map.size >= KeyVerifier.MAX_REMEMBERED) {
      // The oldest goes (a Map keeps insertion order); expired ones are ignored on read anyway.
      const oldest = map.keys().next().value;
      if (oldest !== undefined) map.delete(oldest);
    }
    if (entry) this.accepted.set(id, { entry, until });
    else this.refused.set(id, until);
  }
}

function tooManyVerifications(): Error {
  return Object.assign(new Error('too many credentials being verified; retry in a second'), {
    statusCode: 429,
    retryAfterMs: 1000,
  });
}

/** Why authentication failed: the `reason` label of `ketenhub_auth_failures_total`. */
type AuthFailure = 'missing' | 'invalid' | 'invalid-certificate' | 'certificate-required';

class AuthFailed extends AuthenticationError {
  readonly reason: AuthFailure;
  /** A partner id from configuration, or 'unknown'. */
  readonly partner: string;

  constructor(reason: AuthFailure, partner: string, message: string) {
    super(message);
    this.reason = reason;
    this.partner = partner;
  }
}

/**
 * Who is calling: a key, a client certificate, or both. 401 when the caller is not proven to
 * be anyone; 403 when a valid certificate (our CA) belongs to no partner of this API.
 */
async function authenticate(
  request: FastifyRequest,
  table: KeyEntry[],
  verifier: KeyVerifier,
): Promise<Principal> {
  const key = presentedKey(request);
  const peer = peerCertificate(request);
  let byCert: KeyEntry | undefined;
  if (peer) {
    // A certificate that does not verify is a wrong credential, even next to a good key.
    if (!peer.authorized) {
      throw new AuthFailed('invalid-certificate', 'unknown', 'the client certificate is not valid');
    }
    byCert = table.find((e) => e.mtls && certMatches(e.mtls, peer.cert));
  }
  if (key !== undefined) {
    const byKey = await verifier.verify(key);
    if (!byKey) throw new AuthFailed('invalid', 'unknown', 'the API key is not valid');
    if (byKey.mtls && byCert !== byKey) {
      throw new AuthFailed(
        'certificate-required',
        byKey.principal.id,
        'this API key is only valid with its client certificate',
      );
    }
    if (byCert && byCert !== byKey) {
      throw new AuthFailed('invalid', 'unknown', 'the API key and the client certificate disagree');
    }
    return byKey.principal;
  }
  if (byCert) {
    if (byCert.digest || byCert.hash) {
      throw new AuthFailed(
        'missing',
        byCert.principal.id,
        'this client certificate is only valid with its API key',
      );
    }
    return byCert.principal;
  }
  if (peer) {
    throw new ForbiddenError('the client certificate is not bound to a partner of this API', {
      field: 'credential',
      rule: 'credential-scope',
    });
  }
  throw new AuthFailed('missing', 'unknown', 'no API key presented');
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

function httpsOptions(tls: EdgeTls | undefined): HttpsServerOptions | null {
  if (!tls) return null;
  return {
    cert: tls.cert,
    key: tls.key,
    minVersion: 'TLSv1.2',
    ...(tls.ca ? { ca: tls.ca } : {}),
    requestCert: tls.requestCert ?? tls.ca !== undefined,
    // The handshake lets every client through and the edge decides: a partner with a key but
    // no certificate still gets in, and a bad certificate gets a problem+json 401 it can read
    // instead of a bare handshake failure.
    rejectUnauthorized: false,
  };
}

export function createHttpEdge(opts: HttpEdgeOptions): FastifyInstance {
  const table = buildKeyTable(opts.credentials, opts.tls);
  const verifier = new KeyVerifier(table, opts.keyCacheMs ?? 60_000);
  const bodyLimit = opts.bodyLimitBytes ?? 1024 * 1024;
  const csvBodyLimit = opts.csvBodyLimitBytes ?? 50 * 1024 * 1024;
  const ajv = opts.ajv ?? createAjv();
  const logger = opts.logger.child({ component: 'http-edge' });

  const app = Fastify({
    https: httpsOptions(opts.tls),
    // Typed as Fastify's base logger so the app is a plain FastifyInstance for adapters.
    loggerInstance: logger as FastifyBaseLogger,
    // Fastify's own request lines carry the URL; the onResponse hook logs the route instead.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit,
    genReqId: () => randomUUID(),
    return503OnClosing: true,
    // Routes and hooks do not depend on the transport, so adapters see one instance type.
  }) as unknown as FastifyInstance;

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
    try {
      request.principal = await authenticate(request, table, verifier);
    } catch (err) {
      // Counted by reason and, when known from configuration, partner: never the key itself.
      if (err instanceof AuthFailed) {
        opts.metrics?.authFailures.inc({ partner: err.partner, reason: err.reason });
        request.log.info({ reason: err.reason, partner: err.partner }, 'authentication failed');
      }
      throw err;
    }
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
    if ((status === 503 || status === 429) && typeof error.retryAfterMs === 'number') {
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
