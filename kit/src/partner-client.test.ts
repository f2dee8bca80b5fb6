import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from './log.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import {
  createPartnerClient,
  parseRetryAfter,
  summariseRejection,
  type PartnerClient,
  type PartnerClientOptions,
} from './partner-client.ts';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

let server: Server;
let baseURL: string;
let handler: Handler;
let seen: Seen[];
let closedWithoutAnswer: number;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      res.on('close', () => {
        if (!res.writableFinished) closedWithoutAnswer++;
      });
      handler(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function json(res: ServerResponse, status: number, body: unknown, headers = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

describe('createPartnerClient', () => {
  let client: PartnerClient | undefined;
  let metrics: Metrics;
  let logText: string[];

  beforeEach(() => {
    seen = [];
    closedWithoutAnswer = 0;
    metrics = createMetrics('client-test');
    logText = [];
  });
  afterEach(() => {
    client?.shutdown();
    client = undefined;
  });

  function make(overrides: Partial<PartnerClientOptions> = {}): PartnerClient {
    const destination = new Writable({
      write(chunk: Buffer, _enc, cb) {
        logText.push(chunk.toString());
        cb();
      },
    });
    client = createPartnerClient({
      partner: 'kvs',
      endpoint: 'gm0797',
      baseURL,
      timeoutMs: 300,
      headers: { 'x-api-key': 'secret' },
      logger: createLogger('client-test', { destination, level: 'debug' }),
      metrics,
      ...overrides,
    });
    return client;
  }

  async function metric(name: string): Promise<string> {
    return metrics.registry.getSingleMetricAsString(name);
  }

  it('resolves a 2xx with status, data and headers, sending the idempotency key', async () => {
    handler = (_req, res) => json(res, 201, { id: 'x1' }, { 'x-trace': 't1' });
    const c = make();
    const res = await c.request<{ id: string }>({
      method: 'POST',
      url: '/events',
      data: { a: 1 },
      idempotencyKey: 'evt-1',
    });
    expect(res.status).toBe(201);
    expect(res.data.id).toBe('x1');
    expect(res.headers['x-trace']).toBe('t1');
    expect(seen[0]?.headers['idempotency-key']).toBe('evt-1');
    expect(seen[0]?.headers['x-api-key']).toBe('secret');
    expect(JSON.parse(seen[0]?.body ?? '')).toEqual({ a: 1 });
    expect(await metric('ketenhub_partner_calls_total')).toContain(
      'partner="kvs",endpoint="gm0797",outcome="success"',
    );
  });

  it('treats a 409 as success when told so', async () => {
    handler = (_req, res) => json(res, 409, { title: 'already known' });
    const c = make({ treatAsSuccess: (status) => status === 409 });
    const res = await c.request({ method: 'POST', url: '/events', data: {} });
    expect(res.status).toBe(409);
  });

  it('throws PartnerRejectedError on a 400 keeping only type, title and field names', async () => {
    handler = (_req, res) =>
      json(
        res,
        400,
        {
          type: 'https://kvs.example/problems/validation',
          title: 'Ongeldig bericht',
          detail: 'BSN 123456789 van Jan Jansen is onbekend',
          errors: [{ field: 'data.bsn', rule: 'elfproef', message: 'Jan Jansen 123456789' }],
        },
        { 'content-type': 'application/problem+json' },
      );
    const c = make({ breaker: { volumeThreshold: 2, errorThresholdPercentage: 10 } });
    const errors: unknown[] = [];
    for (let i = 0; i < 6; i++) {
      errors.push(await c.request({ method: 'POST', url: '/events', data: {} }).catch((e) => e));
    }
    const err = errors[0] as {
      name: string;
      retryable: boolean;
      partnerStatus: number;
      message: string;
      field: string;
      rule: string;
    };
    expect(err.name).toBe('PartnerRejectedError');
    expect(err.retryable).toBe(false);
    expect(err.partnerStatus).toBe(400);
    expect(err.field).toBe('data.bsn');
    expect(err.rule).toBe('elfproef');
    expect(err.message).toContain('Ongeldig bericht');
    expect(err.message).toContain('data.bsn (elfproef)');
    expect(err.message).not.toContain('Jansen');
    expect(err.message).not.toContain('123456789');
    // Refusals are not breaker failures: it stays closed and every call reached the server.
    expect(c.state()).toBe('closed');
    expect(seen).toHaveLength(6);
  });

  it('retries, not dead-letters, when the partner refuses the hub credentials', async () => {
    handler = (_req, res) => json(res, 401, { title: 'Unauthorized' });
    const err = await make()
      .request({ method: 'POST', url: '/x', data: {} })
      .catch((e) => e);
    expect(err).toMatchObject({
      name: 'PartnerUnavailableError',
      retryable: true,
      rule: 'credentials',
    });
  });

  it('throws PartnerUnavailableError on a 503', async () => {
    handler = (_req, res) => json(res, 503, { title: 'down' });
    const c = make();
    const err = await c.request({ method: 'GET', url: '/x' }).catch((e) => e);
    expect(err).toMatchObject({
      name: 'PartnerUnavailableError',
      retryable: true,
      partnerStatus: 503,
    });
    expect(await metric('ketenhub_partner_calls_total')).toContain('outcome="unavailable"');
  });

  it('reads Retry-After on a 429', async () => {
    handler = (_req, res) => json(res, 429, {}, { 'retry-after': '2' });
    const c = make();
    const err = await c.request({ method: 'GET', url: '/x' }).catch((e) => e);
    expect(err).toMatchObject({
      name: 'PartnerUnavailableError',
      partnerStatus: 429,
      retryAfterMs: 2000,
    });
  });

  it('aborts a call the partner never answers, within the timeout', async () => {
    handler = () => {
      /* never answers */
    };
    const c = make({ timeoutMs: 150 });
    const started = Date.now();
    const err = await c.request({ method: 'POST', url: '/slow', data: {} }).catch((e) => e);
    const took = Date.now() - started;
    expect(err).toMatchObject({ name: 'PartnerUnavailableError', rule: 'timeout' });
    expect(took).toBeGreaterThanOrEqual(140);
    expect(took).toBeLessThan(1000);
    // The socket is torn down, not left hanging in the background.
    await expect.poll(() => closedWithoutAnswer, { timeout: 1000 }).toBe(1);
    expect(await metric('ketenhub_partner_calls_total')).toContain('outcome="timeout"');
  });

  it('cancels only the call that timed out, not concurrent ones', async () => {
    handler = (req, res) => {
      if (req.url === '/fast') setTimeout(() => json(res, 200, { ok: true }), 200);
    };
    const c = make({ timeoutMs: 250 });
    const slow = c.request({ method: 'GET', url: '/slow' }).catch((e) => e);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const fast = c.request({ method: 'GET', url: '/fast' });
    expect(await slow).toMatchObject({ name: 'PartnerUnavailableError', rule: 'timeout' });
    expect((await fast).status).toBe(200);
  });

  it('throws PartnerUnavailableError when the partner is not there', async () => {
    const c = make({ baseURL: 'http://127.0.0.1:1' });
    const err = await c.request({ method: 'GET', url: '/x' }).catch((e) => e);
    expect(err).toMatchObject({ name: 'PartnerUnavailableError', retryable: true });
    expect(err.message).toContain('ECONNREFUSED');
  });

  it('opens on repeated 503s, fails fast, and closes after a good probe', async () => {
    handler = (_req, res) => json(res, 503, {});
    const c = make({
      breaker: { volumeThreshold: 3, errorThresholdPercentage: 50, resetTimeoutMs: 150 },
    });
    for (let i = 0; i < 3; i++) {
      await c.request({ method: 'GET', url: '/x' }).catch(() => undefined);
    }
    expect(c.state()).toBe('open');
    expect(c.gate.state()).toBe('hold');
    expect(c.gate.holdMs()).toBe(150);
    expect(await metric('ketenhub_breaker_state')).toContain(
      'endpoint="gm0797",service="client-test"} 2',
    );

    const hits = seen.length;
    const fast = await c.request({ method: 'GET', url: '/x' }).catch((e) => e);
    expect(fast).toMatchObject({ name: 'PartnerUnavailableError', retryable: true });
    expect(fast.message).toBe('circuit open for kvs/gm0797');
    expect(seen.length).toBe(hits);
    expect(await metric('ketenhub_partner_calls_total')).toContain('outcome="short_circuit"');

    // The gate wakes its waiter when the breaker turns half-open, well before the 5 s cap.
    const woke = Date.now();
    await c.gate.changed(5000);
    expect(Date.now() - woke).toBeLessThan(1000);
    expect(c.gate.state()).toBe('probe');
    expect(c.state()).toBe('half-open');
    expect(await metric('ketenhub_breaker_state')).toContain('service="client-test"} 1');
    handler = (_req, res) => json(res, 200, { ok: true });
    const probe = await c.request({ method: 'GET', url: '/x' });
    expect(probe.status).toBe(200);
    expect(c.state()).toBe('closed');
    expect(c.gate.state()).toBe('pass');
    expect(await metric('ketenhub_breaker_state')).toContain('service="client-test"} 0');

    const lines = logText.join('');
    expect(lines.match(/circuit opened/g)).toHaveLength(1);
    expect(lines.match(/circuit half-open/g)).toHaveLength(1);
    expect(lines.match(/circuit closed/g)).toHaveLength(1);
  });

  it('never logs a BSN from the URL', async () => {
    handler = (_req, res) => json(res, 404, {});
    const c = make();
    await c.request({ method: 'GET', url: '/personen/123456789/pip' }).catch(() => undefined);
    const lines = logText.join('');
    expect(lines).toContain('/personen/[redacted]/pip');
    expect(lines).not.toContain('123456789');
    expect(await metric('ketenhub_partner_calls_total')).not.toContain('personen');
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('2')).toBe(2000);
    expect(parseRetryAfter(undefined)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Tue, 31 Dec 2024 23:00:00 GMT', now)).toBe(0);
  });
});

describe('summariseRejection', () => {
  it('does not echo a body that is not a problem', () => {
    expect(summariseRejection(400, {}, 'Jan Jansen 123456789 bestaat niet').text).toBe('HTTP 400');
  });

  it('reads ZGW invalidParams', () => {
    const s = summariseRejection(
      400,
      { 'content-type': 'application/problem+json' },
      { title: 'Invalid input.', invalidParams: [{ name: 'bsn', code: 'invalid', reason: 'x' }] },
    );
    expect(s).toEqual({
      text: 'HTTP 400 Invalid input. errors: bsn (invalid)',
      field: 'bsn',
      rule: 'invalid',
    });
  });
});
