/**
 * The whole chain for a cohort, every flow that exists today: koppelingen as COA's JSON push
 * and (a share) in one TVS CSV export, then the warme overdracht of every adult, all into the
 * COA service over HTTP, through JetStream and the gemeente-kvs service to the KVS simulator.
 * Latency runs from the moment the partner started sending (the request, or the CSV upload
 * that carried the row) until the KVS received the event; the rate is events delivered over
 * the time from the first send to the last receipt.
 */
import type { CoaKoppeling } from '@ketenhub/contracts/generated/coa';
import { toTvsCsv } from '@ketenhub/simulator-coa';
import { Agent } from 'node:http';
import { cohortFor } from './fixtures.ts';
import { postJson } from './http.ts';
import { perUnit, type CoresUsed, type CpuProbe } from './cpu.ts';
import type { KvsSim } from './kvs-sim.ts';
import { perSecond, summarize, type LatencySummary } from './stats.ts';

export type ChainFlow = 'koppeling-json' | 'koppeling-csv' | 'overdracht-json';

export interface ChainResult {
  inburgeraars: number;
  /** Events the hub accepted (2xx), hence expected at the KVS. */
  events: number;
  delivered: number;
  rejected: number;
  duplicates: number;
  /** HTTP requests in flight at once from "COA". */
  concurrency: number;
  perSec: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  seconds: number;
  flows: Record<ChainFlow, LatencySummary>;
  cores: CoresUsed;
  /** CPU time per delivered event and process, µs: the cost of the chain, load-independent. */
  cpuUsPerEvent: Record<string, number>;
}

export interface ChainDeps {
  sim: KvsSim;
  gemeenten: string[];
  coaUrl: string;
  coaApiKey: string;
  say: (line: string) => void;
  cpu: () => CpuProbe;
}

interface Sent {
  flow: ChainFlow;
  startedAt: number;
}

async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export async function measureChain(
  deps: ChainDeps,
  opts: { inburgeraars: number; concurrency: number; csvShare: number; timeoutMs: number },
): Promise<ChainResult> {
  const { sim, gemeenten, say } = deps;
  const cohort = cohortFor(gemeenten, opts.inburgeraars, 'CHN');
  const json: CoaKoppeling[] = [];
  const csv: CoaKoppeling[] = [];
  cohort.koppelingen.forEach((k, i) => {
    // Spread evenly, as the COA simulator's sender does.
    const toCsv = Math.floor((i + 1) * opts.csvShare) > Math.floor(i * opts.csvShare);
    (toCsv ? csv : json).push(k);
  });
  const csvBody = csv.length > 0 ? toTvsCsv(csv) : '';
  await sim.reset();
  say(
    `chain: ${cohort.persons.length} inburgeraars: ${json.length} koppelingen as JSON, ` +
      `${csv.length} in a TVS export, then ${cohort.overdrachten.length} overdrachten`,
  );

  const sent = new Map<string, Sent>();
  const accepted = new Set<string>();
  let rejected = 0;
  const headers = (contentType: string) => ({
    'content-type': contentType,
    accept: 'application/json, application/problem+json',
    authorization: `Bearer ${deps.coaApiKey}`,
  });
  // node:http with keep-alive costs the bench about half the CPU of fetch per request; on two
  // cores every cycle the load generator spends is one the hub does not get.
  const agent = new Agent({ keepAlive: true, maxSockets: opts.concurrency });
  const post = async (path: string, body: string, flow: ChainFlow, koppelingId: string) => {
    const startedAt = Date.now();
    try {
      const res = await postJson(agent, `${deps.coaUrl}${path}`, body, headers('application/json'));
      const answer = JSON.parse(res.body) as { eventId?: string };
      if (res.status === 202 && answer.eventId) {
        sent.set(answer.eventId, { flow, startedAt });
        if (flow === 'koppeling-json') accepted.add(koppelingId);
      } else rejected++;
    } catch {
      // Counted, not retried: a bench that resends would measure its own retry policy.
      rejected++;
    }
  };

  const firstSend = Date.now();
  const probe = deps.cpu();
  const uploadCsv = async () => {
    if (csv.length === 0) return;
    const startedAt = Date.now();
    const res = await fetch(`${deps.coaUrl}/v1/tvs-export`, {
      method: 'POST',
      headers: headers('text/csv; charset=utf-8'),
      body: csvBody,
      signal: AbortSignal.timeout(120_000),
    });
    const report = (await res.json()) as {
      accepted?: { koppelingId: string; eventId: string }[];
      rejected?: unknown[];
    };
    for (const a of report.accepted ?? []) {
      sent.set(a.eventId, { flow: 'koppeling-csv', startedAt });
      accepted.add(a.koppelingId);
    }
    rejected += report.rejected?.length ?? (res.ok ? 0 : csv.length);
  };
  // The export is one request, so it takes one of the slots while the pushes run.
  await Promise.all([
    uploadCsv(),
    pool(json, Math.max(1, opts.concurrency - (csv.length > 0 ? 1 : 0)), (k) =>
      post('/v1/koppelingen', JSON.stringify(k), 'koppeling-json', k.koppelingId),
    ),
  ]);
  // An overdracht follows its koppeling, as at COA.
  const overdrachten = cohort.overdrachten.filter((o) => accepted.has(o.koppelingId));
  await pool(overdrachten, opts.concurrency, (o) =>
    post('/v1/overdrachten', JSON.stringify(o), 'overdracht-json', o.koppelingId),
  );
  agent.destroy();
  say(`chain: ${sent.size} events accepted by the hub, ${rejected} rejected; waiting for the KVS`);

  const done = await sim.waitForReceived(sent.size, opts.timeoutMs - (Date.now() - firstSend));
  const { cores, cpuSeconds } = probe.stop();
  if (done === null) say('chain: timed out waiting for the KVS');
  const times = await sim.receivedAt(gemeenten);
  const totals = await sim.totals();
  const all: number[] = [];
  const byFlow: Record<ChainFlow, number[]> = {
    'koppeling-json': [],
    'koppeling-csv': [],
    'overdracht-json': [],
  };
  let last = firstSend;
  for (const [id, s] of sent) {
    const at = times.get(id);
    if (at === undefined) continue;
    all.push(at - s.startedAt);
    byFlow[s.flow].push(at - s.startedAt);
    if (at > last) last = at;
  }
  const overall = summarize(all);
  return {
    inburgeraars: cohort.persons.length,
    events: sent.size,
    delivered: all.length,
    rejected,
    duplicates: totals.duplicates,
    concurrency: opts.concurrency,
    perSec: perSecond(all.length, last - firstSend),
    p50Ms: overall.p50Ms,
    p99Ms: overall.p99Ms,
    maxMs: overall.maxMs,
    seconds: Math.round((last - firstSend) / 100) / 10,
    flows: {
      'koppeling-json': summarize(byFlow['koppeling-json']),
      'koppeling-csv': summarize(byFlow['koppeling-csv']),
      'overdracht-json': summarize(byFlow['overdracht-json']),
    },
    cores,
    cpuUsPerEvent: perUnit(cpuSeconds, all.length),
  };
}
