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

function koppeling(
  n: number,
  opts: { bsn?: string; inburgeraarId?: string; gemeente?: string } = {},
) {
  const gemeente = opts.gemeente ?? G;
  const persoon = {
    ...(opts.bsn ? { bsn: opts.bsn } : {}),
    vnummer: vnummerOf(n),
    voornamen: 'Test',
    geslachtsnaam: `Persoon ${n}`,
    geboortedatum: '1990-01-01',
    geslacht: 'onbekend' as const,
  };
  return buildEvent<InburgeraarGekoppeld>({
    id: nameBasedUuid(
      `identity-test:koppeling:${n}:${opts.bsn ?? ''}:${opts.inburgeraarId ?? ''}:${gemeente}`,
    ),
    type: 'nl.inburgering.inburgeraar.gekoppeld',
    source: 'urn:nld:oin:00000001234567890000:systeem:coa',
    gemeente,
    data: {
      inburgeraarId:
        opts.inburgeraarId ?? pseudonyms.inburgeraarId({ bsn: opts.bsn, vnummer: vnummerOf(n) }),
      gemeenteCode: gemeente,
      koppelingId: `K-${n}`,
      koppeldatum: '2026-09-01',
      vergunningIngangsdatum: '2026-08-20',
      persoon,
      azc: { code: 'AZC01', naam: 'azc Test' },
      huishouden: { huishoudenId: `HH-${n}`, rol: 'hoofdpersoon', omvang: 1, nareiziger: false },
    },
  });
}

function vestiging(
  inburgeraarId: string,
  bsn?: string,
  opts: { gemeente?: string; vestigingsdatum?: string } = {},
) {
  const gemeente = opts.gemeente ?? G;
  return buildEvent<InburgeraarGevestigd>({
    id: nameBasedUuid(`identity-test:vestiging:${inburgeraarId}:${bsn ?? ''}:${gemeente}`),
    type: 'nl.inburgering.inburgeraar.gevestigd',
    source: 'urn:nld:oin:00000001000797000000:systeem:kvs',
    gemeente,
    data: {
      inburgeraarId,
      gemeenteCode: gemeente,
      vestigingsdatum: opts.vestigingsdatum ?? '2026-10-01',
      ...(bsn ? { bsn } : {}),
    },
  });
}

describe('identity handler: which BSN belongs to which pseudonym', () => {
  it('stores a koppeling with BSN, and the BSN a vestiging brings for a person known by V-nummer', async () => {
    const withBsn = koppeling(1, { bsn: testBsn(1) });
    expect(await handle()(msg(withBsn))).toBe('delivered');
    expect(await store.binding.get(withBsn.data.inburgeraarId)).toMatchObject({
      bsn: testBsn(1),
      vnummer: vnummerOf(1),
    });
    expect(await store.persons.bindingOf(withBsn.data.inburgeraarId)).toMatchObject({
      gemeente: G,
      door: 'coa',
    });

    const withoutBsn = koppeling(2);
    const id = withoutBsn.data.inburgeraarId;
    expect(await handle()(msg(withoutBsn))).toBe('delivered');
    expect((await store.binding.get(id))?.bsn).toBeUndefined();
    expect(await handle()(msg(vestiging(id, testBsn(2))))).toBe('delivered');
    expect(await store.binding.get(id)).toMatchObject({
      bsn: testBsn(2),
      vestigingsdatum: '2026-10-01',
    });
  });

  it('accepts a vestiging whose BSN the pseudonym was made from, before any koppeling', async () => {
    const id = pseudonyms.inburgeraarId({ bsn: testBsn(3), vnummer: '' });
    expect(await handle()(msg(vestiging(id, testBsn(3))))).toBe('delivered');
    expect((await store.binding.get(id))?.bsn).toBe(testBsn(3));
  });

  it('refuses a koppeling whose inburgeraarId is not the pseudonym of its persoon', async () => {
    const forged = koppeling(4, { bsn: testBsn(4), inburgeraarId: `ih-${'4'.repeat(32)}` });
    const err = await handle()(msg(forged)).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'ValidationError', rule: 'pseudonym of persoon' });
    expect(isRetryable(err)).toBe(false);
    expect(await store.binding.get(forged.data.inburgeraarId)).toBeUndefined();
  });

  it('never overwrites a known BSN with another one', async () => {
    const k = koppeling(5, { bsn: testBsn(5) });
    await handle()(msg(k));
    const err = await handle()(msg(vestiging(k.data.inburgeraarId, testBsn(6)))).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ name: 'ValidationError', rule: 'bsn unchanged' });
    expect(String((err as Error).message)).toContain('data.bsn');
    expect((await store.binding.get(k.data.inburgeraarId))?.bsn).toBe(testBsn(5));
  });

  it('refuses a BSN that does not belong to a known person without one', async () => {
    // Placed in the gemeente, but known by neither BSN nor V-nummer: nothing to check the
    // pseudonym against.
    const id = `ih-${'7'.repeat(32)}`;
    await store.persons.bind(id, G, 'coa');
    expect(await handle()(msg(vestiging(id)))).toBe('delivered');
    const err = await handle()(msg(vestiging(id, testBsn(7)))).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'ValidationError', rule: 'bsn of inburgeraar' });
    expect((await store.binding.get(id))?.bsn).toBeUndefined();
  });

  it('lets a vestiging with BSN for a pseudonym not seen yet wait for its koppeling (retried)', async () => {
    const early = koppeling(8);
    const id = early.data.inburgeraarId;
    const err = await handle()(msg(vestiging(id, testBsn(8)))).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'OutOfOrderError', rule: 'koppeling first' });
    expect(isRetryable(err)).toBe(true);
    expect(await store.binding.get(id)).toBeUndefined();
    // The koppeling arrives; the redelivered vestiging is then taken.
    await handle()(msg(early));
    expect(await handle()(msg(vestiging(id, testBsn(8))))).toBe('delivered');
    expect((await store.binding.get(id))?.bsn).toBe(testBsn(8));
  });

  it('skips other inburgeraar events and refuses an invalid one', async () => {
    expect(await handle()(msg({ type: 'nl.inburgering.inburgeraar.overgedragen', data: {} }))).toBe(
      'skipped',
    );
    const broken = vestiging(`ih-${'9'.repeat(32)}`, '123');
    await expect(handle()(msg(broken))).rejects.toMatchObject({ name: 'ValidationError' });
  });
});

describe('identity handler: the gemeente a person belongs to', () => {
  const OTHER = 'gm0796';

  it("refuses another gemeente's vestiging of a person, and changes nothing", async () => {
    const k = koppeling(20, { bsn: testBsn(20) });
    const id = k.data.inburgeraarId;
    await handle()(msg(k));
    await handle()(msg(vestiging(id, testBsn(20))));
    const before = await store.binding.get(id);

    for (const attack of [
      vestiging(id, testBsn(20), { gemeente: OTHER, vestigingsdatum: '2026-11-11' }),
      vestiging(id, undefined, { gemeente: OTHER, vestigingsdatum: '2026-11-11' }),
    ]) {
      const err = await handle()(msg(attack)).catch((e: unknown) => e);
      expect(err).toMatchObject({
        name: 'TenantMismatchError',
        status: 403,
        rule: 'person of gemeente',
        alert: 'tenant-mismatch',
      });
      expect(isRetryable(err)).toBe(false);
    }
    expect(await store.persons.bindingOf(id)).toMatchObject({ gemeente: G });
    expect(await store.binding.get(id)).toEqual(before);
    expect(before?.vestigingsdatum).toBe('2026-10-01');
  });

  it('moves a person only through a koppeling (COA), not through a vestiging', async () => {
    const k = koppeling(21, { bsn: testBsn(21) });
    const id = k.data.inburgeraarId;
    await handle()(msg(k));
    await handle()(msg(koppeling(21, { bsn: testBsn(21), gemeente: OTHER })));
    expect(await store.persons.bindingOf(id)).toMatchObject({ gemeente: OTHER, door: 'coa' });
    // The old gemeente's KVS can no longer act on the person; the new one can.
    await expect(handle()(msg(vestiging(id, testBsn(21))))).rejects.toMatchObject({
      name: 'TenantMismatchError',
    });
    expect(await handle()(msg(vestiging(id, testBsn(21), { gemeente: OTHER })))).toBe('delivered');
  });

  it('lets a vestiging without BSN for a person the hub does not know wait (never binds it)', async () => {
    const id = `ih-${'a'.repeat(32)}`;
    const err = await handle()(msg(vestiging(id))).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'OutOfOrderError', rule: 'koppeling first' });
    expect(await store.persons.bindingOf(id)).toBeUndefined();
    expect(await store.binding.get(id)).toBeUndefined();
  });

  it('binds a person first known from a vestiging with their own BSN to that gemeente', async () => {
    const id = pseudonyms.inburgeraarId({ bsn: testBsn(22), vnummer: '' });
    expect(await handle()(msg(vestiging(id, testBsn(22), { gemeente: OTHER })))).toBe('delivered');
    expect(await store.persons.bindingOf(id)).toMatchObject({
      gemeente: OTHER,
      door: 'gemeente-kvs',
    });
    expect(await store.personOf(OTHER, id)).toMatchObject({ bsn: testBsn(22) });
    await expect(store.personOf(G, id)).rejects.toMatchObject({ name: 'TenantMismatchError' });
  });

  it('refuses a vestiging whose gemeente extension and data.gemeenteCode differ', async () => {
    const k = koppeling(23, { bsn: testBsn(23) });
    await handle()(msg(k));
    const forged = vestiging(k.data.inburgeraarId, testBsn(23));
    forged.data.gemeenteCode = OTHER;
    await expect(handle()(msg(forged))).rejects.toMatchObject({
      name: 'ValidationError',
      rule: 'equals gemeente',
    });
  });
});
