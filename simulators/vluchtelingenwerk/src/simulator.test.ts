import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { schemas } from '@ketenhub/contracts';
import type { VluchtelingenwerkAanvraag } from '@ketenhub/contracts/generated/vluchtelingenwerk';
import { schemaArbitrary } from '@ketenhub/contracts/testing';
import { deliveryStatsOf } from '@ketenhub/simulator-kit';
import {
  REPORT_PATHS,
  planFor,
  startVluchtelingenwerkSimulator,
  storyOf,
  type VluchtelingenwerkSimulator,
} from './simulator.ts';

const REPORT_SCHEMA = {
  start: 'https://contracts.ketenhub.nl/vluchtelingenwerk/start.schema.json',
  contactmoment: 'https://contracts.ketenhub.nl/vluchtelingenwerk/contactmoment.schema.json',
  beeindiging: 'https://contracts.ketenhub.nl/vluchtelingenwerk/beeindiging.schema.json',
  workshop: 'https://contracts.ketenhub.nl/vluchtelingenwerk/workshop.schema.json',
  ondertekening: 'https://contracts.ketenhub.nl/vluchtelingenwerk/ondertekening.schema.json',
} as const;

let sim: VluchtelingenwerkSimulator;
beforeAll(async () => {
  sim = await startVluchtelingenwerkSimulator({ id: 'vwn-test', today: '2026-10-01' });
});
afterAll(async () => {
  await sim?.close();
});

const aanvraag = (n: number, extra: Partial<VluchtelingenwerkAanvraag> = {}) =>
  ({
    berichtId: `4b3c2a1e-0000-4000-8000-${String(n).padStart(12, '0')}`,
    begeleidingId: `vb-${n.toString(16).padStart(32, '0')}`,
    gemeenteCode: 'gm0797',
    onderdelen: ['maatschappelijke-begeleiding', 'pvt'],
    startwens: '2026-10-05',
    contactpersoon: { naam: 'consulent', email: 'c@gemeente.example' },
    ...extra,
  }) as VluchtelingenwerkAanvraag;

const post = (body: unknown, key: string) =>
  fetch(`${sim.url}/begeleidingen`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': key },
    body: JSON.stringify(body),
  });

describe('VluchtelingenWerk simulator', () => {
  it('accepts an aanvraag once per idempotency key, and counts the repeat in /_sim/stats', async () => {
    const a = aanvraag(1);
    expect((await post(a, a.berichtId)).status).toBe(201);
    expect((await post(a, a.berichtId)).status).toBe(201);
    expect(sim.begeleidingen()).toHaveLength(1);
    const stats = deliveryStatsOf(await (await fetch(`${sim.url}/_sim/stats`)).json());
    expect(stats).toEqual({ received: 1, duplicates: 1, byGemeente: { gm0797: 1 } });
  });

  it('refuses an aanvraag off the contract with 400 naming the field', async () => {
    const res = await post({ ...aanvraag(2), bsn: '999990019' }, 'other');
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toContain('bsn');
  });

  it('moves its clock only when told, and refuses a clock going back', async () => {
    const res = await fetch(`${sim.url}/_sim/clock`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ date: '2026-01-01' }),
    });
    expect(res.status).toBe(400);
    expect(sim.today()).toBe('2026-10-01');
  });

  it('fails on request with the simulator kit faults, and answers /health', async () => {
    sim.injectFault({ kind: 'status', status: 503, count: 1 });
    const a = aanvraag(3);
    expect((await post(a, a.berichtId)).status).toBe(503);
    expect((await fetch(`${sim.url}/health`)).status).toBe(200);
  });
});

describe('the office story', () => {
  const aanvragen = schemaArbitrary(
    'https://contracts.ketenhub.nl/vluchtelingenwerk/aanvraag.schema.json',
  ) as fc.Arbitrary<VluchtelingenwerkAanvraag>;

  it('plans only reports that fit their contract, in the order an office sends them (property)', () => {
    fc.assert(
      fc.property(aanvragen, (a) => {
        const plan = planFor(a, '2026-10-01');
        for (const r of plan) {
          expect(schemas().validate(REPORT_SCHEMA[r.kind], r.body), r.kind).toEqual([]);
          expect(r.datum >= '2026-10-01').toBe(true);
        }
        const kinds = plan.map((r) => r.kind);
        const begeleiding = a.onderdelen.includes('maatschappelijke-begeleiding');
        expect(kinds.includes('start')).toBe(begeleiding);
        expect(kinds.includes('beeindiging')).toBe(begeleiding);
        expect(kinds.filter((k) => k === 'workshop')).toHaveLength(
          a.onderdelen.includes('pvt') ? 4 : 0,
        );
        if (begeleiding) {
          const start = plan.find((r) => r.kind === 'start')!.datum;
          const einde = plan.find((r) => r.kind === 'beeindiging')!.datum;
          for (const c of plan.filter((r) => r.kind === 'contactmoment')) {
            expect(c.datum >= start && c.datum <= einde).toBe(true);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('has late signings (after the PVT deadline) and begeleidingen ended early, about as often as offices see them', () => {
    const ids = Array.from({ length: 400 }, (_, n) => `vb-${n.toString(16).padStart(32, '0')}`);
    const late = ids.filter((id) => storyOf(id).laat).length;
    const early = ids.filter((id) => storyOf(id).vroegEinde).length;
    expect(late).toBeGreaterThan(60);
    expect(late).toBeLessThan(140);
    expect(early).toBeGreaterThan(50);
    expect(early).toBeLessThan(120);
    for (const id of ids.slice(0, 40)) {
      const a = aanvraag(0, { begeleidingId: id, pvtUiterlijk: '2027-10-01' });
      const plan = planFor(a, '2026-10-01');
      const signing = plan.find((r) => r.kind === 'ondertekening')!.datum;
      expect(signing > '2027-10-01').toBe(storyOf(id).laat);
      const einde = plan.find((r) => r.kind === 'beeindiging')!;
      expect((einde.body as { reden: string }).reden === 'afgerond').toBe(!storyOf(id).vroegEinde);
    }
  });

  it('reports on the paths of the hub API', () => {
    expect(Object.values(REPORT_PATHS).every((p) => p.startsWith('/v1/'))).toBe(true);
  });
});
