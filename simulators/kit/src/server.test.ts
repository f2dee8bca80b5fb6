import { afterEach, describe, expect, it } from 'vitest';
import { createFaultTable } from './faults.ts';
import type { Fault, FaultTable } from './faults.ts';
import {
  SIMULATED_FAULT_TYPE,
  createSimApp,
  createSimServer,
  faultOf,
  installFaultHook,
  listenSim,
  registerSimRoutes,
  simControls,
} from './server.ts';
import type { FaultHookOptions, Listening, SimulatorLogger } from './server.ts';

interface Sim extends Listening {
  faults: FaultTable;
  taken: Fault[];
  state: { orders: number };
}

let open: Listening[] = [];
afterEach(async () => {
  await Promise.all(open.map((s) => s.close()));
  open = [];
});

/** A small partner: `POST /gemeenten/:code/orders` counts orders, `GET /api/:name` echoes. */
async function start(hook: FaultHookOptions = {}, logger?: SimulatorLogger): Promise<Sim> {
  const app = createSimApp();
  const faults = createFaultTable({ scopes: { gemeente: { pattern: '^gm[0-9]{4}$' } } });
  const state = { orders: 0 };
  const taken: Fault[] = [];
  registerSimRoutes(app, {
    // With the DeliveryStats every simulator's stats hold.
    stats: () => ({ received: state.orders, duplicates: 0, orders: state.orders }),
    reset: () => {
      state.orders = 0;
    },
    faults,
  });
  installFaultHook(app, faults, {
    scopeOf: (request) => {
      const code = (request.params as { code?: string }).code;
      return code === undefined ? {} : { gemeente: code };
    },
    onFault: (fault) => taken.push(fault),
    ...hook,
  });
  app.post('/gemeenten/:code/orders', async (_request, reply) => {
    state.orders += 1;
    return reply.code(201).send({ orders: state.orders });
  });
  app.get<{ Params: { name: string } }>('/api/:name', async (request, reply) => {
    reply.header('API-Version', '1.0.0');
    return { name: request.params.name, fault: faultOf(request)?.kind ?? null };
  });
  const listening = await listenSim(app, { name: 'test-simulator', ...(logger ? { logger } : {}) });
  open.push(listening);
  return { ...listening, faults, taken, state };
}

const order = (sim: Sim, code = 'gm0797', signal?: AbortSignal) =>
  fetch(`${sim.url}/gemeenten/${code}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
    ...(signal ? { signal } : {}),
  });

const postFault = (sim: Sim, body: string) =>
  fetch(`${sim.url}/_sim/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });

describe('control routes', () => {
  it('answer /health, /_sim/stats and reset state and faults together', async () => {
    const sim = await start();
    expect(sim.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await (await fetch(`${sim.url}/health`)).json()).toEqual({ status: 'ok' });
    await order(sim);
    expect(await (await fetch(`${sim.url}/_sim/stats`)).json()).toEqual({
      received: 1,
      duplicates: 0,
      orders: 1,
    });
    sim.faults.add({ kind: 'reset' });
    const reset = await fetch(`${sim.url}/_sim/reset`, { method: 'POST' });
    expect(reset.status).toBe(204);
    expect(sim.faults.list()).toEqual([]);
    expect(await (await fetch(`${sim.url}/_sim/stats`)).json()).toEqual({
      received: 0,
      duplicates: 0,
      orders: 0,
    });
  });

  it('add, list and clear faults over HTTP', async () => {
    const sim = await start();
    const created = await postFault(
      sim,
      JSON.stringify({ kind: 'status', status: 502, count: 5, scope: { gemeente: 'gm0363' } }),
    );
    expect(created.status).toBe(201);
    const fault = (await created.json()) as Record<string, unknown>;
    expect(fault).toEqual({
      id: 1,
      kind: 'status',
      status: 502,
      scope: { gemeente: 'gm0363' },
      count: 5,
      remaining: 5,
    });
    expect((await order(sim, 'gm0363')).status).toBe(502);
    expect(await (await fetch(`${sim.url}/_sim/faults`)).json()).toEqual({
      faults: [{ ...fault, remaining: 4 }],
    });
    expect((await fetch(`${sim.url}/_sim/faults`, { method: 'DELETE' })).status).toBe(204);
    expect(await (await fetch(`${sim.url}/_sim/faults`)).json()).toEqual({ faults: [] });
    expect((await order(sim, 'gm0363')).status).toBe(201);
  });

  it('refuse a bad fault with a 400 problem naming each field and rule', async () => {
    const sim = await start();
    const bad = await postFault(sim, JSON.stringify({ kind: 'status', status: 42, mode: 'x' }));
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await bad.json()).toMatchObject({
      status: 400,
      title: 'Invalid fault',
      errors: [
        { field: 'status', rule: 'minimum', message: 'must be >= 200' },
        { field: 'mode', rule: 'additionalProperties', message: 'is not allowed here' },
      ],
    });
    const notJson = await postFault(sim, '{kind');
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({ errors: [{ field: '(body)', rule: 'json' }] });
    const empty = await fetch(`${sim.url}/_sim/faults`, { method: 'POST' });
    expect(await empty.json()).toMatchObject({ errors: [{ field: '', rule: 'type' }] });
    expect(sim.faults.list()).toEqual([]);
  });
});

describe('the fault hook', () => {
  it('answers a status fault with Retry-After and a simulated-fault problem, then recovers', async () => {
    const sim = await start();
    sim.faults.add({ kind: 'status', status: 429, retryAfterSeconds: 7, count: 1 });
    const res = await order(sim);
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await res.json()).toMatchObject({ type: SIMULATED_FAULT_TYPE, status: 429 });
    expect(sim.state.orders).toBe(0);
    expect(sim.taken.map((f) => f.id)).toEqual([1]);
    expect((await order(sim)).status).toBe(201);
  });

  it('sends the body a fault brings, or none when the simulator wants none', async () => {
    const sim = await start();
    sim.faults.add({ kind: 'status', status: 500, body: { fout: 'kapot' }, count: 1 });
    sim.faults.add({ kind: 'status', status: 500, body: 'kapot', count: 1 });
    const json = await order(sim);
    expect(json.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await json.json()).toEqual({ fout: 'kapot' });
    expect(await (await order(sim)).text()).toBe('kapot');

    const bare = await start({ statusBody: 'none' });
    bare.faults.add({ kind: 'status' });
    const res = await order(bare);
    expect(res.status).toBe(503);
    expect(await res.text()).toBe('');
  });

  it('scopes faults by gemeente, method and path, and never faults the control routes', async () => {
    const sim = await start();
    sim.faults.add({ kind: 'status', status: 500, scope: { gemeente: 'gm0797' } });
    sim.faults.add({ kind: 'status', status: 501, scope: { method: 'GET', path: '/api/a' } });
    expect((await order(sim, 'gm0797')).status).toBe(500);
    expect((await order(sim, 'gm0363')).status).toBe(201);
    expect((await fetch(`${sim.url}/api/a`)).status).toBe(501);
    expect((await fetch(`${sim.url}/api/b`)).status).toBe(200);
    sim.faults.add({ kind: 'reset' });
    expect((await fetch(`${sim.url}/health`)).status).toBe(200);
    expect((await fetch(`${sim.url}/_sim/stats`)).status).toBe(200);
  });

  it('leaves a request alone when scopeOf says it is not the partner API', async () => {
    const sim = await start({ scopeOf: (r) => (r.url.startsWith('/api/') ? undefined : {}) });
    sim.faults.add({ kind: 'status', status: 500 });
    expect((await fetch(`${sim.url}/api/a`)).status).toBe(200);
    expect((await order(sim)).status).toBe(500);
  });

  it('answers as usual under another version with a version fault', async () => {
    const sim = await start();
    sim.faults.add({ kind: 'version', apiVersion: '2.0.0', count: 1 });
    const res = await fetch(`${sim.url}/api/x`);
    expect(res.status).toBe(200);
    expect(res.headers.get('api-version')).toBe('2.0.0');
    expect(await res.json()).toEqual({ name: 'x', fault: 'version' });
    expect((await fetch(`${sim.url}/api/x`)).headers.get('api-version')).toBe('1.0.0');

    const other = await start({ versionHeader: 'X-Version' });
    other.faults.add({ kind: 'version', apiVersion: '2.0.0' });
    const res2 = await fetch(`${other.url}/api/x`);
    expect(res2.headers.get('x-version')).toBe('2.0.0');
    expect(res2.headers.get('api-version')).toBe('1.0.0');
  });

  it('answers late with a delaying hang', async () => {
    const sim = await start();
    sim.faults.add({ kind: 'hang', delayMs: 300, count: 1 });
    const started = Date.now();
    const res = await order(sim);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(res.status).toBe(201);
    expect(sim.state.orders).toBe(1);
  });

  it('resets the connection or never answers, and close() still returns', async () => {
    const sim = await start();
    sim.faults.add({ kind: 'reset', count: 1 });
    await expect(order(sim)).rejects.toThrow();
    sim.faults.add({ kind: 'hang', count: 1 });
    await expect(order(sim, 'gm0797', AbortSignal.timeout(200))).rejects.toThrow();
    expect((await order(sim)).status).toBe(201);
    expect(sim.state.orders).toBe(1);

    sim.faults.add({ kind: 'hang' });
    const pending = order(sim).catch((err: unknown) => err);
    await new Promise((r) => setTimeout(r, 50));
    await sim.close();
    expect(await pending).toBeInstanceOf(Error);
  });
});

describe('listenSim', () => {
  it('gives a loopback URL for a wildcard bind and warns that /_sim is exposed', async () => {
    const warnings: string[] = [];
    const app = createSimApp();
    app.get('/', async () => 'ok');
    const listening = await listenSim(app, {
      host: '0.0.0.0',
      name: 'test-simulator',
      logger: { info: () => {}, warn: (_f, m) => warnings.push(m) },
    });
    open.push(listening);
    expect(listening.url).toBe(`http://127.0.0.1:${listening.port}`);
    expect(await (await fetch(listening.url)).text()).toBe('ok');
    expect(warnings).toEqual([
      'test-simulator: /_sim is unauthenticated and not bound to loopback',
    ]);
    // close() twice is one close.
    await Promise.all([listening.close(), listening.close()]);
  });
});

describe('simControls', () => {
  it('adds and clears faults, and resets state and faults together', () => {
    const faults = createFaultTable();
    let resets = 0;
    const controls = simControls(faults, () => resets++);
    controls.injectFault({ kind: 'reset' });
    expect(() => controls.injectFault({ kind: 'status', status: 42 })).toThrow(/status/);
    expect(faults.list()).toHaveLength(1);
    controls.clearFaults();
    expect(faults.list()).toEqual([]);
    controls.injectFault({ kind: 'hang' });
    controls.reset();
    expect([resets, faults.list()]).toEqual([1, []]);
  });
});

describe('createSimServer', () => {
  it('wires the control routes, the fault hook with its scopes, the controls and listen', async () => {
    let clock = 1_000;
    const counters = { calls: 0, faulted: 0 };
    const server = createSimServer({
      name: 'test-simulator',
      bodyLimit: 64,
      scopes: { api: { values: ['orders'] } },
      now: () => clock,
      stats: () => ({ received: counters.calls, duplicates: 0, ...counters }),
      reset: () => {
        counters.calls = 0;
        counters.faulted = 0;
      },
      scopeOf: () => ({ api: 'orders' }),
      onFault: () => counters.faulted++,
    });
    server.app.post('/orders', async () => {
      counters.calls++;
      return { ok: true };
    });
    const listening = await server.listen();
    open.push(listening);
    const post = (body = '{}') =>
      fetch(`${listening.url}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
    server.controls.injectFault({
      kind: 'status',
      status: 502,
      durationMs: 100,
      scope: { api: 'orders' },
    });
    expect((await post()).status).toBe(502);
    clock += 100;
    expect((await post()).status).toBe(200);
    expect((await post('x'.repeat(65))).status).toBe(413);
    expect(await (await fetch(`${listening.url}/_sim/stats`)).json()).toEqual({
      received: 1,
      duplicates: 0,
      calls: 1,
      faulted: 1,
    });
    server.controls.injectFault({ kind: 'reset' });
    server.controls.reset();
    expect([counters, server.faults.list()]).toEqual([{ calls: 0, faulted: 0 }, []]);
  });
});
