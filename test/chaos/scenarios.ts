/**
 * The chaos scenarios of issue 6 ("nothing lost, nothing doubled"). Each starts its own hub
 * (test/chaos/hub.ts), feeds koppelingen through the COA API while one fault happens, waits
 * until the hub is quiet, and judges the outcome from the KVS simulator's read-back
 * (test/chaos/measure.ts).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { generateCohort } from '@ketenhub/simulator-coa';
import { STREAMS } from '@ketenhub/kit';
import { startFeed } from './feed.ts';
import {
  CHAOS_GEMEENTEN,
  deadLetterEventIds,
  deliveryBacklog,
  startChaosHub,
  type ChaosHub,
} from './hub.ts';
import { measure, type Measured, type StoredView } from './measure.ts';

export interface FaultWindow {
  startMs: number;
  endMs: number;
  detail: string;
  /** Dead letters the fault must cause (the 400s); every other scenario expects none. */
  expectedDeadLetters: number;
}

export interface FaultContext {
  hub: ChaosHub;
  events: number;
  deadline: number;
  /** Events the KVS simulator has stored (201s), over all gemeenten. */
  stored(): Promise<number>;
  /** Resolves once the KVS has stored `n` events; throws at the deadline. */
  waitStored(n: number): Promise<void>;
  log(message: string): void;
}

export interface Scenario {
  name: string;
  summary: string;
  nats: 'single' | 'cluster';
  replicas: 1 | 3;
  /** Hard limit for the whole scenario, start-up and drain included. */
  timeoutMs: number;
  fault(ctx: FaultContext): Promise<FaultWindow>;
}

export interface ScenarioResult extends Measured {
  name: string;
  ok: boolean;
  /** Why ok is false, or notes worth reading when it is true. */
  problems: string[];
  fault: string;
  faultSeconds: number;
  durationSeconds: number;
  timedOut: boolean;
  resends: number;
}

const PARTIAL_400 = 25;

async function simPost(hub: ChaosHub, path: string, body: unknown): Promise<void> {
  const res = await fetch(`${hub.simUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`KVS simulator ${path}: HTTP ${res.status} ${await res.text()}`);
}

async function simStats(hub: ChaosHub): Promise<{ received: number; faulted: number }> {
  const res = await fetch(`${hub.simUrl}/_sim/stats`, { signal: AbortSignal.timeout(5_000) });
  const stats = (await res.json()) as { total: { received: number; faulted: number } };
  return stats.total;
}

export const SCENARIOS: Scenario[] = [
  {
    name: 'service-killed',
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
    summary: 'the KVS answers 503 to everything for 60 s',
    nats: 'single',
    replicas: 1,
    timeoutMs: 180_000,
    async fault(ctx) {
      await ctx.waitStored(Math.floor(ctx.events * 0.2));
      const at = await ctx.stored();
      const outageMs = 60_000;
      await simPost(ctx.hub, '/_sim/faults', { kind: 'status', status: 503, durationMs: outageMs });
      const startMs = Date.now();
      await sleep(outageMs);
      return {
        startMs,
        endMs: startMs + outageMs,
        expectedDeadLetters: 0,
        detail: `KVS 503 for every gemeente for 60 s from ${at} stored`,
      };
    },
  },
  {
    name: 'nats-node-killed',
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
    summary: `the KVS refuses ${PARTIAL_400} deliveries with 400; they go to dead letters`,
    nats: 'single',
    replicas: 1,
    timeoutMs: 120_000,
    async fault(ctx) {
      await ctx.waitStored(Math.floor(ctx.events * 0.2));
      const at = await ctx.stored();
      const before = (await simStats(ctx.hub)).faulted;
      await simPost(ctx.hub, '/_sim/faults', { kind: 'status', status: 400, count: PARTIAL_400 });
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
];

async function readBack(hub: ChaosHub): Promise<StoredView[]> {
  const out: StoredView[] = [];
  for (const g of CHAOS_GEMEENTEN) {
    const res = await fetch(`${hub.simUrl}/_sim/gemeenten/gm${g.code}/events`, {
      signal: AbortSignal.timeout(30_000),
    });
    const body = (await res.json()) as {
      events: {
        gemeente: string;
        id: string;
        deliveries: number;
        receivedAt: string;
        event?: { data?: { koppelingId?: string } };
      }[];
    };
    for (const e of body.events) {
      out.push({
        gemeente: e.gemeente,
        id: e.id,
        deliveries: e.deliveries,
        receivedAt: e.receivedAt,
        ...(e.event?.data?.koppelingId ? { koppelingId: e.event.data.koppelingId } : {}),
      });
    }
  }
  return out;
}

export interface RunOptions {
  events: number;
  keep?: boolean;
  log(message: string): void;
}

export async function runScenario(scenario: Scenario, opts: RunOptions): Promise<ScenarioResult> {
  const started = Date.now();
  const deadline = started + scenario.timeoutMs;
  const problems: string[] = [];
  const log = (m: string): void => opts.log(`[${scenario.name}] ${m}`);
  let hub: ChaosHub | undefined;
  let window: FaultWindow | undefined;
  let timedOut = false;

  const base = {
    name: scenario.name,
    fault: scenario.summary,
    faultSeconds: 0,
    timedOut: false,
    resends: 0,
  };
  try {
    hub = await startChaosHub({
      nats: scenario.nats,
      replicas: scenario.replicas,
      keep: opts.keep,
    });
    const h = hub;
    log(`hub up (NATS ${h.natsUrl}, R${scenario.replicas}); logs in ${h.dir}`);

    const stored = async (): Promise<number> => (await simStats(h)).received;
    const ctx: FaultContext = {
      hub: h,
      events: opts.events,
      deadline,
      stored,
      async waitStored(n) {
        while ((await stored()) < n) {
          if (Date.now() > deadline) throw new Error(`fewer than ${n} events stored in time`);
          await sleep(50);
        }
      },
      log,
    };

    const cohort = generateCohort({
      size: opts.events,
      seed: 20_260_600 + SCENARIOS.indexOf(scenario),
      gemeenten: CHAOS_GEMEENTEN,
      idPrefix: `CHAOS${SCENARIOS.indexOf(scenario)}`,
    });
    // 20 parts a tenth of a second apart: faster than the KVS delivery drains, so the fault
    // hits a busy hub with deliveries in flight and a backlog in the stream.
    const partSize = Math.max(1, Math.ceil(opts.events / 20));
    const feed = startFeed({
      coaUrl: h.coaUrl,
      apiKey: h.apiKey,
      koppelingen: cohort.koppelingen,
      partSize,
      intervalMs: 100,
      deadline,
    });
    const [feedState, faultResult] = await Promise.all([
      feed.finished,
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
    if (feedState.rejectedRows > 0) problems.push(`${feedState.rejectedRows} rows refused`);
    if (feedState.unsent > 0) problems.push(`${feedState.unsent} rows never accepted`);

    // Quiet: every sent event stored or dead-lettered, and nothing left with the consumers
    // (so late redeliveries are counted too).
    const sent = feedState.sent.length;
    let lastBacklog = { pending: -1, ackPending: -1, redelivered: -1 };
    for (;;) {
      try {
        const { received } = await simStats(h);
        const dlq = (await (await h.jsm()).streams.info(STREAMS.deadLetters)).state.messages;
        lastBacklog = await deliveryBacklog(h);
        if (received + dlq >= sent && lastBacklog.pending === 0 && lastBacklog.ackPending === 0) {
          break;
        }
      } catch (err) {
        log(`still waiting (a NATS call failed: ${(err as Error).message})`);
      }
      if (Date.now() > deadline) {
        timedOut = true;
        problems.push(
          `timed out after ${scenario.timeoutMs / 1000} s; consumers: ${JSON.stringify(lastBacklog)}`,
        );
        break;
      }
      await sleep(250);
    }

    const result = measure({
      sent: feedState.sent,
      stored: await readBack(h),
      deadLetterIds: await deadLetterEventIds(h),
      faultEndMs: window?.endMs ?? Date.now(),
    });
    const expectedDlq = window?.expectedDeadLetters ?? 0;
    if (result.sent !== opts.events) problems.push(`sent ${result.sent} of ${opts.events}`);
    if (result.lost > 0) problems.push(`lost ${result.lost}: ${result.missingSample.join(', ')}`);
    if (result.duplicated > 0) problems.push(`${result.duplicated} business duplicates`);
    if (result.misrouted > 0) problems.push(`${result.misrouted} at the wrong gemeente`);
    if (result.unexpected > 0) problems.push(`${result.unexpected} events nobody sent`);
    if (result.deadLetteredAndDelivered > 0)
      problems.push(`${result.deadLetteredAndDelivered} dead-lettered and also delivered`);
    if (result.deadLetterMessages !== expectedDlq)
      problems.push(`${result.deadLetterMessages} dead letters, expected ${expectedDlq}`);
    for (const p of [h.sim, h.coa, h.kvs]) {
      if (p.unexpectedExits > 0) problems.push(`${p.name} exited by itself`);
    }
    if (problems.length > 0) {
      for (const p of [h.kvs, h.coa]) log(`${p.name} log tail:\n${p.tail(15)}`);
    }
    return {
      ...base,
      ...result,
      ok: problems.length === 0,
      problems,
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
    await hub?.stop();
  }
}
