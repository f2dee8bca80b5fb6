import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import {
  addDays,
  createSchedule,
  startPlannedSimulator,
  type PlannedSimulatorOptions,
  type Schedule,
} from './schedule.ts';

let closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of closers.reverse()) await c();
  closers = [];
});

/** A stand-in hub: every POST recorded by path, answered 202. */
async function startHub() {
  const received: { path: string; body: { n: number } }[] = [];
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      received.push({ path: req.url ?? '', body: JSON.parse(text) as { n: number } });
      res.writeHead(202).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

function schedule(hubUrl?: string): Schedule<'a' | 'b', { n: number }> {
  const s = createSchedule<'a' | 'b', { n: number }>({
    name: 'test',
    paths: { a: '/v1/a', b: '/v1/b' },
    ...(hubUrl ? { hubUrl, hubApiKey: 'k' } : {}),
    today: '2026-01-01',
    retryDelayMs: 10,
    describe: (body) => ({ n: body.n }),
  });
  closers.push(() => s.close());
  return s;
}

describe('createSchedule', () => {
  it('sends nothing until the clock reaches a day, then what fell due in date order', async () => {
    const hub = await startHub();
    const s = schedule(hub.url);
    s.add([
      { kind: 'b', datum: '2026-01-20', body: { n: 3 }, sent: false },
      { kind: 'a', datum: '2026-01-05', body: { n: 1 }, sent: false },
      { kind: 'a', datum: '2026-01-10', body: { n: 2 }, sent: false },
    ]);
    expect(s.advance(3)).toBe('2026-01-04');
    expect(await s.idle()).toBe(true);
    expect(hub.received).toEqual([]);
    expect(s.advance(10)).toBe('2026-01-14');
    expect(await s.idle()).toBe(true);
    expect(hub.received).toEqual([
      { path: '/v1/a', body: { n: 1 } },
      { path: '/v1/a', body: { n: 2 } },
    ]);
    s.advance(10);
    expect(await s.idle()).toBe(true);
    expect(hub.received.map((r) => r.path)).toEqual(['/v1/a', '/v1/a', '/v1/b']);
    expect(s.stats().a).toMatchObject({ delivered: 2, pending: 0 });
    expect(s.stats().b).toMatchObject({ delivered: 1 });
    // Sent once: moving on sends nothing again.
    s.advance(30);
    expect(await s.idle()).toBe(true);
    expect(hub.received).toHaveLength(3);
  });

  it('moves by /_sim/clock, and answers a bad move with 400 naming the field', async () => {
    const s = schedule();
    const app = Fastify();
    s.routes(app);
    closers.push(() => app.close());
    expect((await app.inject({ method: 'GET', url: '/_sim/clock' })).json()).toEqual({
      today: '2026-01-01',
    });
    const moved = await app.inject({
      method: 'POST',
      url: '/_sim/clock',
      payload: { advanceDays: 7 },
    });
    expect(moved.json()).toEqual({ today: '2026-01-08' });
    const to = await app.inject({
      method: 'POST',
      url: '/_sim/clock',
      payload: { date: '2026-02-01' },
    });
    expect(to.json()).toEqual({ today: '2026-02-01' });
    const back = await app.inject({
      method: 'POST',
      url: '/_sim/clock',
      payload: { date: '2026-01-01' },
    });
    expect(back.statusCode).toBe(400);
    expect(back.json().errors[0]).toMatchObject({ field: 'date' });
    const bad = await app.inject({
      method: 'POST',
      url: '/_sim/clock',
      payload: { advanceDays: 'x' },
    });
    expect(bad.json().errors[0]).toMatchObject({ field: 'advanceDays' });
    s.reset();
    expect(s.today()).toBe('2026-01-01');
  });

  it('rewinds the calendar only when every planned message is sent (a time-lapse run after run)', async () => {
    const hub = await startHub();
    const s = schedule(hub.url);
    const app = Fastify();
    s.routes(app);
    closers.push(() => app.close());
    const clock = (payload: object) => app.inject({ method: 'POST', url: '/_sim/clock', payload });
    s.add([{ kind: 'a', datum: '2026-01-10', sent: false, body: { n: 1 } }]);
    s.advance(5);
    // Something still planned ahead: no rewind.
    const pending = await clock({ date: '2026-01-02', rewind: true });
    expect(pending.statusCode).toBe(409);
    expect(pending.json().errors[0]).toMatchObject({
      field: 'rewind',
      rule: 'nothing planned ahead',
    });
    expect(s.today()).toBe('2026-01-06');
    s.advance(10);
    expect(await s.idle()).toBe(true);
    expect((await clock({ date: '2026-01-02', rewind: true })).json()).toEqual({
      today: '2026-01-02',
    });
    // Never forward by rewind, and what was sent is not sent again.
    expect((await clock({ date: '2026-03-01', rewind: true })).statusCode).toBe(409);
    s.advance(30);
    expect(await s.idle()).toBe(true);
    expect(hub.received).toHaveLength(1);
  });

  it('adds days across months and years', () => {
    expect(addDays('2026-12-25', 10)).toBe('2027-01-04');
  });
});

/** A partner that answers a request twice: `a` two days after it arrived, `b` a week after. */
interface Request {
  berichtId: string;
  begeleidingId: string;
  gemeenteCode: string;
  onderdelen: string[];
  startwens: string;
  contactpersoon: { naam: string; email: string };
}

function planned(opts: PlannedSimulatorOptions) {
  return startPlannedSimulator(opts, {
    partner: 'voorbeeld',
    paths: { a: '/v1/a', b: '/v1/b' },
    describe: (body: { n: number; id: string }) => ({ n: body.n }),
    // A contract from the catalogue, so the intake checks a real one.
    path: '/verzoeken',
    schemaId: 'https://contracts.ketenhub.nl/vluchtelingenwerk/aanvraag.schema.json',
    what: 'verzoek',
    idOf: (r: Request) => r.begeleidingId,
    plan: (r, today) => [
      {
        kind: 'a' as const,
        datum: addDays(today, 2),
        body: { n: 1, id: r.begeleidingId },
        sent: false,
      },
      {
        kind: 'b' as const,
        datum: addDays(today, 7),
        body: { n: 2, id: r.begeleidingId },
        sent: false,
      },
    ],
    answer: (r) => ({ id: r.begeleidingId }),
    list: { path: '/_sim/verzoeken', view: (r) => ({ verzoek: r.request, op: r.ontvangenOp }) },
    statsKey: 'antwoorden',
  });
}

describe('startPlannedSimulator', () => {
  const request: Request = {
    berichtId: '4b3c2a1e-0000-4000-8000-000000000001',
    begeleidingId: `vb-${'1'.padStart(32, '0')}`,
    gemeenteCode: 'gm0797',
    onderdelen: ['pvt'],
    startwens: '2026-01-05',
    contactpersoon: { naam: 'consulent', email: 'c@gemeente.example' },
  };
  const post = (url: string, body: unknown, token = 'geheim') =>
    fetch(`${url}/verzoeken`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'idempotency-key': 'k1',
        authorization: `Bearer ${token}`,
      },
      body: JSON.stringify(body),
    });

  it('takes requests by token and contract once per key, lists them, and answers as its clock moves', async () => {
    const hub = await startHub();
    const sim = await planned({ token: 'geheim', today: '2026-01-01', retryDelayMs: 10 });
    closers.push(() => sim.close());
    expect(sim.id).toBe('voorbeeld');
    expect((await post(sim.url, request, 'fout')).status).toBe(401);
    const bad = await post(sim.url, { ...request, gemeenteCode: 'x' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toContain('gemeenteCode');
    const taken = await post(sim.url, request);
    expect(taken.status).toBe(201);
    expect(await taken.json()).toEqual({ id: request.begeleidingId });
    expect((await post(sim.url, request)).status).toBe(201);

    const listed = [{ verzoek: request, op: '2026-01-01' }];
    expect(sim.requests()).toEqual(listed);
    expect(await (await fetch(`${sim.url}/_sim/verzoeken`)).json()).toEqual(listed);

    sim.setHub(hub.url, 'k');
    expect(sim.advance(3)).toBe('2026-01-04');
    expect(await sim.idle()).toBe(true);
    expect(hub.received).toEqual([{ path: '/v1/a', body: { n: 1, id: request.begeleidingId } }]);
    const moved = await fetch(`${sim.url}/_sim/clock`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ advanceDays: 7 }),
    });
    expect(await moved.json()).toEqual({ today: '2026-01-11' });
    expect(await sim.idle()).toBe(true);
    expect(hub.received.map((r) => r.path)).toEqual(['/v1/a', '/v1/b']);

    const stats = (await (await fetch(`${sim.url}/_sim/stats`)).json()) as ReturnType<
      typeof sim.stats
    >;
    expect(stats).toMatchObject({ received: 1, duplicates: 1, deliveries: 4 });
    expect(stats.antwoorden).toMatchObject({ a: { delivered: 1 }, b: { delivered: 1 } });
    expect(sim.stats()).toEqual(stats);
  });

  it('plays the organisation it is given, and forgets everything on reset', async () => {
    const sim = await planned({ id: 'voorbeeld-noord', today: '2026-01-01' });
    closers.push(() => sim.close());
    expect(sim.id).toBe('voorbeeld-noord');
    expect((await post(sim.url, request, '')).status).toBe(201);
    sim.advance(30);
    expect((await fetch(`${sim.url}/_sim/reset`, { method: 'POST' })).status).toBe(204);
    expect(sim.requests()).toEqual([]);
    expect(sim.today()).toBe('2026-01-01');
    expect(sim.stats()).toMatchObject({ received: 0, deliveries: 0 });
  });
});
