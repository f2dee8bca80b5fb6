import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KredietbankOntzorgtraject, KredietbankWebhook } from '@ketenhub/contracts/generated';
import { addMonths, startKredietbankSimulator, type KredietbankSimulator } from './index.ts';

const BODY = JSON.parse(
  readFileSync(new URL('../../fixtures/golden/aanvraag.kredietbank.json', import.meta.url), 'utf8'),
) as KredietbankOntzorgtraject;
const TOKEN = 'test-token-0123456789';

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
    expect(sim.stats()).toMatchObject({ registraties: 1, duplicates: 1 });
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
    expect(sim.stats().webhooks).toEqual({ delivered: 15, failed: 0, pending: 0 });
    // The two 503s were answered by sending the same webhook again.
    expect(sim.webhooks().reduce((n, w) => n + w.attempts, 0)).toBe(15 + 2);
  });
});
