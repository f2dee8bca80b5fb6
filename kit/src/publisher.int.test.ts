import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEvent, type Event } from './events.ts';
import { nameBasedUuid } from './ids.ts';
import { startLocalNats, type LocalNats } from './local-nats.ts';
import {
  MAX_EVENT_BYTES,
  PARTNER_HEADER,
  STREAMS,
  connectNats,
  provisionStreams,
  publishEvent,
  scopedEventId,
} from './nats.ts';
import { createPublisher, openReceipts, type Publisher } from './publisher.ts';

/**
 * The publish path every service uses, against a real JetStream: ids scoped by partner and
 * gemeente (no partner can suppress another's event by choosing its id), one answer per id
 * (a changed resend is a 409, never silently dropped) and a 413 for what the stream cannot hold.
 */
let server: LocalNats;
let nc: NatsConnection;
let js: JetStreamClient;
let coa: Publisher;
let kvs: Publisher;

beforeAll(async () => {
  server = await startLocalNats();
  nc = await connectNats(server.url, 'publisher-test');
  await provisionStreams(nc);
  js = jetstream(nc);
  const receipts = await openReceipts(nc, { ttlDays: 1 });
  coa = createPublisher({ js, partner: 'coa', receipts });
  kvs = createPublisher({ js, partner: 'gemeente-kvs', receipts });
});
afterAll(async () => {
  await nc?.drain();
  await server?.stop();
});

function event(id: string, gemeente: string, data: Record<string, unknown> = {}): Event<unknown> {
  return buildEvent({
    id,
    type: 'nl.inburgering.pip.ingetrokken',
    source: 'urn:nld:oin:00000001234567890000:systeem:test',
    gemeente,
    data: { inburgeraarId: `ih-${'1'.repeat(32)}`, gemeenteCode: gemeente, ...data },
  });
}

async function storedOn(subject: string): Promise<{ id: string; partner: string }[]> {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(STREAMS.keten, { subjects_filter: subject });
  const out: { id: string; partner: string }[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    const m = await jsm.streams.getMessage(STREAMS.keten, { seq }).catch(() => null);
    if (m?.subject !== subject) continue;
    out.push({ id: m.json<{ id: string }>().id, partner: m.header.get(PARTNER_HEADER) });
  }
  return out;
}

describe('publisher', () => {
  it("stores a KVS event whose id is another gemeente's or another partner's event id", async () => {
    const predicted = nameBasedUuid('coa:koppeling:K-SUPPRESS-1');
    // gm0796's KVS gets in first with the id COA will use for gm0797, and with the same id in
    // gm0797 itself.
    await kvs.accept(event(predicted, 'gm0796'), '');
    await kvs.accept(event(predicted, 'gm0797', { reden: 'x' }), '');
    await coa.accept(event(predicted, 'gm0797'), '');
    const stored = await storedOn('keten.gm0797.pip.ingetrokken');
    expect(stored.filter((s) => s.id === predicted).map((s) => s.partner)).toEqual([
      'gemeente-kvs',
      'coa',
    ]);
    expect(scopedEventId('coa', 'gm0797', predicted)).not.toBe(
      scopedEventId('gemeente-kvs', 'gm0797', predicted),
    );
  });

  it('takes the same content under the same id again, and refuses other content with a 409', async () => {
    const id = nameBasedUuid('publisher-test:resend');
    await coa.accept(event(id, 'gm0797', { reden: 'a' }), '');
    // Same content, keys in another order: accepted (and stored once).
    const same = event(id, 'gm0797', { reden: 'a' });
    same.data = Object.fromEntries(Object.entries(same.data as object).reverse());
    await coa.accept(same, '');
    const err = await coa
      .accept(event(id, 'gm0797', { reden: 'b' }), '', {
        id: { field: 'koppelingId', value: 'K-77' },
      })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({
      name: 'ConflictError',
      status: 409,
      field: 'koppelingId',
      rule: 'same content for the same id',
    });
    expect(String((err as Error).message)).toContain('K-77');
    // The same id in another gemeente, or from another partner, is another event.
    await coa.accept(event(id, 'gm0796', { reden: 'b' }), '');
    await kvs.accept(event(id, 'gm0797', { reden: 'b' }), '');
    const ids = (await storedOn('keten.gm0797.pip.ingetrokken')).filter((s) => s.id === id);
    expect(ids.map((s) => s.partner)).toEqual(['coa', 'gemeente-kvs']);
  });

  it('forgets an id whose publish failed, so the retry is taken as new', async () => {
    const id = nameBasedUuid('publisher-test:failed');
    const tooBig = event(id, 'gm0865', { reden: 'x'.repeat(MAX_EVENT_BYTES) });
    await expect(coa.accept(tooBig, '')).rejects.toMatchObject({ status: 413 });
    await coa.accept(event(id, 'gm0865', { reden: 'kort' }), '');
    expect((await storedOn('keten.gm0865.pip.ingetrokken')).map((s) => s.id)).toContain(id);
  });

  it('refuses an event larger than the stream stores with a 413, not a retryable 503', async () => {
    const big = event(nameBasedUuid('publisher-test:big'), 'gm0797', {
      reden: 'x'.repeat(MAX_EVENT_BYTES),
    });
    const err = await coa.publish(big, '').catch((e: unknown) => e);
    expect(err).toMatchObject({
      name: 'PayloadTooLargeError',
      status: 413,
      retryable: false,
      rule: 'max event size',
    });
    // Just under the limit still fits the stream (headers included).
    const fits = event(nameBasedUuid('publisher-test:fits'), 'gm0797');
    const room = MAX_EVENT_BYTES - Buffer.byteLength(JSON.stringify(fits)) - 20;
    await coa.publish(event(fits.id, 'gm0797', { reden: 'y'.repeat(room) }), '');
    // What only the server can measure (body and headers together) is a 413 as well.
    const crowded = event(nameBasedUuid('publisher-test:crowded'), 'gm0797', {
      reden: 'z'.repeat(room),
    });
    await expect(
      publishEvent(js, crowded, JSON.stringify(crowded), {
        partner: 'coa',
        traceparent: 't'.repeat(8 * 1024),
      }),
    ).rejects.toMatchObject({ name: 'PayloadTooLargeError', status: 413 });
  });
});
