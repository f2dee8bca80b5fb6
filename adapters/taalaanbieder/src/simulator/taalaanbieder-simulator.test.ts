import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
