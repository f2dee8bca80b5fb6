import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '@ketenhub/kit';
import { spawnMain } from '@ketenhub/simulator-kit';
import { KVS_PROBLEM_TYPES, startKvsSimulator } from './index.ts';
import type { KvsSimulator, KvsSimulatorOptions } from './index.ts';

const CE = 'application/cloudevents+json';
let counter = 0;

function event(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  counter += 1;
  return {
    specversion: '1.0',
    id: `00000000-0000-4000-8000-${String(counter).padStart(12, '0')}`,
    source: 'urn:nld:oin:00000001234567890000:systeem:ketenhub',
    type: 'nl.inburgering.pip.vastgesteld',
    time: '2026-01-05T10:00:00Z',
    datacontenttype: 'application/json',
    data: { pipId: 'p-1' },
    ...overrides,
  };
}

let sims: KvsSimulator[] = [];

async function start(opts: Partial<KvsSimulatorOptions> = {}): Promise<KvsSimulator> {
  const sim = await startKvsSimulator({ port: 0, gemeenten: ['gm0797', 'gm0363'], ...opts });
  sims.push(sim);
  return sim;
}

afterEach(async () => {
  await Promise.all(sims.map((s) => s.close()));
  sims = [];
});

function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
  signal?: AbortSignal,
): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': CE, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...(signal ? { signal } : {}),
  });
}

describe('KVS simulator', () => {
  it('stores a first delivery and reads it back', async () => {
    const sim = await start();
    const ev = event();
    const res = await post(sim.endpointFor('gm0797'), ev, { 'idempotency-key': 'k-1' });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ id: ev.id });

    const [stored, ...rest] = sim.received('gm0797');
    expect(rest).toHaveLength(0);
    expect(stored).toMatchObject({
      gemeente: 'gm0797',
      id: ev.id,
      type: ev.type,
      deliveries: 1,
      idempotencyKey: 'k-1',
      event: ev,
    });
    expect(Date.parse(stored?.receivedAt ?? '')).not.toBeNaN();
    expect(sim.received('gm0363')).toEqual([]);
    expect(sim.received()).toHaveLength(1);

    const list = await fetch(`${sim.url}/_sim/gemeenten/gm0797/events`);
    expect(((await list.json()) as { events: unknown[] }).events).toEqual([stored]);

    const where = await fetch(`${sim.url}/_sim/events/${String(ev.id)}`);
    expect(await where.json()).toMatchObject({ id: ev.id, gemeente: 'gm0797', deliveries: 1 });
    expect((await fetch(`${sim.url}/_sim/events/nope`)).status).toBe(404);
  });

  it('accepts application/json too and filters the read-back by type', async () => {
    const sim = await start();
    const a = event({ type: 'nl.inburgering.examen.resultaat' });
    const b = event();
    expect(
      (await post(sim.endpointFor('gm0363'), a, { 'content-type': 'application/json' })).status,
    ).toBe(201);
    expect((await post(sim.endpointFor('gm0363'), b)).status).toBe(201);
    const res = await fetch(`${sim.url}/_sim/gemeenten/gm0363/events?type=${String(a.type)}`);
    const { events } = (await res.json()) as { events: { id: string }[] };
    expect(events.map((e) => e.id)).toEqual([a.id]);
  });

  it('answers a second delivery of an id with 409 and counts it', async () => {
    const sim = await start();
    const ev = event();
    expect((await post(sim.endpointFor('gm0797'), ev)).status).toBe(201);
    const dup = await post(sim.endpointFor('gm0797'), ev);
    expect(dup.status).toBe(409);
    expect(dup.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await dup.json()).toMatchObject({
      type: KVS_PROBLEM_TYPES.duplicateEvent,
      status: 409,
    });
    expect((await post(sim.endpointFor('gm0797'), ev)).status).toBe(409);

    expect(sim.received('gm0797')).toHaveLength(1);
    expect(sim.received('gm0797')[0]?.deliveries).toBe(3);
    expect(sim.stats().gemeenten.gm0797).toEqual({
      received: 1,
      duplicates: 2,
      faulted: 0,
      misrouted: 0,
    });
  });

  it('rejects a missing or wrong bearer token with 401 when one is configured', async () => {
    const sim = await start({ tokens: { gm0797: 's3cret' } });
    const url = sim.endpointFor('gm0797');
    const missing = await post(url, event());
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await post(url, event(), { authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await post(url, event(), { authorization: 'Basic s3cret' })).status).toBe(401);
    expect((await post(url, event(), { authorization: 'Bearer s3cret' })).status).toBe(201);
    // No token configured for gm0363, so no auth there.
    expect((await post(sim.endpointFor('gm0363'), event())).status).toBe(201);
  });

  it('answers 404 for an unknown gemeente and 415 for another media type', async () => {
    const sim = await start();
    const unknown = await post(`${sim.url}/gemeenten/gm9999/events`, event());
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ type: KVS_PROBLEM_TYPES.unknownGemeente });
    expect(() => sim.endpointFor('gm9999')).toThrow(/gm9999/);

    const url = sim.endpointFor('gm0797');
    expect((await post(url, event(), { 'content-type': 'text/plain' })).status).toBe(415);
    const batch = await post(url, [event()], {
      'content-type': 'application/cloudevents-batch+json',
    });
    expect(batch.status).toBe(415);
    expect(await batch.json()).toMatchObject({ type: KVS_PROBLEM_TYPES.unsupportedMediaType });
    expect((await fetch(url, { method: 'POST' })).status).toBe(415);
    expect(sim.stats().total.received).toBe(0);
  });

  it('rejects what is not a CloudEvents 1.0 structured event with 400 naming the field', async () => {
    const sim = await start();
    const url = sim.endpointFor('gm0797');

    const bad = await post(url, event({ specversion: '0.3', id: '' }));
    expect(bad.status).toBe(400);
    const problem = (await bad.json()) as { type: string; errors: { field: string }[] };
    expect(problem.type).toBe(KVS_PROBLEM_TYPES.validation);
    expect(problem.errors.map((e) => e.field).sort()).toEqual(['id', 'specversion']);

    const noSource = event();
    delete noSource.source;
    expect(await (await post(url, noSource)).json()).toMatchObject({
      errors: [{ field: 'source', rule: 'required' }],
    });
    expect((await post(url, '{not json')).status).toBe(400);
    expect((await post(url, '"just a string"')).status).toBe(400);
  });

  it('runs the injected validate hook and returns its errors', async () => {
    const sim = await start({
      validate: (ev) =>
        (ev as { data?: { pipId?: unknown } }).data?.pipId === undefined
          ? [{ field: 'data.pipId', rule: 'required', message: 'is required' }]
          : [],
    });
    const res = await post(sim.endpointFor('gm0797'), event({ data: {} }));
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      type: KVS_PROBLEM_TYPES.validation,
      title: expect.any(String),
      status: 400,
      errors: [{ field: 'data.pipId', rule: 'required', message: 'is required' }],
    });
    expect((await post(sim.endpointFor('gm0797'), event())).status).toBe(201);
  });

  it('answers 422 when the gemeente extension names another gemeente and counts misrouted', async () => {
    const sim = await start();
    const res = await post(sim.endpointFor('gm0797'), event({ gemeente: 'gm0363' }));
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ type: KVS_PROBLEM_TYPES.wrongGemeente });
    expect((await post(sim.endpointFor('gm0797'), event({ gemeente: 'gm0797' }))).status).toBe(201);
    expect(sim.stats().gemeenten.gm0797).toMatchObject({ received: 1, misrouted: 1 });
  });

  it('counts one id reaching two gemeenten as misrouted', async () => {
    const sim = await start();
    const ev = event();
    expect((await post(sim.endpointFor('gm0797'), ev)).status).toBe(201);
    // Each KVS keeps its own ids, so the second gemeente accepts it.
    expect((await post(sim.endpointFor('gm0363'), ev)).status).toBe(201);
    expect(sim.stats().gemeenten.gm0363).toMatchObject({ received: 1, misrouted: 1 });
    const where = await (await fetch(`${sim.url}/_sim/events/${String(ev.id)}`)).json();
    expect(where).toMatchObject({
      gemeente: 'gm0797',
      deliveries: 2,
      receivedBy: [{ gemeente: 'gm0797' }, { gemeente: 'gm0363' }],
    });
  });

  it('fails the next N requests with an injected 503, then recovers', async () => {
    const sim = await start();
    sim.injectFault({
      kind: 'status',
      status: 503,
      count: 2,
      retryAfterSeconds: 7,
      scope: { gemeente: 'gm0797' },
    });
    const ev = event();
    const url = sim.endpointFor('gm0797');

    const first = await post(url, ev);
    expect(first.status).toBe(503);
    expect(first.headers.get('retry-after')).toBe('7');
    expect(await first.json()).toMatchObject({ type: KVS_PROBLEM_TYPES.simulatedFault });
    // Other gemeenten are not affected.
    expect((await post(sim.endpointFor('gm0363'), event())).status).toBe(201);
    expect((await post(url, ev)).status).toBe(503);
    expect((await post(url, ev)).status).toBe(201);

    expect(sim.received('gm0797')).toHaveLength(1);
    expect(sim.stats().gemeenten.gm0797).toEqual({
      received: 1,
      duplicates: 0,
      faulted: 2,
      misrouted: 0,
    });
  });

  it('sends no Retry-After unless configured, and queues faults in order', async () => {
    const sim = await start();
    sim.injectFault({ kind: 'status', status: 500, count: 1 });
    sim.injectFault({ kind: 'status', status: 429, count: 1, retryAfterSeconds: 1 });
    const url = sim.endpointFor('gm0363');
    const a = await post(url, event());
    expect(a.status).toBe(500);
    expect(a.headers.get('retry-after')).toBeNull();
    const b = await post(url, event());
    expect(b.status).toBe(429);
    expect(b.headers.get('retry-after')).toBe('1');
    expect((await post(url, event())).status).toBe(201);
  });

  it('faults for a duration and stops when it has passed', async () => {
    let clock = 1_000_000;
    const sim = await start({ now: () => clock });
    sim.injectFault({ kind: 'status', status: 503, durationMs: 5_000 });
    const url = sim.endpointFor('gm0797');
    expect((await post(url, event())).status).toBe(503);
    clock += 4_999;
    expect((await post(url, event())).status).toBe(503);
    clock += 1;
    expect((await post(url, event())).status).toBe(201);
  });

  it('can reset the connection or hang, and close() still returns', async () => {
    const sim = await start();
    sim.injectFault({ kind: 'reset', count: 1 });
    await expect(post(sim.endpointFor('gm0797'), event())).rejects.toThrow();

    sim.injectFault({ kind: 'hang', count: 1 });
    await expect(
      post(sim.endpointFor('gm0797'), event(), {}, AbortSignal.timeout(200)),
    ).rejects.toThrow();
    expect(sim.stats().total.faulted).toBe(2);
    expect((await post(sim.endpointFor('gm0797'), event())).status).toBe(201);

    // A request left hanging must not keep close() waiting.
    sim.injectFault({ kind: 'hang' });
    const pending = post(sim.endpointFor('gm0797'), event()).catch((err: unknown) => err);
    await new Promise((r) => setTimeout(r, 50));
    await sim.close();
    expect(await pending).toBeInstanceOf(Error);
  });

  it('manages faults and reset over HTTP', async () => {
    const sim = await start();
    const created = await fetch(`${sim.url}/_sim/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        kind: 'status',
        status: 502,
        count: 5,
        scope: { gemeente: 'gm0363' },
      }),
    });
    expect(created.status).toBe(201);
    expect((await post(sim.endpointFor('gm0797'), event())).status).toBe(201);
    expect((await post(sim.endpointFor('gm0363'), event())).status).toBe(502);
    const listed = await (await fetch(`${sim.url}/_sim/faults`)).json();
    expect(listed).toEqual({
      faults: [
        {
          id: 1,
          kind: 'status',
          status: 502,
          scope: { gemeente: 'gm0363' },
          count: 5,
          remaining: 4,
        },
      ],
    });

    const invalid = await fetch(`${sim.url}/_sim/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'status', status: 503, scope: { gemeente: 'gm9999' } }),
    });
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toMatchObject({
      errors: [{ field: 'scope.gemeente', rule: 'enum' }],
    });
    expect(() => sim.injectFault({ kind: 'status', status: 42 })).toThrow(/status/);
    // The fault model before the simulator kit is refused, naming what to change.
    const old = await fetch(`${sim.url}/_sim/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ status: 503, untilMs: 1000 }),
    });
    expect(await old.json()).toMatchObject({
      errors: expect.arrayContaining([
        expect.objectContaining({ field: 'kind', rule: 'required' }),
        expect.objectContaining({ field: 'untilMs', rule: 'additionalProperties' }),
      ]),
    });

    expect((await fetch(`${sim.url}/_sim/faults`, { method: 'DELETE' })).status).toBe(204);
    expect((await post(sim.endpointFor('gm0363'), event())).status).toBe(201);

    expect((await fetch(`${sim.url}/_sim/reset`, { method: 'POST' })).status).toBe(204);
    expect(sim.received()).toEqual([]);
    expect(sim.stats().total).toEqual({ received: 0, duplicates: 0, faulted: 0, misrouted: 0 });
  });

  it('sums the counters over gemeenten in stats, also over HTTP', async () => {
    const sim = await start();
    const a = event();
    await post(sim.endpointFor('gm0797'), a);
    await post(sim.endpointFor('gm0797'), a);
    await post(sim.endpointFor('gm0363'), event());
    await post(sim.endpointFor('gm0363'), event({ gemeente: 'gm0797' }));
    sim.injectFault({ kind: 'status', status: 503, count: 1, scope: { gemeente: 'gm0363' } });
    await post(sim.endpointFor('gm0363'), event());

    const expected = {
      // The kit's DeliveryStats, which the demo counts a flow by.
      received: 2,
      duplicates: 1,
      byGemeente: { gm0797: 1, gm0363: 1 },
      gemeenten: {
        gm0797: { received: 1, duplicates: 1, faulted: 0, misrouted: 0 },
        gm0363: { received: 1, duplicates: 0, faulted: 1, misrouted: 1 },
      },
      total: { received: 2, duplicates: 1, faulted: 1, misrouted: 1 },
    };
    expect(sim.stats()).toEqual(expected);
    expect(await (await fetch(`${sim.url}/_sim/stats`)).json()).toEqual(expected);
    expect(await (await fetch(`${sim.url}/health`)).json()).toEqual({ status: 'ok' });
  });

  it('keeps at most maxEvents bodies but still detects duplicates of dropped ones', async () => {
    const sim = await start({ maxEvents: 2 });
    const evs = [event(), event(), event()];
    for (const ev of evs) expect((await post(sim.endpointFor('gm0797'), ev)).status).toBe(201);
    expect(sim.received().map((e) => e.id)).toEqual([evs[1]?.id, evs[2]?.id]);
    expect((await post(sim.endpointFor('gm0797'), evs[0])).status).toBe(409);
    const where = await (await fetch(`${sim.url}/_sim/events/${String(evs[0]?.id)}`)).json();
    expect(where).toMatchObject({ gemeente: 'gm0797', deliveries: 2 });
    expect(sim.stats().total).toMatchObject({ received: 3, duplicates: 1 });
  });

  it('refuses a bad configuration', async () => {
    await expect(startKvsSimulator({ gemeenten: [] })).rejects.toThrow(/gemeenten/);
    await expect(startKvsSimulator({ gemeenten: ['GM0797'] })).rejects.toThrow(/CBS/);
    await expect(
      startKvsSimulator({ gemeenten: ['gm0797'], tokens: { gm0363: 'x' } }),
    ).rejects.toThrow(/gm0363/);
  });
});

describe('main.ts', () => {
  it('prints the URL, serves, and stops cleanly on SIGTERM', async () => {
    const main = await spawnMain(fileURLToPath(new URL('./main.ts', import.meta.url)), [
      '--port',
      '0',
      '--gemeenten',
      'gm0797,gm0363',
    ]);
    try {
      const url = main.firstLine;
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect((await fetch(`${url}/health`)).status).toBe(200);
      // main.ts checks the KVS delivery contract, as a real KVS would.
      const offContract = await post(`${url}/gemeenten/gm0363/events`, event());
      expect(offContract.status).toBe(400);
      const golden = JSON.parse(
        readFileSync(
          resolve(REPO_ROOT, 'adapters/coa/fixtures/golden/koppeling-hoofdpersoon.expected.json'),
          'utf8',
        ),
      ) as { data: Record<string, unknown> };
      delete golden.data.bron;
      const res = await post(`${url}/gemeenten/gm0797/events`, golden);
      expect(res.status).toBe(201);
    } finally {
      expect(await main.stop()).toBe(0);
    }
  }, 30_000);
});
