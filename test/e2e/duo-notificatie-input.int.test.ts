import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { STREAMS, connectNats } from '@ketenhub/kit';
import { testBsn } from '@ketenhub/kit/privacy';
import type { NatsConnection } from '@nats-io/transport-node';
import { TEST_DUO_OIN, startDuoTestChain, type DuoTestChain } from '../harness/index.ts';

let chain: DuoTestChain;
let nc: NatsConnection;
let jsm: JetStreamManager;

beforeAll(async () => {
  chain = await startDuoTestChain();
  nc = await connectNats(chain.nats.url, 'duo-input-test');
  jsm = await jetstreamManager(nc);
});
afterAll(async () => {
  await nc?.drain();
  await chain?.stop();
});

/** POSTs a notification as DUO; `body` is sent as it is, so any JSON number can be tried. */
function notify(body: string, berichtId: string = randomUUID()) {
  return fetch(`${chain.duoService.url}/v1/notificaties`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${chain.duoApiKey}`,
      bron: TEST_DUO_OIN,
      doel: chain.oinOf('gm0797'),
      berichtid: berichtId,
    },
    body,
  });
}

/** `duo.notificatie-ontvangen` events stored in KETEN for gm0797. */
async function notificatieEvents(): Promise<number> {
  const subject = 'keten.gm0797.duo.notificatie-ontvangen';
  const info = await jsm.streams.info(STREAMS.keten, { subjects_filter: subject });
  return info.state.subjects?.[subject] ?? 0;
}

describe('DUO Notificatie API: hostile input is a 4xx', () => {
  it.each(['0', '-0', '-5', '10000000000', '1.5', '"0"', '"0000000000"'])(
    'refuses vNummer %s with 400 naming the field, and stores nothing',
    async (vNummer) => {
      const before = await notificatieEvents();
      const res = await notify(
        `{"registratieDatumTijd":"2026-11-23T10:00:00Z","gebeurtenisId":"SS101","vNummer":${vNummer}}`,
      );
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const problem = (await res.json()) as { errors: { field: string; rule: string }[] };
      expect(problem.errors.map((e) => e.field)).toContain('vNummer');
      expect(await notificatieEvents()).toBe(before);
    },
  );

  it('refuses vNummer 0 next to a valid BSN with the rule vnummer', async () => {
    const res = await notify(
      JSON.stringify({
        registratieDatumTijd: '2026-11-23T10:00:00Z',
        gebeurtenisId: 'SS101',
        bsn: testBsn(320),
        vNummer: 0,
      }),
    );
    expect(res.status).toBe(400);
    const problem = (await res.json()) as { errors: { field: string; rule: string }[] };
    expect(problem.errors).toContainEqual(
      expect.objectContaining({ field: 'vNummer', rule: 'vnummer' }),
    );
  });
});

describe('DUO berichtId', () => {
  it('takes the same berichtId in upper, lower and mixed case as one notification: one event', async () => {
    const berichtId = randomUUID();
    const mixed = berichtId.replace(/[a-f]/g, (c, i: number) => (i % 2 ? c.toUpperCase() : c));
    const body = JSON.stringify({
      registratieDatumTijd: '2026-11-23T10:00:00Z',
      gebeurtenisId: 'SS101',
      bsn: testBsn(321),
    });
    const before = await notificatieEvents();
    // At the same time, so each request is past the seen-set check before any is remembered:
    // only the event id can make them one.
    const answers = await Promise.all(
      [berichtId.toUpperCase(), berichtId, mixed].map((id) => notify(body, id)),
    );
    expect(answers.map((r) => r.status)).toEqual([201, 201, 201]);
    await new Promise((r) => setTimeout(r, 300));
    expect(await notificatieEvents()).toBe(before + 1);
    // And later, in yet another casing, it is recognised as handled.
    expect((await notify(body, berichtId.toUpperCase())).status).toBe(201);
    expect(await notificatieEvents()).toBe(before + 1);
  });
});
