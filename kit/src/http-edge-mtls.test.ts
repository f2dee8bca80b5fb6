/**
 * The edge over real TLS on 127.0.0.1 with client certificates made here by the openssl CLI
 * (valid for one day): a partner bound to its certificate gets in with it, a certificate from
 * another CA or for another party does not.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from './api-key-hash.ts';
import { createHttpEdge, requireKind, type PartnerCredential } from './http-edge.ts';
import { createLogger } from './log.ts';
import { createMetrics, type Metrics } from './metrics.ts';

interface Pem {
  cert: string;
  key: string;
}

let dir: string;
let ca: Pem;
let server: Pem;
/** Bound to the partner `coa` in the tests. */
let coaClient: Pem;
/** Same CA, another party. */
let strangerClient: Pem;
/** The same subject as coaClient, but from a CA the edge does not trust. */
let rogueClient: Pem;

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A P-256 key and a certificate for one day, self-signed or signed by `issuer`. */
function makeCert(name: string, subject: string, ext: string[], issuer?: string): Pem {
  openssl(
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '1',
    '-subj',
    subject,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.crt`,
    ...(issuer ? ['-CA', `${issuer}.crt`, '-CAkey', `${issuer}.key`] : []),
    ...ext.flatMap((e) => ['-addext', e]),
  );
  return {
    cert: readFileSync(join(dir, `${name}.crt`), 'utf8'),
    key: readFileSync(join(dir, `${name}.key`), 'utf8'),
  };
}

const CA_EXT = ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign'];
const LEAF = ['basicConstraints=critical,CA:FALSE'];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ketenhub-mtls-'));
  ca = makeCert('ca', '/CN=Ketenhub test partner CA', CA_EXT);
  makeCert('rogue-ca', '/CN=Ketenhub test partner CA', CA_EXT);
  server = makeCert(
    'server',
    '/CN=127.0.0.1',
    [...LEAF, 'subjectAltName=IP:127.0.0.1', 'extendedKeyUsage=serverAuth'],
    'ca',
  );
  const client = [...LEAF, 'extendedKeyUsage=clientAuth'];
  coaClient = makeCert('coa', '/O=COA/CN=tvs.coa.test', client, 'ca');
  strangerClient = makeCert('stranger', '/O=Elsewhere/CN=someone.test', client, 'ca');
  rogueClient = makeCert('rogue', '/O=COA/CN=tvs.coa.test', client, 'rogue-ca');
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const KEY = 'coa-test-key-0123456789abcdef-0123456789';

interface Answer {
  status: number;
  type: string;
  body: Record<string, unknown>;
}

/** POST over TLS, trusting the test CA, with an optional client certificate and key. */
function post(url: string, opts: { client?: Pem; apiKey?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/v1/koppelingen`,
      {
        method: 'POST',
        ca: ca.cert,
        ...(opts.client ? { cert: opts.client.cert, key: opts.client.key } : {}),
        headers: {
          'content-type': 'application/json',
          ...(opts.apiKey ? { authorization: `Bearer ${opts.apiKey}` } : {}),
        },
        // A fresh connection per request: the certificate is per connection.
        agent: false,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            type: String(res.headers['content-type']),
            body: JSON.parse(text) as Record<string, unknown>,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end('{}');
  });
}

describe('createHttpEdge with TLS and client certificates', () => {
  let app: FastifyInstance;
  let metrics: Metrics;
  let url: string;

  async function start(credentials: PartnerCredential[]) {
    metrics = createMetrics('edge-test');
    const quiet = new Writable({ write: (_c, _e, cb) => cb() });
    app = createHttpEdge({
      service: 'edge-test',
      logger: createLogger('edge-test', { destination: quiet }),
      metrics,
      credentials,
      tls: { cert: server.cert, key: server.key, ca: ca.cert },
    });
    app.post('/v1/koppelingen', async (request, reply) => {
      requireKind(request, 'coa');
      return reply.code(202).send({ by: request.principal?.id });
    });
    url = await app.listen({ host: '127.0.0.1', port: 0 });
  }

  afterEach(async () => {
    await app?.close();
  });

  it('accepts the partner by its certificate alone when that is its credential', async () => {
    await start([{ id: 'coa', kind: 'coa', mtls: { subject: 'CN=tvs.coa.test, O=COA' } }]);
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:/);
    const res = await post(url, { client: coaClient });
    expect(res).toMatchObject({ status: 202, body: { by: 'coa' } });
  });

  it('answers 403 to a valid certificate of our CA that is bound to no partner here', async () => {
    await start([{ id: 'coa', kind: 'coa', mtls: { subject: 'CN=tvs.coa.test,O=COA' } }]);
    const res = await post(url, { client: strangerClient });
    expect(res.status).toBe(403);
    expect(res.type).toContain('application/problem+json');
    expect(res.body).toMatchObject({ type: 'https://ketenhub.nl/problems/forbidden' });
    expect(
      await metrics.registry.getSingleMetricAsString('ketenhub_auth_failures_total'),
    ).toContain('partner="unknown",reason="forbidden"');
  });

  it('answers 401 to a certificate from another CA, even with the right subject', async () => {
    await start([{ id: 'coa', kind: 'coa', mtls: { subject: 'CN=tvs.coa.test,O=COA' } }]);
    const res = await post(url, { client: rogueClient });
    expect(res.status).toBe(401);
    expect(res.type).toContain('application/problem+json');
    expect(res.body).toMatchObject({ detail: 'the client certificate is not valid' });
    const none = await post(url);
    expect(none.status).toBe(401);
    const text = await metrics.registry.getSingleMetricAsString('ketenhub_auth_failures_total');
    expect(text).toContain('partner="unknown",reason="invalid-certificate"');
    expect(text).toContain('partner="unknown",reason="missing"');
  });

  it('pins the certificate by fingerprint when one is configured', async () => {
    const fingerprint = new X509Certificate(coaClient.cert).fingerprint256;
    await start([{ id: 'coa', kind: 'coa', mtls: { fingerprint256: fingerprint } }]);
    expect((await post(url, { client: coaClient })).status).toBe(202);
    // Valid and from our CA, but not the pinned one.
    expect((await post(url, { client: strangerClient })).status).toBe(403);
  });

  it('wants both the key and the certificate when both are configured', async () => {
    await start([
      {
        id: 'coa',
        kind: 'coa',
        apiKeyHash: hashApiKey(KEY),
        mtls: { subject: 'CN=tvs.coa.test' },
      },
    ]);
    expect((await post(url, { client: coaClient, apiKey: KEY })).status).toBe(202);
    const keyOnly = await post(url, { apiKey: KEY });
    expect(keyOnly.status).toBe(401);
    expect(keyOnly.body).toMatchObject({
      detail: 'this API key is only valid with its client certificate',
    });
    expect((await post(url, { client: coaClient })).status).toBe(401);
    expect(
      await metrics.registry.getSingleMetricAsString('ketenhub_auth_failures_total'),
    ).toContain('partner="coa",reason="certificate-required"');
  });

  it('lets a key-only partner in without a certificate on the same TLS edge', async () => {
    await start([{ id: 'coa', kind: 'coa', apiKeyHash: hashApiKey(KEY) }]);
    expect((await post(url, { apiKey: KEY })).status).toBe(202);
    expect((await post(url, { apiKey: 'wrong-key-0123456789abcdef' })).status).toBe(401);
  });

  it('refuses a certificate binding without a CA to check it against', () => {
    const quiet = new Writable({ write: (_c, _e, cb) => cb() });
    expect(() =>
      createHttpEdge({
        service: 'x',
        logger: createLogger('x', { destination: quiet }),
        credentials: [{ id: 'coa', kind: 'coa', mtls: { subject: 'CN=tvs.coa.test' } }],
        tls: { cert: server.cert, key: server.key },
      }),
    ).toThrow(/needs TLS with a CA/);
  });
});
