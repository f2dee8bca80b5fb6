/**
 * Reading the operator alerts back (`npm run dlq -- alerts`, the admin API). Services only raise
 * them (`alerts.ts`, in the runtime entry) and never load this file.
 */
import type { JetStreamManager } from '@nats-io/jetstream';
import type { Alert } from './alerts.ts';
import { STREAMS } from './nats.ts';

export interface LatestAlertsOptions {
  /** How many to return at most. Default 100. */
  limit?: number;
  /** Only alerts about these gemeenten (an alert without one is then left out); all when absent. */
  gemeenten?: string[];
  /**
   * How many of the newest alerts to look at, at most, while filtering by gemeente: alerts carry
   * the gemeente in the body, not the subject, so each is read. Default 1000.
   */
  maxScan?: number;
}

/** The newest alerts, oldest first; none when the stream does not exist (the hub never ran). */
export async function latestAlerts(
  jsm: JetStreamManager,
  opts: LatestAlertsOptions = {},
): Promise<Alert[]> {
  const limit = opts.limit ?? 100;
  const maxScan = Math.max(limit, opts.maxScan ?? 1000);
  const scope = opts.gemeenten ? new Set(opts.gemeenten) : undefined;
  const info = await jsm.streams.info(STREAMS.alerts).catch((err: Error) => {
    if (/not found/i.test(err.message)) return undefined;
    throw err;
  });
  const out: Alert[] = [];
  if (!info || info.state.messages === 0 || (scope && scope.size === 0)) return out;
  const { first_seq: first, last_seq: last } = info.state;
  // Newest first, a page of reads at a time, until enough are found or the scan limit is hit.
  const page = 50;
  for (let top = last; top >= first && last - top < maxScan && out.length < limit; top -= page) {
    const seqs: number[] = [];
    for (let seq = top; seq > top - page && seq >= first && last - seq < maxScan; seq--) {
      seqs.push(seq);
    }
    const read = await Promise.all(
      seqs.map((seq) =>
        // A sequence may be gone (age limit, deleted): skip it.
        jsm.streams.getMessage(STREAMS.alerts, { seq }).catch(() => null),
      ),
    );
    for (const m of read) {
      if (!m) continue;
      const alert = m.json<Alert>();
      if (scope && !(alert.gemeente && scope.has(alert.gemeente))) continue;
      out.push(alert);
      if (out.length === limit) break;
    }
  }
  return out.reverse();
}
