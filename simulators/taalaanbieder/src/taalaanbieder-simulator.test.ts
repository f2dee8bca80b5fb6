import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnMain } from '@ketenhub/simulator-kit';
import {
  startTaalaanbiederSimulator,
  type TaalaanbiederSimulator,
} from './taalaanbieder-simulator.ts';

let sim: TaalaanbiederSimulator;
beforeAll(async () => {
  sim = await startTaalaanbiederSimulator({ id: 'taalschool-noord', token: 'geheim-token-0123' });
});
afterAll(async () => {
  await sim?.close();
});

const aanmelding = {
  aanmeldingId: '4b3c2a1e-0000-4000-8000-000000000001',
  trajectId: `tr-${'1'.repeat(32)}`,
  gemeenteCode: 'gm0797',
  deelnemer: { voornamen: 'Amal', geslachtsnaam: 'Haddad' },
  leerroute: 'b1-route',
};

const post = (body: unknown, token = 'geheim-token-0123') =>
  fetch(`${sim.url}/aanmeldingen`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${token}`,
      'idempotency-key': (body as { aanmeldingId?: string }).aanmeldingId ?? 'x',
    },
    body: JSON.stringify(body),
  });

describe('taalaanbieder simulator', () => {
  it('takes an aanmelding once, answers a repeat idempotently, refuses a wrong token', async () => {
    expect((await post(aanmelding)).status).toBe(201);
    expect((await post(aanmelding)).status).toBe(200);
    expect((await post(aanmelding, 'fout')).status).toBe(401);
    expect(sim.aanmeldingen()).toHaveLength(1);
    const stats = (await (await fetch(`${sim.url}/_sim/stats`)).json()) as Record<string, number>;
    expect(stats).toMatchObject({ aanmeldingen: 1, trajecten: 1, repeats: 1 });
  });

  it('checks the aanmelding against the contract: a BSN has no place in it', async () => {
    const res = await post({
      ...aanmelding,
      aanmeldingId: '4b3c2a1e-0000-4000-8000-000000000002',
      bsn: '999990019',
    });
    expect(res.status).toBe(400);
    expect(sim.aanmeldingen()).toHaveLength(1);
  });
});

describe('taalaanbieder simulator: faults and the control API', () => {
  it('faults the aanmeldingen of one gemeente, counts them, and forgets all on reset', async () => {
    const other = { ...aanmelding, aanmeldingId: '4b3c2a1e-0000-4000-8000-000000000003' };
    sim.injectFault({ kind: 'status', status: 503, count: 1, scope: { gemeente: 'gm0363' } });
    // gm0797's aanmelding is not the fault's.
    expect((await post(other)).status).toBe(201);
    const faulted = await post({
      ...other,
      aanmeldingId: '4b3c2a1e-0000-4000-8000-000000000004',
      gemeenteCode: 'gm0363',
    });
    expect(faulted.status).toBe(503);
    expect(sim.stats()).toMatchObject({ faulted: 1, trajecten: 1 });
    expect(await (await fetch(`${sim.url}/health`)).json()).toEqual({ status: 'ok' });
    sim.injectFault({ kind: 'reset' });
    // Only POST /aanmeldingen is faulted.
    expect((await fetch(`${sim.url}/_sim/ontvangen`)).status).toBe(200);
    expect((await fetch(`${sim.url}/_sim/reset`, { method: 'POST' })).status).toBe(204);
    expect(sim.stats()).toEqual({
      received: 0,
      duplicates: 0,
      id: 'taalschool-noord',
      aanmeldingen: 0,
      trajecten: 0,
      deliveries: 0,
      repeats: 0,
      faulted: 0,
    });
    expect((await post(aanmelding)).status).toBe(201);
  });
});

describe('main.ts', () => {
  it('prints the URL first, serves, and stops cleanly on SIGTERM', async () => {
    const main = await spawnMain(fileURLToPath(new URL('./main.ts', import.meta.url)), [
      '--id',
      'taalschool-zuid',
    ]);
    try {
      expect(main.firstLine).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(await (await fetch(`${main.firstLine}/_sim/stats`)).json()).toMatchObject({
        id: 'taalschool-zuid',
      });
    } finally {
      expect(await main.stop()).toBe(0);
    }
  }, 30_000);
});
