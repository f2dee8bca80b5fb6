/**
 * Reading back from the KVS simulator process: what arrived, when (its `receivedAt`, stamped by
 * the simulator's clock when it accepted the event), and counters. The simulator runs on the
 * same machine, so its wall clock and the bench's are the same clock.
 */

export interface SimTotals {
  received: number;
  duplicates: number;
  faulted: number;
  misrouted: number;
}

export interface KvsSim {
  url: string;
  totals(): Promise<SimTotals>;
  /** Event id → receivedAt (ms since the epoch) for every event the simulator still holds. */
  receivedAt(gemeenten: string[]): Promise<Map<string, number>>;
  reset(): Promise<void>;
  /**
   * Polls until `received` reaches `count` or the time is up; resolves with the time (ms since
   * the epoch) at which the count was first seen, or null on time-out.
   */
  waitForReceived(count: number, timeoutMs: number, pollMs?: number): Promise<number | null>;
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  if (!res.ok) throw new Error(`KVS simulator answered ${res.status} on ${url}`);
  return (await res.json()) as T;
}

export function kvsSim(url: string): KvsSim {
  const sim: KvsSim = {
    url,
    async totals() {
      return (await getJson<{ total: SimTotals }>(`${url}/_sim/stats`)).total;
    },
    async receivedAt(gemeenten) {
      const out = new Map<string, number>();
      for (const code of gemeenten) {
        const body = await getJson<{ events: { id: string; receivedAt: string }[] }>(
          `${url}/_sim/gemeenten/${code}/events`,
        );
        for (const e of body.events) out.set(e.id, Date.parse(e.receivedAt));
      }
      return out;
    },
    async reset() {
      const res = await fetch(`${url}/_sim/reset`, { method: 'POST' });
      if (res.status !== 204) throw new Error(`KVS simulator reset answered ${res.status}`);
    },
    async waitForReceived(count, timeoutMs, pollMs = 50) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const { received } = await sim.totals();
        if (received >= count) return Date.now();
        if (Date.now() >= until) return null;
        await new Promise((r) => setTimeout(r, pollMs));
      }
    },
  };
  return sim;
}
