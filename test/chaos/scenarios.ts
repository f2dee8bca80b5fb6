/**
 * The chaos scenarios ("nothing lost, nothing doubled"). Each starts its own hub
 * (test/chaos/hub.ts), feeds one flow (test/chaos/flows.ts: koppelingen through the COA API, or
 * PIPs and aanvragen through the KVS inbound API) while one fault happens, waits until
 * the hub is quiet, and judges the outcome from the partner simulator's read-back
 * (test/chaos/measure.ts).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { STREAMS } from '@ketenhub/kit';
import { partnerOf, partnersOf, startFlow, type FlowName, type FlowRun } from './flows.ts';
import {
  deadLetterEventIds,
  deliveryBacklog,
  startChaosHub,
  type ChaosHub,
  type OrganisationService,
  type PartnerService,
} from './hub.ts';
import { measure, type Measured } from './measure.ts';

export interface FaultWindow {
  startMs: number;
  endMs: number;
  detail: string;
  /** Dead letters the fault must cause (the 400s); every other scenario expects none. */
  expectedDeadLetters: number;
}

export interface FaultContext {
  hub: ChaosHub;
  /** Events fed in the scenario's flow. */
  events: number;
  deadline: number;
  /** How long a partner stays down (`--outage-seconds`). */
  outageMs: number;
  /** Events the flow's partner has stored (the KVS over all gemeenten, DUO, the schools...). */
  stored(): Promise<number>;
  /** Resolves once the partner has stored `n` events; throws at the deadline. */
  waitStored(n: number): Promise<void>;
  log(message: string): void;
}

export interface Scenario {
  name: string;
  summary: string;
  /** The flow fed and judged (test/chaos/flows.ts). */
  flow: FlowName;
  nats: 'single' | 'cluster';
  replicas: 1 | 3;
  /** Hard limit for the whole scenario, start-up and drain included, the outage not counted. */
  timeoutMs: number;
  /** Whether the fault lasts the outage (`--outage-seconds`): it adds to the limit. */
  outage?: boolean;
  fault(ctx: FaultContext): Promise<FaultWindow>;
}

export interface ScenarioResult extends Measured {
  name: string;
  flow: FlowName;
  ok: boolean;
  /** Why ok is false. */
  problems: string[];
  /** What the partner's read-back says beyond the counts (its counters, the way back). */
  notes: string[];
  /** Deliveries the partner refused with a 4xx (the KVS's 409 repeats not counted). */
  refused: number;
  fault: string;
  faultSeconds: number;
  durationSeconds: number;
  timedOut: boolean;
  resends: number;
}

/** The hard limit of a scenario with this outage. */
export function scenarioLimitMs(scenario: Scenario, outageMs: number): number {
  return scenario.timeoutMs + (scenario.outage ? outageMs : 0);
}

const PARTIAL_400 = 25;

async function simPost(url: string, path: string, body: unknown): Promise<void> {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`simulator ${url}${path}: HTTP ${res.status} ${await res.text()}`);
}

async function simStats(hub: ChaosHub): Promise<{ received: number; faulted: number }> {
  const res = await fetch(`${hub.simUrl}/_sim/stats`, { signal: AbortSignal.timeout(5_000) });
  const stats = (await res.json()) as { total: { received: number; faulted: number } };
  return stats.total;
}

/** The simulators of a partner's organisations (schools, corporaties, offices). */
const organisationUrls = (hub: ChaosHub, service: OrganisationService): string[] =>
  Object.values(hub.organisationSims[service] ?? {}).map((s) => s.url);

/** A partner service, its flow, and the simulators that play its partner. */
interface PartnerSide {
  service: PartnerService;
  flow: FlowName;
  /** The partner as the summaries name it. */
  partner: string;
  simUrls(hub: ChaosHub): string[];
}

const PARTNER_SIDES: PartnerSide[] = [
  {
    service: 'duo',
    flow: 'kvs>duo',
    partner: 'DUO',
    simUrls: (hub) => (hub.duoSim ? [hub.duoSim.url] : []),
  },
  {
    service: 'kredietbank',
    flow: 'kvs>kredietbank',
    partner: 'the Kredietbank',
    simUrls: (hub) => (hub.kredietbankSim ? [hub.kredietbankSim.url] : []),
  },
  {
    service: 'taalaanbieder',
    flow: 'kvs>taalaanbieder',
    partner: 'every school',
    simUrls: (hub) => organisationUrls(hub, 'taalaanbieder'),
  },
  {
    service: 'woningcorporatie',
    flow: 'kvs>woningcorporatie',
    partner: 'every corporatie',
    simUrls: (hub) => organisationUrls(hub, 'woningcorporatie'),
  },
  {
    service: 'vluchtelingenwerk',
    flow: 'kvs>vluchtelingenwerk',
    partner: 'every VluchtelingenWerk office',
    simUrls: (hub) => organisationUrls(hub, 'vluchtelingenwerk'),
  },
];

/**
 * The two scenarios of a partner service: the service SIGKILLed while its flow runs and
 * restarted, and its partner down (503 to everything) for the outage.
 */
function partnerScenarios(side: PartnerSide): Scenario[] {
  const { service } = side;
  return [
    {
      name: `${service}-service-killed`,
      flow: side.flow,
      summary: `services/${service} SIGKILLed mid-flow, restarted 1 s later`,
      nats: 'single',
      replicas: 1,
      timeoutMs: 180_000,
      async fault(ctx) {
        await ctx.waitStored(Math.floor(ctx.events * 0.3));
        const at = await ctx.stored();
        const proc = ctx.hub.services[service]!.process;
        const pid = proc.pid;
        proc.kill('SIGKILL');
        const startMs = Date.now();
        await proc.exited();
        await sleep(1_000);
        await ctx.hub.restartService(service);
        const endMs = Date.now();
        return {
          startMs,
          endMs,
          expectedDeadLetters: 0,
          detail: `SIGKILL ${service} (pid ${pid}) at ${at} stored; healthy again after ${((endMs - startMs) / 1000).toFixed(1)} s`,
        };
      },
    },
    {
      name: `${service}-partner-down`,
      flow: side.flow,
      summary: `${side.partner} answers 503 to everything for the outage (60 s)`,
      nats: 'single',
      replicas: 1,
      timeoutMs: 180_000,
      outage: true,
      async fault(ctx) {
        await ctx.waitStored(Math.floor(ctx.events * 0.2));
        const at = await ctx.stored();
        const outageMs = ctx.outageMs;
        const urls = side.simUrls(ctx.hub);
        await Promise.all(
          urls.map((url) =>
            simPost(url, '/_sim/faults', { kind: 'status', status: 503, durationMs: outageMs }),
          ),
        );
        const startMs = Date.now();
        await sleep(outageMs);
        return {
          startMs,
          endMs: startMs + outageMs,
          expectedDeadLetters: 0,
          detail: `${side.partner} 503 for ${outageMs / 1000} s from ${at} stored (${urls.length} simulator${urls.length === 1 ? '' : 's'})`,
        };
      },
    },
  ];
}

export const SCENARIOS: Scenario[] = [
  {
    name: 'service-killed',
    flow: 'coa>kvs',
    summary: 'gemeente-kvs SIGKILLed mid-stream, restarted 1 s later',
    nats: 'single',
    replicas: 1,
    timeoutMs: 120_000,
    async fault(ctx) {
      await ctx.waitStored(Math.floor(ctx.events * 0.3));
      const at = await ctx.stored();
      const pid = ctx.hub.kvs.pid;
      ctx.hub.kvs.kill('SIGKILL');
      const startMs = Date.now();
      await ctx.hub.kvs.exited();
      await sleep(1_000);
      await ctx.hub.restartKvs();
      const endMs = Date.now();
      return {
        startMs,
        endMs,
        expectedDeadLetters: 0,
        detail: `SIGKILL gemeente-kvs (pid ${pid}) at ${at} stored; healthy again after ${((endMs - startMs) / 1000).toFixed(1)} s`,
      };
    },
  },
  {
    name: 'partner-down',
    flow: 'coa>kvs',
    summary: 'the KVS answers 503 to everything for the outage (60 s)',
    nats: 'single',
    replicas: 1,
    timeoutMs: 120_000,
    outage: true,
    async fault(ctx) {
      await ctx.waitStored(Math.floor(ctx.events * 0.2));
      const at = await ctx.stored();
      const outageMs = ctx.outageMs;
      await simPost(ctx.hub.simUrl, '/_sim/faults', {
        kind: 'status',
        status: 503,
        durationMs: outageMs,
      });
      const startMs = Date.now();
      await sleep(outageMs);
      return {
        startMs,
        endMs: startMs + outageMs,
        expectedDeadLetters: 0,
        detail: `KVS 503 for every gemeente for ${outageMs / 1000} s from ${at} stored`,
      };
    },
  },
  {
    name: 'nats-node-killed',
    flow: 'coa>kvs',
    summary: 'the leader of the R3 KETEN stream SIGKILLed in a 3-node cluster',
    nats: 'cluster',
    replicas: 3,
    timeoutMs: 150_000,
    async fault(ctx) {
      await ctx.waitStored(Math.floor(ctx.events * 0.3));
      const at = await ctx.stored();
      const cluster = ctx.hub.cluster!;
      const info = await (await ctx.hub.jsm()).streams.info(STREAMS.keten);
      // The stream leader: losing it forces an election while publishes and acks go on.
      const victim =
        cluster.nodes.find((n) => n.name === info.cluster?.leader) ?? cluster.nodes[0]!;
      const pid = victim.pid;
      victim.kill('SIGKILL');
      const startMs = Date.now();
      ctx.log(`killed ${victim.name} (pid ${pid}), leader of ${STREAMS.keten}`);
      // The node stays down: the cluster has to carry on with two of three.
      return {
        startMs,
        endMs: startMs,
        expectedDeadLetters: 0,
        detail: `SIGKILL ${victim.name} (leader of ${STREAMS.keten}, pid ${pid}) at ${at} stored; left down`,
      };
    },
  },
  {
    name: 'nats-restarted',
    flow: 'coa>kvs',
    summary: 'the single NATS server stopped for 3 s and started again on its store',
    nats: 'single',
    replicas: 1,
    timeoutMs: 150_000,
    async fault(ctx) {
      await ctx.waitStored(Math.floor(ctx.events * 0.3));
      const at = await ctx.stored();
      const { stoppedAt, startedAt } = await ctx.hub.restartNats(3_000);
      return {
        startMs: stoppedAt,
        endMs: startedAt,
        expectedDeadLetters: 0,
        detail: `nats-server stopped (SIGTERM) at ${at} stored, back after ${((startedAt - stoppedAt) / 1000).toFixed(1)} s on the same port and store`,
      };
    },
  },
  {
    name: 'partner-400',
    flow: 'coa>kvs',
    summary: `the KVS refuses ${PARTIAL_400} deliveries with 400; they go to dead letters`,
    nats: 'single',
    replicas: 1,
    timeoutMs: 120_000,
    async fault(ctx) {
      await ctx.waitStored(Math.floor(ctx.events * 0.2));
      const at = await ctx.stored();
      const before = (await simStats(ctx.hub)).faulted;
      await simPost(ctx.hub.simUrl, '/_sim/faults', {
        kind: 'status',
        status: 400,
        count: PARTIAL_400,
      });
      const startMs = Date.now();
      while ((await simStats(ctx.hub)).faulted - before < PARTIAL_400) {
        if (Date.now() > ctx.deadline) throw new Error('the 400 faults were not all taken');
        await sleep(50);
      }
      return {
        startMs,
        endMs: Date.now(),
        expectedDeadLetters: PARTIAL_400,
        detail: `KVS 400 for the next ${PARTIAL_400} deliveries from ${at} stored`,
      };
    },
  },
  ...PARTNER_SIDES.flatMap(partnerScenarios),
];

export interface RunOptions {
  /** Koppelingen of the COA flow. */
  events: number;
  /** PIPs or aanvragen of a KVS flow (one person each). */
  partnerEvents: number;
  /** How long a partner stays down in the *partner-down scenarios. */
  outageMs: number;
  keep?: boolean;
  log(message: string): void;
}

export async function runScenario(scenario: Scenario, opts: RunOptions): Promise<ScenarioResult> {
  const started = Date.now();
  const deadline = started + scenarioLimitMs(scenario, opts.outageMs);
  const problems: string[] = [];
  const log = (m: string): void => opts.log(`[${scenario.name}] ${m}`);
  const events = scenario.flow === 'coa>kvs' ? opts.events : opts.partnerEvents;
  let hub: ChaosHub | undefined;
  let flow: FlowRun | undefined;
  let window: FaultWindow | undefined;
  let timedOut = false;

  const base = {
    name: scenario.name,
    flow: scenario.flow,
    fault: scenario.summary,
    faultSeconds: 0,
    timedOut: false,
    resends: 0,
    notes: [] as string[],
    refused: 0,
  };
  try {
    hub = await startChaosHub({
      nats: scenario.nats,
      replicas: scenario.replicas,
      partners: partnersOf(scenario.flow),
      keep: opts.keep,
    });
    const h = hub;
    log(
      `hub up in ${((Date.now() - started) / 1000).toFixed(1)} s (NATS ${h.natsUrl}, R${scenario.replicas}, ${h.processes.length} processes); logs in ${h.dir}`,
    );

    const run = await startFlow(scenario.flow, h, {
      events,
      seed: SCENARIOS.indexOf(scenario),
      deadline,
      log,
    });
    flow = run;
    const ctx: FaultContext = {
      hub: h,
      events,
      deadline,
      outageMs: opts.outageMs,
      stored: run.stored,
      async waitStored(n) {
        while ((await run.stored()) < n) {
          if (Date.now() > deadline) throw new Error(`fewer than ${n} events stored in time`);
          await sleep(100);
        }
      },
      log,
    };

    const [feedState, faultResult] = await Promise.all([
      run.feed.finished,
      scenario.fault(ctx).then(
        (w) => w,
        (err: Error) => err,
      ),
    ]);
    if (faultResult instanceof Error) {
      problems.push(`fault not applied: ${faultResult.message}`);
    } else {
      window = faultResult;
      log(window.detail);
    }
    log(
      `feed done: ${feedState.sent.length} accepted, ${feedState.resends} resends` +
        (feedState.lastFailure ? ` (last failure: ${feedState.lastFailure})` : ''),
    );
    if (feedState.refused > 0) problems.push(`${feedState.refused} refused by the hub`);
    if (feedState.unsent > 0) problems.push(`${feedState.unsent} never accepted`);

    // Quiet: every sent event stored or dead-lettered, and nothing left with the consumers
    // that deliver the flow (so late redeliveries are counted too).
    const sent = feedState.sent.length;
    let lastBacklog = { pending: -1, ackPending: -1, redelivered: -1 };
    for (;;) {
      try {
        const stored = await run.stored();
        const dlq = (await (await h.jsm()).streams.info(STREAMS.deadLetters)).state.messages;
        lastBacklog = await deliveryBacklog(h, run.consumers);
        if (stored + dlq >= sent && lastBacklog.pending === 0 && lastBacklog.ackPending === 0) {
          break;
        }
      } catch (err) {
        log(`still waiting (a call failed: ${(err as Error).message})`);
      }
      if (Date.now() > deadline) {
        timedOut = true;
        problems.push(
          `timed out after ${(deadline - started) / 1000} s; consumers: ${JSON.stringify(lastBacklog)}`,
        );
        break;
      }
      await sleep(250);
    }

    const back = await run.readBack();
    const result = measure({
      sent: feedState.sent,
      stored: back.stored,
      deadLetterIds: await deadLetterEventIds(h),
      faultEndMs: window?.endMs ?? Date.now(),
    });
    if (back.redeliveries !== undefined) result.redeliveries = back.redeliveries;
    if (back.doubled !== undefined) result.duplicated += back.doubled;
    const expectedDlq = window?.expectedDeadLetters ?? 0;
    if (result.sent !== events) problems.push(`sent ${result.sent} of ${events}`);
    if (result.lost > 0) problems.push(`lost ${result.lost}: ${result.missingSample.join(', ')}`);
    if (result.duplicated > 0) problems.push(`${result.duplicated} business duplicates`);
    if (result.misrouted > 0)
      problems.push(`${result.misrouted} at the wrong gemeente or organisation`);
    if (result.unexpected > 0) problems.push(`${result.unexpected} events nobody sent`);
    if (result.deadLetteredAndDelivered > 0)
      problems.push(`${result.deadLetteredAndDelivered} dead-lettered and also delivered`);
    if (result.deadLetterMessages !== expectedDlq)
      problems.push(`${result.deadLetterMessages} dead letters, expected ${expectedDlq}`);
    problems.push(...back.problems);
    for (const p of h.processes) {
      if (p.unexpectedExits > 0) problems.push(`${p.name} exited by itself`);
    }
    const notes = back.notes;
    for (const note of notes) log(note);
    if (problems.length > 0) {
      const service = partnerOf(scenario.flow);
      const tails = h.processes.filter((p) => [service, 'gemeente-kvs', 'coa'].includes(p.name));
      for (const p of tails) log(`${p.name} log tail:\n${p.tail(15)}`);
    }
    return {
      ...base,
      ...result,
      ok: problems.length === 0,
      problems,
      notes,
      refused: back.refused,
      fault: window?.detail ?? scenario.summary,
      faultSeconds: window ? Math.round((window.endMs - window.startMs) / 100) / 10 : 0,
      durationSeconds: Math.round((Date.now() - started) / 100) / 10,
      timedOut,
      resends: feedState.resends,
    };
  } catch (err) {
    problems.push(`scenario failed: ${(err as Error).message}`);
    return {
      ...base,
      ...measure({ sent: [], stored: [], deadLetterIds: [], faultEndMs: Date.now() }),
      ok: false,
      problems,
      durationSeconds: Math.round((Date.now() - started) / 100) / 10,
      timedOut,
    };
  } finally {
    flow?.stop();
    await hub?.stop();
  }
}
