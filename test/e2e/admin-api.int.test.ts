/**
 * The admin API through real NATS: right of access, dead letters, alerts and flow state, for an
 * administrator of every gemeente (`beheer`) and a privacy officer bound to gm0796, who must
 * see nothing of gm0797.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { jetstream } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STREAMS, connectNats, raiseAlert } from '@ketenhub/kit';
import { eventually, startTestChain, type TestChain } from '../harness/index.ts';

const golden = JSON.parse(
  readFileSync(
    fileURLToPath(
      new URL(
        '../../adapters/coa/fixtures/golden/koppeling-hoofdpersoon.input.json',
        import.meta.url,
      ),
    ),
    'utf8',
  ),
) as Record<string, any>;

/** A koppeling of another person (BSN, V-nummer, koppelingId) for `gemeenteCode`. */
function koppeling(koppelingId: string, bsn: string, vNummer: string, gemeenteCode = '0797') {
  return { ...golden, koppelingId, gemeenteCode, persoon: { ...golden.persoon, bsn, vNummer } };
}

let chain: TestChain;
let all: string;
let gm0796: string;
beforeAll(async () => {
  chain = await startTestChain({ admin: true });
  all = chain.adminKeys!.all;
  gm0796 = chain.adminKeys!.gm0796;
});
afterAll(async () => {
  await chain?.stop();
});

async function api(key: string | undefined, method: string, path: string, body?: unknown) {
  const res = await chain.adminCall(key, method, path, body);
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
}

async function deliver(body: Record<string, any>, gemeente: string): Promise<string> {
  const res = await chain.coaPost('/v1/koppelingen', body);
  expect(res.status).toBe(202);
  const { eventId } = (await res.json()) as { eventId: string };
  expect(await eventually(() => chain.kvs.received(gemeente).some((e) => e.id === eventId))).toBe(
    true,
  );
  return eventId;
}

describe('admin API', () => {
  it('answers an inzage with activity, purpose, legal basis and categories, per gemeente scope', async () => {
    const eventId = await deliver(koppeling('KOP-ADM-1', '999990020', '4412090001'), 'gm0797');
    const other = await deliver(
      koppeling('KOP-ADM-2', '999990032', '4412090002', '0796'),
      'gm0796',
    );

    // The outcome record follows the delivery; wait until the log says `verstrekt`.
    let answer: Awaited<ReturnType<typeof api>> | undefined;
    expect(
      await eventually(async () => {
        answer = await api(all, 'POST', '/api/inzage', { bsn: '999990020' });
        return answer.body.disclosures?.[0]?.status === 'verstrekt';
      }),
    ).toBe(true);
    expect(answer!.status).toBe(200);
    expect(answer!.headers.get('cache-control')).toBe('no-store');
    expect(answer!.body.count).toBe(1);
    const d = answer!.body.disclosures[0];
    expect(d).toMatchObject({
      eventId,
      gemeente: 'gm0797',
      ontvanger: { partner: 'gemeente-kvs', endpoint: 'gm0797' },
      eventType: 'nl.inburgering.inburgeraar.gekoppeld',
      activiteit: { id: 'va-001' },
    });
    expect(d.activiteit.doel).toEqual(expect.any(String));
    expect(d.activiteit.grondslag.wet).toMatch(/Huisvestingswet|Wi/);
    expect(d.categorieen.map((c: { id: string }) => c.id)).toContain('identificatie');
    // The answer is about the person; it does not repeat the number it was asked with.
    expect(JSON.stringify(answer!.body)).not.toContain('999990020');

    // With the V-nummer as well (the CLI's --vnummer): the same disclosure, once.
    const both = await api(all, 'POST', '/api/inzage', {
      bsn: '999990020',
      vnummer: '4412090001',
    });
    expect(both.body.count).toBe(1);

    // gm0796's privacy officer: nothing of a gm0797 person, a 403 when asking for gm0797, and
    // its own gemeente's person in full.
    const scoped = await api(gm0796, 'POST', '/api/inzage', { bsn: '999990020' });
    expect(scoped).toMatchObject({ status: 200, body: { count: 0, disclosures: [] } });
    const forbidden = await api(gm0796, 'POST', '/api/inzage', {
      bsn: '999990020',
      gemeente: 'gm0797',
    });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.errors).toEqual([
      expect.objectContaining({ field: 'gemeente', rule: 'credential-scope' }),
    ]);
    expect(
      await eventually(async () => {
        const own = await api(gm0796, 'POST', '/api/inzage', { bsn: '999990032' });
        return own.body.count === 1 && own.body.disclosures[0].eventId === other;
      }),
    ).toBe(true);
    // The unbound administrator limits itself to one gemeente on request.
    const narrowed = await api(all, 'POST', '/api/inzage', {
      bsn: '999990020',
      gemeente: 'gm0865',
    });
    expect(narrowed.body.count).toBe(0);
  });

  it('refuses a bad BSN naming the field, and a request without a key', async () => {
    const bad = await api(all, 'POST', '/api/inzage', { bsn: '111222334' });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(bad.body.errors).toEqual([
      expect.objectContaining({ field: 'bsn', rule: 'elfproef', message: 'fails the elfproef' }),
    ]);
    const anonymous = await api(undefined, 'POST', '/api/inzage', { bsn: '999990019' });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.type).toMatch(/unauthorized$/);
    expect((await api('not-a-key-of-anyone-here', 'GET', '/api/flows')).status).toBe(401);
  });

  it('lists, shows and replays dead letters, which the other gemeente cannot see or touch', async () => {
    chain.kvs.injectFault({ kind: 'status', status: 400, count: 2, scope: { gemeente: 'gm0797' } });
    const ids: string[] = [];
    for (const [i, bsn] of ['999990044', '999990056'].entries()) {
      const res = await chain.coaPost(
        '/v1/koppelingen',
        koppeling(`KOP-ADM-DLQ-${i}`, bsn, `441209010${i}`),
      );
      expect(res.status).toBe(202);
      ids.push(((await res.json()) as { eventId: string }).eventId);
    }
    expect(await eventually(async () => (await chain.streamCount(STREAMS.deadLetters)) === 2)).toBe(
      true,
    );

    const listed = await api(all, 'GET', '/api/dead-letters?gemeente=gm0797&partner=gemeente-kvs');
    expect(listed.status).toBe(200);
    expect(listed.body.count).toBe(2);
    expect(listed.body.deadLetters.map((l: { eventId: string }) => l.eventId).sort()).toEqual(
      [...ids].sort(),
    );
    expect(JSON.stringify(listed.body)).not.toContain('999990044');
    expect(JSON.stringify(listed.body)).not.toContain(golden.persoon.achternaam);
    const [first, second] = listed.body.deadLetters as { seq: number }[];
    expect((await api(all, 'GET', '/api/dead-letters?partner=duo')).body.count).toBe(0);

    const shown = await api(all, 'GET', `/api/dead-letters/${first!.seq}`);
    expect(shown.status).toBe(200);
    expect(shown.body).toMatchObject({
      seq: first!.seq,
      partner: 'gemeente-kvs',
      gemeente: 'gm0797',
      attempts: 1,
    });
    expect(shown.body.original).not.toHaveProperty('body');
    expect(shown.body.original).not.toHaveProperty('headers');
    expect((await api(all, 'GET', '/api/dead-letters/999999')).status).toBe(404);

    // gm0796's officer: the letters are not in its listing, and naming them is refused.
    expect((await api(gm0796, 'GET', '/api/dead-letters')).body).toEqual({
      count: 0,
      deadLetters: [],
    });
    expect((await api(gm0796, 'GET', '/api/dead-letters?gemeente=gm0797')).status).toBe(403);
    expect((await api(gm0796, 'GET', `/api/dead-letters/${first!.seq}`)).status).toBe(403);
    expect(
      (await api(gm0796, 'POST', '/api/dead-letters/replay', { seqs: [first!.seq] })).status,
    ).toBe(403);
    expect(await api(gm0796, 'POST', '/api/dead-letters/replay', { all: true })).toMatchObject({
      status: 200,
      body: { replayed: [], failed: [] },
    });
    expect(await chain.streamCount(STREAMS.deadLetters)).toBe(2);

    // The administrator replays one by seq and the rest by filter; the KVS gets both.
    const one = await api(all, 'POST', '/api/dead-letters/replay', {
      seqs: [first!.seq, 999999],
    });
    expect(one.body).toEqual({
      replayed: [first!.seq],
      failed: [{ seq: 999999, error: 'not found' }],
    });
    const rest = await api(all, 'POST', '/api/dead-letters/replay', { gemeente: 'gm0797' });
    expect(rest.body).toEqual({ replayed: [second!.seq], failed: [] });
    expect(
      await eventually(() =>
        ids.every((id) => chain.kvs.received('gm0797').some((e) => e.id === id)),
      ),
    ).toBe(true);
    expect((await api(all, 'GET', '/api/dead-letters')).body.count).toBe(0);
  });

  it('shows alerts and flows within the caller’s gemeenten', async () => {
    const nc = await connectNats(chain.nats.url, 'alert-test');
    const js = jetstream(nc);
    for (const gemeente of ['gm0797', 'gm0796']) {
      await raiseAlert(js, {
        kind: 'retries-exhausted',
        service: 'gemeente-kvs',
        partner: 'gemeente-kvs',
        gemeente,
        eventId: `alert-test-${gemeente}`,
        attempts: 60,
        reason: 'test',
      });
    }
    await nc.drain();
    const everything = await api(all, 'GET', '/api/alerts');
    expect(everything.body.alerts.map((a: { gemeente: string }) => a.gemeente)).toEqual([
      'gm0797',
      'gm0796',
    ]);
    const own = await api(gm0796, 'GET', '/api/alerts');
    expect(own.body).toMatchObject({ count: 1, alerts: [{ gemeente: 'gm0796' }] });

    // Every message was delivered and acknowledged (the acks of the replays may still be on
    // their way): nothing pending for gm0797.
    let flows: Awaited<ReturnType<typeof api>> | undefined;
    let kvs0797: any;
    expect(
      await eventually(async () => {
        flows = await api(all, 'GET', '/api/flows');
        kvs0797 = flows.body.consumers.find(
          (c: { name: string }) => c.name === 'gemeente-kvs-gm0797',
        );
        return kvs0797?.ackPending === 0 && kvs0797?.pending === 0;
      }, 10_000),
    ).toBe(true);
    expect(flows!.status).toBe(200);
    const names = flows!.body.consumers.map((c: { name: string }) => c.name);
    expect(names).toEqual(
      expect.arrayContaining(['gemeente-kvs-gm0797', 'gemeente-kvs-gm0796', 'gemeente-kvs-gm0865']),
    );
    expect(kvs0797).toMatchObject({
      stream: 'KETEN',
      gemeente: 'gm0797',
      filterSubject: 'keten.gm0797.>',
    });
    const keten = flows!.body.streams.find((s: { stream: string }) => s.stream === 'KETEN');
    expect(keten.messages).toBe(await chain.streamCount(STREAMS.keten));
    expect(keten.gemeenten.gm0797).toBeGreaterThan(0);
    expect(flows!.body.streams.map((s: { stream: string }) => s.stream)).toContain('KETEN_ALERTS');

    const scoped = await api(gm0796, 'GET', '/api/flows');
    expect(
      scoped.body.consumers.filter((c: { gemeente?: string }) => c.gemeente !== undefined),
    ).toEqual([expect.objectContaining({ name: 'gemeente-kvs-gm0796' })]);
    const scopedKeten = scoped.body.streams.find((s: { stream: string }) => s.stream === 'KETEN');
    expect(Object.keys(scopedKeten.gemeenten)).toEqual(['gm0796']);
    expect(scopedKeten.messages).toBe(scopedKeten.gemeenten.gm0796);
    expect(scoped.body.streams.map((s: { stream: string }) => s.stream)).not.toContain(
      'KETEN_ALERTS',
    );
    // Counts and names only: nothing of a person.
    expect(JSON.stringify(flows!.body)).not.toMatch(/99999\d{4}/);
  });
});
