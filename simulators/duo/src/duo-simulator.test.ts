import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnMain } from '@ketenhub/simulator-kit';
import {
  DEFAULT_DUO_SPEC_DIR,
  DUO_API_VERSIONS,
  GEBEURTENISSEN,
  duoSpecsAvailable,
  loadDuoSpecs,
  startDuoSimulator,
} from './index.ts';
import type { DuoSimulator, DuoSimulatorOptions, SimulatorLogger } from './index.ts';

const HAVE_SPECS = duoSpecsAvailable(DEFAULT_DUO_SPEC_DIR);
if (!HAVE_SPECS) {
  console.error(
    `duo-simulator.test: DUO's OpenAPI files are not in ${DEFAULT_DUO_SPEC_DIR}; running without spec validation and skipping the spec-only tests`,
  );
}
const SPECS = HAVE_SPECS ? loadDuoSpecs() : undefined;

const G1 = { code: '0797', oin: '00000001001234567000' };
const G2 = { code: '0796', oin: '00000001001234568000' };
const BSN = '999990019';
const VNUMMER = 1234567890;
/** Today in the Netherlands: 2027-06-15. */
const NOW = Date.parse('2027-06-15T10:00:00Z');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const silent: SimulatorLogger = { info: () => {}, warn: () => {} };

let sims: DuoSimulator[] = [];
let closers: (() => Promise<void>)[] = [];

async function start(opts: Partial<DuoSimulatorOptions> = {}): Promise<DuoSimulator> {
  const sim = await startDuoSimulator({
    gemeenten: { [G1.code]: G1.oin, [`gm${G2.code}`]: G2.oin },
    ...(SPECS ? { specs: SPECS } : { specDir: false }),
    processingDelayMs: 20,
    now: () => NOW,
    logger: silent,
    ...opts,
  });
  sims.push(sim);
  return sim;
}

afterEach(async () => {
  try {
    // An answer of the simulator that departs from DUO's spec is a bug in the simulator.
    for (const sim of sims) {
      const bad = sim.requests().filter((r) => r.responseViolations.length > 0);
      expect(bad, JSON.stringify(bad, null, 2)).toEqual([]);
    }
  } finally {
    await Promise.all(sims.map((s) => s.close()));
    await Promise.all(closers.map((c) => c()));
    sims = [];
    closers = [];
  }
});

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

interface CallOptions {
  body?: unknown;
  gemeente?: string;
  headers?: Record<string, string>;
  omit?: string[];
}

async function call(
  sim: DuoSimulator,
  method: string,
  path: string,
  opts: CallOptions = {},
): Promise<Answer> {
  const headers: Record<string, string> = {
    ...sim.headersFor(opts.gemeente ?? G1.code),
    ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }),
    ...opts.headers,
  };
  for (const h of opts.omit ?? []) delete headers[h];
  const res = await fetch(`${sim.baseUrl}${path}`, {
    method,
    headers,
    ...(opts.body === undefined
      ? {}
      : { body: typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body) }),
  });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    text,
    json: text ? JSON.parse(text) : undefined,
  };
}

/** The spec check of an answer, as the hub's conformance test would do it. */
function expectSpecConform(method: string, path: string, a: Answer): void {
  if (!SPECS) return;
  expect(SPECS.validateResponse(method, `/v1${path}`, a.status, a.headers, a.json)).toEqual([]);
}

async function simPost(sim: DuoSimulator, path: string, body: unknown): Promise<Answer> {
  const res = await fetch(`${sim.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    text,
    json: text ? JSON.parse(text) : undefined,
  };
}

async function simGet(sim: DuoSimulator, path: string): Promise<any> {
  return (await fetch(`${sim.url}${path}`)).json();
}

interface HubRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: any;
}

interface FakeHub {
  url: string;
  received: HubRequest[];
}

/** The hub's Notificatie API: answers from `script` in order (201 once it runs out). */
async function startFakeHub(script: (number | 'reset' | 'hang')[] = []): Promise<FakeHub> {
  const received: HubRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      received.push({
        path: req.url ?? '',
        headers: req.headers,
        body: text ? JSON.parse(text) : undefined,
      });
      const step = script.shift() ?? 201;
      if (step === 'reset') {
        req.socket.resetAndDestroy();
        return;
      }
      if (step === 'hang') return;
      res.writeHead(step, { 'API-Version': '1.8.0' });
      res.end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, received };
}

const BASE_SEED = {
  bsn: BSN,
  vNummer: VNUMMER,
  gemeentecode: G1.code,
  vestigingsdatum: '2026-01-10',
  inburgeringsplicht: { indicatorInburgeringsplicht: true, begindatum: '2026-01-01' },
};

describe('DUO simulator: raadpleging', () => {
  it("answers every GET the hub uses with DUO's shape, status and API-Version", async () => {
    const sim = await start();
    sim.seed({
      ...BASE_SEED,
      doelgroep: { indeling: 'Asielstatushouder', begindatum: '2026-01-01' },
      lbt: {
        examennummer: 'LBT000123',
        resultaten: [
          {
            resultaat: 'B1-route haalbaar',
            behaaldeScore: '61,50',
            benodigdeScore: '55,00',
            datumAfname: '2026-02-20',
          },
        ],
      },
      pip: { dagtekeningPip: '2026-03-01', leerroute: 'B', geschatteIntensiteitB1Route: 600 },
      inburgeringstermijn: { startdatum: '2026-03-01' },
      map: { datumEindgesprekMap: '2027-05-01' },
      pvt: { datumOndertekeningPvt: '2026-09-01' },
      uren: [{ participatietaalles: 120, taallesknm: 40 }],
      examens: [{ onderdeel: 'LE', examendatum: '2027-04-01', resultaat: 'Geslaagd' }],
    });
    sim.applyEvent(BSN, { type: 'tijdelijke-vrijstelling', datum: '2027-01-01', notify: false });
    sim.applyEvent(BSN, { type: 'plicht-ontstaan', begindatum: '2026-01-01', notify: false });

    const expected: [string, string, unknown][] = [
      [
        '/personen/999990019/inburgeringsplicht',
        'Inburgeringsplicht',
        {
          indicatorInburgeringsplicht: true,
          begindatum: '2026-01-01',
          wijzigingsdatum: '2027-06-15',
        },
      ],
      [
        '/personen/999990019/doelgroep',
        'Inburgeringsplicht',
        {
          indeling: 'Asielstatushouder',
          begindatum: '2026-01-01',
          gedetailleerdeDoelgroep: 'Asielstatushouder',
        },
      ],
      [
        '/personen/999990019/lbt/resultaten',
        'Leerbaarheidstoets',
        [
          {
            resultaat: 'B1-route haalbaar',
            behaaldeScore: '61,50',
            benodigdeScore: '55,00',
            datumAfname: '2026-02-20',
          },
        ],
      ],
      ['/personen/999990019/lbt/examennummer', 'Leerbaarheidstoets', { examennummer: 'LBT000123' }],
      [
        '/personen/999990019/inburgeringstermijn',
        'Inburgeringstermijn',
        { startdatum: '2026-03-01', einddatum: '2029-03-01' },
      ],
      [
        '/personen/999990019/PIP',
        'PIP',
        {
          gemeentecode: '0797',
          pip: {
            dagtekeningPip: '2026-03-01',
            leerroute: 'B',
            niveau: 'B1',
            geschatteIntensiteitB1Route: 600,
          },
        },
      ],
      ['/personen/999990019/map', 'MAP-PVT-Zroute', { datumEindgesprekMap: '2027-05-01' }],
      ['/personen/999990019/pvt', 'MAP-PVT-Zroute', { datumOndertekeningPvt: '2026-09-01' }],
      [
        '/personen/999990019/uren',
        'GevolgdeUren',
        [
          {
            gemeentecode: '0797',
            ParticipatieAlsTaalles: { uren: 120 },
            TaallesEnKnmBredeIntake: { uren: 40 },
          },
        ],
      ],
      [
        '/personen/999990019/examens/resultaten',
        'Examen',
        [{ examendatum: '2027-04-01', resultaat: 'Geslaagd', onderdeel: 'LE', niveau: 'B1' }],
      ],
      [
        '/personen/999990019/vrijstellingen',
        'Vrijstelling',
        [
          {
            TijdelijkeVrijstelling: {
              oordeel: 'Toekenning',
              reden: 'OPL',
              datumOordeel: '2027-01-01',
              startdatum: '2027-01-01',
              einddatum: '2028-01-01',
            },
          },
        ],
      ],
      ['/personen/999990019/ontheffingen', 'Ontheffing', []],
    ];
    for (const [path, api, body] of expected) {
      const a = await call(sim, 'GET', path);
      expect(a.status, path).toBe(200);
      expect(a.headers.get('api-version'), path).toBe(DUO_API_VERSIONS[api]);
      expect(a.headers.get('content-type'), path).toMatch(/^application\/json/);
      expect(a.json, path).toEqual(body);
      expectSpecConform('GET', path, a);
    }

    const historie = await call(sim, 'GET', '/personen/999990019/inburgeringsplicht/historie');
    expect(historie.status).toBe(200);
    expect(historie.json).toHaveLength(2);
    expectSpecConform('GET', '/personen/999990019/inburgeringsplicht/historie', historie);

    const instellingen = await call(sim, 'GET', '/instellingen');
    expect(instellingen.status).toBe(200);
    expect(instellingen.headers.get('api-version')).toBe('1.2.0');
    expect(instellingen.json.map((i: any) => i.instellingsnummer)).toEqual([
      '1000000001',
      '1000000002',
      '1000000003',
      '1000000004',
    ]);
    expectSpecConform('GET', '/instellingen', instellingen);

    expect(sim.stats()).toMatchObject({ responseViolations: 0, requestViolations: 0 });
  });

  it('answers 404 with no body for an unknown person or missing data, 403 for another gemeente’s person', async () => {
    const sim = await start();
    sim.seed(BASE_SEED);
    for (const path of [
      '/personen/999999999/PIP',
      '/personen/999990019/PIP',
      '/personen/999990019/map',
    ]) {
      const a = await call(sim, 'GET', path);
      expect(a.status, path).toBe(404);
      expect(a.text).toBe('');
      expect(a.headers.get('api-version')).toBe(path.endsWith('map') ? '1.0.0' : '1.2.0');
    }
    const unknownPost = await call(sim, 'POST', '/personen/999999999/PIP', {
      body: { dagtekeningPip: '2026-02-01', leerroute: 'B' },
    });
    expect(unknownPost.status).toBe(404);

    // 0796 is served too, but the person lives in 0797.
    const other = await call(sim, 'GET', '/personen/999990019/inburgeringsplicht', {
      gemeente: G2.code,
    });
    expect(other.status).toBe(403);
    expect(other.text).toBe('');
    const otherPost = await call(sim, 'POST', '/personen/999990019/PIP', {
      gemeente: G2.code,
      body: { dagtekeningPip: '2026-02-01', leerroute: 'B' },
    });
    expect(otherPost.status).toBe(403);
    expect(otherPost.json).toEqual([
      { fouttekst: expect.stringMatching(/not registered with the calling gemeente/) },
    ]);
    expect(sim.requests().map((r) => r.reason)).toContain('unknown person');
  });
});

describe('DUO simulator: headers', () => {
  it('requires bron, doel and berichtId (400) and answers 403 to a wrong doel or unknown bron', async () => {
    const sim = await start();
    sim.seed(BASE_SEED);
    const path = '/personen/999990019/inburgeringsplicht';
    for (const h of ['bron', 'doel', 'berichtId']) {
      const a = await call(sim, 'GET', path, { omit: [h] });
      expect(a.status, h).toBe(400);
      expect(a.text).toBe('');
      expect(a.headers.get('api-version')).toBe('1.2.2');
    }
    expect((await call(sim, 'GET', path, { headers: { berichtId: 'nope' } })).status).toBe(400);
    expect((await call(sim, 'GET', path, { headers: { bron: '123' } })).status).toBe(400);

    const wrongDoel = await call(sim, 'GET', path, { headers: { doel: G2.oin } });
    expect(wrongDoel.status).toBe(403);
    expect(wrongDoel.text).toBe('');
    const unknownBron = await call(sim, 'GET', path, { headers: { bron: '00000001009999999000' } });
    expect(unknownBron.status).toBe(403);

    // POST PIP documents a list of Foutmeldingen with its 403.
    const pipDoel = await call(sim, 'POST', '/personen/999990019/PIP', {
      headers: { doel: G2.oin },
      body: { dagtekeningPip: '2026-02-01', leerroute: 'B' },
    });
    expect(pipDoel.status).toBe(403);
    expect(pipDoel.json).toEqual([{ fouttekst: "doel is not DUO's OIN" }]);

    // GET /instellingen documents no 403, so a refused caller gets 400 there.
    expect((await call(sim, 'GET', '/instellingen', { headers: { doel: G2.oin } })).status).toBe(
      400,
    );

    const berichtId = '0f8fad5b-d9cb-469f-a165-70867728950e';
    const ok = await call(sim, 'GET', path, { headers: { berichtId } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('berichtid')).toBe(berichtId);
    expect(sim.requests().at(-1)).toMatchObject({ berichtId, gemeentecode: '0797', status: 200 });
  });

  it('answers 400 to a body that is not JSON or breaks what DUO accepts', async () => {
    const sim = await start();
    sim.seed(BASE_SEED);
    const path = '/personen/999990019/PIP';
    expect((await call(sim, 'POST', path, { body: '{nope' })).status).toBe(400);
    const bad = await call(sim, 'POST', path, {
      body: { dagtekeningPip: '2026-02-30', leerroute: 'B' },
    });
    expect(bad.status).toBe(400);
    expect(bad.text).toBe('');
    expect(
      (
        await call(sim, 'PUT', '/personen/999990019/uren/participatietaalles', {
          body: { uren: -1 },
        })
      ).status,
    ).toBe(400);
    expect(sim.person(BSN)?.pips).toEqual([]);
  });

  describe.skipIf(!HAVE_SPECS)('with the spec files', () => {
    it('answers 400 to what only the spec forbids and records the violation', async () => {
      const sim = await start();
      sim.seed(BASE_SEED);
      const a = await call(sim, 'POST', '/personen/999990019/PIP', {
        body: { dagtekeningPip: '2026-02-01', leerroute: 'B', nivo: 'A2' },
      });
      expect(a.status).toBe(400);
      const rec = sim.requests().at(-1);
      expect(rec?.requestViolations).toEqual([
        expect.objectContaining({ in: 'body', field: 'nivo', rule: 'additionalProperties' }),
      ]);
      expect(rec?.reason).toMatch(/breaks the spec: body nivo/);
      const wrongType = await call(sim, 'PUT', '/personen/999990019/map', {
        body: { datumEindgesprekMap: '2027-01-01' },
        headers: { 'content-type': 'text/plain' },
      });
      expect(wrongType.status).toBe(400);
      expect(sim.stats().requestViolations).toBe(2);
    });
  });
});

describe('DUO simulator: melding-bevestiging', () => {
  it('registers a PIP (201, no body), starts the termijn after processing and notifies SS102', async () => {
    const hub = await startFakeHub();
    const sim = await start({
      hubNotificatieUrl: hub.url,
      hubApiKey: 'sleutel-123',
      processingDelayMs: 300,
    });
    sim.seed(BASE_SEED);
    const post = await call(sim, 'POST', '/personen/999990019/PIP', {
      body: { dagtekeningPip: '2026-02-01', leerroute: 'B' },
    });
    expect(post.status).toBe(201);
    expect(post.text).toBe('');
    expect(post.headers.get('api-version')).toBe('1.2.0');
    expectSpecConform('POST', '/personen/999990019/PIP', post);

    // Registered at once; DUO processes it later.
    expect((await call(sim, 'GET', '/personen/999990019/PIP')).json.pip).toEqual({
      dagtekeningPip: '2026-02-01',
      leerroute: 'B',
      niveau: 'B1',
    });
    expect((await call(sim, 'GET', '/personen/999990019/inburgeringstermijn')).status).toBe(404);
    expect(await sim.drain()).toBe(true);
    const termijn = await call(sim, 'GET', '/personen/999990019/inburgeringstermijn');
    expect(termijn.json).toEqual({
      startdatum: '2026-02-01',
      einddatum: '2029-02-01',
      wijzigingsdatum: '2027-06-15',
    });

    expect(hub.received).toHaveLength(1);
    const [req] = hub.received;
    expect(req?.path).toBe('/v1/notificaties');
    expect(req?.headers).toMatchObject({
      bron: sim.oin,
      doel: G1.oin,
      'api-version': '1.8.0',
      authorization: 'Bearer sleutel-123',
      'content-type': 'application/json',
    });
    expect(req?.headers.berichtid).toMatch(UUID);
    expect(req?.body).toEqual({
      registratieDatumTijd: new Date(NOW).toISOString(),
      gebeurtenisId: 'SS102',
      bsn: BSN,
      vNummer: VNUMMER,
    });
    expect(sim.notifications()).toEqual([
      expect.objectContaining({
        gebeurtenisId: 'SS102',
        trigger: 'pip',
        outcome: 'delivered',
        berichtId: req?.headers.berichtid,
        requestViolations: [],
        attempts: [expect.objectContaining({ status: 201, responseViolations: [] })],
      }),
    ]);

    // A changed PIP sets no new termijn and sends no second SS102.
    expect(
      (
        await call(sim, 'POST', '/personen/999990019/PIP', {
          body: { dagtekeningPip: '2026-04-01', leerroute: 'Z' },
        })
      ).status,
    ).toBe(201);
    await sim.drain();
    expect(hub.received).toHaveLength(1);
    expect(sim.person(BSN)?.pips[0]?.versies.map((v) => v.dagtekeningPip)).toEqual([
      '2026-02-01',
      '2026-04-01',
    ]);
    expect((await call(sim, 'GET', '/personen/999990019/PIP')).json.pip).toEqual({
      dagtekeningPip: '2026-04-01',
      leerroute: 'Z',
    });
  });

  it('counts what it accepted once per berichtId in the DeliveryStats the demo reads', async () => {
    const sim = await start();
    sim.seed(BASE_SEED);
    const berichtId = '0f8fad5b-d9cb-469f-a165-70867728950e';
    const pip = { body: { dagtekeningPip: '2026-02-01', leerroute: 'B' }, headers: { berichtId } };
    expect((await call(sim, 'POST', '/personen/999990019/PIP', pip)).status).toBe(201);
    // The same message again (a redelivery), a read, and a refusal: none is a new one.
    expect((await call(sim, 'POST', '/personen/999990019/PIP', pip)).status).toBe(201);
    expect((await call(sim, 'GET', '/personen/999990019/PIP')).status).toBe(200);
    expect((await call(sim, 'POST', '/personen/999990019/PIP', { body: {} })).status).toBe(400);
    const stats = await simGet(sim, '/_sim/stats');
    expect(stats).toMatchObject({ received: 1, duplicates: 1, byGemeente: { gm0797: 1 } });
    sim.reset();
    expect(sim.stats()).toMatchObject({ received: 0, duplicates: 0 });
  });

  it('deletes a PIP inside the processing window: no termijn, no SS102', async () => {
    const hub = await startFakeHub();
    const sim = await start({ hubNotificatieUrl: hub.url, processingDelayMs: 200 });
    sim.seed(BASE_SEED);
    expect(
      (
        await call(sim, 'POST', '/personen/999990019/PIP', {
          body: { dagtekeningPip: '2026-02-01', leerroute: 'O' },
        })
      ).status,
    ).toBe(201);
    const del = await call(sim, 'DELETE', '/personen/999990019/PIP');
    expect(del.status).toBe(200);
    expect(del.text).toBe('');
    expect((await call(sim, 'DELETE', '/personen/999990019/PIP')).status).toBe(404);
    await sim.drain();
    expect(sim.person(BSN)?.inburgeringstermijn).toBeUndefined();
    expect(hub.received).toEqual([]);
  });

  it('accepts MAP, PVT, Z-route, hours and aanbod with the statuses of the specs', async () => {
    const sim = await start();
    sim.seed({
      ...BASE_SEED,
      pip: { dagtekeningPip: '2026-02-01', leerroute: 'B' },
      inburgeringstermijn: { startdatum: '2026-02-01' },
    });
    const steps: [string, string, unknown, number][] = [
      ['PUT', '/personen/999990019/map', { datumEindgesprekMap: '2027-06-01' }, 200],
      ['PUT', '/personen/999990019/pvt', { datumOndertekeningPvt: '2026-10-01' }, 200],
      ['PUT', '/personen/999990019/zroute', { datumAfrondingZroute: '2027-06-10' }, 200],
      ['PUT', '/personen/999990019/uren/participatietaalles', { uren: 250 }, 200],
      ['PUT', '/personen/999990019/uren/participatieactiviteiten', { uren: 80 }, 200],
      ['PUT', '/personen/999990019/uren/bredeintake/taallesknm', { uren: 30 }, 200],
      [
        'POST',
        '/personen/999990019/Inburgeringsaanbod/1000000001',
        {
          datumInburgeringsaanbod: '2026-03-01',
          verwachteStartdatumOpleiding: '2026-03-15',
          verwachteEinddatumOpleiding: '2027-09-01',
          indicatorAlfabetiseringsonderwijs: 'NVT',
        },
        201,
      ],
      ['DELETE', '/personen/999990019/Inburgeringsaanbod/1000000001', undefined, 204],
      ['DELETE', '/personen/999990019/Inburgeringsaanbod/1000000001', undefined, 404],
      ['DELETE', '/personen/999990019/lbt/examennummer', undefined, 404],
    ];
    for (const [method, path, body, status] of steps) {
      const a = await call(sim, method, path, body === undefined ? {} : { body });
      expect(a.status, `${method} ${path}`).toBe(status);
      expect(a.text, `${method} ${path}`).toBe('');
      expectSpecConform(method, path, a);
    }
    const p = sim.person(BSN);
    expect(p?.map).toEqual({ datumEindgesprekMap: '2027-06-01' });
    expect(p?.uren).toEqual([
      {
        gemeentecode: '0797',
        participatietaalles: 250,
        participatieactiviteiten: 80,
        taallesknm: 30,
      },
    ]);
    // PUT replaces the whole resource: leaving the date out withdraws it.
    expect((await call(sim, 'PUT', '/personen/999990019/map', { body: {} })).status).toBe(200);
    expect(sim.person(BSN)?.map).toEqual({});
    expect((await call(sim, 'GET', '/personen/999990019/map')).status).toBe(404);
  });
});

interface RuleCase {
  rule: string;
  seed?: Record<string, unknown>;
  request: [string, string, unknown];
  /** The case next to it that passes, with its status. */
  pass: { seed?: Record<string, unknown>; request?: [string, string, unknown]; status: number };
}

const PIP_PATH = '/personen/999990019/PIP';
const MAP_PATH = '/personen/999990019/map';
const PVT_PATH = '/personen/999990019/pvt';
const aanbod = (nr = '1000000001') => `/personen/999990019/Inburgeringsaanbod/${nr}`;
const WITH_PIP = {
  pip: { dagtekeningPip: '2026-02-01', leerroute: 'B' },
  inburgeringstermijn: { startdatum: '2026-02-01' },
};
const ENDED = { startdatum: '2024-06-01', einddatum: '2027-06-01' };
const NVT = { indicatorAlfabetiseringsonderwijs: 'NVT' };

const RULE_CASES: RuleCase[] = [
  {
    rule: 'pip.dagtekening-voor-plicht',
    seed: { vestigingsdatum: '2025-12-01' },
    request: ['POST', PIP_PATH, { dagtekeningPip: '2025-12-31', leerroute: 'B' }],
    pass: {
      request: ['POST', PIP_PATH, { dagtekeningPip: '2026-01-01', leerroute: 'B' }],
      status: 201,
    },
  },
  {
    rule: 'pip.dagtekening-voor-vestiging',
    request: ['POST', PIP_PATH, { dagtekeningPip: '2026-01-09', leerroute: 'B' }],
    pass: {
      request: ['POST', PIP_PATH, { dagtekeningPip: '2026-01-10', leerroute: 'B' }],
      status: 201,
    },
  },
  {
    rule: 'pip.dagtekening-voor-initieel',
    seed: {
      pips: [
        {
          versies: [
            { dagtekeningPip: '2026-03-01', leerroute: 'B' },
            { dagtekeningPip: '2026-02-01', leerroute: 'B' },
          ],
        },
      ],
    },
    request: ['POST', PIP_PATH, { dagtekeningPip: '2026-02-28', leerroute: 'B' }],
    pass: {
      request: ['POST', PIP_PATH, { dagtekeningPip: '2026-03-01', leerroute: 'B' }],
      status: 201,
    },
  },
  {
    rule: 'pip.dagtekening-voor-actueel',
    seed: {
      pips: [
        {
          versies: [
            { dagtekeningPip: '2026-02-01', leerroute: 'B' },
            { dagtekeningPip: '2026-05-01', leerroute: 'Z' },
          ],
        },
      ],
    },
    request: ['POST', PIP_PATH, { dagtekeningPip: '2026-04-30', leerroute: 'B' }],
    pass: {
      request: ['POST', PIP_PATH, { dagtekeningPip: '2026-05-01', leerroute: 'B' }],
      status: 201,
    },
  },
  {
    rule: 'pip.niveau-a2-onderwijsroute',
    request: ['POST', PIP_PATH, { dagtekeningPip: '2026-02-01', leerroute: 'O', niveau: 'A2' }],
    pass: {
      request: ['POST', PIP_PATH, { dagtekeningPip: '2026-02-01', leerroute: 'O', niveau: 'B1' }],
      status: 201,
    },
  },
  {
    rule: 'pip.niveau-b1-zroute',
    request: ['POST', PIP_PATH, { dagtekeningPip: '2026-02-01', leerroute: 'Z', niveau: 'B1' }],
    pass: {
      request: ['POST', PIP_PATH, { dagtekeningPip: '2026-02-01', leerroute: 'Z' }],
      status: 201,
    },
  },
  {
    rule: 'pip.niveau-a2-eerste-pip-b1route',
    request: ['POST', PIP_PATH, { dagtekeningPip: '2026-02-01', leerroute: 'B', niveau: 'A2' }],
    // A previous gemeente's PIP makes this not the first PIP anywhere.
    pass: {
      seed: {
        pips: [
          { gemeentecode: '0796', versies: [{ dagtekeningPip: '2026-01-20', leerroute: 'B' }] },
        ],
      },
      status: 201,
    },
  },
  {
    rule: 'pip.intensiteit-alleen-b1route',
    request: [
      'POST',
      PIP_PATH,
      { dagtekeningPip: '2026-02-01', leerroute: 'Z', geschatteIntensiteitB1Route: 600 },
    ],
    pass: {
      request: [
        'POST',
        PIP_PATH,
        { dagtekeningPip: '2026-02-01', leerroute: 'B', geschatteIntensiteitB1Route: 600 },
      ],
      status: 201,
    },
  },
  {
    rule: 'pip.intensiteit-alleen-asiel',
    seed: { doelgroep: { indeling: 'Gezinsmigrant en overige migrant' } },
    request: [
      'POST',
      PIP_PATH,
      { dagtekeningPip: '2026-02-01', leerroute: 'B', geschatteIntensiteitB1Route: 600 },
    ],
    pass: {
      request: ['POST', PIP_PATH, { dagtekeningPip: '2026-02-01', leerroute: 'B' }],
      status: 201,
    },
  },
  {
    rule: 'pip.verwijderen-termijn',
    seed: WITH_PIP,
    request: ['DELETE', PIP_PATH, undefined],
    pass: { seed: { pip: WITH_PIP.pip }, status: 200 },
  },
  {
    rule: 'pip.verwijderen-uren',
    seed: { pip: WITH_PIP.pip, uren: [{ participatietaalles: 12 }] },
    request: ['DELETE', PIP_PATH, undefined],
    // Participation activities are not course hours.
    pass: { seed: { pip: WITH_PIP.pip, uren: [{ participatieactiviteiten: 12 }] }, status: 200 },
  },
  {
    rule: 'mappvt.geen-actuele-pip',
    request: ['PUT', MAP_PATH, { datumEindgesprekMap: '2027-05-01' }],
    pass: { seed: WITH_PIP, status: 200 },
  },
  {
    rule: 'mappvt.voldaan-via-zroute',
    seed: { ...WITH_PIP, plichtVoldaanVia: 'zroute' },
    request: ['PUT', PVT_PATH, { datumOndertekeningPvt: '2027-05-01' }],
    pass: { seed: { ...WITH_PIP, plichtVoldaanVia: 'diploma' }, status: 200 },
  },
  {
    rule: 'mappvt.datum-voor-termijn',
    seed: WITH_PIP,
    request: ['PUT', PVT_PATH, { datumOndertekeningPvt: '2026-01-31' }],
    pass: { request: ['PUT', PVT_PATH, { datumOndertekeningPvt: '2026-02-01' }], status: 200 },
  },
  {
    rule: 'mappvt.datum-na-zroute',
    seed: { ...WITH_PIP, zroute: { datumAfrondingZroute: '2027-05-01' } },
    request: ['PUT', MAP_PATH, { datumEindgesprekMap: '2027-05-02' }],
    pass: { request: ['PUT', MAP_PATH, { datumEindgesprekMap: '2027-05-01' }], status: 200 },
  },
  {
    rule: 'mappvt.datum-in-toekomst',
    seed: WITH_PIP,
    request: ['PUT', MAP_PATH, { datumEindgesprekMap: '2027-06-16' }],
    pass: { request: ['PUT', MAP_PATH, { datumEindgesprekMap: '2027-06-15' }], status: 200 },
  },
  {
    rule: 'mappvt.verwijtbaar-zonder-termijn',
    seed: { pip: WITH_PIP.pip },
    request: ['PUT', MAP_PATH, { verwijtbaar: 'Nee' }],
    pass: { seed: { pip: WITH_PIP.pip, inburgeringstermijn: ENDED }, status: 200 },
  },
  {
    rule: 'mappvt.verwijtbaar-ja-termijn-loopt',
    seed: WITH_PIP,
    request: ['PUT', MAP_PATH, { verwijtbaar: 'Ja' }],
    pass: { seed: { pip: WITH_PIP.pip, inburgeringstermijn: ENDED }, status: 200 },
  },
  {
    rule: 'mappvt.verwijtbaar-nee-termijn-niet-bijna-om',
    seed: WITH_PIP,
    request: ['PUT', PVT_PATH, { verwijtbaar: 'Nee' }],
    // Ends 2027-08-01: within two months of 2027-06-15.
    pass: {
      seed: {
        pip: WITH_PIP.pip,
        inburgeringstermijn: { startdatum: '2024-08-01', einddatum: '2027-08-01' },
      },
      status: 200,
    },
  },
  {
    rule: 'mappvt.verwijtbaar-datum-binnen-termijn',
    seed: { pip: WITH_PIP.pip, inburgeringstermijn: ENDED },
    request: ['PUT', MAP_PATH, { datumEindgesprekMap: '2027-05-31', verwijtbaar: 'Ja' }],
    pass: {
      request: ['PUT', MAP_PATH, { datumEindgesprekMap: '2027-06-01', verwijtbaar: 'Ja' }],
      status: 200,
    },
  },
  {
    rule: 'aanbod.geen-asielmigrant',
    seed: { ...WITH_PIP, doelgroep: { indeling: 'Gezinsmigrant en overige migrant' } },
    request: ['POST', aanbod(), NVT],
    pass: { seed: WITH_PIP, status: 201 },
  },
  {
    rule: 'aanbod.geen-pip',
    request: ['POST', aanbod(), NVT],
    pass: { seed: WITH_PIP, status: 201 },
  },
  {
    rule: 'aanbod.instelling-onbekend',
    seed: WITH_PIP,
    request: ['POST', aanbod('9999999999'), NVT],
    pass: { request: ['POST', aanbod('1000000002'), NVT], status: 201 },
  },
  {
    rule: 'aanbod.instelling-geen-keurmerk',
    seed: WITH_PIP,
    request: ['POST', aanbod('1000000003'), NVT],
    // The taalschakel institution qualifies for the onderwijsroute.
    pass: {
      seed: { ...WITH_PIP, pip: { dagtekeningPip: '2026-02-01', leerroute: 'O' } },
      status: 201,
    },
  },
  {
    rule: 'aanbod.datum-voor-pip',
    seed: { ...WITH_PIP, inburgeringstermijn: { startdatum: '2026-01-01' } },
    request: ['POST', aanbod(), { ...NVT, datumInburgeringsaanbod: '2026-01-31' }],
    pass: {
      request: ['POST', aanbod(), { ...NVT, datumInburgeringsaanbod: '2026-02-01' }],
      status: 201,
    },
  },
  {
    rule: 'aanbod.datum-buiten-termijn',
    seed: WITH_PIP,
    request: ['POST', aanbod(), { ...NVT, verwachteStartdatumOpleiding: '2029-02-01' }],
    pass: {
      request: ['POST', aanbod(), { ...NVT, verwachteStartdatumOpleiding: '2029-01-31' }],
      status: 201,
    },
  },
];

describe('DUO simulator: business rules', () => {
  it('covers every rule of rules.ts', async () => {
    const { DUO_RULES } = await import('./rules.ts');
    expect(RULE_CASES.map((c) => c.rule).sort()).toEqual(Object.keys(DUO_RULES).sort());
  });

  for (const c of RULE_CASES) {
    it(`${c.rule}: 403 with the fouttekst and nothing changed; the case next to it passes`, async () => {
      const sim = await start();
      sim.seed({ ...BASE_SEED, ...c.seed });
      const before = structuredClone(sim.person(BSN));
      const [method, path, body] = c.request;
      const refused = await call(sim, method, path, body === undefined ? {} : { body });
      expect(refused.status).toBe(403);
      expect(refused.json).toEqual([
        { fouttekst: expect.stringMatching(new RegExp(`^${c.rule}: `)) },
      ]);
      expect(refused.json[0].fouttekst.length).toBeLessThanOrEqual(200);
      expectSpecConform(method, path, refused);
      expect(sim.person(BSN)).toEqual(before);
      expect(sim.requests().at(-1)?.rules).toEqual([c.rule]);

      sim.seed({ ...BASE_SEED, ...(c.pass.seed ?? c.seed) }, { replace: true });
      const [pm, pp, pb] = c.pass.request ?? c.request;
      const ok = await call(sim, pm, pp, pb === undefined ? {} : { body: pb });
      expect(ok.status, JSON.stringify(sim.requests().at(-1))).toBe(c.pass.status);
      expect(sim.stats().ruleViolations).toBe(1);
    });
  }

  it('reports every broken rule of one request', async () => {
    const sim = await start();
    sim.seed({ ...BASE_SEED, doelgroep: { indeling: 'Gezinsmigrant en overige migrant' } });
    const a = await call(sim, 'POST', PIP_PATH, {
      body: {
        dagtekeningPip: '2025-01-01',
        leerroute: 'Z',
        niveau: 'B1',
        geschatteIntensiteitB1Route: 9,
      },
    });
    expect(a.status).toBe(403);
    expect(a.json.map((f: any) => f.fouttekst.split(':')[0])).toEqual([
      'pip.dagtekening-voor-plicht',
      'pip.dagtekening-voor-vestiging',
      'pip.niveau-b1-zroute',
      'pip.intensiteit-alleen-b1route',
      'pip.intensiteit-alleen-asiel',
    ]);
  });
});

describe('DUO simulator: notifications', () => {
  it('retries 5xx and network errors with the same berichtId and body', async () => {
    const hub = await startFakeHub([503, 'reset', 201]);
    const sim = await start({ hubNotificatieUrl: hub.url, notificationRetry: { baseDelayMs: 10 } });
    sim.seed(BASE_SEED);
    sim.applyEvent(BSN, { type: 'lbt-resultaat', resultaat: 'B1-route niet haalbaar' });
    await sim.drain();
    const [n] = sim.notifications();
    expect(n).toMatchObject({ gebeurtenisId: 'SS131', outcome: 'delivered' });
    expect(n?.attempts.map((a) => a.status ?? 'error')).toEqual([503, 'error', 201]);
    expect(hub.received).toHaveLength(3);
    expect(new Set(hub.received.map((r) => r.headers.berichtid))).toEqual(new Set([n?.berichtId]));
    expect(hub.received[0]?.body).toEqual(hub.received[2]?.body);
    expect(sim.stats().notifications).toMatchObject({ delivered: 1, attempts: 3 });
  });

  it('stops at a 4xx, gives up after maxAttempts, skips what it cannot send', async () => {
    const hub = await startFakeHub([400, 500, 500, 500]);
    const sim = await start({
      hubNotificatieUrl: hub.url,
      notificationRetry: { baseDelayMs: 5, maxAttempts: 3 },
    });
    sim.seed(BASE_SEED);
    sim.applyEvent(BSN, { type: 'lbt-aangemeld', delayMs: 0 });
    await sim.drain();
    sim.applyEvent(BSN, { type: 'examen-resultaat', onderdeel: 'KNM', delayMs: 0 });
    await sim.drain();
    // Moving to a gemeente this hub does not serve: DUO would notify that gemeente, not us.
    sim.applyEvent(BSN, { type: 'vestiging', gemeentecode: '0363', datum: '2027-06-01' });
    await sim.drain();
    expect(sim.notifications().map((n) => [n.gebeurtenisId, n.outcome, n.attempts.length])).toEqual(
      [
        ['SS137', 'rejected', 1],
        ['SS199', 'failed', 3],
        ['SS120', 'skipped', 0],
      ],
    );
    expect(sim.notifications()[2]?.reason).toMatch(/0363/);

    const noHub = await start();
    noHub.seed(BASE_SEED);
    expect(noHub.applyEvent(BSN, { type: 'lbt-aangemeld' }).notification).toMatchObject({
      outcome: 'skipped',
      reason: 'no hub Notificatie URL configured',
    });
  });

  it('drops a notification in flight on reset instead of retrying it', async () => {
    const hub = await startFakeHub(['hang']);
    const sim = await start({ hubNotificatieUrl: hub.url, notificationRetry: { baseDelayMs: 5 } });
    sim.seed(BASE_SEED);
    sim.applyEvent(BSN, { type: 'lbt-aangemeld', delayMs: 0 });
    for (let i = 0; i < 100 && hub.received.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(hub.received).toHaveLength(1);
    sim.reset();
    expect(await sim.drain(1000)).toBe(true);
    await new Promise((r) => setTimeout(r, 50));
    expect(hub.received).toHaveLength(1);
    expect(sim.notifications()).toEqual([]);
  });

  const TRIGGERS: {
    code: string;
    seed?: Record<string, unknown>;
    event: Record<string, unknown>;
    doel?: string;
  }[] = [
    { code: 'SS101', event: { type: 'plicht-ontstaan', begindatum: '2027-06-01' } },
    { code: 'SS128', event: { type: 'plicht-ontstaan', aowBinnenZesMaanden: true } },
    {
      code: 'SS139',
      seed: { vestigingsdatum: undefined },
      event: { type: 'vestiging', datum: '2027-06-01' },
    },
    {
      code: 'SS120',
      event: { type: 'vestiging', gemeentecode: 'gm0796', datum: '2027-06-01' },
      doel: G2.oin,
    },
    {
      code: 'SS121',
      seed: { pip: { dagtekeningPip: '2026-02-01', leerroute: 'B' } },
      event: { type: 'vestiging', gemeentecode: '0796' },
      doel: G2.oin,
    },
    { code: 'SS129', event: { type: 'tijdelijke-vrijstelling-ingetrokken' } },
    {
      code: 'SS124',
      event: { type: 'doelgroep-gewijzigd', indeling: 'Gezinsmigrant en overige migrant' },
    },
    {
      code: 'SS125',
      seed: { doelgroep: { indeling: 'Gezinsmigrant en overige migrant' } },
      event: { type: 'doelgroep-gewijzigd', indeling: 'Asielstatushouder' },
    },
    { code: 'SS109', event: { type: 'tijdelijke-vrijstelling', einddatum: '2028-01-01' } },
    {
      code: 'SS110',
      event: { type: 'plicht-vervallen', reden: 'Vertrek uit Nederland langer dan een jaar' },
    },
    { code: 'SS111', event: { type: 'overleden' } },
    { code: 'SS106', event: { type: 'plicht-voldaan', via: 'diploma' } },
    { code: 'SS107', event: { type: 'plicht-voldaan', via: 'vrijstelling' } },
    { code: 'SS108', event: { type: 'plicht-voldaan', via: 'ontheffing' } },
    { code: 'SS137', event: { type: 'lbt-aangemeld', examennummer: 'LBT42' } },
    { code: 'SS131', event: { type: 'lbt-resultaat' } },
    {
      code: 'SS102',
      seed: { pip: { dagtekeningPip: '2026-02-01', leerroute: 'B' } },
      event: { type: 'termijn-gestart' },
    },
    { code: 'SS199', event: { type: 'examen-resultaat', onderdeel: 'SP', resultaat: 'Gezakt' } },
  ];

  it('can trigger every gebeurtenisId of NOTES.md through /_sim', async () => {
    expect(TRIGGERS.map((t) => t.code).sort()).toEqual(Object.keys(GEBEURTENISSEN).sort());
    const hub = await startFakeHub();
    const sim = await start({ hubNotificatieUrl: hub.url, processingDelayMs: 0 });
    for (const t of TRIGGERS) {
      const seed: Record<string, unknown> = { ...BASE_SEED, ...t.seed };
      for (const [k, v] of Object.entries(seed)) if (v === undefined) delete seed[k];
      expect((await simPost(sim, '/_sim/personen', { ...seed, replace: true })).status).toBe(201);
      const res = await simPost(sim, `/_sim/personen/${BSN}/events`, t.event);
      expect(res.status, t.code).toBe(200);
      expect(res.json.gebeurtenisId, t.code).toBe(t.code);
      await sim.drain();
      const last = hub.received.at(-1);
      expect(last?.body.gebeurtenisId, t.code).toBe(t.code);
      expect(last?.headers.doel, t.code).toBe(t.doel ?? G1.oin);
    }
    expect(hub.received).toHaveLength(TRIGGERS.length);
    expect(sim.stats().notifications).toMatchObject({
      delivered: TRIGGERS.length,
      requestViolations: 0,
    });
    // And the first PIP triggers SS102 by itself (see the melding-bevestiging tests).
  });

  it('changes state with each event, so the pulled details match the notification', async () => {
    const sim = await start();
    sim.seed(BASE_SEED);
    sim.applyEvent(BSN, {
      type: 'lbt-resultaat',
      resultaat: 'B1-route niet haalbaar',
      datumAfname: '2027-06-10',
    });
    expect((await call(sim, 'GET', '/personen/999990019/lbt/resultaten')).json).toEqual([
      {
        resultaat: 'B1-route niet haalbaar',
        behaaldeScore: '41,25',
        benodigdeScore: '55,00',
        datumAfname: '2027-06-10',
      },
    ]);
    sim.applyEvent(BSN, { type: 'plicht-voldaan', via: 'diploma', datum: '2027-06-12' });
    const plicht = await call(sim, 'GET', '/personen/999990019/inburgeringsplicht');
    expect(plicht.json).toMatchObject({
      indicatorInburgeringsplicht: false,
      einddatum: '2027-06-12',
      redenGeenInburgeringsplicht: 'Inburgeringsplicht voldaan',
    });
    sim.seed(
      { ...BASE_SEED, pip: WITH_PIP.pip, uren: [{ participatietaalles: 10 }] },
      { replace: true },
    );
    sim.applyEvent(BSN, { type: 'vestiging', gemeentecode: '0796', datum: '2027-06-01' });
    // The new gemeente sees the old gemeente's PIP and hours (known until the move).
    expect(
      (await call(sim, 'GET', '/personen/999990019/PIP', { gemeente: G2.code })).json.gemeentecode,
    ).toBe('0797');
    expect(
      (await call(sim, 'GET', '/personen/999990019/uren', { gemeente: G2.code })).json,
    ).toEqual([
      { gemeentecode: '0797', bekendTot: '2027-06-01', ParticipatieAlsTaalles: { uren: 10 } },
    ]);
    expect((await call(sim, 'GET', '/personen/999990019/PIP')).status).toBe(403);
  });

  it('sends an arbitrary notification, unknown codes included', async () => {
    const hub = await startFakeHub();
    const sim = await start({ hubNotificatieUrl: hub.url });
    sim.seed(BASE_SEED);
    const res = await simPost(sim, '/_sim/notify', { bsn: BSN, gebeurtenisId: 'SS999' });
    expect(res.status).toBe(202);
    expect(res.json).toMatchObject({ gebeurtenisId: 'SS999', trigger: 'notify', doel: G1.oin });
    // Not seeded: the gemeente must be named.
    expect(
      (await simPost(sim, '/_sim/notify', { bsn: '123456782', gebeurtenisId: 'SS126' })).status,
    ).toBe(400);
    expect(
      (
        await simPost(sim, '/_sim/notify', {
          bsn: '123456782',
          gebeurtenisId: 'SS126',
          gemeentecode: 'gm0796',
        })
      ).status,
    ).toBe(202);
    await sim.drain();
    expect(hub.received.map((r) => [r.body.gebeurtenisId, r.body.vNummer, r.headers.doel])).toEqual(
      [
        ['SS999', VNUMMER, G1.oin],
        ['SS126', undefined, G2.oin],
      ],
    );
    const listed = await simGet(sim, '/_sim/notifications?gebeurtenisId=SS126');
    expect(listed.notifications).toHaveLength(1);
  });

  it.skipIf(!HAVE_SPECS)('records when a deliberate notification breaks the spec', async () => {
    const hub = await startFakeHub();
    const sim = await start({ hubNotificatieUrl: hub.url });
    sim.seed(BASE_SEED);
    const rec = sim.notify({ bsn: BSN, gebeurtenisId: 'ss-1' });
    expect(rec.requestViolations).toEqual([expect.objectContaining({ field: 'gebeurtenisId' })]);
    await sim.drain();
    expect(hub.received).toHaveLength(1);
    expect(sim.stats().notifications.requestViolations).toBe(1);
  });
});

describe('DUO simulator: faults', () => {
  it('fails the next N requests of one API with a status, then recovers', async () => {
    const sim = await start();
    sim.seed(BASE_SEED);
    sim.injectFault({
      kind: 'status',
      status: 503,
      count: 2,
      retryAfterSeconds: 3,
      scope: { api: 'PIP' },
    });
    const first = await call(sim, 'GET', PIP_PATH);
    expect(first.status).toBe(503);
    expect(first.text).toBe('');
    expect(first.headers.get('retry-after')).toBe('3');
    expect(first.headers.get('api-version')).toBe('1.2.0');
    // Another API is not affected.
    expect((await call(sim, 'GET', '/personen/999990019/inburgeringsplicht')).status).toBe(200);
    expect((await call(sim, 'GET', PIP_PATH)).status).toBe(503);
    expect((await call(sim, 'GET', PIP_PATH)).status).toBe(404);
    expect(sim.stats()).toMatchObject({ faulted: 2 });
    expect(sim.stats().byApi.PIP).toEqual({ requests: 3, ok: 0, clientErrors: 1, serverErrors: 2 });
  });

  it('faults for a duration', async () => {
    let clock = NOW;
    const sim = await start({ now: () => clock });
    sim.seed(BASE_SEED);
    sim.injectFault({ kind: 'status', status: 500, durationMs: 5_000 });
    expect((await call(sim, 'GET', '/instellingen')).status).toBe(500);
    clock += 4_999;
    expect((await call(sim, 'GET', '/instellingen')).status).toBe(500);
    clock += 1;
    expect((await call(sim, 'GET', '/instellingen')).status).toBe(200);
  });

  it('can reset the connection or hang, and close() still returns', async () => {
    const sim = await start();
    sim.injectFault({ kind: 'reset', count: 1 });
    await expect(call(sim, 'GET', '/instellingen')).rejects.toThrow();
    sim.injectFault({ kind: 'hang', count: 1 });
    await expect(
      fetch(`${sim.baseUrl}/instellingen`, {
        headers: sim.headersFor(G1.code),
        signal: AbortSignal.timeout(200),
      }),
    ).rejects.toThrow();
    expect((await call(sim, 'GET', '/instellingen')).status).toBe(200);
    sim.injectFault({ kind: 'hang' });
    const pending = call(sim, 'GET', '/instellingen').catch((err: unknown) => err);
    await new Promise((r) => setTimeout(r, 50));
    await sim.close();
    expect(await pending).toBeInstanceOf(Error);
  });

  it('answers under another API-Version, or late, and handles the request as usual', async () => {
    const sim = await start();
    sim.seed(BASE_SEED);
    sim.injectFault({
      kind: 'version',
      apiVersion: '1.3.0',
      count: 1,
      scope: { api: 'PIP', method: 'POST' },
    });
    sim.injectFault({ kind: 'hang', delayMs: 200, count: 1, scope: { method: 'GET' } });
    // A GET of PIP is not the version fault's, but the hang's.
    const started = Date.now();
    const slow = await call(sim, 'GET', PIP_PATH);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(slow.status).toBe(404);
    const post = await call(sim, 'POST', PIP_PATH, {
      body: { dagtekeningPip: '2026-02-01', leerroute: 'B' },
    });
    expect(post.status).toBe(201);
    expect(post.headers.get('api-version')).toBe('1.3.0');
    expect((await call(sim, 'GET', PIP_PATH)).headers.get('api-version')).toBe('1.2.0');
    expect(sim.requests().map((r) => [r.method, r.status, r.faulted])).toEqual([
      ['GET', 404, 'hang'],
      ['POST', 201, 'version'],
      ['GET', 200, undefined],
    ]);
  });

  it('manages faults over HTTP', async () => {
    const sim = await start();
    const created = await simPost(sim, '/_sim/faults', {
      kind: 'status',
      status: 502,
      count: 5,
      scope: { api: 'GevolgdeUren', method: 'PUT' },
    });
    expect(created.status).toBe(201);
    expect(await simGet(sim, '/_sim/faults')).toEqual({
      faults: [
        {
          id: 1,
          kind: 'status',
          status: 502,
          scope: { api: 'GevolgdeUren', method: 'PUT' },
          count: 5,
          remaining: 5,
        },
      ],
    });
    const invalid = await simPost(sim, '/_sim/faults', { kind: 'reset', scope: { api: 'Nope' } });
    expect(invalid.status).toBe(400);
    expect(invalid.json).toMatchObject({ errors: [{ field: 'scope.api', rule: 'enum' }] });
    expect(() => sim.injectFault({ kind: 'status', status: 42 })).toThrow(/status/);
    expect((await fetch(`${sim.url}/_sim/faults`, { method: 'DELETE' })).status).toBe(204);
    expect(await simGet(sim, '/_sim/faults')).toEqual({ faults: [] });
  });
});

describe.skipIf(!HAVE_SPECS)('DUO simulator: coverage of the specs', () => {
  it('serves every operation of DUO’s files but the Notificatie API, which is the hub’s', async () => {
    const sim = await start();
    sim.seed(BASE_SEED);
    const ops = SPECS!.operations.filter((o) => o.api.name !== 'Notificatie');
    expect(ops).toHaveLength(34);
    expect(SPECS!.operations).toHaveLength(35);
    for (const op of ops) {
      const path = op.path
        .replace('{bsn}', BSN)
        .replace('{id}', '1')
        .replace('{instellingsnummer}', '1000000001');
      await call(sim, op.method, path);
      expect(sim.requests().at(-1)?.operation, `${op.method} ${op.path}`).toBe(op.path);
    }
  });
});

describe('DUO simulator: gratispogingen and verlengingsgronden', () => {
  const PATH = '/personen/999990019/examens/gratispogingen';

  it('answers the seeded gratis pogingen per onderdeel, an empty list when none were seeded', async () => {
    const sim = await start();
    const seeded = await simPost(sim, '/_sim/personen', {
      ...BASE_SEED,
      gratispogingen: [
        { onderdeel: 'LE', gratisPogingenTegoed: 1 },
        { onderdeel: 'KNM', gratisPogingenTegoed: 0 },
      ],
    });
    expect(seeded.status).toBe(201);
    const berichtId = crypto.randomUUID();
    const a = await call(sim, 'GET', PATH, { headers: { berichtId } });
    expect(a.status).toBe(200);
    expect(a.headers.get('api-version')).toBe(DUO_API_VERSIONS.Examen);
    expect(a.headers.get('berichtid')).toBe(berichtId);
    expect(a.json).toEqual([
      { onderdeel: 'LE', gratisPogingenTegoed: 1 },
      { onderdeel: 'KNM', gratisPogingenTegoed: 0 },
    ]);
    expectSpecConform('GET', PATH, a);

    sim.seed({ ...BASE_SEED, bsn: '999990020' });
    const none = await call(sim, 'GET', '/personen/999990020/examens/gratispogingen');
    expect(none.status).toBe(200);
    expect(none.json).toEqual([]);
    expectSpecConform('GET', '/personen/999990020/examens/gratispogingen', none);
  });

  it('answers 404 for an unknown person, 403 for another gemeente’s, 400 off-spec; refuses a bad seed', async () => {
    const sim = await start();
    sim.seed({ ...BASE_SEED, gratispogingen: [{ onderdeel: 'SP', gratisPogingenTegoed: 2 }] });
    const unknown = await call(sim, 'GET', '/personen/999999999/examens/gratispogingen');
    expect(unknown.status).toBe(404);
    expect(unknown.text).toBe('');
    expectSpecConform('GET', '/personen/999999999/examens/gratispogingen', unknown);
    const other = await call(sim, 'GET', PATH, { gemeente: G2.code });
    expect(other.status).toBe(403);
    expect(other.text).toBe('');
    expectSpecConform('GET', PATH, other);
    const noBericht = await call(sim, 'GET', PATH, { omit: ['berichtId'] });
    expect(noBericht.status).toBe(400);
    expect(noBericht.headers.get('api-version')).toBe(DUO_API_VERSIONS.Examen);
    expectSpecConform('GET', PATH, noBericht);

    for (const [gratispogingen, field] of [
      [[{ onderdeel: 'XX', gratisPogingenTegoed: 1 }], 'gratispogingen[0].onderdeel'],
      [[{ onderdeel: 'LE', gratisPogingenTegoed: 100 }], 'gratispogingen[0].gratisPogingenTegoed'],
      [[{ onderdeel: 'LE' }], 'gratispogingen[0].gratisPogingenTegoed'],
      [
        [
          { onderdeel: 'LE', gratisPogingenTegoed: 1 },
          { onderdeel: 'LE', gratisPogingenTegoed: 2 },
        ],
        'gratispogingen[1].onderdeel',
      ],
      ['LE', 'gratispogingen'],
    ] as const) {
      const bad = await simPost(sim, '/_sim/personen', {
        ...BASE_SEED,
        bsn: '999990020',
        gratispogingen,
      });
      expect(bad.status, field).toBe(400);
      expect(bad.json.field).toBe(field);
    }
    expect(sim.person('999990020')).toBeUndefined();
  });

  it('lists the verlengingsgronden; a refused caller gets 400 (the operation documents no 403)', async () => {
    const sim = await start();
    const a = await call(sim, 'GET', '/verlengingsgronden');
    expect(a.status).toBe(200);
    expect(a.headers.get('api-version')).toBe(DUO_API_VERSIONS.Inburgeringstermijn);
    expect(a.json.length).toBeGreaterThan(3);
    for (const g of a.json) {
      expect(Object.keys(g).sort()).toEqual(['code', 'omschrijving']);
      expect(g.code).toMatch(/^[0-9A-Z]{1,10}$/);
      expect(g.omschrijving.length).toBeGreaterThan(0);
      expect(g.omschrijving.length).toBeLessThanOrEqual(200);
    }
    expect(new Set(a.json.map((g: any) => g.code)).size).toBe(a.json.length);
    expectSpecConform('GET', '/verlengingsgronden', a);

    const wrongDoel = await call(sim, 'GET', '/verlengingsgronden', { headers: { doel: G2.oin } });
    expect(wrongDoel.status).toBe(400);
    expect(wrongDoel.text).toBe('');
    expectSpecConform('GET', '/verlengingsgronden', wrongDoel);
    const unknownBron = await call(sim, 'GET', '/verlengingsgronden', {
      headers: { bron: '00000001009999999000' },
    });
    expect(unknownBron.status).toBe(400);
    expect((await call(sim, 'DELETE', '/verlengingsgronden')).status).toBe(405);

    const custom = await start({ verlengingsgronden: [{ code: '9Z', omschrijving: 'Test' }] });
    expect((await call(custom, 'GET', '/verlengingsgronden')).json).toEqual([
      { code: '9Z', omschrijving: 'Test' },
    ]);
  });

  it('gives an extension with only a listed code that ground’s omschrijving', async () => {
    const sim = await start();
    sim.seed({ ...BASE_SEED, inburgeringstermijn: { startdatum: '2026-03-01' } });
    const gronden = (await call(sim, 'GET', '/verlengingsgronden')).json;
    const grond = gronden[1];
    sim.applyEvent(BSN, {
      type: 'termijn-verlengd',
      einddatum: '2029-09-01',
      verlengingsgrondcode: grond.code,
    });
    const t = await call(sim, 'GET', '/personen/999990019/inburgeringstermijn');
    expect(t.json).toMatchObject({
      einddatum: '2029-09-01',
      verlengingsgrondcode: grond.code,
      verlengingsgrondomschrijving: grond.omschrijving,
    });
    expectSpecConform('GET', '/personen/999990019/inburgeringstermijn', t);
    // An omschrijving given is kept; a code DUO does not list gets none.
    sim.applyEvent(BSN, {
      type: 'termijn-verlengd',
      einddatum: '2029-12-01',
      verlengingsgrondcode: 'QQ',
    });
    expect(sim.person(BSN)?.inburgeringstermijn).toMatchObject({ verlengingsgrondcode: 'QQ' });
    expect(sim.person(BSN)?.inburgeringstermijn?.verlengingsgrondomschrijving).toBe(
      grond.omschrijving,
    );
  });
});

describe('DUO simulator: Contactpersoon', () => {
  const JAN = {
    naam: 'Jan de Vries',
    email: 'j.devries@gemeente.example',
    telefoonnummer: '073-6155555',
  };
  const PIET = {
    naam: "Piet 't Hart-Özdemir",
    email: 'p.hart@gemeente.example',
    telefoonnummer: '+31 6 12345678',
  };

  it('creates, changes and deletes a gemeente’s contactpersoon with the spec’s statuses', async () => {
    const sim = await start();
    const berichtId = crypto.randomUUID();
    const created = await call(sim, 'POST', '/contactpersonen', {
      body: JAN,
      headers: { berichtId },
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('api-version')).toBe(DUO_API_VERSIONS.Contactpersoon);
    expect(created.headers.get('berichtid')).toBe(berichtId);
    expect(created.json).toEqual({ id: 1, contactpersoongegevens: JAN });
    expectSpecConform('POST', '/contactpersonen', created);
    const second = await call(sim, 'POST', '/contactpersonen', { body: PIET, gemeente: G2.code });
    expect(second.json.id).toBe(2);

    const changed = await call(sim, 'PUT', '/contactpersonen/1', {
      body: { ...JAN, telefoonnummer: '+31 (0) 73 615 5556' },
    });
    expect(changed.status).toBe(200);
    expect(changed.text).toBe('');
    expectSpecConform('PUT', '/contactpersonen/1', changed);
    expect(sim.contactpersonen({ gemeentecode: G1.code })).toEqual([
      {
        id: 1,
        gemeentecode: '0797',
        contactpersoongegevens: { ...JAN, telefoonnummer: '+31 (0) 73 615 5556' },
        personen: [],
      },
    ]);

    const deleted = await call(sim, 'DELETE', '/contactpersonen/1');
    expect(deleted.status).toBe(200);
    expect(deleted.text).toBe('');
    expectSpecConform('DELETE', '/contactpersonen/1', deleted);
    const again = await call(sim, 'DELETE', '/contactpersonen/1');
    expect(again.status).toBe(404);
    expectSpecConform('DELETE', '/contactpersonen/1', again);
    // Ids are not reused.
    expect((await call(sim, 'POST', '/contactpersonen', { body: JAN })).json.id).toBe(3);
    expect(sim.stats().byApi.Contactpersoon).toMatchObject({ ok: 5, clientErrors: 1 });
  });

  it('lets a gemeente change only its own contactpersonen (403) and answers 404 to an unknown id', async () => {
    const sim = await start();
    await call(sim, 'POST', '/contactpersonen', { body: JAN });
    const before = sim.contactpersonen();

    const put = await call(sim, 'PUT', '/contactpersonen/1', { body: PIET, gemeente: G2.code });
    expect(put.status).toBe(403);
    // PUT documents a list of Foutmeldingen with its 403.
    expect(put.json).toEqual([{ fouttekst: 'the contactpersoon belongs to another gemeente' }]);
    expectSpecConform('PUT', '/contactpersonen/1', put);
    const del = await call(sim, 'DELETE', '/contactpersonen/1', { gemeente: G2.code });
    expect(del.status).toBe(403);
    expect(del.text).toBe('');
    expectSpecConform('DELETE', '/contactpersonen/1', del);
    expect(sim.contactpersonen()).toEqual(before);

    const unknown = await call(sim, 'PUT', '/contactpersonen/99', { body: PIET });
    expect(unknown.status).toBe(404);
    expect(unknown.text).toBe('');
    expectSpecConform('PUT', '/contactpersonen/99', unknown);

    const wrongDoel = await call(sim, 'POST', '/contactpersonen', {
      body: PIET,
      headers: { doel: G2.oin },
    });
    expect(wrongDoel.status).toBe(403);
    expect(wrongDoel.json).toEqual([{ fouttekst: "doel is not DUO's OIN" }]);
    expectSpecConform('POST', '/contactpersonen', wrongDoel);
    expect(sim.contactpersonen()).toEqual(before);
  });

  it('answers 400 to contactpersoongegevens or an id off the spec, changing nothing', async () => {
    const sim = await start();
    await call(sim, 'POST', '/contactpersonen', { body: JAN });
    const before = sim.contactpersonen();
    const cases: [string, string, unknown][] = [
      ['POST', '/contactpersonen', { naam: JAN.naam, telefoonnummer: JAN.telefoonnummer }],
      ['POST', '/contactpersonen', { ...JAN, naam: 'Jan 2' }],
      ['POST', '/contactpersonen', { ...JAN, naam: 'x'.repeat(101) }],
      ['POST', '/contactpersonen', { ...JAN, email: 'a@b' }],
      ['POST', '/contactpersonen', { ...JAN, telefoonnummer: 'bel me' }],
      ['POST', '/contactpersonen', undefined],
      ['PUT', '/contactpersonen/1', { ...JAN, telefoonnummer: '12' }],
      ['PUT', '/contactpersonen/1', [JAN]],
      ['PUT', '/contactpersonen/0', JAN],
      ['PUT', '/contactpersonen/100000', JAN],
      ['PUT', '/contactpersonen/abc', JAN],
      ['DELETE', '/contactpersonen/-1', undefined],
    ];
    for (const [method, path, body] of cases) {
      const a = await call(sim, method, path, body === undefined ? {} : { body });
      expect(a.status, `${method} ${path} ${JSON.stringify(body)}`).toBe(400);
      expect(a.text).toBe('');
      expectSpecConform(method, path, a);
    }
    expect(sim.contactpersonen()).toEqual(before);
    expect(
      sim
        .requests()
        .filter((r) => r.status === 400)
        .map((r) => r.reason),
    ).toEqual(expect.arrayContaining([expect.stringMatching(/email|naam|telefoonnummer|body|id/)]));
    if (SPECS) {
      const extra = await call(sim, 'POST', '/contactpersonen', {
        body: { ...JAN, functie: 'klantmanager' },
      });
      expect(extra.status).toBe(400);
      expect(sim.requests().at(-1)?.reason).toMatch(/breaks the spec: body functie/);
    }
  });

  it('links a contactpersoon to the gemeente’s own inburgeraars and unlinks it', async () => {
    const sim = await start();
    sim.seed(BASE_SEED);
    sim.seed({ ...BASE_SEED, bsn: '999990020', gemeentecode: G2.code });
    await call(sim, 'POST', '/contactpersonen', { body: JAN });
    await call(sim, 'POST', '/contactpersonen', { body: PIET, gemeente: G2.code });
    const link = '/contactpersonen/1/personen/999990019';

    const linked = await call(sim, 'POST', link);
    expect(linked.status).toBe(201);
    expect(linked.text).toBe('');
    expect(linked.headers.get('api-version')).toBe(DUO_API_VERSIONS.Contactpersoon);
    expectSpecConform('POST', link, linked);
    expect((await call(sim, 'POST', link)).status).toBe(201);
    expect(sim.contactpersonen({ bsn: BSN }).map((c) => [c.id, c.personen])).toEqual([[1, [BSN]]]);
    expect(await simGet(sim, `/_sim/contactpersonen?bsn=${BSN}`)).toEqual({
      contactpersonen: [
        { id: 1, gemeentecode: '0797', contactpersoongegevens: JAN, personen: [BSN] },
      ],
    });

    const refusals: [string, string, number, string][] = [
      // The person lives in 0796.
      [
        '/contactpersonen/1/personen/999990020',
        G1.code,
        403,
        'not registered with the calling gemeente',
      ],
      // 0796 may not use 0797's contactpersoon, even for its own inburgeraar.
      ['/contactpersonen/1/personen/999990020', G2.code, 403, 'belongs to another gemeente'],
      ['/contactpersonen/2/personen/999990019', G1.code, 403, 'belongs to another gemeente'],
      ['/contactpersonen/1/personen/999999999', G1.code, 404, 'unknown person'],
      ['/contactpersonen/7/personen/999990019', G1.code, 404, 'unknown contactpersoon'],
      ['/contactpersonen/1/personen/12345', G1.code, 400, ''],
    ];
    for (const [path, gemeente, status, reason] of refusals) {
      const a = await call(sim, 'POST', path, { gemeente });
      expect(a.status, `${gemeente} ${path}`).toBe(status);
      expect(a.text).toBe('');
      expect(sim.requests().at(-1)?.reason).toContain(reason);
      expectSpecConform('POST', path, a);
    }
    expect(
      (await call(sim, 'POST', '/contactpersonen/2/personen/999990020', { gemeente: G2.code }))
        .status,
    ).toBe(201);

    const unlinkOther = await call(sim, 'DELETE', link, { gemeente: G2.code });
    expect(unlinkOther.status).toBe(403);
    const unlinked = await call(sim, 'DELETE', link);
    expect(unlinked.status).toBe(200);
    expect(unlinked.text).toBe('');
    expectSpecConform('DELETE', link, unlinked);
    const notLinked = await call(sim, 'DELETE', link);
    expect(notLinked.status).toBe(404);
    expect(sim.requests().at(-1)?.reason).toBe('the contactpersoon is not linked to the person');
    expect(sim.contactpersonen().map((c) => [c.id, c.personen])).toEqual([
      [1, []],
      [2, ['999990020']],
    ]);
  });

  it('drops the links with a deleted contactpersoon or person; reset forgets every contactpersoon', async () => {
    const sim = await start();
    sim.seed(BASE_SEED);
    sim.seed({ ...BASE_SEED, bsn: '999990020' });
    await call(sim, 'POST', '/contactpersonen', { body: JAN });
    await call(sim, 'POST', '/contactpersonen', { body: PIET });
    for (const path of [
      '/contactpersonen/1/personen/999990019',
      '/contactpersonen/2/personen/999990019',
      '/contactpersonen/2/personen/999990020',
    ]) {
      expect((await call(sim, 'POST', path)).status).toBe(201);
    }
    expect((await call(sim, 'DELETE', '/contactpersonen/1')).status).toBe(200);
    expect(sim.contactpersonen({ bsn: BSN }).map((c) => c.id)).toEqual([2]);
    expect((await fetch(`${sim.url}/_sim/personen/${BSN}`, { method: 'DELETE' })).status).toBe(204);
    expect(sim.contactpersonen().map((c) => [c.id, c.personen])).toEqual([[2, ['999990020']]]);
    // A person seeded again is a new one.
    sim.seed({ ...BASE_SEED, bsn: '999990020' }, { replace: true });
    expect(sim.contactpersonen()[0]?.personen).toEqual([]);
    expect((await fetch(`${sim.url}/_sim/contactpersonen?gemeentecode=12`)).status).toBe(400);

    expect((await fetch(`${sim.url}/_sim/reset`, { method: 'POST' })).status).toBe(204);
    expect(sim.contactpersonen()).toEqual([]);
    expect((await call(sim, 'POST', '/contactpersonen', { body: JAN })).json.id).toBe(1);
  });
});

describe('DUO simulator: the /_sim API', () => {
  it('seeds, reads back, lists, deletes; refuses bad seeds naming the field', async () => {
    const sim = await start();
    const seeded = await simPost(sim, '/_sim/personen', { ...BASE_SEED, vNummer: '0012345678' });
    expect(seeded.status).toBe(201);
    expect(seeded.json).toMatchObject({ bsn: BSN, vNummer: 12345678, gemeentecode: '0797' });
    expect((await simPost(sim, '/_sim/personen', BASE_SEED)).status).toBe(409);
    expect((await simPost(sim, '/_sim/personen', { ...BASE_SEED, replace: true })).status).toBe(
      201,
    );
    const bad = await simPost(sim, '/_sim/personen', {
      ...BASE_SEED,
      bsn: '999990020',
      pip: { leerroute: 'X' },
    });
    expect(bad.status).toBe(400);
    expect(bad.json.field).toMatch(/dagtekeningPip$/);
    expect((await simPost(sim, '/_sim/personen', { bsn: '1' })).status).toBe(400);
    expect(await simGet(sim, '/_sim/personen')).toEqual({
      personen: [{ bsn: BSN, gemeentecode: '0797' }],
    });
    expect(await simGet(sim, `/_sim/personen/${BSN}`)).toMatchObject({
      bsn: BSN,
      vNummer: VNUMMER,
    });
    expect((await fetch(`${sim.url}/_sim/personen/999999999`)).status).toBe(404);
    expect((await fetch(`${sim.url}/_sim/personen/${BSN}`, { method: 'DELETE' })).status).toBe(204);
    expect(sim.stats().persons).toBe(0);
  });

  it('applies an event all or nothing', async () => {
    const sim = await start();
    sim.seed(BASE_SEED);
    const before = structuredClone(sim.person(BSN));
    const bad = await simPost(sim, `/_sim/personen/${BSN}/events`, {
      type: 'doelgroep-gewijzigd',
      indeling: 'Asielstatushouder',
      gedetailleerdeDoelgroep: 'Marsbewoner',
    });
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ field: 'gedetailleerdeDoelgroep' });
    expect(sim.person(BSN)).toEqual(before);
    expect((await simPost(sim, `/_sim/personen/${BSN}/events`, { type: 'nope' })).status).toBe(400);
    expect(
      (await simPost(sim, '/_sim/personen/999999999/events', { type: 'overleden' })).status,
    ).toBe(404);
  });

  it('logs requests without BSNs, counts them, resets and drains', async () => {
    const sim = await start();
    sim.seed(BASE_SEED);
    await call(sim, 'GET', '/personen/999990019/PIP');
    await call(sim, 'GET', '/personen/999990019/inburgeringsplicht?x=1');
    await call(sim, 'GET', '/contactpersonen/1/personen/999990019');
    const { requests } = await simGet(sim, '/_sim/requests');
    expect(JSON.stringify(requests)).not.toContain(BSN);
    expect(requests.map((r: any) => [r.method, r.path, r.status, r.api])).toEqual([
      ['GET', '/v1/personen/{bsn}/PIP', 404, 'PIP'],
      ['GET', '/v1/personen/{bsn}/inburgeringsplicht', 200, 'Inburgeringsplicht'],
      // The Contactpersoon API has no GET: the path is known, the method is not.
      ['GET', '/v1/contactpersonen/1/personen/{bsn}', 405, SPECS ? 'Contactpersoon' : undefined],
    ]);
    expect(requests[1]).toMatchObject({
      operation: '/personen/{bsn}/inburgeringsplicht',
      gemeentecode: '0797',
    });
    expect((await simGet(sim, '/_sim/requests?api=PIP')).requests).toHaveLength(1);
    expect((await simGet(sim, '/_sim/requests?status=200')).requests).toHaveLength(1);
    const stats = await simGet(sim, '/_sim/stats');
    expect(stats).toMatchObject({ requests: 3, persons: 1, validation: SPECS ? 'on' : 'off' });
    expect(await (await fetch(`${sim.url}/health`)).json()).toEqual({ status: 'ok' });

    sim.applyEvent(BSN, { type: 'lbt-aangemeld', delayMs: 30 });
    expect(await simPost(sim, '/_sim/drain', { timeoutMs: 2000 })).toMatchObject({
      status: 200,
      json: { idle: true, pending: 0 },
    });
    expect((await fetch(`${sim.url}/_sim/reset`, { method: 'POST' })).status).toBe(204);
    expect(sim.stats()).toMatchObject({ requests: 0, persons: 0, notifications: { queued: 0 } });
  });

  it('refuses a bad configuration', async () => {
    const base = { specDir: false as const, logger: silent };
    await expect(startDuoSimulator({ ...base, gemeenten: {} })).rejects.toThrow(/gemeenten/);
    await expect(startDuoSimulator({ ...base, gemeenten: { '797': G1.oin } })).rejects.toThrow(
      /CBS/,
    );
    await expect(startDuoSimulator({ ...base, gemeenten: { '0797': '123' } })).rejects.toThrow(
      /OIN/,
    );
    await expect(
      startDuoSimulator({ ...base, gemeenten: { '0797': G1.oin, '0796': G1.oin } }),
    ).rejects.toThrow(/twice/);
    await expect(
      startDuoSimulator({ ...base, oin: 'x', gemeenten: { '0797': G1.oin } }),
    ).rejects.toThrow(/oin/);
  });

  it('runs without the spec folder, saying so once', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'duo-nospec-'));
    try {
      const lines: string[] = [];
      const sim = await start({
        specs: undefined,
        specDir: empty,
        logger: { info: () => {}, warn: (_f, m) => lines.push(m) },
      });
      expect(lines).toEqual([expect.stringContaining(empty)]);
      expect(sim.specs).toBeUndefined();
      expect(sim.stats().validation).toBe('off');
      sim.seed(BASE_SEED);
      // Without the spec an unknown field is not noticed; DUO's own checks still apply.
      expect(
        (
          await call(sim, 'POST', PIP_PATH, {
            body: { dagtekeningPip: '2026-02-01', leerroute: 'B', nivo: 1 },
          })
        ).status,
      ).toBe(201);
      expect((await call(sim, 'GET', PIP_PATH, { omit: ['doel'] })).status).toBe(400);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe('main.ts', () => {
  it('prints the URL, serves, and stops cleanly on SIGTERM', async () => {
    const main = await spawnMain(fileURLToPath(new URL('./main.ts', import.meta.url)), [
      '--port',
      '0',
      '--gemeente',
      `${G1.code}:${G1.oin}`,
      '--processing-delay-ms',
      '0',
    ]);
    try {
      const url = main.firstLine;
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect((await fetch(`${url}/health`)).status).toBe(200);
      const res = await fetch(`${url}/v1/instellingen`, {
        headers: { bron: G1.oin, doel: '00000001999999999000', berichtId: crypto.randomUUID() },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('api-version')).toBe('1.2.0');
    } finally {
      expect(await main.stop()).toBe(0);
    }
  }, 30_000);

  it('refuses to start without a gemeente', async () => {
    const main = fileURLToPath(new URL('./main.ts', import.meta.url));
    const child = spawn(process.execPath, [main, '--port', '0'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(2);
    expect(err).toMatch(/--gemeente/);
  });
});

describe('DUO simulator: seeded vrijstellingen and ontheffingen', () => {
  it('answers them as seeded, in the shapes of the specs; refuses a bad seed naming the field', async () => {
    const sim = await start();
    const vrijstellingen = [
      { GeheleVrijstelling: { oordeel: 'Toekenning', reden: 'DIP', datumOordeel: '2026-05-01' } },
      {
        GedeeltelijkeVrijstelling: {
          oordeel: 'Afwijzing',
          reden: 'GED',
          examenonderdeel: 'LE',
          examenniveau: 'B1',
        },
      },
    ];
    const ontheffingen = [
      {
        GedeeltelijkeOntheffing: {
          oordeel: 'Toekenning',
          datumOordeel: '2026-06-01',
          grond: 'MED',
          examenonderdeel: 'KNM',
          urenBelastbaarheidParticipatieactiviteit: 200,
        },
      },
    ];
    const seeded = await simPost(sim, '/_sim/personen', {
      ...BASE_SEED,
      vrijstellingen,
      ontheffingen,
    });
    expect(seeded.status).toBe(201);
    for (const [path, body] of [
      ['/personen/999990019/vrijstellingen', vrijstellingen],
      ['/personen/999990019/ontheffingen', ontheffingen],
    ] as const) {
      const a = await call(sim, 'GET', path);
      expect(a.status, path).toBe(200);
      expect(a.json, path).toEqual(body);
      expectSpecConform('GET', path, a);
    }

    for (const [extra, field] of [
      [
        { ontheffingen: [{ GeheleOntheffing: { oordeel: 'Toekenning', grond: 'MED' } }] },
        'ontheffingen[0].GeheleOntheffing.datumOordeel',
      ],
      [
        {
          ontheffingen: [
            {
              GedeeltelijkeOntheffing: {
                oordeel: 'Toekenning',
                datumOordeel: '2026-06-01',
                grond: 'MED',
                urenBelastbaarheidParticipatieactiviteit: 10000,
              },
            },
          ],
        },
        'ontheffingen[0].GedeeltelijkeOntheffing.urenBelastbaarheidParticipatieactiviteit',
      ],
      [{ ontheffingen: [{ Ontheffing: {} }] }, 'ontheffingen[0]'],
      [
        { vrijstellingen: [{ GeheleVrijstelling: { oordeel: 'Toekenning', reden: 'XYZ' } }] },
        'vrijstellingen[0].GeheleVrijstelling.reden',
      ],
      [{ vrijstellingen: 'DIP' }, 'vrijstellingen'],
    ] as const) {
      const bad = await simPost(sim, '/_sim/personen', {
        ...BASE_SEED,
        bsn: '999990020',
        ...extra,
      });
      expect(bad.status, field).toBe(400);
      expect(bad.json.field).toBe(field);
    }
    expect(sim.person('999990020')).toBeUndefined();
  });
});
