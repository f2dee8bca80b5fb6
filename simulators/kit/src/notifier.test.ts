import { createServer } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { backoffDelay, createNotifier } from './notifier.ts';
import type { Notifier, NotifierOptions } from './notifier.ts';
import { createWork } from './work.ts';

/** What the stand-in hub does with each request, in turn; the last one repeats. */
type Answer =
  number | 'hang' | 'reset' | { status: number; headers: Record<string, string>; body?: string };

interface FakeHub {
  url: string;
  received: { at: number; headers: IncomingHttpHeaders; body: unknown }[];
}

let closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.map((c) => c()));
  closers = [];
});

async function startHub(answers: Answer[]): Promise<FakeHub> {
  const received: FakeHub['received'] = [];
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      received.push({ at: Date.now(), headers: req.headers, body: JSON.parse(text) });
      const a = answers[Math.min(received.length, answers.length) - 1] ?? 201;
      if (a === 'hang') return;
      if (a === 'reset') {
        req.socket.resetAndDestroy();
        return;
      }
      if (typeof a === 'number') res.writeHead(a).end();
      else res.writeHead(a.status, a.headers).end(a.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received };
}

type Body = { n: number };
type Meta = { ref: string };

function notifier(
  opts: Partial<NotifierOptions<Body, Meta, object>> = {},
): Notifier<Body, Meta, object> {
  const n = createNotifier<Body, Meta>({
    name: 'test-simulator',
    retry: { baseDelayMs: 5, maxDelayMs: 20, timeoutMs: 1000 },
    ...opts,
  });
  closers.push(async () => n.close());
  return n;
}

describe('notifier', () => {
  it('retries network errors and 5xx with the same body and headers until delivered', async () => {
    const hub = await startHub([503, 'reset', 500, 204]);
    const n = notifier({ url: hub.url, headers: { authorization: 'Bearer k' } });
    const rec = n.send({ body: { n: 1 }, headers: { 'x-message-id': 'm-1' }, meta: { ref: 'a' } });
    expect(rec).toMatchObject({ id: 1, ref: 'a', outcome: 'pending', body: { n: 1 } });
    expect(await n.drain(5000)).toBe(true);
    expect(rec.outcome).toBe('delivered');
    expect(rec.attempts.map((a) => a.status ?? 'error')).toEqual([503, 'error', 500, 204]);
    expect(rec.attempts[1]?.error).toBeTruthy();
    expect(hub.received).toHaveLength(4);
    for (const r of hub.received) {
      expect(r.body).toEqual({ n: 1 });
      expect(r.headers).toMatchObject({
        'content-type': 'application/json',
        authorization: 'Bearer k',
        'x-message-id': 'm-1',
      });
    }
    expect(n.stats()).toEqual({
      queued: 1,
      pending: 0,
      delivered: 1,
      rejected: 0,
      failed: 0,
      skipped: 0,
      attempts: 4,
    });
  });

  it('rejects at once on a 4xx other than 429, and gives up after maxAttempts', async () => {
    const hub = await startHub([400, 500]);
    const n = notifier({ url: hub.url, retry: { baseDelayMs: 1, maxAttempts: 3 } });
    const rejected = n.send({ body: { n: 1 }, meta: { ref: 'a' } });
    await n.drain(5000);
    const failed = n.send({ body: { n: 2 }, meta: { ref: 'b' } });
    await n.drain(5000);
    expect([rejected.outcome, rejected.attempts.length, rejected.reason]).toEqual([
      'rejected',
      1,
      'answered 400',
    ]);
    expect([failed.outcome, failed.attempts.length, failed.reason]).toEqual([
      'failed',
      3,
      'answered 500; gave up after 3 attempts',
    ]);
  });

  it('retries a 429 and gives up on a hub that never answers, after its timeout', async () => {
    const hub = await startHub([429, 'hang']);
    const n = notifier({ url: hub.url, retry: { baseDelayMs: 1, maxAttempts: 2, timeoutMs: 100 } });
    const rec = n.send({ body: { n: 1 }, meta: { ref: 'a' } });
    await n.drain(5000);
    expect(rec.attempts.map((a) => a.status ?? a.error)).toEqual([429, 'timeout after 100 ms']);
    expect(rec.outcome).toBe('failed');
  });

  it('waits as long as Retry-After says (seconds), longer than its own backoff', async () => {
    const hub = await startHub([{ status: 503, headers: { 'retry-after': '1' } }, 201]);
    const n = notifier({ url: hub.url });
    const rec = n.send({ body: { n: 1 }, meta: { ref: 'a' } });
    await n.drain(5000);
    expect(rec.outcome).toBe('delivered');
    expect(rec.attempts[0]).toMatchObject({ status: 503, retryAfterMs: 1000 });
    const gap = hub.received[1]!.at - hub.received[0]!.at;
    expect(gap).toBeGreaterThanOrEqual(950);
  });

  it('reads Retry-After as an HTTP date, up to maxRetryAfterMs', async () => {
    const inAnHour = new Date(Date.now() + 3_600_000).toUTCString();
    const hub = await startHub([{ status: 429, headers: { 'retry-after': inAnHour } }, 201]);
    const n = notifier({ url: hub.url, retry: { baseDelayMs: 1, maxRetryAfterMs: 300 } });
    const rec = n.send({ body: { n: 1 }, meta: { ref: 'a' } });
    await n.drain(5000);
    expect(rec.outcome).toBe('delivered');
    expect(rec.attempts[0]?.retryAfterMs).toBeGreaterThan(3_500_000);
    const gap = hub.received[1]!.at - hub.received[0]!.at;
    expect(gap).toBeGreaterThanOrEqual(280);
    expect(gap).toBeLessThan(2000);
  });

  it('ignores Retry-After on other statuses', async () => {
    const hub = await startHub([{ status: 500, headers: { 'retry-after': '30' } }, 201]);
    const n = notifier({ url: hub.url });
    const rec = n.send({ body: { n: 1 }, meta: { ref: 'a' } });
    expect(await n.drain(2000)).toBe(true);
    expect(rec.attempts[0]?.retryAfterMs).toBeUndefined();
    expect(rec.outcome).toBe('delivered');
  });

  it('ordered: sends one message at a time, the next after the previous is done', async () => {
    const hub = await startHub([503, 503, 201]);
    const n = notifier({ url: hub.url, ordered: true });
    for (const i of [1, 2, 3]) n.send({ body: { n: i }, meta: { ref: String(i) } });
    await n.drain(5000);
    expect(hub.received.map((r) => (r.body as Body).n)).toEqual([1, 1, 1, 2, 3]);
    expect(n.list().map((r) => r.outcome)).toEqual(['delivered', 'delivered', 'delivered']);
  });

  it('unordered: sends each message after its own delay', async () => {
    const hub = await startHub([201]);
    const n = notifier({ url: hub.url });
    n.send({ body: { n: 1 }, meta: { ref: 'late' }, delayMs: 150 });
    n.send({ body: { n: 2 }, meta: { ref: 'now' } });
    await n.drain(5000);
    expect(hub.received.map((r) => (r.body as Body).n)).toEqual([2, 1]);
  });

  it('skips without a URL or when told to, and never sends', async () => {
    const hub = await startHub([201]);
    expect(notifier().send({ body: { n: 1 }, meta: { ref: 'a' } })).toMatchObject({
      outcome: 'skipped',
      reason: 'no hub URL configured',
      attempts: [],
    });
    const n = notifier({ url: hub.url, ordered: true });
    n.send({ body: { n: 1 }, meta: { ref: 'a' }, skip: 'not ours' });
    n.send({ body: { n: 2 }, meta: { ref: 'b' } });
    await n.drain(5000);
    expect(n.list().map((r) => [r.outcome, r.reason])).toEqual([
      ['skipped', 'not ours'],
      ['delivered', undefined],
    ]);
    expect(hub.received).toHaveLength(1);
  });

  it('adds what inspect reads from each answer to its attempt', async () => {
    const hub = await startHub([
      { status: 500, headers: { 'content-type': 'application/json' }, body: '{"x":1}' },
      { status: 201, headers: {}, body: 'fine' },
    ]);
    const n = createNotifier<Body, Meta, { seen: unknown }>({
      name: 'test-simulator',
      url: hub.url,
      retry: { baseDelayMs: 1 },
      inspect: (res) => ({ seen: res ? [res.status, res.body] : 'nothing' }),
    });
    closers.push(async () => n.close());
    const rec = n.send({ body: { n: 1 }, meta: { ref: 'a' } });
    await n.drain(5000);
    expect(rec.attempts.map((a) => a.seen)).toEqual([
      [500, { x: 1 }],
      [201, 'fine'],
    ]);
  });

  it('drops what is in flight on reset and on close instead of retrying it', async () => {
    const hub = await startHub(['hang']);
    const n = notifier({ url: hub.url });
    n.send({ body: { n: 1 }, meta: { ref: 'a' } });
    for (let i = 0; i < 100 && hub.received.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    n.reset();
    expect(await n.drain(1000)).toBe(true);
    expect(n.list()).toEqual([]);

    const ordered = notifier({ url: hub.url, ordered: true });
    ordered.send({ body: { n: 2 }, meta: { ref: 'b' } });
    ordered.send({ body: { n: 3 }, meta: { ref: 'c' } });
    await new Promise((r) => setTimeout(r, 50));
    ordered.close();
    expect(await ordered.drain(1000)).toBe(true);
    await new Promise((r) => setTimeout(r, 50));
    expect(hub.received.map((r) => (r.body as Body).n)).toEqual([1, 2]);
  });

  it('shares a work queue with the simulator, leaving its cancel to the simulator', async () => {
    const hub = await startHub([201]);
    const work = createWork(() => {});
    const n = notifier({ url: hub.url, work });
    let ran = false;
    work.schedule(20, () => {
      ran = true;
    });
    n.send({ body: { n: 1 }, meta: { ref: 'a' } });
    n.reset();
    expect(await work.drain(2000)).toBe(true);
    expect(ran).toBe(true);
    expect(hub.received).toHaveLength(1);
  });
});

describe('backoffDelay', () => {
  const policy = { baseDelayMs: 100, maxDelayMs: 1000, jitter: 0.2 };
  it('doubles per attempt up to the maximum, less up to `jitter` of it', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, policy, () => 0))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
    expect(backoffDelay(3, policy, () => 1)).toBe(320);
    expect(backoffDelay(3, policy, () => 0.5)).toBe(360);
  });
});
