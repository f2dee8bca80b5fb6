import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { generateCohort } from './cohort.ts';
import type { Cohort } from './cohort.ts';
import { MAX_RETRIES, sendCohort } from './sender.ts';
import { TVS_COLUMNS } from './tvs-csv.ts';

const API_KEY = 'test-coa-key';

interface Received {
  path: string;
  contentType: string;
  authorization: string;
  body: string;
  at: number;
}

type Handler = (req: Received, res: ServerResponse) => void;

/**
 * A stand-in for the hub's COA endpoint: answers the way the hub's contract says and records
 * every request, so the test can see what COA sent and in which order.
 */
async function fakeHub(
  handler: Handler,
): Promise<{ url: string; received: Received[]; server: Server }> {
  const received: Received[] = [];
  let seq = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: Received = {
        path: req.url ?? '',
        contentType: req.headers['content-type'] ?? '',
        authorization: req.headers.authorization ?? '',
        body: Buffer.concat(chunks).toString('utf8'),
        at: seq++,
      };
      received.push(r);
      handler(r, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, received, server };
}

function json(res: ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  res.writeHead(status, { 'content-type': type });
  res.end(JSON.stringify(body));
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

const GEMEENTEN = [
  { code: '0797', naam: 'Heusden' },
  { code: '0796', naam: "'s-Hertogenbosch" },
];

/** Rows of the CSV body as objects keyed by column. */
function csvRows(body: string): Record<string, string>[] {
  const [header, ...lines] = body
    .replace(/^\uFEFF/, '')
    .split('\r\n')
    .filter((l) => l !== '');
  const cols = (header ?? '').split(';');
  return lines.map((l) => Object.fromEntries(l.split(';').map((v, i) => [cols[i], v])));
}

describe('sendCohort', () => {
  it('pushes JSON and one CSV export, retries 5xx with the same body, records 4xx', async () => {
    const cohort: Cohort = generateCohort({ size: 40, seed: 9, gemeenten: GEMEENTEN });
    // Chosen among koppelingen that go as JSON (with csvShare 0.3, index 0 and 1 do) and are
    // adults, so the effect on the overdracht shows too.
    const adults = cohort.persons.filter((p) => p.adult).map((p) => p.koppelingId);
    const jsonAdults = adults.filter((id) => {
      const i = cohort.koppelingen.findIndex((k) => k.koppelingId === id);
      return Math.floor((i + 1) * 0.3) === Math.floor(i * 0.3);
    });
    const flaky = jsonAdults[0] as string;
    const invalid = jsonAdults[1] as string;
    let csvRejectedId = '';
    const attempts = new Map<string, number>();

    const hub = await fakeHub((req, res) => {
      if (req.authorization !== `Bearer ${API_KEY}`)
        return json(res, 401, { title: 'Unauthorized' });
      if (req.path === '/v1/koppelingen') {
        const k = JSON.parse(req.body) as { koppelingId: string; berichtId: string };
        const n = (attempts.get(k.koppelingId) ?? 0) + 1;
        attempts.set(k.koppelingId, n);
        if (k.koppelingId === flaky && n === 1) {
          return json(
            res,
            503,
            { title: 'Service unavailable', status: 503 },
            'application/problem+json',
          );
        }
        if (k.koppelingId === invalid) {
          return json(
            res,
            400,
            {
              type: 'https://ketenhub.nl/problems/validation',
              title: 'Validation failed',
              status: 400,
              errors: [{ field: 'persoon.bsn', rule: 'elfproef', message: 'fails the elfproef' }],
            },
            'application/problem+json',
          );
        }
        return json(res, 202, {
          eventId: randomUUID(),
          type: 'nl.inburgering.inburgeraar.gekoppeld',
        });
      }
      if (req.path === '/v1/tvs-export') {
        const rows = csvRows(req.body);
        // Rows are numbered from 1 after the header; the third row is refused.
        csvRejectedId = rows[2]?.koppeling_id ?? '';
        return json(res, 207, {
          rows: rows.length,
          accepted: rows
            .map((r, i) => ({ row: i + 1, koppelingId: r.koppeling_id, eventId: randomUUID() }))
            .filter((a) => a.row !== 3),
          rejected: [{ row: 3, field: 'bsn', rule: 'elfproef', reason: 'fails the elfproef' }],
        });
      }
      if (req.path === '/v1/overdrachten') {
        return json(res, 202, {
          eventId: randomUUID(),
          type: 'nl.inburgering.inburgeraar.overgedragen',
        });
      }
      return json(res, 404, { title: 'Not found' });
    });
    servers.push(hub.server);

    const report = await sendCohort({
      baseUrl: `${hub.url}/`,
      apiKey: API_KEY,
      cohort,
      retryBaseMs: 5,
    });

    // Split: floor(40 × 0.3) = 12 rows in one CSV request, 28 JSON pushes.
    const csvRequests = hub.received.filter((r) => r.path === '/v1/tvs-export');
    expect(csvRequests).toHaveLength(1);
    expect(csvRequests[0]?.contentType).toBe('text/csv; charset=utf-8');
    expect(csvRequests[0]?.body.startsWith(`\uFEFF${TVS_COLUMNS.join(';')}\r\n`)).toBe(true);
    expect(csvRows(csvRequests[0]?.body ?? '')).toHaveLength(12);
    for (const r of hub.received) expect(r.authorization).toBe(`Bearer ${API_KEY}`);

    // The 503 was retried with the very same body; the 400 was not retried.
    const flakyBodies = hub.received
      .filter((r) => r.path === '/v1/koppelingen' && r.body.includes(flaky))
      .map((r) => r.body);
    expect(flakyBodies).toHaveLength(2);
    expect(flakyBodies[1]).toBe(flakyBodies[0]);
    expect(attempts.get(invalid)).toBe(1);

    const acceptedKop = report.accepted.filter((a) => a.kind === 'koppeling');
    expect(acceptedKop.filter((a) => a.channel === 'json')).toHaveLength(27);
    expect(acceptedKop.filter((a) => a.channel === 'csv')).toHaveLength(11);
    expect(acceptedKop.map((a) => a.koppelingId)).toContain(flaky);
    for (const a of report.accepted) {
      expect(a.eventId).toMatch(/^[0-9a-f-]{36}$/);
      const k = cohort.koppelingen.find((x) => x.koppelingId === a.koppelingId);
      expect(a.gemeenteCode).toBe(k?.gemeenteCode);
    }

    expect(report.rejected).toContainEqual({
      kind: 'koppeling',
      channel: 'json',
      koppelingId: invalid,
      status: 400,
      field: 'persoon.bsn',
      reason: 'Validation failed: persoon.bsn elfproef fails the elfproef',
    });
    expect(report.rejected).toContainEqual({
      kind: 'koppeling',
      channel: 'csv',
      koppelingId: csvRejectedId,
      row: 3,
      status: 207,
      field: 'bsn',
      reason: 'elfproef: fails the elfproef',
    });
    expect(report.rejected).toHaveLength(2);

    // Overdrachten only for accepted koppelingen, and only after the koppeling was sent.
    const sentOverdrachten = hub.received.filter((r) => r.path === '/v1/overdrachten');
    const acceptedIds = new Set(acceptedKop.map((a) => a.koppelingId));
    const expected = cohort.overdrachten.filter((o) => acceptedIds.has(o.koppelingId));
    expect(sentOverdrachten).toHaveLength(expected.length);
    expect(report.accepted.filter((a) => a.kind === 'overdracht')).toHaveLength(expected.length);
    const lastKoppeling = Math.max(
      ...hub.received.filter((r) => r.path !== '/v1/overdrachten').map((r) => r.at),
    );
    for (const r of sentOverdrachten) {
      expect(r.contentType).toBe('application/json');
      expect(r.at).toBeGreaterThan(lastKoppeling);
    }
    expect(report.skipped.map((s) => s.koppelingId)).toContain(invalid);
    if (adults.includes(csvRejectedId)) {
      expect(report.skipped.map((s) => s.koppelingId)).toContain(csvRejectedId);
    }
    expect(report.durationMs).toBeGreaterThanOrEqual(0);
  });

  it(`gives up after ${MAX_RETRIES} retries and honours csvShare 0`, async () => {
    const cohort = generateCohort({ size: 3, seed: 2, gemeenten: GEMEENTEN });
    const hub = await fakeHub((_req, res) => json(res, 503, { title: 'Service unavailable' }));
    servers.push(hub.server);
    const report = await sendCohort({
      baseUrl: hub.url,
      apiKey: API_KEY,
      cohort,
      csvShare: 0,
      retryBaseMs: 1,
    });
    expect(hub.received.every((r) => r.path === '/v1/koppelingen')).toBe(true);
    expect(hub.received).toHaveLength(3 * (MAX_RETRIES + 1));
    expect(report.accepted).toEqual([]);
    expect(report.rejected).toHaveLength(3);
    for (const r of report.rejected) {
      expect(r).toMatchObject({ kind: 'koppeling', channel: 'json', status: 503 });
      expect(r.reason).toMatch(/gave up after 6 attempts/);
    }
    expect(report.skipped).toHaveLength(cohort.overdrachten.length);
  });

  it('retries network errors and 429 through fetchImpl', async () => {
    const cohort = generateCohort({ size: 2, seed: 4, gemeenten: GEMEENTEN });
    const calls: string[] = [];
    const fetchImpl = (async (_url: string | URL | Request, init?: RequestInit) => {
      const body = String(init?.body);
      calls.push(body);
      const n = calls.filter((b) => b === body).length;
      if (n === 1) throw new TypeError('fetch failed', { cause: new Error('ECONNRESET') });
      if (n === 2) return new Response('{}', { status: 429, headers: { 'retry-after': '0' } });
      return new Response(JSON.stringify({ eventId: randomUUID(), type: 'x' }), { status: 202 });
    }) as typeof fetch;
    const report = await sendCohort({
      baseUrl: 'http://hub.invalid',
      apiKey: API_KEY,
      cohort,
      csvShare: 0,
      fetchImpl,
      retryBaseMs: 1,
    });
    expect(report.rejected).toEqual([]);
    expect(report.accepted).toHaveLength(cohort.koppelingen.length + cohort.overdrachten.length);
    expect(calls).toHaveLength(3 * (cohort.koppelingen.length + cohort.overdrachten.length));
  });

  it('records every CSV koppeling when the whole export is refused', async () => {
    const cohort = generateCohort({ size: 10, seed: 6, gemeenten: GEMEENTEN });
    const hub = await fakeHub((req, res) =>
      req.path === '/v1/tvs-export'
        ? json(res, 400, { title: 'Invalid request', detail: 'unknown column' })
        : json(res, 202, { eventId: randomUUID(), type: 'x' }),
    );
    servers.push(hub.server);
    const report = await sendCohort({ baseUrl: hub.url, apiKey: API_KEY, cohort, csvShare: 1 });
    expect(report.rejected).toHaveLength(10);
    expect(report.rejected[0]).toMatchObject({
      channel: 'csv',
      status: 400,
      reason: 'Invalid request: unknown column',
    });
    expect(hub.received).toHaveLength(1);
  });
});
