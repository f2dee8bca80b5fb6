/**
 * One hub hop: the gemeente-kvs delivery service, the outbound hop every chain event takes.
 * Per message it does: pull from KETEN → parse and validate the chain event (envelope + data
 * schema) → tenant check → policy projection → validate against the KVS delivery contract →
 * processing log `gestart` (a JetStream publish, awaited) → HTTP POST to the KVS simulator
 * through the circuit breaker → processing log `verstrekt` (awaited) → ack. Translation of the
 * partner message happens at the COA edge and is in the chain figure, not here.
 *
 * Two runs: a drain (a backlog of N events pre-loaded, the service started, delivery rate from
 * the first to the last event the KVS received) and an offered load (events published at a
 * fixed rate while the service runs; latency from the moment each was due to be published
 * until the KVS received it, so a bench that falls behind cannot hide the delay).
 */
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { childSpan, formatTraceparent, publishEvent, type Event } from '@ketenhub/kit';
import { gekoppeldEvents, meanBytes } from './fixtures.ts';
import { publishAll, waitForConsumersIdle } from './jetstream.ts';
import { perUnit, type CoresUsed, type CpuProbe } from './cpu.ts';
import type { KvsSim } from './kvs-sim.ts';
import { perSecond, rateOfTimestamps, summarize, type LatencySummary } from './stats.ts';

export interface HopDrainResult {
  messages: number;
  eventBytes: number;
  delivered: number;
  duplicates: number;
  perSec: number | null;
  /** Seconds from starting the service process until the last event was received. */
  seconds: number;
  /** Cores used per process while draining (service start-up included). */
  cores: CoresUsed;
  /**
   * CPU time per delivered message and process once the service was up, in µs: the cost of a
   * hop, much less sensitive than the rate to other work on the machine.
   */
  cpuUsPerMessage: Record<string, number>;
}

export interface HopOfferedResult extends LatencySummary {
  ratePerSec: number;
  seconds: number;
  messages: number;
  delivered: number;
  duplicates: number;
  /** Rate the bench actually published at; below ratePerSec means the bench fell behind. */
  publishedPerSec: number | null;
  cores: CoresUsed;
}

export interface HopDeps {
  nc: NatsConnection;
  sim: KvsSim;
  gemeenten: string[];
  /** Starts the gemeente-kvs service process and resolves once it is healthy. */
  startService: () => Promise<void>;
  say: (line: string) => void;
  cpu: () => CpuProbe;
}

export async function measureHopDrain(
  deps: HopDeps,
  opts: { messages: number; timeoutMs: number },
): Promise<HopDrainResult> {
  const { nc, sim, gemeenten, say } = deps;
  const events = gekoppeldEvents(gemeenten, opts.messages, 'HOP');
  const eventBytes = meanBytes(events.slice(0, 2000).map((e) => JSON.stringify(e)));
  say(`hop: pre-loading ${events.length} events of ~${eventBytes} bytes into KETEN`);
  await publishAll(jetstream(nc), events);

  const started = Date.now();
  const probe = deps.cpu();
  await deps.startService();
  // CPU per message is counted from here, so the service's start-up is not in it.
  const steady = deps.cpu();
  const receivedAtStart = (await sim.totals()).received;
  say(`hop: gemeente-kvs started, draining (${receivedAtStart} already delivered)`);
  const done = await sim.waitForReceived(events.length, opts.timeoutMs - (Date.now() - started));
  const { cores } = probe.stop();
  const { cpuSeconds } = steady.stop();
  const counted = (await sim.totals()).received - receivedAtStart;
  const cpuUsPerMessage = perUnit(cpuSeconds, counted);
  const times = await sim.receivedAt(gemeenten);
  const totals = await sim.totals();
  const wanted = new Set(events.map((e) => e.id));
  const received = [...times].filter(([id]) => wanted.has(id)).map(([, t]) => t);
  if (done === null) say(`hop: drain timed out with ${received.length} of ${events.length}`);
  const last = received.reduce((a, b) => Math.max(a, b), started);
  return {
    messages: events.length,
    eventBytes,
    delivered: received.length,
    duplicates: totals.duplicates,
    perSec: rateOfTimestamps(received),
    seconds: Math.round((last - started) / 100) / 10,
    cores,
    cpuUsPerMessage,
  };
}

export async function measureHopOffered(
  deps: HopDeps,
  opts: { ratePerSec: number; seconds: number; timeoutMs: number },
): Promise<HopOfferedResult> {
  const { nc, sim, gemeenten, say } = deps;
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  const total = Math.round(opts.ratePerSec * opts.seconds);
  const events = gekoppeldEvents(gemeenten, total, 'OFF');
  await waitForConsumersIdle(jsm, gemeenten, 30_000);
  await sim.reset();
  say(`hop: offering ${total} events at ${opts.ratePerSec}/s`);

  const intervalMs = 1000 / opts.ratePerSec;
  const due = new Map<string, number>();
  const pending = new Set<Promise<unknown>>();
  let failed = 0;
  // A little ahead, so the first tick does not start late.
  const t0 = Date.now() + 20;
  const probe = deps.cpu();
  const publish = (event: Event<unknown>) => {
    const p = publishEvent(js, event, JSON.stringify(event), {
      traceparent: formatTraceparent(childSpan()),
      partner: 'coa',
    }).catch(() => {
      failed++;
    });
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };
  let i = 0;
  while (i < events.length) {
    const now = Date.now();
    while (i < events.length && t0 + i * intervalMs <= now) {
      const event = events[i]!;
      due.set(event.id, t0 + i * intervalMs);
      publish(event);
      i++;
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  const publishedAll = Date.now();
  await Promise.all(pending);
  if (failed > 0) say(`hop: ${failed} publishes failed`);

  await sim.waitForReceived(total - failed, opts.timeoutMs);
  const { cores } = probe.stop();
  const times = await sim.receivedAt(gemeenten);
  const totals = await sim.totals();
  const latencies: number[] = [];
  for (const [id, at] of times) {
    const d = due.get(id);
    if (d !== undefined) latencies.push(at - d);
  }
  return {
    ratePerSec: opts.ratePerSec,
    seconds: opts.seconds,
    messages: total,
    delivered: latencies.length,
    duplicates: totals.duplicates,
    publishedPerSec: perSecond(total, publishedAll - t0),
    cores,
    ...summarize(latencies),
  };
}
