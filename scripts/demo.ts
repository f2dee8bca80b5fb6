/**
 * `npm run demo -- --inburgeraars 50 [--json] [--seed N] [--timeout 90]`: sends a cohort from
 * the COA simulator (JSON pushes and one TVS CSV export) into the hub, waits until every event
 * has reached the KVS of its gemeente or the timeout passes; then takes the adults with a BSN
 * through DUO (plicht, leerbaarheidstoets, PIP, PVT, hours: demo-duo.ts), the taalaanbieders
 * named in their PIPs (aanmelding, a week of progress, hours and absence, the hours on to DUO)
 * and, for a third of them, financieel ontzorgen at the Kredietbank (demo-kredietbank.ts); then
 * every registered partner with a demo driver (`simulator.demo`: the woningcorporatie) gets the
 * cohort to make its own requests. Any other registered module is counted from its consumers
 * and its simulator's stats. It reports per flow what was sent, delivered, lost and duplicated. Exit 0 only when nothing is
 * lost, doubled or misrouted and every refusal was the one the demo provoked.
 * Uses the chain of a running `npm start`, or starts one for the run.
 */
import { randomInt } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { jetstreamManager } from '@nats-io/jetstream';
import { REPO_ROOT, STREAMS, connectNats } from '@ketenhub/kit';
import { generateCohort, sendCohort } from '@ketenhub/simulator-coa';
import {
  deliveryStatsOf,
  kvsActor,
  sumDeliveryStats,
  type DeliveryStats,
  type DemoDriver,
  type DemoFlow,
  type DemoPerson,
} from '@ketenhub/simulator-kit';
import { runTaalaanbiederFlows } from '@ketenhub/simulator-taalaanbieder';
import { findRunningChain, startChain, type Chain, type ChainInfo } from './chain.ts';
import { MODULES } from './modules.ts';
import { runDuoFlows, type DuoPerson } from './demo-duo.ts';
import { runKredietbankFlows } from './demo-kredietbank.ts';

const { values: args } = parseArgs({
  options: {
    inburgeraars: { type: 'string', default: '50' },
    seed: { type: 'string' },
    timeout: { type: 'string', default: '90' },
    'csv-share': { type: 'string', default: '0.3' },
    json: { type: 'boolean', default: false },
  },
  strict: true,
});

const size = Number(args.inburgeraars);
const timeoutMs = Number(args.timeout) * 1000;
const csvShare = Number(args['csv-share']);
if (!Number.isInteger(size) || size < 1 || size > 1_000_000) {
  console.error('--inburgeraars must be a whole number from 1 to 1000000');
  process.exit(2);
}
if (!(timeoutMs > 0) || !(csvShare >= 0 && csvShare <= 1)) {
  console.error('--timeout must be positive and --csv-share between 0 and 1');
  process.exit(2);
}
const seed = args.seed === undefined ? randomInt(1, 2 ** 31) : Number(args.seed);
const say = (line: string) => (args.json ? process.stderr : process.stdout).write(`${line}\n`);

let started: Chain | undefined;
let info: ChainInfo | undefined = await findRunningChain();
if (info) {
  say(`using the chain of npm start (pid ${info.pid})`);
} else {
  say('no chain running: starting one for this demo');
  started = await startChain({ log: say });
  info = started.info;
}

/**
 * The registered modules whose flows start with a request the demo must make: each names a
 * driver (`simulator.demo`), which the demo calls after its own flows.
 */
const DRIVERS = MODULES.map((m) => m()).flatMap((m) =>
  m.simulator?.demo ? [{ id: m.id, path: m.simulator.demo }] : [],
);

/**
 * The partners whose flows this demo drives itself (below: the cohort, DUO, the schools, the
 * Kredietbank), those with a driver, and the admin API. Every other registered module is counted
 * the same way, by what reached its consumers' subjects and what its simulator received.
 */
const DRIVEN_HERE = new Set([
  'coa',
  'gemeente-kvs',
  'duo',
  'kredietbank',
  'taalaanbieder',
  'admin',
  ...DRIVERS.map((d) => d.id),
]);

/** One module's counters at one moment. */
interface ModuleCounts {
  /** Messages its handlers delivered, by its metrics. */
  handled: number;
  /** Messages its handlers had nothing to send for (`skipped`, `duplicate`), by its metrics. */
  notForPartner: number;
  deadLetters: number;
  /** Messages its consumers have yet to handle or ack. */
  pending: number;
  /** Messages on its consumers' subjects in the KETEN stream. */
  inStream: number;
  /** What its simulators received (the simulator kit's DeliveryStats, summed). */
  atPartner?: DeliveryStats;
  /** The flow labels of its messages in its metrics. */
  flows: string[];
}

/** `ketenhub_messages_total` of one partner in a metrics text, by outcome and flow. */
function messagesOf(metrics: string, partner: string) {
  const out: { outcome: string; flow: string; n: number }[] = [];
  for (const line of metrics.matchAll(/^ketenhub_messages_total\{([^}]*)\} (\d+)/gm)) {
    const labels = Object.fromEntries(
      [...line[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1]!, l[2]!]),
    );
    if (labels.partner === partner) {
      out.push({ outcome: labels.outcome ?? '', flow: labels.flow ?? '', n: Number(line[2]) });
    }
  }
  return out;
}

/**
 * The registered modules whose flows the demo does not drive itself (one written by
 * new:partner): their counters from their metrics, the dead-letter and KETEN streams, their
 * consumers and their simulators, read before and after the run.
 */
async function watchModules(chain: ChainInfo) {
  type Counts = Record<string, ModuleCounts>;
  const modules = Object.entries(chain.modules ?? {}).filter(
    ([id, m]) => !DRIVEN_HERE.has(id) && m.consumers.length > 0,
  );
  if (modules.length === 0) {
    return { counts: async (): Promise<Counts> => ({}), close: async () => undefined };
  }
  // One connection for every reading: the demo polls until the modules caught up.
  const nc = await connectNats(chain.nats, 'demo-modules');
  const jsm = await jetstreamManager(nc);
  return {
    async counts(): Promise<Counts> {
      const out: Counts = {};
      for (const [id, m] of modules) {
        const messages = messagesOf(await (await fetch(chain.metrics[m.service]!)).text(), id);
        const sum = (outcomes: string[]) =>
          messages.filter((x) => outcomes.includes(x.outcome)).reduce((a, x) => a + x.n, 0);
        const dlq = await jsm.streams.info(STREAMS.deadLetters, {
          subjects_filter: `dlq.${m.service}.>`,
        });
        const deadLetters = Object.values(dlq.state.subjects ?? {}).reduce((a, b) => a + b, 0);
        let pending = 0;
        // Per subject, so consumers whose filters overlap count a message once.
        const subjects = new Map<string, number>();
        for (const c of m.consumers) {
          const info = await jsm.consumers.info(STREAMS.keten, c.durable).catch(() => undefined);
          pending += (info?.num_pending ?? 0) + (info?.num_ack_pending ?? 0);
          const keten = await jsm.streams.info(STREAMS.keten, { subjects_filter: c.filter });
          for (const [subject, n] of Object.entries(keten.state.subjects ?? {})) {
            subjects.set(subject, n);
          }
        }
        const sims = Object.values(m.simulators);
        const atPartner =
          sims.length === 0
            ? undefined
            : sumDeliveryStats(
                await Promise.all(
                  sims.map(async (url) => {
                    const res = await fetch(`${url}/_sim/stats`);
                    try {
                      return deliveryStatsOf(await res.json());
                    } catch (err) {
                      throw new Error(
                        `${url}/_sim/stats of the ${id} simulator: ${(err as Error).message}`,
                      );
                    }
                  }),
                ),
              );
        out[id] = {
          handled: sum(['delivered']),
          notForPartner: sum(['skipped', 'duplicate']),
          deadLetters,
          pending,
          inStream: [...subjects.values()].reduce((a, b) => a + b, 0),
          ...(atPartner ? { atPartner } : {}),
          flows: [...new Set(messages.map((x) => x.flow))],
        };
      }
      return out;
    },
    close: () => nc.drain(),
  };
}

/**
 * A module's flow between two readings, like the demo's own: sent is what it had to deliver
 * (what reached its consumers' subjects, less what its handlers had nothing to send for, plus a
 * backlog that did not drain before the run), delivered and duplicates what its simulators
 * counted.
 */
function moduleFlow(id: string, before: ModuleCounts | undefined, after: ModuleCounts) {
  if (!after.atPartner) return undefined;
  const sent =
    (before?.pending ?? 0) +
    after.inStream -
    (before?.inStream ?? 0) -
    (after.notForPartner - (before?.notForPartner ?? 0));
  const delivered = after.atPartner.received - (before?.atPartner?.received ?? 0);
  const duplicates = after.atPartner.duplicates - (before?.atPartner?.duplicates ?? 0);
  return {
    flow: after.flows.length === 1 ? after.flows[0]! : `hub>${id}`,
    sent,
    delivered,
    lost: sent - delivered,
    duplicates,
  };
}

interface SimEvent {
  id: string;
  deliveries: number;
}

async function receivedAt(code: string): Promise<Map<string, number>> {
  const res = await fetch(`${info!.kvsSimulator}/_sim/gemeenten/${code}/events`);
  if (!res.ok) throw new Error(`KVS simulator answered ${res.status}`);
  const body = (await res.json()) as { events: SimEvent[] };
  return new Map(body.events.map((e) => [e.id, e.deliveries]));
}

let watch: Awaited<ReturnType<typeof watchModules>> | undefined;
try {
  const startedAt = Date.now();
  watch = await watchModules(info);
  // A backlog of the modules' consumers (a module registered since the last run) drains first:
  // a message taken by a consumer but not yet acked would count at both readings.
  let modulesBefore = await watch.counts();
  const backlogUntil = Date.now() + timeoutMs;
  while (Object.values(modulesBefore).some((m) => m.pending > 0) && Date.now() < backlogUntil) {
    await new Promise((r) => setTimeout(r, 250));
    modulesBefore = await watch.counts();
  }
  const idPrefix = `D${seed.toString(36).toUpperCase()}${Date.now().toString(36).toUpperCase().slice(-4)}`;
  const cohort = generateCohort({
    size,
    seed,
    gemeenten: info.gemeenten.map((g) => ({ code: g.code.slice(2), naam: g.naam })),
    // A fresh prefix per run: the same --seed gives the same people, but new koppelingen, so a
    // rerun is not swallowed by JetStream's duplicate window or the KVS's memory of event ids.
    idPrefix,
  });
  say(
    `cohort: ${cohort.persons.length} inburgeraars (seed ${seed}), ${cohort.koppelingen.length} koppelingen, ${cohort.overdrachten.length} overdrachten`,
  );
  const report = await sendCohort({ baseUrl: info.coa, apiKey: info.coaApiKey, cohort, csvShare });
  say(`sent: ${report.accepted.length} accepted, ${report.rejected.length} rejected by the hub`);
  for (const r of report.rejected.slice(0, 10))
    say(
      `  rejected ${r.kind} ${r.koppelingId ?? ''} row ${r.row ?? '-'}: ${r.field ?? ''} ${r.reason}`,
    );

  const expected = new Map(report.accepted.map((a) => [a.eventId, `gm${a.gemeenteCode}`]));
  const codes = info.gemeenten.map((g) => g.code);
  let seen = new Map<string, Map<string, number>>();
  const settled = () => [...expected].every(([id, code]) => seen.get(code)?.has(id));
  const until = Date.now() + timeoutMs;
  do {
    seen = new Map(await Promise.all(codes.map(async (c) => [c, await receivedAt(c)] as const)));
    if (settled()) break;
    await new Promise((r) => setTimeout(r, 250));
  } while (Date.now() < until);
  // Let late duplicates (a redelivery racing the last ack) show up before counting them.
  await new Promise((r) => setTimeout(r, 1000));
  seen = new Map(await Promise.all(codes.map(async (c) => [c, await receivedAt(c)] as const)));

  let delivered = 0;
  let duplicates = 0;
  let misrouted = 0;
  for (const [id, code] of expected) {
    const deliveries = seen.get(code)?.get(id);
    if (deliveries !== undefined) {
      delivered++;
      duplicates += deliveries - 1;
    }
    for (const other of codes) if (other !== code && seen.get(other)?.has(id)) misrouted++;
  }
  const sent = expected.size;
  const lost = sent - delivered;
  // A person whose koppeling reached the KVS, for trying the right of access:
  // npm run inzage -- --bsn <sampleBsn>
  const deliveredKoppelingen = new Set(
    report.accepted
      .filter((a) => a.kind === 'koppeling' && seen.get(`gm${a.gemeenteCode}`)?.has(a.eventId))
      .map((a) => a.koppelingId),
  );
  const sampleBsn = cohort.persons.find(
    (p) => p.bsn && deliveredKoppelingen.has(p.koppelingId),
  )?.bsn;
  // The DUO part, for the adults with a BSN whose koppeling reached their KVS: the KVS learnt
  // each person's inburgeraarId from that koppeling, and so does the demo, playing the KVS.
  const idByKoppeling = new Map<string, string>();
  const koppelingen = new Map<string, Omit<DemoPerson, 'adult'>>();
  for (const code of codes) {
    const res = await fetch(
      `${info.kvsSimulator}/_sim/gemeenten/${code}/events?type=nl.inburgering.inburgeraar.gekoppeld`,
    );
    const body = (await res.json()) as {
      events: {
        event: {
          data: {
            inburgeraarId: string;
            koppelingId: string;
            persoon: { geboortedatum: string };
            huishouden: DemoPerson['huishouden'];
          };
        };
      }[];
    };
    for (const { event } of body.events) {
      idByKoppeling.set(event.data.koppelingId, event.data.inburgeraarId);
      koppelingen.set(event.data.koppelingId, {
        inburgeraarId: event.data.inburgeraarId,
        gemeente: code,
        koppelingId: event.data.koppelingId,
        geboortedatum: event.data.persoon.geboortedatum,
        huishouden: event.data.huishouden,
      });
    }
  }
  const duoPeople: DuoPerson[] = cohort.persons
    .map((p, i) => ({ p, persoon: cohort.koppelingen[i]!.persoon }))
    .filter(
      ({ p }) =>
        p.adult &&
        p.bsn &&
        deliveredKoppelingen.has(p.koppelingId) &&
        idByKoppeling.has(p.koppelingId),
    )
    .map(({ p, persoon }) => ({
      bsn: p.bsn!,
      vNummer: p.vNummer,
      gemeente: `gm${p.gemeenteCode}`,
      inburgeraarId: idByKoppeling.get(p.koppelingId)!,
      voornamen: persoon.voornamen,
      geslachtsnaam: persoon.achternaam,
    }));
  // A sound PIP names a school: the first of the config for the B1-route, the second for the
  // onderwijsroute and the Z-route (as the shipped config's schools are set up).
  const schools = Object.keys(info.taalaanbiederSimulators);
  const duo = await runDuoFlows(info, duoPeople, {
    runTag: idPrefix,
    timeoutMs,
    say,
    schoolFor: (leerroute) => (leerroute === 'b1-route' ? schools[0] : (schools[1] ?? schools[0])),
  });
  const sortedJson = (o: Record<string, number>) => JSON.stringify(Object.entries(o).sort());
  const rejectionsAsExpected = sortedJson(duo.rejections) === sortedJson(duo.expectedRejections);

  // After the DUO count: the schools' hours also go to DUO and come back registered.
  const CSV_BAD_ROWS = 2;
  const leerroute = await runTaalaanbiederFlows({
    kvsSimulator: info.kvsSimulator,
    schools: info.taalaanbiederSimulators,
    learners: duo.pipsWithSchool,
    timeoutMs,
    ...(schools[0] ? { csvSchool: schools[0] } : {}),
    hoursToDuo: true,
    say,
  });
  const csvAsExpected = !schools[0] || leerroute.csvRejected === CSV_BAD_ROWS;

  // Financieel ontzorgen for every third of the adults the DUO part settled.
  const ontzorgen = await runKredietbankFlows(
    info,
    duoPeople.filter((_, i) => i % 3 === 0),
    { runTag: idPrefix, timeoutMs, say },
  );

  // The partners with a driver: every person of the cohort whose koppeling reached the KVS.
  const demoPeople: DemoPerson[] = cohort.persons.flatMap((p) => {
    const k = deliveredKoppelingen.has(p.koppelingId) ? koppelingen.get(p.koppelingId) : undefined;
    return k ? [{ ...k, adult: p.adult }] : [];
  });
  const kvs = kvsActor({ ...info, runTag: idPrefix });
  const driven: DemoFlow[] = [];
  for (const d of DRIVERS) {
    const { runDemo } = (await import(join(REPO_ROOT, d.path))) as { runDemo: DemoDriver };
    const { flows } = await runDemo({
      people: demoPeople,
      simulators: info.modules[d.id]?.simulators ?? {},
      ...kvs,
      runTag: idPrefix,
      timeoutMs,
      say,
    });
    driven.push(...flows);
  }

  // Every event of the demo is in the stream by now: the modules' consumers have it to drain.
  const drainUntil = Date.now() + timeoutMs;
  let modulesAfter = await watch.counts();
  while (Object.values(modulesAfter).some((m) => m.pending > 0) && Date.now() < drainUntil) {
    await new Promise((r) => setTimeout(r, 250));
    modulesAfter = await watch.counts();
  }
  // Late duplicates (a redelivery racing the last ack) show up before counting.
  await new Promise((r) => setTimeout(r, 1000));
  modulesAfter = await watch.counts();
  const modules = Object.entries(modulesAfter).map(([id, after]) => ({
    module: id,
    handled: after.handled - (modulesBefore[id]?.handled ?? 0),
    deadLetters: after.deadLetters - (modulesBefore[id]?.deadLetters ?? 0),
    pending: after.pending,
  }));
  const moduleFlows = Object.entries(modulesAfter).flatMap(([id, after]) => {
    const flow = moduleFlow(id, modulesBefore[id], after);
    return flow ? [flow] : [];
  });

  const result = {
    inburgeraars: cohort.persons.length,
    ...(sampleBsn ? { sampleBsn } : {}),
    seed,
    flows: [
      { flow: 'coa>kvs', sent, delivered, lost, duplicates },
      ...duo.flows,
      ...leerroute.flows,
      ...ontzorgen.flows,
      ...driven,
      ...moduleFlows,
    ],
    duo: {
      inburgeraars: duoPeople.length,
      rejections: duo.rejections,
      expectedRejections: duo.expectedRejections,
    },
    taalaanbieders: {
      learners: duo.pipsWithSchool.length,
      csvRowsRejected: leerroute.csvRejected,
    },
    kredietbank: { webhooks: ontzorgen.ontzorgen },
    modules,
    misrouted: misrouted + ontzorgen.misrouted,
    rejectedByHub: report.rejected.length,
    seconds: Math.round((Date.now() - startedAt) / 100) / 10,
  };
  if (!args.json) {
    say('');
    say('flow                 sent  delivered  lost  duplicates');
    for (const f of result.flows) {
      say(
        `${f.flow.padEnd(19)} ${String(f.sent).padStart(5)} ${String(f.delivered).padStart(10)} ${String(f.lost).padStart(5)} ${String(f.duplicates).padStart(11)}`,
      );
    }
    const rules = (o: Record<string, number>) =>
      Object.entries(o)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') || 'none';
    say(
      `PIPs refused by DUO's rules: ${rules(duo.rejections)} (expected ${rules(duo.expectedRejections)})`,
    );
    say(
      `bad CSV rows reported back to the school: ${leerroute.csvRejected} (expected ${CSV_BAD_ROWS})`,
    );
    for (const m of modules) {
      say(
        `module ${m.module}: handled ${m.handled}, dead letters ${m.deadLetters}, pending ${m.pending}`,
      );
    }
    say(
      `misrouted ${result.misrouted}, rejected by the hub ${report.rejected.length}, ${result.seconds} s`,
    );
  }
  console.log(JSON.stringify(result));
  process.exitCode =
    result.flows.every((f) => f.lost === 0 && f.duplicates === 0) &&
    modules.every((m) => m.deadLetters === 0 && m.pending === 0) &&
    result.misrouted === 0 &&
    report.rejected.length === 0 &&
    rejectionsAsExpected &&
    csvAsExpected
      ? 0
      : 1;
} finally {
  // For the privacy test: what every service exposes as metrics at the end of a run.
  const metricsOut = process.env.KETENHUB_DEMO_METRICS_OUT;
  if (metricsOut && info) {
    const texts = await Promise.all(
      Object.values(info.metrics).map(async (u) => (await fetch(u)).text()),
    );
    writeFileSync(metricsOut, texts.join('\n'));
  }
  await watch?.close();
  await started?.stop();
}
