import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JetStreamClient, JsMsg } from '@nats-io/jetstream';
import { startDuoSimulator, type DuoSimulator } from '@ketenhub/simulator-duo';
import {
  PARTNER_HEADER,
  buildEvent,
  createLogger,
  nameBasedUuid,
  type Event,
  type UrenLedger,
  type UrenStand,
} from '@ketenhub/kit';
import {
  createProjector,
  testBsn,
  type Identity,
  type IdentityStore,
  type ProcessingRecord,
} from '@ketenhub/kit/privacy';
import { createDuoClient } from './duo-client.ts';
import {
  createPipHandler,
  createPipIntrekkingHandler,
  createUrenHandler,
  type DuoDeps,
} from './handlers.ts';

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

/**
 * The hours ledger's contract in memory (the real one, on NATS KV, is tested in
 * kit/src/uren-ledger.int.test.ts and runs in test/e2e/duo.int.test.ts): a source's newest total
 * replaces its older one, the sum is the total.
 */
function memoryLedger(): UrenLedger & { stands: Map<string, UrenStand> } {
  const stands = new Map<string, UrenStand>();
  return {
    stands,
    async report(r) {
      const key = `${r.gemeente}.${r.inburgeraarId}.${r.soort}`;
      const held = stands.get(key);
      const own = held?.bijdragen[r.bron];
      if (held && own && own.tijd >= r.tijd) return held;
      const bijdragen = {
        ...held?.bijdragen,
        [r.bron]: { uren: r.uren, tijd: r.tijd, eventId: r.eventId },
      };
      const stand = {
        gemeente: r.gemeente,
        inburgeraarId: r.inburgeraarId,
        soort: r.soort,
        bijdragen,
        totaal: Object.values(bijdragen).reduce((n, b) => n + b.uren, 0),
      };
      stands.set(key, stand);
      return stand;
    },
    async get(gemeente, inburgeraarId, soort) {
      return stands.get(`${gemeente}.${inburgeraarId}.${soort}`);
    },
    async forPersons(betrokkenen) {
      return [...stands.values()].filter((x) => betrokkenen.includes(x.inburgeraarId));
    },
  };
}

function setup(bsn: string, seed: Record<string, unknown> = {}) {
  sim.seed({ bsn, gemeentecode: '0797', vestigingsdatum: '2026-09-01', ...seed });
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
    uren: memoryLedger(),
  };
  return { handler: createPipHandler(deps), deps, published, records };
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
    // The PIP is not disclosed the second time; the first delivery's records cover it. Each
    // delivery's reads of DUO (plicht, doelgroep, PIP: the BSN in their URLs) are logged.
    const melding = records.filter((r) => r.categorieen.join() !== 'gemeente,identificatie');
    expect(melding.map((r) => r.status)).toEqual(['gestart', 'verstrekt']);
    const reads = records.filter((r) => r.categorieen.join() === 'gemeente,identificatie');
    const perDelivery = ['Inburgeringsplicht', 'Inburgeringsplicht', 'PIP'].flatMap((api) => [
      `${api} gestart`,
      `${api} verstrekt`,
    ]);
    expect(reads.map((r) => `${r.ontvanger.endpoint} ${r.status}`).sort()).toEqual(
      [...perDelivery, ...perDelivery].sort(),
    );
    expect(new Set(reads.map((r) => r.activiteit))).toEqual(new Set(['va-004']));
    expect(reads.every((r) => r.betrokkene === `ih-${bsn.padEnd(32, '0')}`)).toBe(true);
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

/** A chain event from the KVS of gm0797, at its first delivery. */
function kvsDelivery(
  type: string,
  bsn: string,
  n: string,
  data: Record<string, unknown>,
  opts: { partner?: string; time?: string; deliveryCount?: number } = {},
): JsMsg {
  const event = buildEvent({
    id: nameBasedUuid(`duo-handler-test:${type}:${bsn}:${n}`),
    type,
    source: `urn:nld:oin:${OIN}:systeem:suite4sd`,
    gemeente: GEMEENTE,
    data: { inburgeraarId: `ih-${bsn.padEnd(32, '0')}`, gemeenteCode: GEMEENTE, ...data },
    ...(opts.time ? { time: new Date(opts.time) } : {}),
  });
  const deliveryCount = opts.deliveryCount ?? 1;
  return {
    subject: `keten.${GEMEENTE}.${type.replace('nl.inburgering.', '')}`,
    headers: {
      get: (name: string) => (name === PARTNER_HEADER ? (opts.partner ?? 'gemeente-kvs') : ''),
    },
    json: () => structuredClone(event),
    info: { deliveryCount, redelivered: deliveryCount > 1 },
  } as unknown as JsMsg;
}

/** What DUO registered of the person's hours, per kind (its state, not a request log). */
const urenAtDuo = (bsn: string) =>
  (sim.person(bsn)?.uren ?? []).map(({ gemeentecode: _g, ...kinds }) => kinds);

describe('createUrenHandler: the kind of hours fits the route and the doelgroep', () => {
  const uren = (bsn: string, n: string, soort: string) =>
    kvsDelivery('nl.inburgering.leerroute.uren', bsn, n, { soort, urenTotaal: 80 });

  it("registers Z-route participation activities (DUO's participatieactiviteiten) of an asielstatushouder", async () => {
    const bsn = testBsn(951);
    const { deps, published } = setup(bsn, {
      pip: { dagtekeningPip: '2026-10-15', leerroute: 'Z' },
    });
    expect(await createUrenHandler(deps)(uren(bsn, '1', 'zroute-participatieactiviteiten'))).toBe(
      'delivered',
    );
    expect(urenAtDuo(bsn)).toEqual([{ participatieactiviteiten: 80 }]);
    expect(published.map((e) => e.type)).toEqual(['nl.inburgering.leerroute.uren-geregistreerd']);
  });

  it.each([
    ['a B1-route', 952, { pip: { dagtekeningPip: '2026-10-15', leerroute: 'B' } }],
    [
      'a gezinsmigrant on the Z-route',
      953,
      {
        pip: { dagtekeningPip: '2026-10-15', leerroute: 'Z' },
        doelgroep: { indeling: 'Gezinsmigrant en overige migrant' },
      },
    ],
    ['no PIP at DUO', 954, {}],
  ])('refuses them for %s, naming the rule, and sends nothing', async (_case, n, seed) => {
    const bsn = testBsn(n);
    const { deps, published } = setup(bsn, seed);
    expect(await createUrenHandler(deps)(uren(bsn, '1', 'zroute-participatieactiviteiten'))).toBe(
      'rejected',
    );
    expect(urenAtDuo(bsn)).toEqual([]);
    expect(published.map((e) => [e.type, (e.data.regel as { code: string }).code])).toEqual([
      ['nl.inburgering.leerroute.uren-afgewezen', 'participatieactiviteiten-alleen-z-route-asiel'],
    ]);
  });

  it('registers course hours of the leerroute whatever the route', async () => {
    const bsn = testBsn(961);
    const { deps } = setup(bsn, { pip: { dagtekeningPip: '2026-10-15', leerroute: 'B' } });
    expect(await createUrenHandler(deps)(uren(bsn, '1', 'participatie-als-taalles'))).toBe(
      'delivered',
    );
    expect(urenAtDuo(bsn)).toEqual([{ participatietaalles: 80 }]);
  });
});

describe('createPipIntrekkingHandler: only course hours stop a withdrawal', () => {
  const intrekking = (bsn: string) =>
    kvsDelivery('nl.inburgering.pip.ingetrokken', bsn, '1', { pipId: 'PIP-1' });
  const pip = { dagtekeningPip: '2026-10-15', leerroute: 'Z' };

  it('withdraws a PIP with only participation activities registered (not course hours)', async () => {
    const bsn = testBsn(971);
    const { deps, published } = setup(bsn, { pip, uren: [{ participatieactiviteiten: 40 }] });
    expect(await createPipIntrekkingHandler(deps)(intrekking(bsn))).toBe('delivered');
    expect(published.map((e) => e.type)).toEqual(['nl.inburgering.pip.ingetrokken-bij-duo']);
  });

  it.each([
    ['taal- en KNM-lessen of the leerroute', 972, { participatietaalles: 12 }],
    ['taal- en KNM-lessen in the brede intake', 973, { taallesknm: 6 }],
  ])('refuses it with %s registered (rule intrekken-uren-geregistreerd)', async (_c, n, uren) => {
    const bsn = testBsn(n);
    const { deps, published } = setup(bsn, { pip, uren: [uren] });
    expect(await createPipIntrekkingHandler(deps)(intrekking(bsn))).toBe('rejected');
    expect(published.map((e) => (e.data.regel as { code: string }).code)).toEqual([
      'intrekken-uren-geregistreerd',
    ]);
  });
});

describe('createUrenHandler: DUO gets the sum of every source, never the last writer', () => {
  const TYPE = 'nl.inburgering.leerroute.uren';
  const pip = { dagtekeningPip: '2026-10-15', leerroute: 'B' };
  const atDuo = (bsn: string) => urenAtDuo(bsn)[0]?.participatietaalles;

  it("sums the schools' and the KVS's totals; a source's new total replaces its old one", async () => {
    const bsn = testBsn(981);
    const { deps, published } = setup(bsn, { pip });
    const handle = createUrenHandler(deps);
    const uren = (
      n: string,
      urenTotaal: number,
      time: string,
      extra: object = {},
      partner?: string,
    ) =>
      handle(
        kvsDelivery(
          TYPE,
          bsn,
          n,
          { soort: 'participatie-als-taalles', urenTotaal, ...extra },
          { time, ...(partner ? { partner } : {}) },
        ),
      );
    expect(
      await uren(
        'noord-1',
        40,
        '2026-11-01T10:00:00Z',
        { taalaanbieder: 'taalschool-noord' },
        'taalaanbieder',
      ),
    ).toBe('delivered');
    expect(atDuo(bsn)).toBe(40);
    // The KVS's own hours (another provider) add to the school's, they do not replace them.
    expect(await uren('kvs-1', 12, '2026-11-02T10:00:00Z')).toBe('delivered');
    expect(atDuo(bsn)).toBe(52);
    // The school's next total replaces its own earlier one.
    expect(
      await uren(
        'noord-2',
        64,
        '2026-11-08T10:00:00Z',
        { taalaanbieder: 'taalschool-noord' },
        'taalaanbieder',
      ),
    ).toBe('delivered');
    expect(atDuo(bsn)).toBe(76);
    // A second school (a switch of leerroute): the first one's hours stay counted.
    expect(
      await uren(
        'zuid-1',
        8,
        '2026-11-09T10:00:00Z',
        { taalaanbieder: 'taalschool-zuid' },
        'taalaanbieder',
      ),
    ).toBe('delivered');
    expect(atDuo(bsn)).toBe(84);
    // A KVS cannot pass its hours off as a school's: the source is the edge it came through.
    expect(
      await uren('kvs-2', 20, '2026-11-10T10:00:00Z', { taalaanbieder: 'taalschool-noord' }),
    ).toBe('delivered');
    expect(atDuo(bsn)).toBe(92);
    expect(published.every((e) => e.type === 'nl.inburgering.leerroute.uren-geregistreerd')).toBe(
      true,
    );
  });

  it('changes nothing at DUO on a redelivery or a replay of an older report', async () => {
    const bsn = testBsn(982);
    const { deps } = setup(bsn, { pip });
    const handle = createUrenHandler(deps);
    const report = (n: string, urenTotaal: number, time: string, deliveryCount = 1) =>
      kvsDelivery(
        TYPE,
        bsn,
        n,
        { soort: 'participatie-als-taalles', urenTotaal },
        { time, deliveryCount },
      );
    await handle(report('a', 30, '2026-11-01T10:00:00Z'));
    await handle(report('b', 50, '2026-11-08T10:00:00Z'));
    await handle(report('b', 50, '2026-11-08T10:00:00Z', 2));
    await handle(report('a', 30, '2026-11-01T10:00:00Z', 3));
    expect(atDuo(bsn)).toBe(50);
  });

  it('retries when another source changed the sum while DUO was being sent the old one', async () => {
    const bsn = testBsn(983);
    const { deps } = setup(bsn, { pip });
    const ledger = deps.uren!;
    // Another report lands in the ledger just after this one's sum was taken.
    let raced = false;
    deps.uren = {
      ...ledger,
      async report(r) {
        const stand = await ledger.report(r);
        if (!raced) {
          raced = true;
          await ledger.report({ ...r, bron: 'taalaanbieder:zuid', uren: 5, eventId: 'other' });
        }
        return stand;
      },
    };
    const msg = (deliveryCount: number) =>
      kvsDelivery(
        TYPE,
        bsn,
        'x',
        { soort: 'participatie-als-taalles', urenTotaal: 10 },
        { time: '2026-11-01T10:00:00Z', deliveryCount },
      );
    await expect(createUrenHandler(deps)(msg(1))).rejects.toMatchObject({
      name: 'OutOfOrderError',
      retryable: true,
    });
    expect(atDuo(bsn)).toBe(10);
    expect(await createUrenHandler(deps)(msg(2))).toBe('delivered');
    expect(atDuo(bsn)).toBe(15);
  });
});
