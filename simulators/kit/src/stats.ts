/**
 * What every simulator's `GET /_sim/stats` holds besides its own counters: how many distinct
 * messages the hub delivered to it and how many repeats. The demo counts the flow of a module it
 * has no flow of its own for by these two, so "lost" and "duplicates" mean the same for every
 * partner.
 */

export interface DeliveryStats {
  /** Distinct messages the hub delivered and the partner accepted; a repeat counts once. */
  received: number;
  /** Deliveries of a message already accepted (answered idempotently, not applied again). */
  duplicates: number;
  /** `received` per gemeente (`gm0797`), where the partner can tell. */
  byGemeente?: Record<string, number>;
}

/** A bad `/_sim/stats` answer: which field breaks the contract. */
export class DeliveryStatsError extends Error {
  override name = 'DeliveryStatsError';
}

const isCount = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0;

/**
 * The DeliveryStats of a `/_sim/stats` answer (the simulator's own counters dropped); throws a
 * DeliveryStatsError naming the field that is missing or not a count.
 */
export function deliveryStatsOf(body: unknown): DeliveryStats {
  const o = (body ?? {}) as Record<string, unknown>;
  for (const field of ['received', 'duplicates'] as const) {
    if (!isCount(o[field])) {
      throw new DeliveryStatsError(
        `${field}: must be a whole number >= 0, got ${String(o[field])}`,
      );
    }
  }
  const out: DeliveryStats = { received: o.received as number, duplicates: o.duplicates as number };
  if (o.byGemeente !== undefined) {
    const by = o.byGemeente as Record<string, unknown>;
    if (typeof by !== 'object' || by === null || Array.isArray(by)) {
      throw new DeliveryStatsError('byGemeente: must be an object of counts');
    }
    for (const [g, n] of Object.entries(by)) {
      if (!isCount(n)) throw new DeliveryStatsError(`byGemeente.${g}: must be a whole number >= 0`);
    }
    out.byGemeente = by as Record<string, number>;
  }
  return out;
}

/** The sum of several simulators' stats (one per organisation), as one partner's. */
export function sumDeliveryStats(all: DeliveryStats[]): DeliveryStats {
  const out: DeliveryStats = { received: 0, duplicates: 0 };
  for (const s of all) {
    out.received += s.received;
    out.duplicates += s.duplicates;
    for (const [g, n] of Object.entries(s.byGemeente ?? {})) {
      out.byGemeente ??= {};
      out.byGemeente[g] = (out.byGemeente[g] ?? 0) + n;
    }
  }
  return out;
}

export interface DeliveryCount {
  /**
   * Counts one accepted delivery of the message `key` (its idempotency key or id): true the
   * first time, false for a repeat (counted as a duplicate).
   */
  record(key: string, gemeente?: string): boolean;
  /** Whether `key` was accepted before. */
  has(key: string): boolean;
  stats(): DeliveryStats;
  /** Forgets every key and count (`POST /_sim/reset`). */
  reset(): void;
}

/** DeliveryStats kept for a simulator that accepts each message once per key. */
export function createDeliveryCount(): DeliveryCount {
  let seen = new Set<string>();
  let duplicates = 0;
  let byGemeente = new Map<string, number>();
  return {
    record(key, gemeente) {
      if (seen.has(key)) {
        duplicates++;
        return false;
      }
      seen.add(key);
      if (gemeente !== undefined) byGemeente.set(gemeente, (byGemeente.get(gemeente) ?? 0) + 1);
      return true;
    },
    has: (key) => seen.has(key),
    stats: () => ({
      received: seen.size,
      duplicates,
      ...(byGemeente.size > 0 ? { byGemeente: Object.fromEntries(byGemeente) } : {}),
    }),
    reset() {
      seen = new Set();
      duplicates = 0;
      byGemeente = new Map();
    },
  };
}
