import { Readable, Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PartnerUnavailableError, ValidationError } from './errors.ts';
import { generateApiKey, hashApiKey } from './api-key-hash.ts';
import { createHttpEdge, requireGemeente, requireKind } from './http-edge.ts';
import { csvText, isCsvBody, streamCsv } from './csv.ts';
import { createLogger } from './log.ts';
import { createMetrics, type Metrics } from './metrics.ts';

// At least 32 characters: the shortest key `hashApiKey` takes.
const COA_KEY = 'coa-test-key-0123456789abcdef-0123456789';
const KVS_KEY = 'kvs-gm0797-key-0123456789abcdef-0123456789';

function sink(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  return {
    stream: new Writable({
      write(chunk: Buffer, _enc, cb) {
        chunks.push(chunk.toString());
        cb();
      },
    }),
    text: () => chunks.join(''),
  };
}

async function counter(metrics: Metrics, name: string): Promise<string> {
  return metrics.registry.getSingleMetricAsString(name);
}

describe('createHttpEdge', () => {
  let app: FastifyInstance;
  let metrics: Metrics;
  let logs: ReturnType<typeof sink>;

  beforeEach(async () => {
    metrics = createMetrics('edge-test');
    logs = sink();
    app = createHttpEdge({
      service: 'edge-test',
      logger: createLogger('edge-test', { destination: logs.stream }),
      metrics,
      credentials: [
        { id: 'coa', kind: 'coa', apiKey: COA_KEY },
        { id: 'kvs-gm0797', kind: 'gemeente-kvs', apiKey: KVS_KEY, gemeenten: ['gm0797'] },
      ],
      bodyLimitBytes: 1024,
      csv: { bodyLimitBytes: 4096 },
    });
    app.get('/open', { config: { public: true } }, async () => ({ ok: true }));
    app.post('/v1/koppelingen', async (request, reply) => {
      requireKind(request, 'coa');
      return reply.code(202).send({ got: request.body });
    });
    app.post('/v1/gemeenten/:code/events', async (request, reply) => {
      const { code } = request.params as { code: string };
      requireGemeente(request, code, 'path.code');
      return reply.code(202).send({ by: request.principal?.id, body: request.body });
    });
    app.post('/v1/validate', async () => {
      throw new ValidationError('bad input', [
        { field: 'persoon.bsn', rule: 'elfproef', message: 'is not a valid BSN' },
        { field: 'datum', rule: 'format:date', message: 'must be a valid date' },
      ]);
    });
    app.post(
      '/v1/schema',
      {
        schema: {
          body: {
            type: 'object',
            required: ['id'],
            properties: { id: { type: 'string' } },
            additionalProperties: false,
          },
        },
      },
      async () => ({ ok: true }),
    );
    app.post('/v1/csv', async (request) => {
      if (!isCsvBody(request.body)) throw new Error('not a CSV body');
      return { length: (await csvText(request.body)).length };
    });
    app.post('/v1/csv-unread', async () => ({ ok: true }));
    app.get('/v1/boom', async () => {
      throw new Error('database password is hunter2 at 10.0.0.1');
    });
    app.get('/v1/busy', async () => {
      throw new PartnerUnavailableError('duo down', { retryAfterMs: 2500 });
    });
    await app.ready();
  });

  afterEach(async () => {
    await app.close();
  });

  it('answers 401 problem+json on a missing key and counts it', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/koppelingen', payload: {} });
    expect(res.statusCode).toBe(401);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    const body = res.json();
    expect(body).toMatchObject({
      type: 'https://ketenhub.nl/problems/unauthorized',
      title: 'Unauthorized',
      status: 401,
    });
    expect(body.instance).toMatch(/^urn:uuid:/);
    expect(await counter(metrics, 'ketenhub_auth_failures_total')).toContain(
      'ketenhub_auth_failures_total{partner="unknown",reason="missing",service="edge-test"} 1',
    );
  });

  it('answers 401 on a wrong key in either header and never logs or counts the key', async () => {
    const wrong = 'not-the-key-0123456789abcdef';
    const a = await app.inject({
      method: 'POST',
      url: '/v1/koppelingen',
      headers: { authorization: `Bearer ${wrong}` },
      payload: {},
    });
    const b = await app.inject({
      method: 'POST',
      url: '/v1/koppelingen',
      headers: { 'x-api-key': wrong },
      payload: {},
    });
    const c = await app.inject({
      method: 'POST',
      url: '/v1/koppelingen',
      headers: { authorization: `Basic ${COA_KEY}` },
      payload: {},
    });
    expect([a.statusCode, b.statusCode, c.statusCode]).toEqual([401, 401, 401]);
    const text = await counter(metrics, 'ketenhub_auth_failures_total');
    expect(text).toContain('reason="invalid",service="edge-test"} 3');
    expect(text).not.toContain(wrong);
    expect(logs.text()).not.toContain(wrong);
  });

  it('accepts a valid key from Authorization or X-Api-Key', async () => {
    const a = await app.inject({
      method: 'POST',
      url: '/v1/koppelingen',
      headers: { authorization: `Bearer ${COA_KEY}` },
      payload: { a: 1 },
    });
    const b = await app.inject({
      method: 'POST',
      url: '/v1/koppelingen',
      headers: { 'x-api-key': COA_KEY },
      payload: { a: 2 },
    });
    expect(a.statusCode).toBe(202);
    expect(a.json()).toEqual({ got: { a: 1 } });
    expect(b.statusCode).toBe(202);
  });

  it('lets public routes through without a key', async () => {
    const res = await app.inject({ method: 'GET', url: '/open' });
    expect(res.statusCode).toBe(200);
  });

  it('answers 403 with field and rule when a credential acts outside its scope', async () => {
    const own = await app.inject({
      method: 'POST',
      url: '/v1/gemeenten/gm0797/events',
      headers: { 'x-api-key': KVS_KEY, 'content-type': 'application/cloudevents+json' },
      payload: JSON.stringify({ specversion: '1.0', id: 'e1' }),
    });
    expect(own.statusCode).toBe(202);
    expect(own.json()).toEqual({ by: 'kvs-gm0797', body: { specversion: '1.0', id: 'e1' } });

    const other = await app.inject({
      method: 'POST',
      url: '/v1/gemeenten/gm0363/events',
      headers: { 'x-api-key': KVS_KEY },
      payload: {},
    });
    expect(other.statusCode).toBe(403);
    expect(other.headers['content-type']).toContain('application/problem+json');
    expect(other.json()).toMatchObject({
      type: 'https://ketenhub.nl/problems/forbidden',
      status: 403,
      errors: [{ field: 'path.code', rule: 'credential-scope' }],
    });

    const wrongKind = await app.inject({
      method: 'POST',
      url: '/v1/koppelingen',
      headers: { 'x-api-key': KVS_KEY },
      payload: {},
    });
    expect(wrongKind.statusCode).toBe(403);
    expect(wrongKind.json().errors[0]).toMatchObject({ rule: 'credential-scope' });
    expect(await counter(metrics, 'ketenhub_auth_failures_total')).toContain(
      'partner="kvs-gm0797",reason="forbidden",service="edge-test"} 2',
    );
  });

  it('answers a ValidationError as 400 naming every field and rule', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/validate',
      headers: { 'x-api-key': COA_KEY },
      payload: {},
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      type: 'https://ketenhub.nl/problems/validation',
      title: 'Validation failed',
      status: 400,
      detail: 'bad input',
      errors: [
        { field: 'persoon.bsn', rule: 'elfproef', message: 'is not a valid BSN' },
        { field: 'datum', rule: 'format:date', message: 'must be a valid date' },
      ],
    });
  });

  it('answers a route schema violation as 400 with the violations', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/schema',
      headers: { 'x-api-key': COA_KEY },
      payload: { id: 5, extra: true },
    });
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body.type).toBe('https://ketenhub.nl/problems/validation');
    expect(body.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ field: 'id', rule: 'type' }),
        expect.objectContaining({ field: 'extra', rule: 'additionalProperties' }),
      ]),
    );
  });

  it('answers 413 on a body over the limit', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/koppelingen',
      headers: { 'x-api-key': COA_KEY, 'content-type': 'application/json' },
      payload: JSON.stringify({ pad: 'x'.repeat(2000) }),
    });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({
      type: 'https://ketenhub.nl/problems/payload-too-large',
      status: 413,
    });
  });

  it('answers 415 on an unsupported media type', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/koppelingen',
      headers: { 'x-api-key': COA_KEY, 'content-type': 'application/xml' },
      payload: '<a/>',
    });
    expect(res.statusCode).toBe(415);
    expect(res.json().type).toBe('https://ketenhub.nl/problems/unsupported-media-type');
    const plain = await app.inject({
      method: 'POST',
      url: '/v1/koppelingen',
      headers: { 'x-api-key': COA_KEY, 'content-type': 'text/plain' },
      payload: 'hello',
    });
    expect(plain.statusCode).toBe(415);
  });

  it('answers 400 on malformed JSON', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/koppelingen',
      headers: { 'x-api-key': COA_KEY, 'content-type': 'application/json' },
      payload: '{"a":',
    });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json()).toMatchObject({ status: 400, title: 'Malformed JSON' });
  });

  it('accepts text/csv as a body read as it arrives, with its own, larger limit', async () => {
    const csv = '\uFEFFbsn;naam\n' + 'a;b\n'.repeat(500); // > 1024 bytes, < 4096
    const res = await app.inject({
      method: 'POST',
      url: '/v1/csv',
      headers: { 'x-api-key': COA_KEY, 'content-type': 'text/csv; charset=utf-8' },
      payload: csv,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ length: csv.length });

    const tooBig = await app.inject({
      method: 'POST',
      url: '/v1/csv',
      headers: { 'x-api-key': COA_KEY, 'content-type': 'text/csv' },
      payload: 'x'.repeat(5000),
    });
    expect(tooBig.statusCode).toBe(413);
    expect(tooBig.headers['content-type']).toContain('application/problem+json');

    // Without a Content-Length the limit holds as the bytes arrive.
    const chunked = await app.inject({
      method: 'POST',
      url: '/v1/csv',
      headers: { 'x-api-key': COA_KEY, 'content-type': 'text/csv' },
      payload: Readable.from(Array.from({ length: 50 }, () => Buffer.from('x'.repeat(100)))),
    });
    expect(chunked.statusCode).toBe(413);
    expect(chunked.json()).toMatchObject({ status: 413 });
  });

  it('answers before the CSV body was read to its end, and the connection stays usable', async () => {
    const edge = createHttpEdge({
      service: 'edge-test',
      logger: createLogger('edge-test', { level: 'silent' }),
      credentials: [{ id: 'coa', kind: 'coa', apiKey: COA_KEY }],
      csv: { bodyLimitBytes: 4 * 1024 * 1024 },
    });
    // Reads the header only, as a route does that refuses the file by its header.
    edge.post('/v1/header', async (request) => {
      if (!isCsvBody(request.body)) throw new Error('not a CSV body');
      for await (const row of streamCsv(request.body)) return { header: row.cells };
      return {};
    });
    const url = await edge.listen({ port: 0, host: '127.0.0.1' });
    try {
      const body = 'a;b\n' + '1;2\n'.repeat(500_000); // 2 MB, far more than one chunk
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`${url}/v1/header`, {
          method: 'POST',
          headers: { 'x-api-key': COA_KEY, 'content-type': 'text/csv' },
          body,
          signal: AbortSignal.timeout(5000),
        });
        expect(res.status).toBe(200);
        expect(await res.json()).toEqual({ header: ['a', 'b'] });
      }
    } finally {
      // The client keeps its connections alive; this test is about the answers, not the close.
      edge.server.closeAllConnections();
      await edge.close();
    }
  });

  it('answers 415 to text/csv on an edge that takes no CSV', async () => {
    const noCsv = createHttpEdge({
      service: 'edge-test',
      logger: createLogger('edge-test', { level: 'silent' }),
      credentials: [{ id: 'coa', kind: 'coa', apiKey: COA_KEY }],
    });
    noCsv.post('/v1/csv', async () => ({ ok: true }));
    const res = await noCsv.inject({
      method: 'POST',
      url: '/v1/csv',
      headers: { 'x-api-key': COA_KEY, 'content-type': 'text/csv' },
      payload: 'a;b\n1;2\n',
    });
    expect(res.statusCode).toBe(415);
    expect(res.json().type).toBe('https://ketenhub.nl/problems/unsupported-media-type');
    await noCsv.close();
  });

  it('answers 404 as problem+json, after authentication', async () => {
    const anon = await app.inject({ method: 'GET', url: '/nope' });
    expect(anon.statusCode).toBe(401);
    const res = await app.inject({
      method: 'GET',
      url: '/nope',
      headers: { 'x-api-key': COA_KEY },
    });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ type: 'https://ketenhub.nl/problems/not-found' });
  });

  it('hides internals of 5xx and logs them', async () => {
    const res = await app.inject({
      method: 'GET',
      url: '/v1/boom',
      headers: { 'x-api-key': COA_KEY },
    });
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toContain('hunter2');
    expect(res.json()).toMatchObject({
      type: 'https://ketenhub.nl/problems/internal',
      status: 500,
      detail: 'internal error',
    });
    expect(logs.text()).toContain('hunter2');

    const busy = await app.inject({
      method: 'GET',
      url: '/v1/busy',
      headers: { 'x-api-key': COA_KEY },
    });
    expect(busy.statusCode).toBe(503);
    expect(busy.headers['retry-after']).toBe('3');
    expect(busy.body).not.toContain('duo down');
  });

  it('counts requests by route pattern, never by URL', async () => {
    await app.inject({
      method: 'POST',
      url: '/v1/gemeenten/gm0797/events',
      headers: { 'x-api-key': KVS_KEY },
      payload: {},
    });
    const text = await counter(metrics, 'ketenhub_http_requests_total');
    expect(text).toContain('route="/v1/gemeenten/:code/events",status="202"');
    expect(text).not.toContain('gm0797');
  });

  it('refuses an empty or duplicate key at start-up', () => {
    const logger = createLogger('x', { destination: sink().stream });
    expect(() =>
      createHttpEdge({
        service: 'x',
        logger,
        credentials: [{ id: 'a', kind: 'coa', apiKey: '' }],
      }),
    ).toThrow(/no apiKeyHash, apiKey or mtls binding/);
    expect(() =>
      createHttpEdge({
        service: 'x',
        logger,
        credentials: [
          { id: 'a', kind: 'coa', apiKey: COA_KEY },
          { id: 'b', kind: 'coa', apiKey: COA_KEY },
        ],
      }),
    ).toThrow(/used twice/);
  });
});

describe('createHttpEdge with hashed keys', () => {
  let app: FastifyInstance;
  let metrics: Metrics;
  let logs: ReturnType<typeof sink>;

  async function build() {
    metrics = createMetrics('edge-test');
    logs = sink();
    app = createHttpEdge({
      service: 'edge-test',
      logger: createLogger('edge-test', { destination: logs.stream, level: 'debug' }),
      metrics,
      credentials: [
        { id: 'coa', kind: 'coa', apiKeyHash: hashApiKey(COA_KEY) },
        {
          id: 'kvs-gm0797',
          kind: 'gemeente-kvs',
          apiKeyHash: hashApiKey(KVS_KEY),
          gemeenten: ['gm0797'],
        },
      ],
    });
    app.post('/v1/koppelingen', async (request, reply) => {
      requireKind(request, 'coa');
      return reply.code(202).send({ by: request.principal?.id });
    });
    await app.ready();
  }

  afterEach(async () => {
    await app.close();
  });

  it('accepts the key whose digest is configured, again and again', async () => {
    await build();
    for (let i = 0; i < 3; i++) {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/koppelingen',
        headers: { authorization: `Bearer ${COA_KEY}` },
        payload: {},
      });
      expect(res.statusCode).toBe(202);
      expect(res.json()).toEqual({ by: 'coa' });
    }
  });

  it('answers a wrong key 401 problem+json, counted without the key in metrics or logs', async () => {
    await build();
    const wrong = 'definitely-not-the-key-0123456789';
    for (let i = 0; i < 2; i++) {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/koppelingen',
        headers: { 'x-api-key': wrong },
        payload: {},
      });
      expect(res.statusCode).toBe(401);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json()).toMatchObject({
        type: 'https://ketenhub.nl/problems/unauthorized',
        status: 401,
        detail: 'the API key is not valid',
      });
    }
    const text = await metrics.registry.metrics();
    expect(text).toContain(
      'ketenhub_auth_failures_total{partner="unknown",reason="invalid",service="edge-test"} 2',
    );
    expect(text).not.toContain(wrong);
    expect(logs.text()).toContain('authentication failed');
    expect(logs.text()).not.toContain(wrong);
    expect(logs.text()).not.toContain(COA_KEY);
  });

  it('answers a valid key of another kind 403 on this API', async () => {
    await build();
    const res = await app.inject({
      method: 'POST',
      url: '/v1/koppelingen',
      headers: { authorization: `Bearer ${KVS_KEY}` },
      payload: {},
    });
    expect(res.statusCode).toBe(403);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json()).toMatchObject({
      type: 'https://ketenhub.nl/problems/forbidden',
      errors: [{ field: 'credential', rule: 'credential-scope' }],
    });
    expect(await counter(metrics, 'ketenhub_auth_failures_total')).toContain(
      'partner="kvs-gm0797",reason="forbidden",service="edge-test"} 1',
    );
  });

  it('lets every valid key in while several hundred made-up keys flood in, and refuses those', async () => {
    // Partners with fresh keys, each key presented once, spread over the flood: no verdict
    // about them can have been remembered before.
    const partners = Array.from({ length: 4 }, (_, i) => ({
      id: `school-${i}`,
      key: generateApiKey(),
    }));
    metrics = createMetrics('edge-test');
    app = createHttpEdge({
      service: 'edge-test',
      logger: createLogger('edge-test', { destination: sink().stream }),
      metrics,
      credentials: partners.map((p) => ({
        id: p.id,
        kind: 'taalaanbieder',
        apiKeyHash: hashApiKey(p.key),
      })),
    });
    app.post('/v1/uren', async (request, reply) =>
      reply.code(202).send({ by: request.principal?.id }),
    );
    await app.ready();
    const sent: { key: string; partner?: string }[] = [];
    for (let i = 0; i < 500; i++) {
      sent.push({ key: `made-up-key-number-${i}-0123456789abcdef0123456789` });
      const p = partners[(i - 60) / 120];
      if (p) sent.push({ key: p.key, partner: p.id });
    }
    const answers = await Promise.all(
      sent.map(({ key }) =>
        app.inject({
          method: 'POST',
          url: '/v1/uren',
          headers: { 'x-api-key': key },
          payload: {},
        }),
      ),
    );
    const valid = sent.flatMap((s, i) => (s.partner ? [[s.partner, answers[i]!] as const] : []));
    expect(valid).toHaveLength(partners.length);
    for (const [partner, res] of valid) {
      expect(res.statusCode, partner).toBe(202);
      expect(res.json(), partner).toEqual({ by: partner });
    }
    const madeUp = answers.filter((_, i) => !sent[i]!.partner);
    expect(new Set(madeUp.map((a) => a.statusCode))).toEqual(new Set([401]));
  }, 60_000);

  it('lets a burst of requests with the same new key all in', async () => {
    metrics = createMetrics('edge-test');
    app = createHttpEdge({
      service: 'edge-test',
      logger: createLogger('edge-test', { destination: sink().stream }),
      metrics,
      credentials: [{ id: 'coa', kind: 'coa', apiKeyHash: hashApiKey(COA_KEY) }],
    });
    app.post('/v1/koppelingen', async (_request, reply) => reply.code(202).send({}));
    await app.ready();
    // More than the 2 hashing + 64 waiting that scrypt-hashed keys once allowed.
    const answers = await Promise.all(
      Array.from({ length: 100 }, () =>
        app.inject({
          method: 'POST',
          url: '/v1/koppelingen',
          headers: { 'x-api-key': COA_KEY },
          payload: {},
        }),
      ),
    );
    expect(new Set(answers.map((a) => a.statusCode))).toEqual(new Set([202]));
  });

  it('refuses a malformed digest, a scrypt hash, a digest and a plaintext key together, or one key twice, at start-up', () => {
    const logger = createLogger('x', { destination: sink().stream });
    const edge = (credentials: Parameters<typeof createHttpEdge>[0]['credentials']) => () =>
      createHttpEdge({ service: 'x', logger, credentials });
    expect(edge([{ id: 'a', kind: 'coa', apiKeyHash: 'sha256:abcdef' }])).toThrow(
      /credential a: apiKeyHash: not of the form sha256:/,
    );
    const scrypt = `scrypt:16384:8:1:${'A'.repeat(22)}:${'B'.repeat(43)}`;
    expect(edge([{ id: 'a', kind: 'coa', apiKeyHash: scrypt }])).toThrow(
      /credential a: apiKeyHash: a scrypt hash is no longer accepted; run `npm run -s hash-key`/,
    );
    expect(
      edge([{ id: 'a', kind: 'coa', apiKeyHash: hashApiKey(COA_KEY), apiKey: COA_KEY }]),
    ).toThrow(/not both/);
    // A digest can be compared now: the same key for two partners is caught, hashed or not.
    expect(
      edge([
        { id: 'a', kind: 'coa', apiKeyHash: hashApiKey(COA_KEY) },
        { id: 'b', kind: 'duo', apiKey: COA_KEY },
      ]),
    ).toThrow(/credential b: its API key is used twice \(also by a\)/);
  });
});

describe('createHttpEdge JSON bodies', () => {
  let app: FastifyInstance;
  const JSON_TYPES = [
    'application/json',
    'application/cloudevents+json',
    'application/cloudevents-batch+json',
  ];

  /** How deep objects and arrays nest, walked recursively as a handler might. */
  function depthOf(value: unknown): number {
    if (value === null || typeof value !== 'object') return 0;
    return 1 + Math.max(0, ...Object.values(value).map(depthOf));
  }

  beforeEach(async () => {
    app = createHttpEdge({
      service: 'edge-test',
      logger: createLogger('edge-test', { destination: sink().stream }),
      credentials: [{ id: 'coa', kind: 'coa', apiKey: COA_KEY }],
    });
    app.post('/v1/walk', async (request) => ({ depth: depthOf(request.body) }));
    app.post('/v1/xy', async (request) => ({ y: (request.body as any).x.y }));
    app.post('/v1/any', { config: { jsonBody: 'any' } }, async (request) => ({
      got: request.body ?? 'nothing',
    }));
    app.post('/v1/many', async () => {
      throw new ValidationError(
        'bad input',
        Array.from({ length: 1000 }, (_, i) => ({
          field: `rows[${i}].${'f'.repeat(5000)}`,
          rule: 'pattern',
          message: 'm'.repeat(10_000),
        })),
      );
    });
    app.post(
      '/v1/schema',
      {
        schema: {
          body: {
            type: 'object',
            required: ['id'],
            properties: { id: { type: 'string' } },
            additionalProperties: false,
          },
        },
      },
      async () => ({ ok: true }),
    );
    await app.ready();
  });

  afterEach(async () => {
    await app.close();
  });

  function post(url: string, payload: string | undefined, contentType = 'application/json') {
    return app.inject({
      method: 'POST',
      url,
      headers: {
        'x-api-key': COA_KEY,
        ...(payload === undefined ? {} : { 'content-type': contentType }),
      },
      ...(payload === undefined ? {} : { payload }),
    });
  }

  it.each(JSON_TYPES)(
    'answers a body nested 100,000 deep 400 naming the depth limit (%s)',
    async (type) => {
      const n = 100_000;
      for (const body of ['{"a":'.repeat(n) + '1' + '}'.repeat(n), '['.repeat(n) + ']'.repeat(n)]) {
        const res = await post('/v1/walk', body, type);
        expect(res.statusCode).toBe(400);
        expect(res.headers['content-type']).toContain('application/problem+json');
        expect(res.json()).toMatchObject({
          type: 'https://ketenhub.nl/problems/validation',
          status: 400,
          errors: [{ field: '(body)', rule: 'max depth' }],
        });
        expect(res.json().errors[0].message).toContain('64');
      }
    },
  );

  it('takes 64 levels, not 65, and does not count brackets inside strings', async () => {
    const nested = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
    const ok = await post('/v1/walk', nested(64));
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ depth: 64 });
    expect((await post('/v1/walk', nested(65))).statusCode).toBe(400);
    const arrays = await post('/v1/walk', `{"a":${'['.repeat(63)}${']'.repeat(63)}}`);
    expect(arrays.json()).toEqual({ depth: 64 });

    const text = await post(
      '/v1/walk',
      JSON.stringify({ a: '{['.repeat(1000), b: '\\"[[[' + '{'.repeat(100), c: { d: [] } }),
    );
    expect(text.statusCode).toBe(200);
    expect(text.json()).toEqual({ depth: 3 });
  });

  it.each(JSON_TYPES)('still refuses prototype poisoning (%s)', async (type) => {
    for (const body of [
      '{"__proto__":{"isAdmin":true}}',
      '{"a":{"constructor":{"prototype":{"isAdmin":true}}}}',
    ]) {
      const res = await post('/v1/walk', body, type);
      expect(res.statusCode).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
    }
  });

  it.each([
    ['null', 'null'],
    ['a string', '"x"'],
    ['a number', '5'],
    ['a boolean', 'true'],
    ['an array', '[{"x":{"y":1}}]'],
    ['empty', ''],
  ])('answers a JSON body that is %s 400 (body) object before the handler', async (_, body) => {
    for (const type of JSON_TYPES) {
      const res = await post('/v1/xy', body, type);
      expect(res.statusCode, type).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json(), type).toMatchObject({
        type: 'https://ketenhub.nl/problems/validation',
        errors: [{ field: '(body)', rule: 'object' }],
      });
    }
  });

  it('answers a POST without any body 400 (body) required', async () => {
    const res = await post('/v1/xy', undefined);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ errors: [{ field: '(body)', rule: 'required' }] });
  });

  it('passes an object on, and anything that parses to a route that takes any JSON', async () => {
    const res = await post('/v1/xy', '{"x":{"y":7}}');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ y: 7 });
    expect((await post('/v1/any', '[1,2]')).json()).toEqual({ got: [1, 2] });
    expect((await post('/v1/any', '"x"')).json()).toEqual({ got: 'x' });
    expect((await post('/v1/any', undefined)).json()).toEqual({ got: 'nothing' });
    expect((await post('/v1/any', '{"a":'.repeat(65) + '1' + '}'.repeat(65))).statusCode).toBe(400);
  });

  it('names the body in a problem about malformed JSON', async () => {
    const res = await post('/v1/xy', '{"x":');
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      title: 'Malformed JSON',
      errors: [{ field: '(body)', rule: 'json' }],
    });
  });

  it('sends the first 100 violations, says how many there were, and cuts long texts', async () => {
    const res = await post('/v1/many', '{}');
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body.errors).toHaveLength(100);
    expect(body).toMatchObject({ errorsTotal: 1000, errorsTruncated: true });
    expect(body.errors[0].field.startsWith('rows[0].fff')).toBe(true);
    for (const e of body.errors) {
      expect(e.field.length).toBeLessThanOrEqual(200);
      expect(e.message.length).toBeLessThanOrEqual(500);
    }
    expect(res.body.length).toBeLessThan(100_000);
  });

  it('caps the violations of a route schema, and the detail that lists them', async () => {
    const extra = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`p${i}`, i]));
    const res = await post('/v1/schema', JSON.stringify(extra));
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body.errors).toHaveLength(100);
    expect(body).toMatchObject({ errorsTotal: 5001, errorsTruncated: true });
    expect(body.detail.length).toBeLessThanOrEqual(500);
    expect(res.body.length).toBeLessThan(100_000);
  });

  it('leaves a short list of violations as it is', async () => {
    const res = await post('/v1/schema', '{"id":5}');
    const body = res.json();
    expect(body.errors).toEqual([{ field: 'id', rule: 'type', message: 'must be string' }]);
    expect(body).not.toHaveProperty('errorsTotal');
    expect(body).not.toHaveProperty('errorsTruncated');
  });
});
