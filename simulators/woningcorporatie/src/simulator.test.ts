import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { schemas } from '@ketenhub/contracts';
import { schemaArbitrary } from '@ketenhub/contracts/testing';
import type { WoningcorporatieZoektocht } from '@ketenhub/contracts/generated/woningcorporatie';
import { isValidIban } from '@ketenhub/kit/privacy';
import { deliveryStatsOf } from '@ketenhub/simulator-kit';
import {
  planFor,
  rekeningOf,
  startWoningcorporatieSimulator,
  type WoningcorporatieSimulator,
} from './simulator.ts';

const ZOEKTOCHT = 'https://contracts.ketenhub.nl/woningcorporatie/zoektocht.schema.json';
const SCHEMA_OF = {
  aanbod: 'https://contracts.ketenhub.nl/woningcorporatie/aanbod.schema.json',
  acceptatie: 'https://contracts.ketenhub.nl/woningcorporatie/acceptatie.schema.json',
  weigering: 'https://contracts.ketenhub.nl/woningcorporatie/weigering.schema.json',
  huurcontract: 'https://contracts.ketenhub.nl/woningcorporatie/huurcontract.schema.json',
};

const zoektochten = schemaArbitrary(ZOEKTOCHT) as fc.Arbitrary<WoningcorporatieZoektocht>;

describe("the corporatie's story", () => {
  it('answers every zoektocht within its contracts: an offer after weeks, keys 2 weeks after acceptance (property)', () => {
    fc.assert(
      fc.property(zoektochten, (z) => {
        const plan = planFor(z, '2026-10-01');
        for (const a of plan) expect(schemas().validate(SCHEMA_OF[a.kind], a.body)).toEqual([]);
        expect(plan.map((a) => a.datum)).toEqual([...plan.map((a) => a.datum)].sort());
        expect(plan[0]!.datum >= '2026-10-22').toBe(true);
        const accepted = plan.find((a) => a.kind === 'acceptatie')!;
        const lease = plan.find((a) => a.kind === 'huurcontract')!.body as {
          sleuteloverdracht: string;
        };
        const days =
          (Date.parse(lease.sleuteloverdracht) - Date.parse(accepted.datum)) / 86_400_000;
        expect(days).toBe(14);
      }),
      { numRuns: 300 },
    );
  });

  it("asks the rent on the corporatie's own account, a valid IBAN that differs per corporatie", () => {
    const [z] = fc.sample(zoektochten, 1);
    const betaling = (id: string) =>
      (
        planFor(z!, '2026-10-01', rekeningOf(id)).find((a) => a.kind === 'huurcontract')!.body as {
          betaling: { iban: string; tenaamstelling: string; kenmerk: string };
        }
      ).betaling;
    const woonpoort = betaling('woonpoort');
    expect(isValidIban(woonpoort.iban)).toBe(true);
    expect(woonpoort.tenaamstelling).toBe('Woonpoort');
    expect(woonpoort.kenmerk).toMatch(/^HUUR AB-/);
    expect(betaling('woonpoort')).toEqual(woonpoort);
    expect(betaling('stadswonen').iban).not.toBe(woonpoort.iban);
    expect(isValidIban(betaling('stadswonen').iban)).toBe(true);
  });
});

let sim: WoningcorporatieSimulator;
beforeAll(async () => {
  sim = await startWoningcorporatieSimulator({ token: 'geheim', today: '2026-10-01' });
});
afterAll(async () => {
  await sim?.close();
});

const [zoektocht] = fc.sample(zoektochten, 1);
const post = (body: unknown, key: string, token = 'geheim') =>
  fetch(`${sim.url}/zoektochten`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'idempotency-key': key,
      authorization: `Bearer ${token}`,
    },
    body: JSON.stringify(body),
  });

describe('woningcorporatie simulator', () => {
  it('demands the token, refuses a body off the contract naming the field, counts repeats', async () => {
    expect((await post(zoektocht, 'a', 'fout')).status).toBe(401);
    const bad = await post({ ...zoektocht, bsn: '999990019' }, 'b');
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toContain('bsn');
    expect((await post(zoektocht, 'c')).status).toBe(201);
    expect((await post(zoektocht, 'c')).status).toBe(201);
    expect(sim.zoektochten()).toHaveLength(1);
    const stats = deliveryStatsOf(await (await fetch(`${sim.url}/_sim/stats`)).json());
    expect(stats).toMatchObject({ received: 1, duplicates: 1 });
  });

  it('moves its clock only when told, and refuses a clock going back', async () => {
    const clock = (body: unknown) =>
      fetch(`${sim.url}/_sim/clock`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect(await (await clock({ advanceDays: 7 })).json()).toEqual({ today: '2026-10-08' });
    expect((await clock({ date: '2026-10-01' })).status).toBe(400);
    // Without a hub every due answer is recorded as skipped, never lost silently.
    sim.advance(200);
    expect(sim.zoektochten()[0]!.plan.every((a) => a.sent)).toBe(true);
  });
});
