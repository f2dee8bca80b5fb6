import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schemas } from '@ketenhub/contracts';
import { REPO_ROOT } from '@ketenhub/kit';
import { spawnMain } from '@ketenhub/simulator-kit';
import type {
  KredietbankOntzorgtraject,
  KredietbankWebhook,
} from '@ketenhub/contracts/generated/kredietbank';
import {
  TRAJECT_BEEINDIGD,
  addMonths,
  startKredietbankSimulator,
  type KredietbankSimulator,
} from './index.ts';

const BODY = JSON.parse(
  readFileSync(
    resolve(REPO_ROOT, 'adapters/kredietbank/fixtures/golden/aanvraag.kredietbank.json'),
    'utf8',
  ),
) as KredietbankOntzorgtraject;
const TOKEN = 'test-token-0123456789';
const WEBHOOK_SCHEMA = 'https://contracts.ketenhub.nl/kredietbank/webhook.schema.json';

let sim: KredietbankSimulator;
let hub: Server;
const received: KredietbankWebhook[] = [];
let failNext = 0;

beforeAll(async () => {
  // A stand-in hub webhook that fails the first calls when asked, to see the retries.
  hub = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (failNext > 0) {
        failNext--;
        res.writeHead(503).end();
        return;
      }
      received.push(JSON.parse(body) as KredietbankWebhook);
      res.writeHead(202).end();
    });
  });
  await new Promise<void>((r) => hub.listen(0, '127.0.0.1', r));
  sim = await startKredietbankSimulator({
    hubWebhookUrl: `http://127.0.0.1:${(hub.address() as AddressInfo).port}/`,
    token: TOKEN,
    today: '2026-11-23',
    webhookRetryDelayMs: 10,
  });
});
afterAll(async () => {
  await sim?.close();
  await new Promise((r) => hub.close(r));
});

const post = (body: unknown, key: string, token = TOKEN) =>
  fetch(`${sim.baseUrl}/gemeenten/0797/ontzorgtrajecten`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${token}`,
      'idempotency-key': key,
    },
    body: JSON.stringify(body),
  });

describe('Kredietbank simulator', () => {
  it('computes calendar months the way the schedule needs them', () => {
    expect(addMonths('2026-12-01', 3)).toBe('2027-03-01');
    expect(addMonths('2027-01-31', 1)).toBe('2027-02-28');
  });

  it('refuses a wrong token and an IBAN failing mod-97 (422 naming the field)', async () => {
    expect((await post(BODY, 'k0', 'wrong-token-0123456789')).status).toBe(401);
    const bad = structuredClone(BODY);
    bad.vasteLasten[1]!.crediteur.iban = 'NL52ASNB0708091012';
    const res = await post(bad, 'k1');
    expect(res.status).toBe(422);
    const problem = (await res.json()) as { errors: { field: string; rule: string }[] };
    expect(problem.errors).toContainEqual(
      expect.objectContaining({ field: 'vasteLasten[1].crediteur.iban', rule: 'iban' }),
    );
    expect(sim.stats().ibanRejected).toBe(1);
  });

  it('registers once per idempotency key and counts the repeats; a new key for the same referentie is a 409', async () => {
    const first = await post(BODY, 'k2');
    expect(first.status).toBe(201);
    const again = await post(BODY, 'k2');
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await again.json()).toEqual(await first.json());
    expect(sim.stats()).toMatchObject({ registraties: 1, received: 1, duplicates: 1 });
    const other = await post(BODY, 'k3');
    expect(other.status).toBe(409);
    expect(((await other.json()) as { type: string }).type).toMatch(/traject-bestaat/);
  });

  it('runs the traject on its clock and delivers the webhooks in order, retrying failures', async () => {
    failNext = 2;
    sim.failPayments({ count: 1, reden: 'CREDITEUR_WEIGERT' });
    const res = await fetch(`${sim.url}/_sim/clock`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ advanceDays: 200 }),
    });
    expect(await res.json()).toEqual({ today: '2027-06-11' });
    await sim.idle();
    const types = received.map((w) => w.type);
    expect(types[0]).toBe('traject.gestart');
    expect(types.at(-1)).toBe('traject.beeindigd');
    // 6 months × 2 charges; the review at 3 months comes after three months of payments.
    expect(types.filter((t) => t.startsWith('betaling.'))).toHaveLength(12);
    expect(types.indexOf('traject.geevalueerd')).toBe(1 + 3 * 2);
    const mislukt = received.filter((w) => w.type === 'betaling.mislukt');
    expect(mislukt).toHaveLength(1);
    expect(mislukt[0]!.gegevens).toMatchObject({ reden: 'CREDITEUR_WEIGERT', periode: '2026-12' });
    expect(sim.stats().webhooks).toEqual({
      queued: 15,
      pending: 0,
      delivered: 15,
      rejected: 0,
      failed: 0,
      skipped: 0,
      attempts: 17,
    });
    // The two 503s were answered by sending the same webhook again.
    expect(sim.webhooks().reduce((n, w) => n + w.attempts, 0)).toBe(15 + 2);
    expect(sim.webhooks().find((w) => w.attempts > 1)).toMatchObject({
      outcome: 'delivered',
      attempts: 3,
      lastStatus: 202,
      history: [{ status: 503 }, { status: 503 }, { status: 202 }],
    });
  });
});

describe('Kredietbank simulator: the looptijd of a traject (extension through the PIP)', () => {
  let kb: KredietbankSimulator;
  beforeAll(async () => {
    kb = await startKredietbankSimulator({ token: TOKEN, today: '2026-11-23' });
  });
  afterAll(async () => {
    await kb?.close();
  });

  const call = (method: string, path: string, body: unknown, key: string, token = TOKEN) =>
    fetch(`${kb.baseUrl}/gemeenten/0797/ontzorgtrajecten${path}`, {
      method,
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${token}`,
        'idempotency-key': key,
      },
      body: JSON.stringify(body),
    });
  const register = async (referentie: string, periode = BODY.periode) => {
    const res = await call('POST', '', { ...BODY, referentie, periode }, `reg-${referentie}`);
    expect(res.status).toBe(201);
  };
  const looptijd = (referentie: string, eind: string, key: string, extra: object = {}) =>
    call(
      'PUT',
      `/${referentie}/looptijd`,
      { eind, grondslag: { pip: 'PIP-2027-0042-2', dagtekening: '2027-04-15' }, ...extra },
      key,
    );
  const traject = (referentie: string) =>
    kb.trajecten().find((t) => t.aanvraag.referentie === referentie)!;
  const hooks = (referentie: string, type: string) =>
    kb.webhooks().filter((w) => w.webhook.referentie === referentie && w.webhook.type === type);

  it('moves the end: payments go on monthly to the new end, the traject ends then and not before', async () => {
    await register('OZ-L1');
    const res = await looptijd('OZ-L1', '2027-09-01', 'l1');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      referentie: 'OZ-L1',
      dossiernummer: traject('OZ-L1').dossiernummer,
      status: 'GEWIJZIGD',
    });
    expect(traject('OZ-L1').aanvraag.periode).toEqual({ start: '2026-12-01', eind: '2027-09-01' });
    expect(traject('OZ-L1').looptijd?.grondslag).toEqual({
      pip: 'PIP-2027-0042-2',
      dagtekening: '2027-04-15',
    });
    expect(kb.stats().looptijdWijzigingen).toBe(1);

    // Past the old end (2027-06-01): still running, still paying.
    kb.advance(200); // → 2027-06-11
    expect(traject('OZ-L1').status).toBe('actief');
    expect(hooks('OZ-L1', 'traject.beeindigd')).toEqual([]);
    // Past the new end: ended on it, after 9 months × 2 charges.
    kb.advance(90); // → 2027-09-09
    expect(traject('OZ-L1').status).toBe('beeindigd');
    const einde = hooks('OZ-L1', 'traject.beeindigd');
    expect(einde).toHaveLength(1);
    expect(einde[0]!.webhook.gegevens).toMatchObject({
      datum: '2027-09-01',
      reden: 'EINDDATUM_BEREIKT',
      aantalBetalingen: 18,
    });
    expect(traject('OZ-L1').periodes.at(-1)).toBe('2027-08');
  });

  it('answers a repeated Idempotency-Key as the first time, without changing again', async () => {
    const before = kb.stats();
    const again = await looptijd('OZ-L1', '2027-09-01', 'l1');
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(kb.stats().looptijdWijzigingen).toBe(before.looptijdWijzigingen);
    expect(kb.stats().duplicates).toBe(before.duplicates + 1);
  });

  it('refuses a traject that has ended (409), an unknown one (404), a wrong token (401)', async () => {
    const ended = await looptijd('OZ-L1', '2027-12-01', 'l2');
    expect(ended.status).toBe(409);
    expect(((await ended.json()) as { type: string }).type).toBe(TRAJECT_BEEINDIGD);
    expect(traject('OZ-L1').aanvraag.periode.eind).toBe('2027-09-01');
    expect((await looptijd('ONBEKEND', '2027-12-01', 'l3')).status).toBe(404);
    const wrongToken = await call(
      'PUT',
      '/OZ-L1/looptijd',
      { eind: '2027-12-01', grondslag: { pip: 'P-1', dagtekening: '2027-04-15' } },
      'l4',
      'wrong-token-0123456789',
    );
    expect(wrongToken.status).toBe(401);
    expect(kb.stats().looptijdWijzigingen).toBe(1);
  });

  it('checks the contract and that the new end is after the start (422 naming the field)', async () => {
    // The clock is at 2027-09-09 now: a traject that has not started yet.
    const periode = { start: '2027-10-01', eind: '2028-04-01' };
    await register('OZ-L2', periode);
    const fields = async (res: Response) => {
      expect(res.status).toBe(422);
      return ((await res.json()) as { errors: { field: string; rule: string }[] }).errors.map(
        (e) => `${e.field} ${e.rule}`,
      );
    };
    expect(await fields(await looptijd('OZ-L2', '2027-10-01', 'l5'))).toEqual(['eind after start']);
    expect(await fields(await looptijd('OZ-L2', '2028-01-01', 'l6', { bsn: '999990019' }))).toEqual(
      ['bsn additionalProperties'],
    );
    expect(
      await fields(await call('PUT', '/OZ-L2/looptijd', { eind: '2028-01-01' }, 'l7')),
    ).toEqual(['grondslag required']);
    expect(traject('OZ-L2').aanvraag.periode).toEqual(periode);
    expect(traject('OZ-L2').status).toBe('actief');
    expect(kb.stats().looptijdWijzigingen).toBe(1);
  });
});

describe('Kredietbank simulator: the client moves into a home with a signed lease', () => {
  let kb: KredietbankSimulator;
  beforeAll(async () => {
    kb = await startKredietbankSimulator({ token: TOKEN, today: '2026-11-23' });
  });
  afterAll(async () => {
    await kb?.close();
  });

  const WONING = JSON.parse(
    readFileSync(
      resolve(REPO_ROOT, 'adapters/kredietbank/fixtures/golden/huurcontract.kredietbank.json'),
      'utf8',
    ),
  ) as { body: { huur: { vanaf: string } } };
  const call = (method: string, path: string, body: unknown, key: string) =>
    fetch(`${kb.baseUrl}/gemeenten/0797/ontzorgtrajecten${path}`, {
      method,
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${TOKEN}`,
        'idempotency-key': key,
      },
      body: JSON.stringify(body),
    });
  const woning = (referentie: string, key: string, body: unknown = WONING.body) =>
    call('PUT', `/${referentie}/woning`, body, key);
  const traject = (referentie: string) =>
    kb.trajecten().find((t) => t.aanvraag.referentie === referentie)!;
  const huurBetalingen = (referentie: string) =>
    kb
      .webhooks()
      .map((w) => w.webhook)
      .filter((w) => w.referentie === referentie && w.type === 'betaling.uitgevoerd')
      .map(
        (w) =>
          w.gegevens as { soort: string; crediteurNaam: string; bedrag: number; periode: string },
      )
      .filter((g) => g.soort === 'HUUR')
      .map((g) => `${g.periode} ${g.crediteurNaam} ${g.bedrag}`);

  it('takes the new address now and pays the new rent to the corporatie from the month the lease starts', async () => {
    // Starts 2026-12-01; the lease starts 2027-03-01.
    expect((await call('POST', '', { ...BODY, referentie: 'OZ-W1' }, 'reg-w1')).status).toBe(201);
    const res = await woning('OZ-W1', 'w1');
    expect(res.status).toBe(200);
    expect(((await res.json()) as { status: string }).status).toBe('GEWIJZIGD');
    expect(traject('OZ-W1').aanvraag.client.adres).toEqual(
      (WONING.body as unknown as { adres: unknown }).adres,
    );
    expect(kb.stats().woningWijzigingen).toBe(1);
    kb.advance(130); // → 2027-04-02: four months paid
    expect(huurBetalingen('OZ-W1')).toEqual([
      '2026-12 Woonveste 65000',
      '2027-01 Woonveste 65000',
      '2027-02 Woonveste 65000',
      '2027-03 Woonpoort 71250',
      '2027-04 Woonpoort 71250',
    ]);
    // The other charges go on as they were.
    expect(
      kb
        .webhooks()
        .filter(
          (w) =>
            w.webhook.referentie === 'OZ-W1' &&
            (w.webhook.gegevens as { soort?: string }).soort === 'ZORGVERZEKERING',
        ),
    ).toHaveLength(5);
  });

  it('answers a repeated Idempotency-Key as the first time, without changing again', async () => {
    const before = kb.stats();
    const again = await woning('OZ-W1', 'w1');
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(kb.stats().woningWijzigingen).toBe(before.woningWijzigingen);
  });

  it('refuses a bad IBAN and a field off the contract (422 naming it), an unknown traject (404)', async () => {
    const body = WONING.body as unknown as { huur: { crediteur: { iban: string } } };
    const badIban = structuredClone(body);
    badIban.huur.crediteur.iban = 'NL18RABO0123459867';
    const errors = async (res: Response) => {
      expect(res.status).toBe(422);
      return ((await res.json()) as { errors: { field: string; rule: string }[] }).errors.map(
        (e) => `${e.field} ${e.rule}`,
      );
    };
    expect(await errors(await woning('OZ-W1', 'w2', badIban))).toEqual([
      'huur.crediteur.iban iban',
    ]);
    expect(await errors(await woning('OZ-W1', 'w3', { ...body, bsn: '999990019' }))).toEqual([
      'bsn additionalProperties',
    ]);
    expect((await woning('ONBEKEND', 'w4')).status).toBe(404);
    expect(kb.stats().woningWijzigingen).toBe(1);
  });

  it('refuses a traject that has ended (409 traject-beeindigd)', async () => {
    kb.advance(90); // past 2027-06-01, the end
    expect(traject('OZ-W1').status).toBe('beeindigd');
    const res = await woning('OZ-W1', 'w5');
    expect(res.status).toBe(409);
    expect(((await res.json()) as { type: string }).type).toBe(TRAJECT_BEEINDIGD);
  });
});

describe('Kredietbank simulator: ending a traject early', () => {
  it.each([
    ['OP_VERZOEK_GEMEENTE', 'OP_VERZOEK'],
    ['VERHUISD', 'VERHUISD'],
    ['OVERIG', 'OVERIG'],
  ])(
    'ends on request (%s): one traject.beeindigd with reason %s, no payments after',
    async (reden, inWebhook) => {
      // Its own clock per case: the traject starts 2026-12-01, ended before its first payment.
      const kb = await startKredietbankSimulator({ token: TOKEN, today: '2026-11-23' });
      try {
        const call = (path: string, body: unknown, key: string) =>
          fetch(`${kb.baseUrl}/gemeenten/0797/ontzorgtrajecten${path}`, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              authorization: `Bearer ${TOKEN}`,
              'idempotency-key': key,
            },
            body: JSON.stringify(body),
          });
        const referentie = 'OZ-E-1';
        expect((await call('', { ...BODY, referentie }, 'reg')).status).toBe(201);
        const res = await call(`/${referentie}/beeindiging`, { datum: '2026-11-30', reden }, 'end');
        expect(res.status).toBe(200);
        expect(((await res.json()) as { status: string }).status).toBe('BEEINDIGD');
        kb.advance(60);
        const hooks = kb.webhooks().map((w) => w.webhook);
        const ends = hooks.filter((w) => w.type === 'traject.beeindigd');
        expect(ends).toHaveLength(1);
        expect(ends[0]!.gegevens).toMatchObject({ datum: '2026-11-30', reden: inWebhook });
        expect(schemas().validate(WEBHOOK_SCHEMA, ends[0])).toEqual([]);
        expect(hooks.filter((w) => w.type.startsWith('betaling.'))).toEqual([]);
      } finally {
        await kb.close();
      }
    },
  );
});

describe('Kredietbank simulator: faults and the control API', () => {
  let kb: KredietbankSimulator;
  beforeAll(async () => {
    kb = await startKredietbankSimulator({ token: TOKEN, today: '2026-11-23' });
  });
  afterAll(async () => {
    await kb?.close();
  });

  const register = (gemeentecode: string, referentie: string) =>
    fetch(`${kb.baseUrl}/gemeenten/${gemeentecode}/ontzorgtrajecten`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${TOKEN}`,
        'idempotency-key': `k-${gemeentecode}-${referentie}`,
      },
      body: JSON.stringify({ ...BODY, gemeentecode, referentie }),
    });
  const sim = (path: string, body?: unknown) =>
    fetch(`${kb.url}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      ...(body === undefined
        ? {}
        : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });

  it('answers API calls of one gemeente with an injected status, counted as faulted', async () => {
    const created = await sim('/_sim/faults', {
      kind: 'status',
      status: 503,
      retryAfterSeconds: 2,
      count: 1,
      scope: { gemeente: '0797' },
    });
    expect(created.status).toBe(201);
    const faulted = await register('0797', 'OZ-F1');
    expect(faulted.status).toBe(503);
    expect(faulted.headers.get('retry-after')).toBe('2');
    expect((await register('0797', 'OZ-F1')).status).toBe(201);
    kb.failRequests(502, 1);
    expect((await register('0796', 'OZ-F2')).status).toBe(502);
    expect(kb.stats()).toMatchObject({ faulted: 2, registraties: 1 });
    // The control API is never faulted.
    kb.injectFault({ kind: 'reset' });
    expect((await sim('/_sim/stats')).status).toBe(200);
    kb.clearFaults();
    const bad = await sim('/_sim/faults', { kind: 'status', scope: { gemeente: 'gm0797' } });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ errors: [{ field: 'scope.gemeente' }] });
  });

  it('takes payment faults on a route of its own, naming a bad field', async () => {
    const ok = await sim('/_sim/payment-faults', { referentie: 'OZ-P', reden: 'IBAN_GEWEIGERD' });
    expect(ok.status).toBe(201);
    expect(await (await sim('/_sim/payment-faults')).json()).toEqual({
      faults: [{ referentie: 'OZ-P', reden: 'IBAN_GEWEIGERD' }],
    });
    const bad = await sim('/_sim/payment-faults', { reden: 'PECH', count: 0 });
    expect(bad.status).toBe(400);
    expect(
      ((await bad.json()) as { errors: { field: string }[] }).errors.map((e) => e.field).sort(),
    ).toEqual(['count', 'reden']);
  });

  it('forgets everything on reset, the clock included', async () => {
    await sim('/_sim/clock', { advanceDays: 10 });
    kb.failRequests(500, 5);
    expect((await fetch(`${kb.url}/_sim/reset`, { method: 'POST' })).status).toBe(204);
    expect(kb.today()).toBe('2026-11-23');
    expect(kb.trajecten()).toEqual([]);
    expect(kb.webhooks()).toEqual([]);
    expect(await (await sim('/_sim/payment-faults')).json()).toEqual({ faults: [] });
    expect(kb.stats()).toMatchObject({ registraties: 0, faulted: 0 });
    expect((await register('0797', 'OZ-F1')).status).toBe(201);
    expect(await (await sim('/health')).json()).toEqual({ status: 'ok' });
  });
});

describe('main.ts', () => {
  it('prints the API base URL first, serves, and stops cleanly on SIGTERM', async () => {
    const main = await spawnMain(fileURLToPath(new URL('./main.ts', import.meta.url)), [
      '--port',
      '0',
      '--today',
      '2026-11-23',
    ]);
    try {
      expect(main.firstLine).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
      const root = main.firstLine.slice(0, -'/v1'.length);
      expect(await (await fetch(`${root}/_sim/clock`)).json()).toEqual({ today: '2026-11-23' });
    } finally {
      expect(await main.stop()).toBe(0);
    }
  }, 30_000);
});
