import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JetStreamClient, JsMsg } from '@nats-io/jetstream';
import { startDuoSimulator, type DuoSimulator } from '@ketenhub/simulator-duo';
import { PARTNER_HEADER, buildEvent, createLogger, nameBasedUuid, type Event } from '@ketenhub/kit';
import {
  createProjector,
  testBsn,
  type Identity,
  type IdentityStore,
  type ProcessingRecord,
} from '@ketenhub/kit/privacy';
import { createDuoClient } from './duo-client.ts';
import { createPipHandler, type DuoDeps } from './handlers.ts';

/**
 * The PIP handler against the DUO simulator (a real HTTP server with DUO's rules and state),
 * with in-memory stand-ins for the identity store, the processing log and the publisher. A PIP
 * registration is DUO's one non-idempotent melding: a POST that DUO applied but the hub never
 * acked (the service crashed after DUO's 201) comes back as a redelivery, and must not register
 * the PIP a second time. The whole flow under a SIGKILL runs in `npm run chaos`
 * (duo-service-killed).
 */

const GEMEENTE = 'gm0797';
const OIN = '00000001000797000000';
const DUO_OIN = '00000001003214345000';
const logger = createLogger('test', { level: 'silent' });

let sim: DuoSimulator;
beforeAll(async () => {
  sim = await startDuoSimulator({
    oin: DUO_OIN,
    gemeenten: { '0797': OIN },
    specDir: false,
    processingDelayMs: 10_000,
  });
});
afterAll(async () => {
  await sim?.close();
});

function setup(bsn: string) {
  sim.seed({ bsn, gemeentecode: '0797', vestigingsdatum: '2026-09-01' });
  const identity: Identity = { bsn, vestigingsdatum: '2026-09-01' };
  const published: Event<Record<string, unknown>>[] = [];
  const records: Omit<ProcessingRecord, 'tijdstip'>[] = [];
  const identities = {
    async personOf() {
      return { ...identity };
    },
    async merge(_g: string, _id: string, patch: Partial<Identity>) {
      Object.assign(identity, patch);
      return { ...identity };
    },
  } as unknown as IdentityStore;
  const deps: DuoDeps = {
    duo: createDuoClient({ baseUrl: sim.baseUrl, duoOin: DUO_OIN, timeoutMs: 2_000, logger }),
    identities,
    oinOf: () => OIN,
    async publish(event) {
      published.push(event as Event<Record<string, unknown>>);
    },
    projector: createProjector('duo'),
    processingLog: {
      async record(rec) {
        records.push(rec);
      },
    },
    // Only for an alert on API version drift, which these tests do not cause.
    js: {} as JetStreamClient,
    source: 'urn:nld:oin:00000001234567890000:systeem:ketenhub',
    logger,
    today: () => '2026-11-23',
  };
  return { handler: createPipHandler(deps), published, records };
}

function pip(bsn: string, n: string, extra: Record<string, unknown> = {}) {
  return buildEvent({
    id: nameBasedUuid(`duo-handler-test:${bsn}:${n}`),
    type: 'nl.inburgering.pip.vastgesteld',
    source: `urn:nld:oin:${OIN}:systeem:suite4sd`,
    gemeente: GEMEENTE,
    data: {
      inburgeraarId: `ih-${bsn.padEnd(32, '0')}`,
      gemeenteCode: GEMEENTE,
      pipId: `PIP-${n}`,
      dagtekening: '2026-10-15',
      leerroute: 'b1-route',
      niveau: 'B1',
      ...extra,
    },
  });
}

/** The stream message of `event` from the KVS, at its `deliveryCount`-th delivery. */
function delivery(event: Event<unknown>, deliveryCount: number): JsMsg {
  return {
    subject: `keten.${GEMEENTE}.pip.vastgesteld`,
    headers: { get: (name: string) => (name === PARTNER_HEADER ? 'gemeente-kvs' : '') },
    json: () => structuredClone(event),
    info: { deliveryCount, redelivered: deliveryCount > 1 },
  } as unknown as JsMsg;
}

const pipPosts = () =>
  sim.requests().filter((r) => r.api === 'PIP' && r.method === 'POST' && r.status === 201);
const versions = (bsn: string) =>
  sim.person(bsn)!.pips.reduce((n, group) => n + group.versies.length, 0);

describe('createPipHandler: a PIP is registered at DUO once', () => {
  it('does not register a PIP again when its message comes back after DUO accepted it', async () => {
    const bsn = testBsn(901);
    const { handler, published, records } = setup(bsn);
    const event = pip(bsn, 'crash');
    const before = pipPosts().length;
    expect(await handler(delivery(event, 1))).toBe('delivered');
    const recordsBefore = records.length;
    // The service died before its ack: JetStream delivers the same message again.
    expect(await handler(delivery(event, 2))).toBe('delivered');
    expect(versions(bsn)).toBe(1);
    expect(pipPosts().length - before).toBe(1);
    expect(
      sim.requests().filter((r) => r.api === 'PIP' && r.method === 'POST' && r.status >= 400),
    ).toEqual([]);
    // The KVS hears it was registered (the same outcome event both times: one id).
    const outcomes = published.filter((e) => e.type === 'nl.inburgering.pip.geregistreerd');
    expect(outcomes.length).toBeGreaterThan(0);
    expect(new Set(outcomes.map((e) => e.id)).size).toBe(1);
    // Nothing is disclosed the second time; the first delivery's records cover the disclosure.
    expect(records.length).toBe(recordsBefore);
    expect(records.map((r) => r.status)).toEqual(['gestart', 'verstrekt']);
  });

  it('registers a redelivered PIP that never reached DUO', async () => {
    const bsn = testBsn(902);
    const { handler } = setup(bsn);
    const event = pip(bsn, 'lost');
    sim.injectFault({
      kind: 'status',
      status: 503,
      count: 1,
      scope: { api: 'PIP', method: 'POST' },
    });
    await expect(handler(delivery(event, 1))).rejects.toThrow();
    expect(versions(bsn)).toBe(0);
    expect(await handler(delivery(event, 2))).toBe('delivered');
    expect(versions(bsn)).toBe(1);
  });

  it('registers a redelivered PIP that differs from the one DUO holds (a changed PIP)', async () => {
    const bsn = testBsn(903);
    const { handler } = setup(bsn);
    expect(await handler(delivery(pip(bsn, 'first'), 1))).toBe('delivered');
    const changed = pip(bsn, 'changed', { dagtekening: '2026-11-01' });
    sim.injectFault({
      kind: 'status',
      status: 503,
      count: 1,
      scope: { api: 'PIP', method: 'POST' },
    });
    await expect(handler(delivery(changed, 1))).rejects.toThrow();
    expect(await handler(delivery(changed, 2))).toBe('delivered');
    expect(versions(bsn)).toBe(2);
  });
});
