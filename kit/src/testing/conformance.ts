/**
 * The conformance suite every partner module runs with one call, `describeConformance(spec)`:
 * the checks that hold for any partner, each against the real thing (a nats-server of its own,
 * the module under the kit's runner, the partner's simulator with the simulator kit's faults):
 *
 * - contracts: the policy's schemas exist, its activities are in the register with a purpose
 *   and a legal basis, and the golden translations still come out the same;
 * - privacy: over schema-valid generated events of every type, with sentinels in every field the
 *   register keeps from the partner, nothing of them reaches the partner's view or its request;
 * - the processing log before every disclosure, failing closed;
 * - retry, breaker and dead letter against the simulator's faults;
 * - tenant isolation;
 * - bad input answered with 4xx problem+json on every route;
 * - the OpenAPI document covering exactly the routes served.
 *
 * What differs per partner (its configuration, its simulator, the events it delivers) is the
 * spec's; the checks are the suite's.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { policies, schemas } from '@ketenhub/contracts';
import { eventDataArbitrary, privacyPlan, type Planted } from '@ketenhub/contracts/testing';
import { listDeadLetters } from '../dead-letter-replay.ts';
import { buildEvent, type Event } from '../events.ts';
import type { HubConfig } from '../hub-config.ts';
import { openIdentityStore, type IdentityStore } from '../identity-store.ts';
import { nameBasedUuid } from '../ids.ts';
import { startLocalNats, type LocalNats } from '../local-nats.ts';
import { createLogger } from '../log.ts';
import { PERSON_TTL_DAYS, runModules, type PartnerModule, type RunningModules } from '../module.ts';
import { STREAMS, connectNats, provisionStreams, publishEvent } from '../nats.ts';
import { documentedRoutes, loadOpenApi, refsOf } from './openapi-routes.ts';
import { createPseudonymizer } from '../pseudonym.ts';
import { createProjector } from '../policy.ts';
import type { ProcessingRecord } from '../processing-log.ts';

/** The gemeenten of every conformance run. */
export const CONFORMANCE_GEMEENTEN = ['gm0797', 'gm0796', 'gm0865'] as const;
const HUB_OIN = '00000001234567890000';

/** A partner's simulator as the suite drives it: the simulator kit's control API. */
export interface PartnerSimulator {
  /** Base URL of its control API (`/_sim/faults`, `/_sim/stats`, `/_sim/reset`). */
  url: string;
  /** Messages the partner accepted so far, for one gemeente when it tells them apart. */
  received(gemeente?: string): Promise<number>;
  close(): Promise<void>;
}

/** A test person: BSN, the hub's pseudonym for it, and the gemeente it belongs to. */
export interface TestPerson {
  bsn: string;
  id: string;
  gemeente: string;
}

/** A chain event and the partner that published it (`Ketenhub-Partner`). */
export interface ChainMessage {
  event: Event<unknown>;
  partner: string;
}

export interface ConformanceContext {
  natsUrl: string;
  /** hub, nats, the three gemeenten (with OINs and KVS placeholders), fast retries. */
  base: HubConfig;
}

export interface ConformanceSetup {
  config: HubConfig;
  simulator?: PartnerSimulator;
  /** A key the module's edge accepts (for the bad-input checks). */
  edgeKey?: string;
  /** Headers every request to the edge needs besides the key (DUO's Digikoppeling headers). */
  edgeHeaders?: Record<string, string>;
  /** After the module started: tell the simulator where the hub is. */
  started?(running: RunningModules): void | Promise<void>;
}

/** One golden translation: `<name>.input.json` through `translate` equals `<name>.expected.json`. */
export interface GoldenCases {
  dir: string;
  cases: Record<string, (input: unknown) => unknown>;
}

export interface OutboundSpec {
  /**
   * What must be in place first, besides the hub knowing the person (which the suite sees to):
   * the person at the partner, events the module needs before.
   */
  prepare?(person: TestPerson): ChainMessage[] | void | Promise<ChainMessage[] | void>;
  /** An event the module delivers to its partner, the n-th for this person. */
  deliver(person: TestPerson, n: number): ChainMessage;
  /**
   * `person-register`: a message about another gemeente's person is refused (dead letter);
   * `subject`: the module serves each gemeente from its own subject and endpoint only.
   */
  tenant: 'person-register' | 'subject';
  /**
   * The simulator-kit fault scope of the disclosing call, when the module calls the partner
   * for other things first (DUO: the rule checks read before the melding is posted).
   */
  faultScope?: Record<string, string>;
}

export interface ConformanceSpec {
  /** The module, as its service runs it. */
  module(): PartnerModule;
  setup(ctx: ConformanceContext): Promise<ConformanceSetup>;
  golden?: GoldenCases;
  /** The OpenAPI document of its partner API. */
  openapi?: string;
  privacy?: {
    /** Runs per event type; default 40. */
    runs?: number;
    forbiddenFields?: string[];
    /** Schemas of the partner's own request bodies (their field names are not forbidden). */
    ownSchemas?: string[];
    /** The request the module builds from each projected type it receives. */
    requests?: Record<string, (data: unknown) => unknown>;
  };
  outbound?: OutboundSpec;
}

const silent = createLogger('conformance', { level: process.env.LOG_LEVEL ?? 'silent' });

/** BSNs that pass the elfproef, one per call, distinct within a run. */
function bsnFactory(): () => string {
  let n = Math.floor(Math.random() * 1_000_000);
  return () => {
    for (;;) {
      n = (n + 1) % 100_000_000;
      const digits = `1${String(n).padStart(7, '0')}`;
      const sum = [...digits].reduce((acc, d, i) => acc + Number(d) * (9 - i), 0);
      const last = sum % 11;
      if (last <= 9) return `${digits}${last}`;
    }
  };
}

async function until(check: () => Promise<boolean> | boolean, ms = 20_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function baseConfig(natsUrl: string): HubConfig {
  return {
    hub: { oin: HUB_OIN, pseudonymKey: randomBytes(32).toString('hex') },
    nats: { url: natsUrl },
    gemeenten: CONFORMANCE_GEMEENTEN.map((code) => ({
      code,
      naam: code,
      oin: `0000000100${code.slice(2)}000000`,
    })),
    partners: {},
    services: {} as HubConfig['services'],
  } as HubConfig;
}

/** Fast retries and a breaker that opens after a few failures, for a `services.<name>` block. */
export const CONFORMANCE_SERVICE = {
  opsPort: 0,
  port: 0,
  ackWaitMs: 10_000,
  concurrency: 4,
  retry: { delaysMs: [100, 200, 400] as [number, ...number[]], maxAttempts: 30 },
  breaker: { resetTimeoutMs: 500, volumeThreshold: 3, errorThresholdPercentage: 50 },
};

/** Registers the conformance suite of one partner module. */
export function describeConformance(spec: ConformanceSpec): void {
  const module = spec.module();
  const policy = policies().policies.get(module.id);

  describe(`${module.id}: contracts`, () => {
    it('has a policy whose event types are in the catalogue and whose activities are registered with purpose and legal basis', () => {
      if (module.kind === 'operations') return expect(policy).toBeUndefined();
      expect(policy, `contracts/policies/${module.id}.yaml`).toBeDefined();
      const known = new Set(schemas().eventTypes());
      for (const type of [...policy!.levert, ...Object.keys(policy!.ontvangt)]) {
        expect(known.has(type), type).toBe(true);
      }
      const register = policies().register;
      for (const rule of Object.values(policy!.ontvangt)) {
        const activity = register.activiteiten.find((a) => a.id === rule.activiteit);
        expect(activity, rule.activiteit).toBeDefined();
        expect(activity!.ontvangers).toContain(module.id);
        expect(activity!.doel.trim().length, `${rule.activiteit} doel`).toBeGreaterThan(0);
        expect(activity!.grondslag.wet.trim().length, `${rule.activiteit} wet`).toBeGreaterThan(0);
        for (const category of Object.values(rule.velden)) {
          expect(activity!.categorieen, `${rule.activiteit} ${category}`).toContain(category);
        }
      }
      if (policy!.leveringsschema) {
        expect(() => schemas().byId(policy!.leveringsschema!)).not.toThrow();
      }
    });

    if (spec.golden) {
      const { dir, cases } = spec.golden;
      it.each(Object.keys(cases))('translates golden case %s as before', (name) => {
        const input = JSON.parse(readFileSync(join(dir, `${name}.input.json`), 'utf8')) as unknown;
        const actual = JSON.parse(JSON.stringify(cases[name]!(input))) as unknown;
        // A translation to a chain event must also fit the chain contract.
        if (actual && typeof actual === 'object' && 'specversion' in actual) {
          expect(schemas().validateEvent(actual)).toEqual([]);
        }
        const file = join(dir, `${name}.expected.json`);
        if (process.env.UPDATE_GOLDEN === '1' || !existsSync(file)) {
          writeFileSync(file, `${JSON.stringify(actual, null, 2)}\n`);
        }
        expect(actual).toEqual(JSON.parse(readFileSync(file, 'utf8')));
      });
    }
  });

  if (policy && Object.keys(policy.ontvangt).length > 0) {
    describe(`${module.id}: privacy (property)`, () => {
      const runs = spec.privacy?.runs ?? 40;
      const projector = createProjector(module.id);
      const plan = privacyPlan({
        partner: module.id,
        ...(spec.privacy?.forbiddenFields ? { forbiddenFields: spec.privacy.forbiddenFields } : {}),
        ...(spec.privacy?.ownSchemas ? { ownSchemas: spec.privacy.ownSchemas } : {}),
      });
      const requests = spec.privacy?.requests ?? {};

      it('builds a request for every type it receives, when it builds its own', () => {
        if (Object.keys(requests).length === 0) return;
        expect(Object.keys(requests).sort()).toEqual([...projector.eventTypes].sort());
      });

      it.each(schemas().eventTypes())(
        `lets nothing outside its purpose out of generated %s events (${runs} runs)`,
        (type) => {
          let asserted = 0;
          fc.assert(
            fc.property(plan.arbitrary(type), (data) => {
              const event = buildEvent({
                id: nameBasedUuid(`conformance:${type}`),
                type,
                source: `urn:nld:oin:${HUB_OIN}:systeem:conformance`,
                gemeente: (data as { gemeenteCode?: string }).gemeenteCode ?? 'gm0797',
                data,
              });
              expect(schemas().validateEvent(event)).toEqual([]);
              const planted: Planted[] = plan.planted(type, data);
              const disclosure = projector.project(event);
              if (disclosure) {
                expect(
                  disclosure.categories.filter((c) => plan.forbiddenCategories.includes(c)),
                ).toEqual([]);
                expect(plan.leaks(disclosure.event.data, planted)).toEqual([]);
                const request = requests[type];
                if (request) {
                  // A projection the module cannot make a request of is refused: nothing sent.
                  let body: unknown;
                  try {
                    body = request(disclosure.event.data);
                  } catch (err) {
                    expect((err as { status?: number }).status, String(err)).toBe(400);
                  }
                  if (body !== undefined) expect(plan.leaks(body, planted)).toEqual([]);
                }
              } else {
                expect(projector.eventTypes).not.toContain(type);
              }
              asserted++;
            }),
            { numRuns: runs },
          );
          expect(asserted).toBe(runs);
        },
      );
    });
  }

  describe(`${module.id}: running`, () => {
    let nats: LocalNats;
    let nc: NatsConnection;
    let jsm: JetStreamManager;
    let setup: ConformanceSetup;
    let running: RunningModules;
    const nextBsn = bsnFactory();
    let pseudonymize: (bsn: string) => string;
    let identities: IdentityStore;

    beforeAll(async () => {
      nats = await startLocalNats();
      nc = await connectNats(nats.url, 'conformance');
      jsm = await jetstreamManager(nc);
      await provisionStreams(nc);
      identities = await openIdentityStore(nc, { ttlDays: PERSON_TTL_DAYS });
      setup = await spec.setup({ natsUrl: nats.url, base: baseConfig(nats.url) });
      const pseudonymizer = createPseudonymizer(setup.config.hub.pseudonymKey);
      pseudonymize = (bsn) => pseudonymizer.inburgeraarId({ bsn, vnummer: '' });
      running = await runModules(setup.config, [module], { logger: silent });
      await setup.started?.(running);
    }, 60_000);
    afterAll(async () => {
      await running?.stop();
      await setup?.simulator?.close();
      await nc?.drain();
      await nats?.stop();
    });

    const person = (gemeente = 'gm0797'): TestPerson => {
      const bsn = nextBsn();
      return { bsn, id: pseudonymize(bsn), gemeente };
    };
    const publish = async ({ event, partner }: ChainMessage) => {
      await publishEvent(jetstream(nc), event, JSON.stringify(event), { partner });
    };
    const records = async (eventId: string): Promise<{ seq: number; r: ProcessingRecord }[]> => {
      const out: { seq: number; r: ProcessingRecord }[] = [];
      const info = await jsm.streams.info(STREAMS.processingLog).catch(() => undefined);
      if (!info || info.state.messages === 0) return out;
      for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
        const m = await jsm.streams.getMessage(STREAMS.processingLog, { seq }).catch(() => null);
        const r = m?.json<ProcessingRecord>();
        if (r?.eventId === eventId) out.push({ seq, r });
      }
      return out;
    };
    const statuses = async (eventId: string) => (await records(eventId)).map((x) => x.r.status);
    /** A fault on the disclosing call (`down`: on every call, the partner is down). */
    const fault = async (body: Record<string, unknown>, down = false) => {
      const scope = down ? undefined : spec.outbound?.faultScope;
      const res = await fetch(`${setup.simulator!.url}/_sim/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(scope ? { ...body, scope } : body),
      });
      expect(res.status, await res.clone().text()).toBe(201);
    };
    const clearFaults = () =>
      fetch(`${setup.simulator!.url}/_sim/faults`, { method: 'DELETE' }).then(() => undefined);
    /**
     * A person the hub knows for `gemeente` (as after COA's koppeling: bound in the person
     * register, BSN in the identity store), with whatever else the outbound spec needs first.
     */
    const prepared = async (gemeente = 'gm0797'): Promise<TestPerson> => {
      const p = person(gemeente);
      await identities.binding.merge(p.id, { bsn: p.bsn });
      await identities.persons.bind(p.id, gemeente, 'coa');
      for (const m of (await spec.outbound?.prepare?.(p)) ?? []) await publish(m);
      return p;
    };
    /** Delivers and waits until the partner has one more message for the gemeente. */
    const deliverOnce = async (p: TestPerson, n = 1) => {
      const before = await setup.simulator!.received(p.gemeente);
      const message = spec.outbound!.deliver(p, n);
      await publish(message);
      expect(await until(async () => (await setup.simulator!.received(p.gemeente)) > before)).toBe(
        true,
      );
      return { message, before };
    };

    it('answers bad input on every route with 4xx problem+json, never 5xx', async () => {
      const entries = Object.entries(running.routes);
      if (entries.length === 0) return;
      for (const [id, routes] of entries) {
        const base = running.urls[id]!;
        for (const route of routes.filter((r) => r.startsWith('POST '))) {
          const path = route.slice('POST '.length);
          const headers = { ...(setup.edgeHeaders ?? {}) };
          const auth = setup.edgeKey ? { authorization: `Bearer ${setup.edgeKey}` } : {};
          const tries: { what: string; init: RequestInit; status?: number }[] = [
            {
              what: 'no credential',
              init: {
                method: 'POST',
                headers: { ...headers, 'content-type': 'application/json' },
                body: '{}',
              },
              status: 401,
            },
            {
              what: 'an array',
              init: {
                method: 'POST',
                headers: { ...headers, ...auth, 'content-type': 'application/json' },
                body: '[]',
              },
            },
            {
              what: 'an empty object',
              init: {
                method: 'POST',
                headers: { ...headers, ...auth, 'content-type': 'application/json' },
                body: '{}',
              },
            },
            {
              what: 'broken JSON',
              init: {
                method: 'POST',
                headers: { ...headers, ...auth, 'content-type': 'application/json' },
                body: '{"a":',
              },
            },
            {
              what: 'text/plain',
              init: {
                method: 'POST',
                headers: { ...headers, ...auth, 'content-type': 'text/plain' },
                body: 'hallo',
              },
            },
          ];
          for (const t of tries) {
            if (t.what !== 'no credential' && !setup.edgeKey) continue;
            const res = await fetch(`${base}${path}`, t.init);
            const where = `${route} with ${t.what}: ${res.status}`;
            expect(res.status >= 400 && res.status < 500, where).toBe(true);
            if (t.status) expect(res.status, where).toBe(t.status);
            expect(res.headers.get('content-type'), where).toMatch(/^application\/problem\+json/);
            const problem = (await res.json()) as {
              status?: number;
              title?: string;
              errors?: unknown;
            };
            expect(problem.status, where).toBe(res.status);
            if (res.status === 400) expect(Array.isArray(problem.errors), where).toBe(true);
          }
        }
      }
    });

    if (spec.openapi) {
      it('serves exactly the routes its OpenAPI document describes, whose contracts exist', () => {
        const document = loadOpenApi(spec.openapi!);
        expect([...(running.routes[module.id] ?? [])].sort()).toEqual(documentedRoutes(document));
        for (const ref of refsOf(document).filter((r) => !r.startsWith('#'))) {
          expect(existsSync(resolve(dirname(spec.openapi!), ref)), ref).toBe(true);
        }
      });
    }

    if (!spec.outbound) return;
    const outbound = spec.outbound;

    it('logs the disclosure before it is made, and its outcome after', async () => {
      const p = await prepared();
      const { message } = await deliverOnce(p);
      expect(
        await until(async () => (await statuses(message.event.id)).includes('verstrekt')),
      ).toBe(true);
      const log = await records(message.event.id);
      const started = log.find((x) => x.r.status === 'gestart')!;
      const done = log.find((x) => x.r.status === 'verstrekt')!;
      expect(started.seq).toBeLessThan(done.seq);
      expect(done.r.betrokkene).toBe(p.id);
      expect(done.r.gemeente).toBe(p.gemeente);
      expect(JSON.stringify(log)).not.toContain(p.bsn);
    });

    it('fails closed: without the processing log nothing reaches the partner', async () => {
      const p = await prepared();
      // Let the preparing events through before the log goes.
      await sleep(500);
      const before = await setup.simulator!.received(p.gemeente);
      await jsm.streams.delete(STREAMS.processingLog);
      try {
        const message = outbound.deliver(p, 1);
        await publish(message);
        await sleep(1_500);
        expect(await setup.simulator!.received(p.gemeente)).toBe(before);
      } finally {
        await provisionStreams(nc);
      }
      expect(await until(async () => (await setup.simulator!.received(p.gemeente)) > before)).toBe(
        true,
      );
    });

    it('retries a partner that answers 503, delivers once and logs the failed attempts', async () => {
      const p = await prepared();
      await sleep(300);
      await fault({ kind: 'status', status: 503, count: 2 });
      try {
        const { message, before } = await deliverOnce(p);
        expect(
          await until(async () => (await statuses(message.event.id)).includes('verstrekt')),
        ).toBe(true);
        const log = await statuses(message.event.id);
        expect(log.filter((s) => s === 'mislukt').length).toBeGreaterThanOrEqual(1);
        await sleep(500);
        expect(await setup.simulator!.received(p.gemeente)).toBe(before + 1);
      } finally {
        await clearFaults();
      }
    });

    it('holds its consumer while the partner is down (breaker open), and delivers everything once after', async () => {
      // Five persons: a partner may keep one record per person.
      const persons: TestPerson[] = [];
      for (let i = 0; i < 5; i++) persons.push(await prepared());
      const p = persons[0]!;
      await sleep(300);
      const before = await setup.simulator!.received(p.gemeente);
      await fault({ kind: 'status', status: 503, durationMs: 3_000 }, true);
      const messages = persons.map((person) => outbound.deliver(person, 1));
      for (const m of messages) await publish(m);
      let opened = false;
      try {
        opened = await until(async () => {
          const metrics = await (await fetch(`${running.opsUrl}/metrics`)).text();
          return /ketenhub_breaker_state\{[^}]*\} 2/.test(metrics);
        }, 10_000);
      } finally {
        await clearFaults();
      }
      expect(opened).toBe(true);
      expect(
        await until(
          async () => (await setup.simulator!.received(p.gemeente)) >= before + messages.length,
          30_000,
        ),
      ).toBe(true);
      await sleep(1_000);
      expect(await setup.simulator!.received(p.gemeente)).toBe(before + messages.length);
    }, 45_000);

    it('dead-letters what the partner refuses, with the refusal logged', async () => {
      const p = await prepared();
      await sleep(300);
      const before = await setup.simulator!.received(p.gemeente);
      await fault({ kind: 'status', status: 422, count: 1 });
      const message = outbound.deliver(p, 1);
      try {
        await publish(message);
        expect(
          await until(async () =>
            (await listDeadLetters(jetstream(nc), jsm, { gemeente: p.gemeente })).some(
              (d) => d.eventId === message.event.id,
            ),
          ),
        ).toBe(true);
      } finally {
        await clearFaults();
      }
      expect(await statuses(message.event.id)).toContain('geweigerd');
      expect(await setup.simulator!.received(p.gemeente)).toBe(before);
    });

    it('keeps each gemeente to itself', async () => {
      const other = await prepared('gm0796');
      await sleep(300);
      const before = await setup.simulator!.received('gm0797');
      if (outbound.tenant === 'person-register') {
        // A message of gm0797 about gm0796's person: refused, whoever sent it.
        const message = outbound.deliver({ ...other, gemeente: 'gm0797' }, 1);
        await publish(message);
        expect(
          await until(async () =>
            (await listDeadLetters(jetstream(nc), jsm, { gemeente: 'gm0797' })).some(
              (d) => d.eventId === message.event.id && /tenant|gemeente/i.test(d.reason),
            ),
          ),
        ).toBe(true);
      } else {
        await deliverOnce(other);
      }
      await sleep(500);
      expect(await setup.simulator!.received('gm0797')).toBe(before);
    });
  });
}

/** A chain event for a conformance spec, with a fresh id. */
export function chainEvent<D>(
  type: string,
  gemeente: string,
  data: D,
  source = 'conformance',
): Event<D> {
  return buildEvent({
    id: nameBasedUuid(`conformance:${type}:${randomBytes(8).toString('hex')}`),
    type,
    source: `urn:nld:oin:${HUB_OIN}:systeem:${source}`,
    gemeente,
    data,
  });
}

/**
 * A schema-valid event of `type` about `person` (generated from the contracts, with its
 * `inburgeraarId` and `gemeenteCode` set), with `data` laid over it.
 */
export function sampleEvent(
  type: string,
  person: TestPerson,
  data: Record<string, unknown> = {},
): Event<Record<string, unknown>> {
  const [generated] = fc.sample(eventDataArbitrary<Record<string, unknown>>(type), 1);
  return chainEvent(type, person.gemeente, {
    ...generated,
    inburgeraarId: person.id,
    gemeenteCode: person.gemeente,
    ...data,
  });
}
