/**
 * The flows a chaos scenario feeds and judges, one per partner the hub delivers to: what is
 * sent (and how), what the partner has stored so far, and the read-back at the end, always from
 * the partner simulator's own records:
 *
 * - `coa>kvs`: koppelingen as COA's TVS export → the KVS simulator's stored events;
 * - `kvs>duo`: PIPs from the KVS (inbound API) → the PIPs DUO registered per person, and every
 *   PIP registration DUO refused (its request log);
 * - `kvs>kredietbank`: ontzorgen aanvragen from the KVS → the Kredietbank's trajecten, changes
 *   and refusals;
 * - `kvs>taalaanbieder`: PIPs naming a school → each school's aanmeldingen;
 * - `kvs>woningcorporatie`: woning aanvragen from the KVS → each corporatie's zoektochten;
 * - `kvs>vluchtelingenwerk`: begeleiding aanvragen from the KVS → each office's begeleidingen.
 *
 * The KVS flows first make their persons known: DUO gets each person (its simulator's
 * `POST /_sim/personen`), the KVS sends a vestiging with the BSN, and the feed starts once the
 * hub has bound every person.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { STREAMS, buildEvent, nameBasedUuid } from '@ketenhub/kit';
import { createPseudonymizer, testBsn } from '@ketenhub/kit/privacy';
import { createZoektochtPseudonymizer } from '@ketenhub/adapter-woningcorporatie';
import { createBegeleidingPseudonymizer } from '@ketenhub/adapter-vluchtelingenwerk';
import { generateCohort } from '@ketenhub/simulator-coa';
import { startFeed, type FeedState } from './feed.ts';
import {
  CHAOS_GEMEENTEN,
  CHAOS_ORGANISATIONS,
  CHAOS_SCHOOLS,
  KVS_SERVICE,
  chaosOinOf,
  type ChaosHub,
  type ChaosSimulator,
  type PartnerService,
} from './hub.ts';
import { startKvsFeed, type KvsFeedItem } from './kvs-feed.ts';
import type { StoredView } from './measure.ts';

export const FLOWS = [
  'coa>kvs',
  'kvs>duo',
  'kvs>kredietbank',
  'kvs>taalaanbieder',
  'kvs>woningcorporatie',
  'kvs>vluchtelingenwerk',
] as const;
export type FlowName = (typeof FLOWS)[number];

/** What the partner's read-back says beyond the stored records. */
export interface FlowReadBack {
  stored: StoredView[];
  /** Repeats the partner recognised, when it counts them in total rather than per record. */
  redeliveries?: number;
  /**
   * Doublings the partner counts only in total: requests it accepted under a second key, which
   * its records show as one (a change replaces the request it changes).
   */
  doubled?: number;
  /** Deliveries the partner refused with a 4xx (e.g. a PIP DUO says it already has). */
  refused: number;
  /** What else is worth reading in the report (the flow's way back, counters). */
  notes: string[];
  /** What is wrong beside lost and doubled events (such as each refusal). */
  problems: string[];
}

export interface FlowRun {
  feed: { state: FeedState; finished: Promise<FeedState> };
  /** Events the partner has stored so far (a fresh read). */
  stored(): Promise<number>;
  /** The durable consumers that deliver the flow to the partner. */
  consumers: string[];
  /** Reads what the partner holds. */
  readBack(): Promise<FlowReadBack>;
  /** Stops the flow's own polling of the partner (also when the scenario failed). */
  stop(): void;
}

export interface FlowOptions {
  events: number;
  /** Makes ids and persons differ between scenarios. */
  seed: number;
  deadline: number;
  log(message: string): void;
}

/** The partner services that run together for the DUO, Kredietbank and taalaanbieder flows. */
const CHAIN_SERVICES: readonly PartnerService[] = ['duo', 'kredietbank', 'taalaanbieder'];

/**
 * Partner services the hub runs for a flow: none for COA's; for DUO's, the Kredietbank's and
 * the schools' all three, as in the chain (a PIP reaches DUO and the schools, the Kredietbank
 * reads every PIP); for another partner its own service and DUO's, which binds the persons to
 * their gemeente (its identity consumer) as in the chain, and nothing it does not need.
 */
export function partnersOf(flow: FlowName): readonly PartnerService[] {
  if (flow === 'coa>kvs') return [];
  const own = partnerOf(flow) as PartnerService;
  return CHAIN_SERVICES.includes(own) ? CHAIN_SERVICES : ['duo', own];
}

/** The partner a flow delivers to, as the report names it. */
export function partnerOf(flow: FlowName): string {
  return flow.split('>')[1]!;
}

export function startFlow(flow: FlowName, hub: ChaosHub, opts: FlowOptions): Promise<FlowRun> {
  switch (flow) {
    case 'coa>kvs':
      return Promise.resolve(coaFlow(hub, opts));
    case 'kvs>duo':
      return duoFlow(hub, opts);
    case 'kvs>kredietbank':
      return kredietbankFlow(hub, opts);
    case 'kvs>taalaanbieder':
      return schoolFlow(hub, opts);
    case 'kvs>woningcorporatie':
      return corporatieFlow(hub, opts);
    case 'kvs>vluchtelingenwerk':
      return vluchtelingenwerkFlow(hub, opts);
  }
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

async function simStats<T>(url: string): Promise<T> {
  return getJson<T>(`${url}/_sim/stats`);
}

// ---------------------------------------------------------------- coa>kvs

interface KvsSimEvent {
  gemeente: string;
  id: string;
  type?: string;
  deliveries: number;
  receivedAt: string;
  event?: { type?: string; data?: { koppelingId?: string; inburgeraarId?: string } };
}

async function kvsEvents(hub: ChaosHub): Promise<KvsSimEvent[]> {
  const out: KvsSimEvent[] = [];
  for (const g of CHAOS_GEMEENTEN) {
    const body = await getJson<{ events: KvsSimEvent[] }>(
      `${hub.simUrl}/_sim/gemeenten/gm${g.code}/events`,
    );
    out.push(...body.events);
  }
  return out;
}

function coaFlow(hub: ChaosHub, opts: FlowOptions): FlowRun {
  const cohort = generateCohort({
    size: opts.events,
    seed: 20_260_600 + opts.seed,
    gemeenten: CHAOS_GEMEENTEN,
    idPrefix: `CHAOS${opts.seed}`,
  });
  // 20 parts a tenth of a second apart: faster than the KVS delivery drains, so the fault
  // hits a busy hub with deliveries in flight and a backlog in the stream.
  const feed = startFeed({
    coaUrl: hub.coaUrl,
    apiKey: hub.apiKey,
    koppelingen: cohort.koppelingen,
    partSize: Math.max(1, Math.ceil(opts.events / 20)),
    intervalMs: 100,
    deadline: opts.deadline,
  });
  return {
    feed,
    consumers: CHAOS_GEMEENTEN.map((g) => `${KVS_SERVICE}-gm${g.code}`),
    stored: async () =>
      (await simStats<{ total: { received: number } }>(hub.simUrl)).total.received,
    stop: () => undefined,
    async readBack() {
      const stored = (await kvsEvents(hub)).map((e): StoredView => ({
        to: e.gemeente,
        id: e.id,
        deliveries: e.deliveries,
        receivedAt: e.receivedAt,
        ...(e.event?.data?.koppelingId ? { key: e.event.data.koppelingId } : {}),
      }));
      return { stored, refused: 0, notes: [], problems: [] };
    },
  };
}

// ---------------------------------------------------------------- the KVS flows

interface Person {
  n: number;
  bsn: string;
  gemeente: string;
  inburgeraarId: string;
}

/** A gemeente's KVS as the source of its events. */
const kvsSource = (gemeente: string) => `urn:nld:oin:${chaosOinOf(gemeente)}:systeem:chaos-kvs`;

function kvsEvent<D>(gemeente: string, type: string, data: D, name: string) {
  return buildEvent({
    id: nameBasedUuid(`chaos:${name}`),
    type: `nl.inburgering.${type}`,
    source: kvsSource(gemeente),
    gemeente,
    data,
  });
}

/** The flow's persons: test BSNs (999-range), over the gemeenten in turn. */
function personsFor(hub: ChaosHub, opts: FlowOptions): Person[] {
  if (opts.events > 1000) throw new Error('at most 1000 persons (test BSNs) per flow');
  const pseudonyms = createPseudonymizer(hub.pseudonymKey);
  return Array.from({ length: opts.events }, (_, n) => {
    const bsn = testBsn(n);
    return {
      n,
      bsn,
      gemeente: `gm${CHAOS_GEMEENTEN[n % CHAOS_GEMEENTEN.length]!.code}`,
      inburgeraarId: pseudonyms.inburgeraarId({ bsn, vnummer: '' }),
    };
  });
}

/** Runs `fn` over `items`, `concurrency` at a time. */
async function eachLimited<T>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

/**
 * Makes the persons known the way the chain does: DUO knows them (when it runs), and each KVS
 * sends a vestiging with the BSN, which the DUO and Kredietbank services bind to the person
 * (identity store, person register). Resolves once every consumer that binds is idle.
 */
async function makeKnown(hub: ChaosHub, persons: Person[], opts: FlowOptions): Promise<void> {
  const started = Date.now();
  if (hub.duoSim) {
    const url = hub.duoSim.url;
    await eachLimited(persons, 8, async (p) => {
      const res = await fetch(`${url}/_sim/personen`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          bsn: p.bsn,
          vNummer: Number(p.bsn.slice(1)),
          gemeentecode: p.gemeente.slice(2),
          vestigingsdatum: '2026-09-01',
        }),
      });
      if (res.status !== 201) {
        throw new Error(`DUO simulator: seeding a person: HTTP ${res.status} ${await res.text()}`);
      }
    });
  }
  const vestigingen = startKvsFeed({
    url: hub.kvsInboundUrl,
    keys: hub.kvsKeys,
    items: persons.map((p): KvsFeedItem => {
      const event = kvsEvent(
        p.gemeente,
        'inburgeraar.gevestigd',
        {
          inburgeraarId: p.inburgeraarId,
          gemeenteCode: p.gemeente,
          vestigingsdatum: '2026-09-01',
          bsn: p.bsn,
        },
        `${opts.seed}:gevestigd:${p.n}`,
      );
      return {
        gemeente: p.gemeente,
        event,
        sent: { eventId: event.id, key: p.bsn, to: p.gemeente },
      };
    }),
    intervalMs: 0,
    concurrency: 8,
    deadline: opts.deadline,
  });
  const done = await vestigingen.finished;
  if (done.sent.length !== persons.length) {
    throw new Error(
      `${persons.length - done.sent.length} vestigingen not accepted (${done.lastFailure ?? 'no answer'})`,
    );
  }
  const binders = (['duo', 'kredietbank'] as const)
    .filter((s) => hub.services[s])
    .map((s) => `${s}-identiteiten`);
  const jsm = await hub.jsm();
  for (;;) {
    let busy = 0;
    for (const durable of binders) {
      const info = await jsm.consumers.info(STREAMS.keten, durable);
      busy += info.num_pending + info.num_ack_pending;
    }
    if (busy === 0) break;
    if (Date.now() > opts.deadline) throw new Error(`persons not bound in time (${busy} left)`);
    await sleep(100);
  }
  opts.log(
    `${persons.length} persons known${hub.duoSim ? ' to DUO and' : ''} to the hub in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
}

/**
 * Polls a partner count in the background, so the time of the last delivery is known to a
 * quarter second even where the simulator keeps no time per record.
 */
function progress(read: () => Promise<number>): {
  stored(): Promise<number>;
  lastProgressAt(): number;
  stop(): void;
} {
  let count = -1;
  let lastAt = Date.now();
  let stopped = false;
  const poll = async (): Promise<number> => {
    const n = await read();
    if (n > count) {
      count = n;
      lastAt = Date.now();
    }
    return n;
  };
  void (async () => {
    while (!stopped) {
      await poll().catch(() => undefined);
      await sleep(250);
    }
  })();
  return {
    stored: poll,
    lastProgressAt: () => lastAt,
    stop: () => {
      stopped = true;
    },
  };
}

/**
 * The feed of a KVS flow: one event per person, 100 a second, faster than a partner service
 * delivers, so a fault meets deliveries in flight and a backlog in the stream.
 */
function feedOf(hub: ChaosHub, items: KvsFeedItem[], opts: FlowOptions) {
  return startKvsFeed({
    url: hub.kvsInboundUrl,
    keys: hub.kvsKeys,
    items,
    intervalMs: 10,
    concurrency: 8,
    deadline: opts.deadline,
  });
}

function pipData(p: Person, extra: Record<string, unknown> = {}) {
  return {
    inburgeraarId: p.inburgeraarId,
    gemeenteCode: p.gemeente,
    pipId: `CHAOS-PIP-${p.n}`,
    dagtekening: '2026-10-15',
    leerroute: 'b1-route',
    niveau: 'B1',
    ...extra,
  };
}

interface DuoRequest {
  method: string;
  status: number;
  berichtId?: string;
  reason?: string;
  faulted?: string;
  at: string;
}

interface DuoPerson {
  bsn: string;
  gemeentecode: string;
  pips: { gemeentecode: string; versies: unknown[] }[];
}

async function duoFlow(hub: ChaosHub, opts: FlowOptions): Promise<FlowRun> {
  const sim = hub.duoSim;
  if (!sim) throw new Error('the kvs>duo flow needs the DUO service');
  const persons = personsFor(hub, opts);
  await makeKnown(hub, persons, opts);
  const eventOf = new Map<string, string>();
  // A PIP without a school or ontzorgen: DUO is its only partner.
  const items = persons.map((p): KvsFeedItem => {
    const event = kvsEvent(p.gemeente, 'pip.vastgesteld', pipData(p), `${opts.seed}:pip:${p.n}`);
    eventOf.set(p.bsn, event.id);
    return { gemeente: p.gemeente, event, sent: { eventId: event.id, key: p.bsn, to: p.gemeente } };
  });
  const pipPosts = (status?: number) =>
    getJson<{ requests: DuoRequest[] }>(
      `${sim.url}/_sim/requests?api=PIP&method=POST${status ? `&status=${status}` : ''}`,
    ).then((b) => b.requests);
  const poll = progress(async () => (await pipPosts(201)).length);
  return {
    feed: feedOf(hub, items, opts),
    consumers: ['duo-pip'],
    stored: poll.stored,
    stop: poll.stop,
    async readBack() {
      const receivedAt = new Date(poll.lastProgressAt()).toISOString();
      const stored: StoredView[] = [];
      await eachLimited(persons, 8, async (p) => {
        const person = await getJson<DuoPerson>(`${sim.url}/_sim/personen/${p.bsn}`);
        // Every version of a PIP DUO holds is one registration: two for one PIP is a doubling.
        for (const group of person.pips) {
          for (let v = 0; v < group.versies.length; v++) {
            stored.push({
              to: `gm${group.gemeentecode}`,
              id: eventOf.get(p.bsn)!,
              key: p.bsn,
              deliveries: 1,
              receivedAt,
            });
          }
        }
      });
      const posts = await pipPosts();
      const problems: string[] = [];
      const refusedPosts = posts.filter((r) => r.status >= 400 && r.status < 500);
      if (refusedPosts.length > 0) {
        const reasons = [...new Set(refusedPosts.map((r) => `${r.status} ${r.reason ?? ''}`))];
        problems.push(
          `DUO refused ${refusedPosts.length} PIP registrations: ${reasons.slice(0, 5).join('; ')}`,
        );
      }
      const okPerBericht = new Map<string, number>();
      for (const r of posts) {
        if (r.status < 200 || r.status >= 300 || !r.berichtId) continue;
        okPerBericht.set(r.berichtId, (okPerBericht.get(r.berichtId) ?? 0) + 1);
      }
      const repeated = [...okPerBericht.values()].filter((n) => n > 1).length;
      if (repeated > 0) {
        problems.push(`${repeated} PIP registrations DUO accepted more than once (same berichtId)`);
      }
      const faulted = posts.filter((r) => r.faulted).length;
      const notifications = await getJson<{ notifications: { outcome: string }[] }>(
        `${sim.url}/_sim/notifications`,
      );
      const outcomes = countBy(notifications.notifications.map((n) => n.outcome));
      // How often the hub found a redelivered PIP already at DUO and did not send it again
      // (its log line, over every run of the service).
      const service = hub.services.duo?.process;
      const held = service
        ? readFileSync(service.logFile, 'utf8').split('melding already at DUO').length - 1
        : 0;
      return {
        stored,
        refused: refusedPosts.length,
        notes: [
          `DUO: ${posts.length} PIP registrations received, ${faulted} faulted, ${refusedPosts.length} refused; ${held} redelivered PIPs found already at DUO and not sent again`,
          `DUO's notifications to the hub at read-back: ${formatCounts(outcomes)}`,
        ],
        problems,
      };
    },
  };
}

interface KbTraject {
  aanvraag: { referentie: string; gemeentecode: string };
  wijzigingen: number;
}

interface KbWebhook {
  outcome: string;
  webhook: { type: string };
}

async function kredietbankFlow(hub: ChaosHub, opts: FlowOptions): Promise<FlowRun> {
  const sim = hub.kredietbankSim;
  if (!sim) throw new Error('the kvs>kredietbank flow needs the Kredietbank service');
  const persons = personsFor(hub, opts);
  await makeKnown(hub, persons, opts);
  const eventOf = new Map<string, string>();
  const items = persons.map((p): KvsFeedItem => {
    const trajectId = `CHAOS-OZ-${opts.seed}-${p.n}`;
    const event = kvsEvent(
      p.gemeente,
      'ontzorgen.aangevraagd',
      {
        inburgeraarId: p.inburgeraarId,
        gemeenteCode: p.gemeente,
        trajectId,
        client: {
          voornamen: 'Chaos',
          geslachtsnaam: `Aanvrager-${p.n}`,
          adres: { straat: 'Markt', huisnummer: 1 + p.n, postcode: '5211JV', woonplaats: 'Vught' },
          iban: 'NL91ABNA0417164300',
        },
        uitkeringBedragCent: 140_000,
        vasteLasten: [
          {
            soort: 'huur',
            crediteur: 'Zayaz',
            iban: 'NL44RABO0123456789',
            bedragCent: 65_000,
            kenmerk: `HUUR-${p.n}`,
          },
        ],
        startdatum: '2026-12-01',
        einddatum: '2027-06-01',
      },
      `${opts.seed}:aanvraag:${p.n}`,
    );
    eventOf.set(trajectId, event.id);
    return {
      gemeente: p.gemeente,
      event,
      sent: { eventId: event.id, key: trajectId, to: p.gemeente },
    };
  });
  const stats = () =>
    simStats<{ registraties: number; duplicates: number; rejected: number; faulted: number }>(
      sim.url,
    );
  const poll = progress(async () => (await stats()).registraties);
  return {
    feed: feedOf(hub, items, opts),
    consumers: ['kredietbank-aanvragen'],
    stored: poll.stored,
    stop: poll.stop,
    async readBack() {
      const receivedAt = new Date(poll.lastProgressAt()).toISOString();
      const trajecten = await getJson<KbTraject[]>(`${sim.url}/_sim/trajecten`);
      const stored: StoredView[] = [];
      for (const t of trajecten) {
        const ref = t.aanvraag.referentie;
        const view: StoredView = {
          to: `gm${t.aanvraag.gemeentecode}`,
          id: eventOf.get(ref) ?? `kredietbank:${ref}`,
          key: ref,
          deliveries: 1,
          receivedAt,
        };
        // The hub changes a traject only when a second registration of it met a 409: the
        // aanvraag applied twice under two keys.
        for (let i = 0; i <= t.wijzigingen; i++) stored.push(view);
      }
      const s = await stats();
      const webhooks = await getJson<KbWebhook[]>(`${sim.url}/_sim/webhooks`);
      const problems =
        s.rejected > 0 ? [`the Kredietbank refused ${s.rejected} calls (409, 422, 404, 401)`] : [];
      return {
        stored,
        redeliveries: s.duplicates,
        refused: s.rejected,
        notes: [
          `Kredietbank: ${s.registraties} registered, ${s.duplicates} repeats answered idempotently, ${s.faulted} faulted, ${s.rejected} refused`,
          `Kredietbank webhooks to the hub at read-back: ${formatCounts(countBy(webhooks.map((w) => `${w.webhook.type} ${w.outcome}`)))}`,
        ],
        problems,
      };
    },
  };
}

interface SchoolReceipt {
  aanmeldingId: string;
  trajectId: string;
  deliveries: number;
}

async function schoolFlow(hub: ChaosHub, opts: FlowOptions): Promise<FlowRun> {
  const sims = hub.organisationSims.taalaanbieder;
  if (!sims) throw new Error('the kvs>taalaanbieder flow needs the taalaanbieder service');
  const persons = personsFor(hub, opts);
  await makeKnown(hub, persons, opts);
  const eventOf = new Map<string, string>();
  // A PIP naming a school: the school gets the aanmelding (and DUO the PIP, as in the chain).
  const items = persons.map((p): KvsFeedItem => {
    const school = CHAOS_SCHOOLS[p.n % CHAOS_SCHOOLS.length]!;
    const deelnemer = `Deelnemer-${p.n}`;
    const event = kvsEvent(
      p.gemeente,
      'pip.vastgesteld',
      pipData(p, {
        taalaanbieder: school,
        startdatumLeerroute: '2026-11-02',
        urenPerWeek: 12,
        deelnemer: { voornamen: 'Chaos', geslachtsnaam: deelnemer },
      }),
      `${opts.seed}:pip:${p.n}`,
    );
    eventOf.set(deelnemer, event.id);
    return { gemeente: p.gemeente, event, sent: { eventId: event.id, key: deelnemer, to: school } };
  });
  const schools = Object.entries(sims);
  const poll = progress(async () => {
    let n = 0;
    for (const [, sim] of schools)
      n += (await simStats<{ aanmeldingen: number }>(sim.url)).aanmeldingen;
    return n;
  });
  return {
    feed: feedOf(hub, items, opts),
    consumers: CHAOS_SCHOOLS.map((id) => `taalaanbieder-${id}`),
    stored: poll.stored,
    stop: poll.stop,
    async readBack() {
      const receivedAt = new Date(poll.lastProgressAt()).toISOString();
      const stored: StoredView[] = [];
      const notes: string[] = [];
      for (const [school, sim] of schools) {
        // The aanmelding (latest per traject) names the deelnemer, and so the PIP it came from.
        const aanmeldingen = await getJson<
          { trajectId: string; deelnemer: { geslachtsnaam: string } }[]
        >(`${sim.url}/_sim/aanmeldingen`);
        const deelnemerOf = new Map(
          aanmeldingen.map((a) => [a.trajectId, a.deelnemer.geslachtsnaam]),
        );
        // Every aanmelding id received: two for one traject would be one PIP registered twice.
        const receipts = await getJson<SchoolReceipt[]>(`${sim.url}/_sim/ontvangen`);
        for (const r of receipts) {
          const deelnemer = deelnemerOf.get(r.trajectId);
          stored.push({
            to: school,
            id: (deelnemer && eventOf.get(deelnemer)) ?? `${school}:${r.aanmeldingId}`,
            ...(deelnemer ? { key: deelnemer } : {}),
            deliveries: r.deliveries,
            receivedAt,
          });
        }
        const s = await simStats<{ deliveries: number; repeats: number; faulted: number }>(sim.url);
        notes.push(
          `${school}: ${receipts.length} aanmeldingen, ${s.deliveries} deliveries (${s.repeats} repeats answered idempotently), ${s.faulted} faulted`,
        );
      }
      return { stored, refused: 0, notes, problems: [] };
    },
  };
}

/** One aanvraag of an organisation flow: its event, and where it must arrive. */
interface OrganisationItem {
  item: KvsFeedItem;
  person: Person;
  aanvraagId: string;
}

/** The DeliveryStats of a simulator that plans its answers (registerPlannedIntake). */
interface PlannedIntakeStats {
  received: number;
  duplicates: number;
  /** Every POST that reached the route, repeats and refusals included (faults not). */
  deliveries: number;
}

/**
 * A flow to a partner with organisations (a corporatie, a VluchtelingenWerk office) that
 * records each request once by the pseudonym the hub sent it under (a change replaces it) and
 * counts in its DeliveryStats the keys it accepted (`received`), the repeats of one
 * (`duplicates`) and every POST (`deliveries`). Each request is found back by its pseudonym,
 * computed for every organisation, so one at the wrong organisation shows as misrouted; one
 * received under two keys is a doubling (`received` above the records), a refusal a problem.
 */
async function organisationFlow(
  hub: ChaosHub,
  opts: FlowOptions,
  spec: {
    service: 'woningcorporatie' | 'vluchtelingenwerk';
    /** The aanvragen, one per person, with the organisation each must reach. */
    items(persons: Person[]): OrganisationItem[];
    /** The pseudonym of a person's aanvraag at an organisation (the adapter's). */
    requestId(inburgeraarId: string, aanvraagId: string, organisation: string): string;
    /** The route listing the records, and the pseudonym the hub sent one under. */
    list: string;
    requestIdOf(record: unknown): string;
    /** What the partner calls a request in the notes. */
    what: string;
  },
): Promise<FlowRun> {
  const sims = hub.organisationSims[spec.service];
  if (!sims) throw new Error(`the kvs>${spec.service} flow needs the ${spec.service} service`);
  const persons = personsFor(hub, opts);
  await makeKnown(hub, persons, opts);
  const items = spec.items(persons);
  // Every pseudonym a request could arrive under, at whichever organisation.
  const sentOf = new Map<string, { eventId: string; aanvraagId: string }>();
  for (const { item, person, aanvraagId } of items) {
    for (const org of Object.keys(sims)) {
      sentOf.set(spec.requestId(person.inburgeraarId, aanvraagId, org), {
        eventId: item.event.id,
        aanvraagId,
      });
    }
  }
  const organisations = Object.entries(sims);
  const stats = (sim: ChaosSimulator) => simStats<PlannedIntakeStats>(sim.url);
  const poll = progress(async () => {
    let n = 0;
    for (const [, sim] of organisations) n += (await stats(sim)).received;
    return n;
  });
  return {
    feed: feedOf(
      hub,
      items.map((i) => i.item),
      opts,
    ),
    consumers: organisations.map(([id]) => `${spec.service}-${id}`),
    stored: poll.stored,
    stop: poll.stop,
    async readBack() {
      const receivedAt = new Date(poll.lastProgressAt()).toISOString();
      const stored: StoredView[] = [];
      const notes: string[] = [];
      const problems: string[] = [];
      let redeliveries = 0;
      let doubled = 0;
      let refused = 0;
      for (const [org, sim] of organisations) {
        const records = (await getJson<unknown[]>(`${sim.url}${spec.list}`)).map(spec.requestIdOf);
        for (const requestId of records) {
          const sent = sentOf.get(requestId);
          stored.push({
            to: org,
            id: sent?.eventId ?? `${org}:${requestId}`,
            ...(sent ? { key: sent.aanvraagId } : {}),
            deliveries: 1,
            receivedAt,
          });
        }
        const s = await stats(sim);
        // This flow sends no changes: a key beyond one per record is an aanvraag sent twice.
        const extra = Math.max(0, s.received - records.length);
        const refusals = s.deliveries - s.received - s.duplicates;
        redeliveries += s.duplicates;
        doubled += extra;
        refused += refusals;
        if (extra > 0) problems.push(`${org} accepted ${extra} ${spec.what}en under a second key`);
        if (refusals > 0) problems.push(`${org} refused ${refusals} ${spec.what}en (400, 401)`);
        notes.push(
          `${org}: ${records.length} ${spec.what}en, ${s.deliveries} deliveries (${s.duplicates} repeats answered idempotently, ${refusals} refused)`,
        );
      }
      return { stored, redeliveries, doubled, refused, notes, problems };
    },
  };
}

/** The aanvraag's contactpersoon: the gemeente's consulent, no person's data. */
const consulent = (p: Person) => ({
  naam: 'Consulent chaos',
  email: `consulent@${p.gemeente}.example`,
});

function corporatieFlow(hub: ChaosHub, opts: FlowOptions): Promise<FlowRun> {
  const corporaties = CHAOS_ORGANISATIONS.woningcorporatie;
  const pseudonyms = createZoektochtPseudonymizer(hub.pseudonymKey);
  return organisationFlow(hub, opts, {
    service: 'woningcorporatie',
    items: (persons) =>
      persons.map((p) => {
        const aanvraagId = `CHAOS-WA-${opts.seed}-${p.n}`;
        // Every other aanvraag of a gemeente with two corporaties names the second one; the
        // rest go to the first corporatie contracted for the gemeente.
        const serving = corporaties.filter((c) =>
          (c.gemeenten as readonly string[]).includes(p.gemeente),
        );
        const named = serving.length > 1 && p.n % 2 === 1 ? serving[1]!.id : undefined;
        const to = named ?? serving[0]!.id;
        const event = kvsEvent(
          p.gemeente,
          'woning.aangevraagd',
          {
            inburgeraarId: p.inburgeraarId,
            gemeenteCode: p.gemeente,
            aanvraagId,
            ...(named ? { corporatie: named } : {}),
            huishouden: {
              omvang: 1 + (p.n % 4),
              leden: [
                { rol: 'hoofdpersoon', leeftijd: 30 + (p.n % 20) },
                ...Array.from({ length: p.n % 4 }, (_, k) => ({ rol: 'kind', leeftijd: 2 + k })),
              ],
            },
            nareizigers: { aantal: p.n % 2 },
            streefdatum: '2026-12-01',
            contactpersoon: consulent(p),
          },
          `${opts.seed}:woning:${p.n}`,
        );
        return {
          item: { gemeente: p.gemeente, event, sent: { eventId: event.id, key: aanvraagId, to } },
          person: p,
          aanvraagId,
        };
      }),
    requestId: (id, aanvraagId, corporatie) => pseudonyms.zoektochtId(id, aanvraagId, corporatie),
    list: '/_sim/zoektochten',
    requestIdOf: (record) =>
      (record as { zoektocht: { zoektochtId: string } }).zoektocht.zoektochtId,
    what: 'zoektocht',
  });
}

function vluchtelingenwerkFlow(hub: ChaosHub, opts: FlowOptions): Promise<FlowRun> {
  const offices = CHAOS_ORGANISATIONS.vluchtelingenwerk;
  const pseudonyms = createBegeleidingPseudonymizer(hub.pseudonymKey);
  return organisationFlow(hub, opts, {
    service: 'vluchtelingenwerk',
    items: (persons) =>
      persons.map((p) => {
        const aanvraagId = `CHAOS-VW-${opts.seed}-${p.n}`;
        // The one office contracted for the gemeente.
        const to = offices.find((o) => (o.gemeenten as readonly string[]).includes(p.gemeente))!.id;
        const event = kvsEvent(
          p.gemeente,
          'begeleiding.aangevraagd',
          {
            inburgeraarId: p.inburgeraarId,
            gemeenteCode: p.gemeente,
            aanvraagId,
            // Every fourth a gezinsmigrant: the PVT only.
            onderdelen: p.n % 4 === 3 ? ['pvt'] : ['maatschappelijke-begeleiding', 'pvt'],
            startwens: '2026-11-02',
            pvtUiterlijk: '2027-09-01',
            huishouden: {
              leden: [{ rol: 'hoofdpersoon', leeftijd: 30 + (p.n % 20) }],
              nareizigers: p.n % 2,
            },
            contactpersoon: consulent(p),
          },
          `${opts.seed}:begeleiding:${p.n}`,
        );
        return {
          item: { gemeente: p.gemeente, event, sent: { eventId: event.id, key: aanvraagId, to } },
          person: p,
          aanvraagId,
        };
      }),
    requestId: (id, aanvraagId, office) => pseudonyms.begeleidingId(id, aanvraagId, office),
    list: '/_sim/begeleidingen',
    requestIdOf: (record) =>
      (record as { aanvraag: { begeleidingId: string } }).aanvraag.begeleidingId,
    what: 'begeleiding',
  });
}

function countBy(values: string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const v of values) out.set(v, (out.get(v) ?? 0) + 1);
  return out;
}

function formatCounts(counts: Map<string, number>): string {
  if (counts.size === 0) return 'none';
  return [...counts]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
}
