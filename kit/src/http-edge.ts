/**
 * The partner-facing HTTP edge every inbound adapter builds on: it authenticates the partner,
 * limits and parses bodies, and answers every failure as RFC 9457 problem+json naming the field
 * and the rule, so partners get the same behaviour from every hub API.
 */

import { X509Certificate, randomUUID, timingSafeEqual } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { ServerOptions as HttpsServerOptions } from 'node:https';
import type { TLSSocket } from 'node:tls';
import Fastify, { LogController } from 'fastify';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createAjv, toViolations } from '@ketenhub/contracts';
import type { Violation } from '@ketenhub/contracts';
import type { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject } from 'ajv';
import { apiKeyDigest, parseApiKeyHash } from './api-key-hash.ts';
import { AuthenticationError, ConfigError, ForbiddenError, ValidationError } from './errors.ts';
import { csvBody, isCsvBody } from './csv.ts';
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
  /** `sha256:<digest>` from `npm run hash-key`; empty = none. */
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
    /**
     * 'object' (default): a JSON body that is not an object, and a POST, PUT or PATCH without a
     * body, are answered 400 before the handler runs. 'any': whatever JSON parses is passed on.
     */
    jsonBody?: 'object' | 'any';
  }
}

export interface HttpEdgeOptions {
  service: string;
  logger: Logger;
  metrics?: Metrics;
  credentials: PartnerCredential[];
  /** Listen with TLS (and optionally ask for client certificates) instead of plain HTTP. */
  tls?: EdgeTls;
  /** Limit for JSON bodies. Default 1 MiB. */
  bodyLimitBytes?: number;
  /**
   * Take text/csv bodies (bulk exports): only on an edge with a CSV route, elsewhere text/csv is
   * a 415 like any type the edge does not take. The route gets a `CsvBody` (kit/src/csv.ts) to
   * read as it arrives, never the whole file at once; more than `bodyLimitBytes` (default 50 MiB)
   * is a 413.
   */
  csv?: { bodyLimitBytes?: number };
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
  /** Set when `errors` holds only the first `MAX_PROBLEM_ERRORS`: how many there were. */
  errorsTotal?: number;
  errorsTruncated?: true;
}

/** At most this many violations are sent; the answer to a huge bad body stays small. */
export const MAX_PROBLEM_ERRORS = 100;
/** Longest `detail` and `message` sent, in characters; `field` and `rule` get 200. */
const MAX_PROBLEM_TEXT = 500;
const MAX_PROBLEM_NAME = 200;
/** Deepest nesting of objects and arrays a JSON body may have. */
export const MAX_JSON_DEPTH = 64;

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
  return bounded(out);
}

function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  // Not through the middle of a surrogate pair.
  const end = /[\uD800-\uDBFF]/.test(text[max - 2] ?? '') ? max - 2 : max - 1;
  return `${text.slice(0, end)}…`;
}

/**
 * The first `MAX_PROBLEM_ERRORS` violations, with `errorsTotal` saying how many there were, and
 * every text clipped: a bad body of a megabyte must not get an answer of several.
 */
function bounded(body: Problem): Problem {
  if (body.detail !== undefined) body.detail = clip(body.detail, MAX_PROBLEM_TEXT);
  if (body.errors) {
    const total = body.errorsTotal ?? body.errors.length;
    body.errors = body.errors.slice(0, MAX_PROBLEM_ERRORS).map((e) => ({
      field: clip(e.field, MAX_PROBLEM_NAME),
      rule: clip(e.rule, MAX_PROBLEM_NAME),
      message: clip(e.message, MAX_PROBLEM_TEXT),
    }));
    if (total > body.errors.length) {
      body.errorsTotal = total;
      body.errorsTruncated = true;
    }
  }
  return body;
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
  /** SHA-256 of the key: from `apiKeyHash`, or of a plaintext `apiKey`. */
  digest?: Buffer;
  mtls?: { subject: [string, string][]; fingerprint?: string };
}

interface KeyTable {
  entries: KeyEntry[];
  /** Entries with a key, by the base64url of its digest. */
  byDigest: Map<string, KeyEntry>;
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

function buildKeyTable(credentials: PartnerCredential[], tls: EdgeTls | undefined): KeyTable {
  const seenIds = new Set<string>();
  const byDigest = new Map<string, KeyEntry>();
  const seenCerts = new Set<string>();
  const entries = credentials.map((c) => {
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
    if (apiKeyHash !== '') {
      entry.digest = parseApiKeyHash(apiKeyHash, `credential ${c.id}: apiKeyHash`).digest;
    }
    if (apiKey !== '') entry.digest = apiKeyDigest(apiKey);
    if (entry.digest) {
      // A shared key would let one partner pose as another.
      const id = entry.digest.toString('base64url');
      const other = byDigest.get(id);
      if (other) {
        throw new ConfigError(
          `credential ${c.id}: its API key is used twice (also by ${other.principal.id})`,
        );
      }
      byDigest.set(id, entry);
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
    if (!entry.digest && !entry.mtls) {
      throw new ConfigError(`credential ${c.id}: no apiKeyHash, apiKey or mtls binding`);
    }
    return entry;
  });
  return { entries, byDigest };
}

/**
 * The credential of a presented key: one SHA-256 and a Map lookup, then a constant-time compare
 * of the digest found. A made-up key costs what a right one costs and nothing waits or is
 * rationed, so no flood of wrong keys can delay or refuse a partner presenting its own
 * (docs/adr/0011-api-key-digests.md). The lookup's timing depends on the digest of the presented
 * key, which tells nothing about the configured ones.
 */
function findKey(table: KeyTable, key: string): KeyEntry | undefined {
  const digest = apiKeyDigest(key);
  const entry = table.byDigest.get(digest.toString('base64url'));
  return entry?.digest && timingSafeEqual(entry.digest, digest) ? entry : undefined;
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
function authenticate(request: FastifyRequest, table: KeyTable): Principal {
  const key = presentedKey(request);
  const peer = peerCertificate(request);
  let byCert: KeyEntry | undefined;
  if (peer) {
    // A certificate that does not verify is a wrong credential, even next to a good key.
    if (!peer.authorized) {
      throw new AuthFailed('invalid-certificate', 'unknown', 'the client certificate is not valid');
    }
    byCert = table.entries.find((e) => e.mtls && certMatches(e.mtls, peer.cert));
  }
  if (key !== undefined) {
    const byKey = findKey(table, key);
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
    if (byCert.digest) {
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
        body = problem(400, 'Malformed JSON', 'the body is not valid JSON', [
          { field: '(body)', rule: 'json', message: 'is not valid JSON' },
        ]);
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

/** A 400 about the body as a whole, before any handler sees it. */
function bodyError(rule: string, message: string): ValidationError {
  return new ValidationError(`the body ${message}`, [{ field: '(body)', rule, message }]);
}

/**
 * True when objects and arrays in the JSON text nest deeper than `limit`. One pass over the
 * characters, no recursion: brackets inside strings do not count. Malformed text is left to
 * the parser.
 */
function nestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      // A backslash escapes the next character.
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return false;
}

function isJsonObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function wantsObject(request: FastifyRequest): boolean {
  return !request.is404 && request.routeOptions.config?.jsonBody !== 'any';
}

type ParseDone = (err: Error | null, body?: unknown) => void;

function jsonKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

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

/**
 * `METHOD /path` of every route registered on `app` from now on (HEAD left out), as it is
 * registered: what an edge serves, for the runner's report and the OpenAPI checks.
 */
export function recordRoutes(app: FastifyInstance): string[] {
  const routes: string[] = [];
  app.addHook('onRoute', (r) => {
    for (const m of [r.method].flat()) if (m !== 'HEAD') routes.push(`${m} ${r.url}`);
  });
  return routes;
}

export function createHttpEdge(opts: HttpEdgeOptions): FastifyInstance {
  const table = buildKeyTable(opts.credentials, opts.tls);
  const bodyLimit = opts.bodyLimitBytes ?? 1024 * 1024;
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
  // Fastify's own JSON parsing (secure-json-parse, refusing `__proto__` and `constructor`
  // poisoning), after a depth check: JSON.parse copes with any nesting, but a handler or a
  // validator walking the result recursively would overflow the stack (a 500). A route that
  // wants an object gets one: no handler meets null, a string or an array.
  const secureParse = app.getDefaultJsonParser('error', 'error') as (
    request: FastifyRequest,
    body: string,
    done: ParseDone,
  ) => void;
  const parseJson = (request: FastifyRequest, body: string, done: ParseDone) => {
    const object = wantsObject(request);
    if (object && body.length === 0) {
      return done(bodyError('object', 'is empty; a JSON object is expected'));
    }
    if (nestsDeeperThan(body, MAX_JSON_DEPTH)) {
      return done(
        bodyError(
          'max depth',
          `nests objects and arrays deeper than ${MAX_JSON_DEPTH} levels, the most this API takes`,
        ),
      );
    }
    secureParse(request, body, (err, value) => {
      if (err) return done(err);
      if (object && !isJsonObject(value)) {
        return done(bodyError('object', `is ${jsonKind(value)}; a JSON object is expected`));
      }
      done(null, value);
    });
  };
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(
    ['application/json', 'application/cloudevents+json', 'application/cloudevents-batch+json'],
    { parseAs: 'string' },
    parseJson,
  );
  if (opts.csv) {
    const csvLimit = opts.csv.bodyLimitBytes ?? 50 * 1024 * 1024;
    app.addContentTypeParser('text/csv', (request, payload, done) => {
      const length = request.headers['content-length'];
      try {
        done(null, csvBody(payload, csvLimit, length === undefined ? undefined : Number(length)));
      } catch (err) {
        done(err as Error, undefined);
      }
    });
    // An answer before the whole CSV was read (a bad header, a row that breaks CSV, the limit, a
    // 403): what the client still sends is read and dropped, or the connection would hang on it.
    app.addHook('onSend', async (request) => {
      if (isCsvBody(request.body) && !request.body.complete) request.body.discardRest();
    });
  }

  app.addHook('onRequest', async (request) => {
    if (request.routeOptions.config?.public === true) return;
    try {
      request.principal = authenticate(request, table);
    } catch (err) {
      // Counted by reason and, when known from configuration, partner: never the key itself.
      if (err instanceof AuthFailed) {
        opts.metrics?.authFailures.inc({ partner: err.partner, reason: err.reason });
        request.log.info({ reason: err.reason, partner: err.partner }, 'authentication failed');
      }
      throw err;
    }
  });

  // A POST without any body never reached a parser; its handler would meet undefined.
  app.addHook('preValidation', async (request) => {
    if (request.body === undefined && BODY_METHODS.has(request.method) && wantsObject(request)) {
      throw bodyError('required', 'is missing; this API needs one');
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
  bounded(body);
  void reply.code(body.status).type('application/problem+json').send(body);
}
