import type { JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InburgeraarGekoppeld, InburgeraarGevestigd } from '@ketenhub/contracts/generated';
import { buildEvent } from './events.ts';
import { isRetryable } from './errors.ts';
import { nameBasedUuid } from './ids.ts';
import { createIdentityHandler } from './identity-handler.ts';
import { testBsn } from './identifiers.ts';
import { openIdentityStore, type IdentityStore } from './identity-store.ts';
import { startLocalNats, type LocalNats } from './local-nats.ts';
import { connectNats } from './nats.ts';
import { createPseudonymizer } from './pseudonym.ts';

/**
 * The identity store links a pseudonym to a BSN; everything sent to DUO and the Kredietbank by
 * BSN follows that link. These tests run the handler against a real NATS KV bucket.
 */
let server: LocalNats;
let nc: NatsConnection;
let store: IdentityStore;
const pseudonyms = createPseudonymizer('p'.repeat(40));
const handle = () => createIdentityHandler(store, pseudonyms);
const G = 'gm0797';

beforeAll(async () => {
  server = await startLocalNats();
  nc = await connectNats(server.url, 'identity-test');
  store = await openIdentityStore(nc, { ttlDays: 1 });
});
afterAll(async () => {
  await nc?.drain();
  await server?.stop();
});

const vnummerOf = (n: number) => String(7_000_000_000 + n).padStart(10, '0');

/** The handler reads only the message body. */
const msg = (event: unknown) => ({ json: () => event }) as unknown as JsMsg;

function koppeling(n: number, opts: { bsn?: string; inburgeraarId?: string } = {}) {
  const persoon = {
    ...(opts.bsn ? { bsn: opts.bsn } : {}),
    vnummer: vnummerOf(n),
    voornamen: 'Test',
    geslachtsnaam: `Persoon ${n}`,
    geboortedatum: '1990-01-01',
    geslacht: 'onbekend' as const,
  };
  return buildEvent<InburgeraarGekoppeld>({
    id: nameBasedUuid(`identity-test:koppeling:${n}:${opts.bsn ?? ''}:${opts.inburgeraarId ?? ''}`),
    type: 'nl.inburgering.inburgeraar.gekoppeld',
    source: 'urn:nld:oin:00000001234567890000:systeem:coa',
    gemeente: G,
    data: {
      inburgeraarId:
        opts.inburgeraarId ?? pseudonyms.inburgeraarId({ bsn: opts.bsn, vnummer: vnummerOf(n) }),
      gemeenteCode: G,
      koppelingId: `K-${n}`,
      koppeldatum: '2026-09-01',
      vergunningIngangsdatum: '2026-08-20',
      persoon,
      azc: { code: 'AZC01', naam: 'azc Test' },
      huishouden: { huishoudenId: `HH-${n}`, rol: 'hoofdpersoon', omvang: 1, nareiziger: false },
    },
  });
}

function vestiging(inburgeraarId: string, bsn?: string) {
  return buildEvent<InburgeraarGevestigd>({
    id: nameBasedUuid(`identity-test:vestiging:${inburgeraarId}:${bsn ?? ''}`),
    type: 'nl.inburgering.inburgeraar.gevestigd',
    source: 'urn:nld:oin:00000001000797000000:systeem:kvs',
    gemeente: G,
    data: {
      inburgeraarId,
      gemeenteCode: G,
      vestigingsdatum: '2026-10-01',
      ...(bsn ? { bsn } : {}),
    },
  });
}

describe('identity handler: which BSN belongs to which pseudonym', () => {
  it('stores a koppeling with BSN, and the BSN a vestiging brings for a person known by V-nummer', async () => {
    const withBsn = koppeling(1, { bsn: testBsn(1) });
    expect(await handle()(msg(withBsn))).toBe('delivered');
    expect(await store.get(withBsn.data.inburgeraarId)).toMatchObject({
      bsn: testBsn(1),
      vnummer: vnummerOf(1),
      gemeente: G,
    });

    const withoutBsn = koppeling(2);
    const id = withoutBsn.data.inburgeraarId;
    expect(await handle()(msg(withoutBsn))).toBe('delivered');
    expect((await store.get(id))?.bsn).toBeUndefined();
    expect(await handle()(msg(vestiging(id, testBsn(2))))).toBe('delivered');
    expect(await store.get(id)).toMatchObject({ bsn: testBsn(2), vestigingsdatum: '2026-10-01' });
  });

  it('accepts a vestiging whose BSN the pseudonym was made from, before any koppeling', async () => {
    const id = pseudonyms.inburgeraarId({ bsn: testBsn(3), vnummer: '' });
    expect(await handle()(msg(vestiging(id, testBsn(3))))).toBe('delivered');
    expect((await store.get(id))?.bsn).toBe(testBsn(3));
  });

  it('refuses a koppeling whose inburgeraarId is not the pseudonym of its persoon', async () => {
    const forged = koppeling(4, { bsn: testBsn(4), inburgeraarId: `ih-${'4'.repeat(32)}` });
    const err = await handle()(msg(forged)).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'ValidationError', rule: 'pseudonym of persoon' });
    expect(isRetryable(err)).toBe(false);
    expect(await store.get(forged.data.inburgeraarId)).toBeUndefined();
  });

  it('never overwrites a known BSN with another one', async () => {
    const k = koppeling(5, { bsn: testBsn(5) });
    await handle()(msg(k));
    const err = await handle()(msg(vestiging(k.data.inburgeraarId, testBsn(6)))).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ name: 'ValidationError', rule: 'bsn unchanged' });
    expect(String((err as Error).message)).toContain('data.bsn');
    expect((await store.get(k.data.inburgeraarId))?.bsn).toBe(testBsn(5));
  });

  it('refuses a BSN that does not belong to a known person without one', async () => {
    // Known only from a vestiging without BSN: no V-nummer to check the pseudonym against.
    const id = `ih-${'7'.repeat(32)}`;
    expect(await handle()(msg(vestiging(id)))).toBe('delivered');
    const err = await handle()(msg(vestiging(id, testBsn(7)))).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'ValidationError', rule: 'bsn of inburgeraar' });
    expect((await store.get(id))?.bsn).toBeUndefined();
  });

  it('lets a vestiging with BSN for a pseudonym not seen yet wait for its koppeling (retried)', async () => {
    const early = koppeling(8);
    const id = early.data.inburgeraarId;
    const err = await handle()(msg(vestiging(id, testBsn(8)))).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'OutOfOrderError', rule: 'koppeling first' });
    expect(isRetryable(err)).toBe(true);
    expect(await store.get(id)).toBeUndefined();
    // The koppeling arrives; the redelivered vestiging is then taken.
    await handle()(msg(early));
    expect(await handle()(msg(vestiging(id, testBsn(8))))).toBe('delivered');
    expect((await store.get(id))?.bsn).toBe(testBsn(8));
  });

  it('skips other inburgeraar events and refuses an invalid one', async () => {
    expect(await handle()(msg({ type: 'nl.inburgering.inburgeraar.overgedragen', data: {} }))).toBe(
      'skipped',
    );
    const broken = vestiging(`ih-${'9'.repeat(32)}`, '123');
    await expect(handle()(msg(broken))).rejects.toMatchObject({ name: 'ValidationError' });
  });
});
