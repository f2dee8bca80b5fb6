import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { policies } from '@ketenhub/contracts';
import { STREAMS } from '@ketenhub/kit';
import { eventually, startTestChain, type TestChain } from '../harness/index.ts';

const golden = (name: string) =>
  JSON.parse(
    readFileSync(
      fileURLToPath(new URL(`../../adapters/coa/fixtures/golden/${name}`, import.meta.url)),
      'utf8',
    ),
  ) as Record<string, any>;

/** Every dotted path of leaves in `value` (array elements share their parent's path). */
function leafPaths(value: unknown, prefix = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((v) => leafPaths(v, prefix));
  if (value === null || typeof value !== 'object') return [prefix];
  return Object.entries(value).flatMap(([k, v]) => leafPaths(v, prefix ? `${prefix}.${k}` : k));
}

let chain: TestChain;

beforeAll(async () => {
  chain = await startTestChain();
});
afterAll(async () => {
  await chain?.stop();
});

describe('COA koppeling → gemeente KVS through JetStream', () => {
  it('delivers a koppeling exactly once, to its own gemeente only, with only the allowed fields', async () => {
    const koppeling = golden('koppeling-hoofdpersoon.input.json');
    const res = await chain.coaPost('/v1/koppelingen', koppeling);
    expect(res.status).toBe(202);
    const { eventId } = (await res.json()) as { eventId: string };

    expect(await eventually(() => chain.kvs.received('gm0797').some((e) => e.id === eventId))).toBe(
      true,
    );
    // Give a wrongly routed or doubled delivery time to show up before we assert its absence.
    await new Promise((r) => setTimeout(r, 500));
    const stored = chain.kvs.received('gm0797').filter((e) => e.id === eventId);
    expect(stored).toHaveLength(1);
    expect(stored[0]!.deliveries).toBe(1);
    expect(chain.kvs.received('gm0796').concat(chain.kvs.received('gm0865'))).toHaveLength(0);

    const delivered = stored[0]!.event as { type: string; data: unknown; gemeente: string };
    expect(delivered.gemeente).toBe('gm0797');
    const allowed = Object.keys(
      policies().policy('gemeente-kvs').ontvangt['nl.inburgering.inburgeraar.gekoppeld']!.velden,
    );
    for (const path of leafPaths(delivered.data)) {
      expect(allowed.some((a) => path === a || path.startsWith(`${a}.`))).toBe(true);
    }
    expect(delivered.data).not.toHaveProperty('bron');
    expect(delivered.data).toHaveProperty('persoon.bsn', koppeling.persoon.bsn);
  });

  it('answers a resend of the same koppeling with the same event id and delivers it once', async () => {
    const koppeling = golden('koppeling-nareiziger-zonder-bsn.input.json');
    const first = (await (await chain.coaPost('/v1/koppelingen', koppeling)).json()) as {
      eventId: string;
    };
    const again = (await (await chain.coaPost('/v1/koppelingen', koppeling)).json()) as {
      eventId: string;
    };
    expect(again.eventId).toBe(first.eventId);
    expect(
      await eventually(() => chain.kvs.received('gm0797').some((e) => e.id === first.eventId)),
    ).toBe(true);
    await new Promise((r) => setTimeout(r, 500));
    expect(chain.kvs.received('gm0797').filter((e) => e.id === first.eventId)[0]!.deliveries).toBe(
      1,
    );
  });

  it.each([
    [
      'a BSN failing the elfproef',
      (k: any) => (k.persoon.bsn = '111222334'),
      'persoon.bsn',
      'elfproef',
    ],
    ['a missing gemeente code', (k: any) => delete k.gemeenteCode, 'gemeenteCode', 'required'],
    ['V-nummer 0', (k: any) => (k.persoon.vNummer = '0'), 'persoon.vNummer', 'vnummer'],
    [
      'V-nummer 0000000000',
      (k: any) => (k.persoon.vNummer = '0000000000'),
      'persoon.vNummer',
      'vnummer',
    ],
    [
      'an unknown gemeente',
      (k: any) => (k.gemeenteCode = '0363'),
      'gemeenteCode',
      'served-gemeente',
    ],
  ])(
    'refuses %s with 400 problem+json naming the field, and publishes nothing',
    async (_, spoil, field, rule) => {
      const before = await chain.streamCount();
      const koppeling = golden('koppeling-hoofdpersoon.input.json');
      koppeling.koppelingId = `KOP-BAD-${rule}`;
      spoil(koppeling);
      const res = await chain.coaPost('/v1/koppelingen', koppeling);
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const problem = (await res.json()) as {
        status: number;
        errors: { field: string; rule: string }[];
      };
      expect(problem.errors).toContainEqual(expect.objectContaining({ field, rule }));
      expect(JSON.stringify(problem)).not.toContain('111222334');
      expect(await chain.streamCount()).toBe(before);
    },
  );

  it('refuses a warme overdracht with V-nummer 0 with 400 naming the field, and publishes nothing', async () => {
    const before = await chain.streamCount();
    const overdracht = golden('overdracht-medisch-zonder-toestemming.input.json');
    overdracht.overdrachtId = 'OVD-V0';
    overdracht.persoon.vNummer = '0';
    const res = await chain.coaPost('/v1/overdrachten', overdracht);
    expect(res.status).toBe(400);
    const problem = (await res.json()) as { errors: { field: string; rule: string }[] };
    expect(problem.errors).toContainEqual(
      expect.objectContaining({ field: 'persoon.vNummer', rule: 'vnummer' }),
    );
    expect(await chain.streamCount()).toBe(before);
  });

  it('refuses a request without a valid API key with 401', async () => {
    const res = await fetch(`${chain.coa.url}/v1/koppelingen`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer wrong-key-wrong-key' },
      body: JSON.stringify(golden('koppeling-hoofdpersoon.input.json')),
    });
    expect(res.status).toBe(401);
  });

  it('delivers a warme overdracht with health data only when consented', async () => {
    const res = await chain.coaPost(
      '/v1/overdrachten',
      golden('overdracht-medisch-met-toestemming.input.json'),
    );
    expect(res.status).toBe(202);
    const { eventId } = (await res.json()) as { eventId: string };
    expect(await eventually(() => chain.kvs.received('gm0797').some((e) => e.id === eventId))).toBe(
      true,
    );
    const e = chain.kvs.received('gm0797').find((x) => x.id === eventId)!.event as any;
    expect(e.type).toBe('nl.inburgering.inburgeraar.overgedragen');
    expect(e.data.gezondheid.toestemming).toBe(true);
  });

  it('keeps delivering to a KVS that answers 503 for a while, once it recovers', async () => {
    chain.kvs.injectFault({
      kind: 'status',
      status: 503,
      durationMs: 3000,
      scope: { gemeente: 'gm0865' },
    });
    const koppeling = golden('koppeling-hoofdpersoon.input.json');
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      koppeling.koppelingId = `KOP-503-${i}`;
      koppeling.gemeenteCode = '0865';
      const res = await chain.coaPost('/v1/koppelingen', koppeling);
      expect(res.status).toBe(202);
      ids.push(((await res.json()) as { eventId: string }).eventId);
    }
    expect(
      await eventually(
        () => ids.every((id) => chain.kvs.received('gm0865').some((e) => e.id === id)),
        30_000,
      ),
    ).toBe(true);
    expect(chain.kvs.stats().gemeenten.gm0865!.faulted).toBeGreaterThan(0);
    for (const id of ids) {
      expect(chain.kvs.received('gm0865').filter((e) => e.id === id)[0]!.deliveries).toBe(1);
    }
  });

  it('dead-letters an event the KVS refuses with 400, and keeps delivering the rest', async () => {
    const dlqBefore = await chain.streamCount(STREAMS.deadLetters);
    chain.kvs.injectFault({ kind: 'status', status: 400, count: 1, scope: { gemeente: 'gm0796' } });
    const koppeling = golden('koppeling-hoofdpersoon.input.json');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      koppeling.koppelingId = `KOP-400-${i}`;
      koppeling.gemeenteCode = '0796';
      ids.push(
        ((await (await chain.coaPost('/v1/koppelingen', koppeling)).json()) as { eventId: string })
          .eventId,
      );
    }
    expect(
      await eventually(
        async () => (await chain.streamCount(STREAMS.deadLetters)) === dlqBefore + 1,
      ),
    ).toBe(true);
    expect(
      await eventually(
        () => chain.kvs.received('gm0796').filter((e) => ids.includes(e.id)).length === 2,
      ),
    ).toBe(true);
  });
});
