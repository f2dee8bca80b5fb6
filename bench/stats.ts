/**
 * The few statistics the benchmark reports. Percentiles use the nearest-rank method on the
 * sorted samples: the value reported is one that was actually measured, never an interpolation
 * between two, so "p99 = 14 ms" means 99 % of the messages took 14 ms or less.
 */

export interface LatencySummary {
  count: number;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  meanMs: number | null;
}

/** Nearest-rank percentile of samples sorted ascending; null for no samples. */
export function percentileSorted(sorted: readonly number[], p: number): number | null {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be 0–100, got ${p}`);
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

/** Nearest-rank percentile of unsorted samples; the input is left as it is. */
export function percentile(samples: readonly number[], p: number): number | null {
  return percentileSorted(sortNumbers(samples), p);
}

function sortNumbers(samples: readonly number[]): number[] {
  // A typed array sorts numerically and much faster than Array#sort with a comparator.
  return Array.from(Float64Array.from(samples).sort());
}

export function summarize(samplesMs: readonly number[]): LatencySummary {
  const sorted = sortNumbers(samplesMs);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    count: sorted.length,
    p50Ms: round(percentileSorted(sorted, 50), 1),
    p99Ms: round(percentileSorted(sorted, 99), 1),
    maxMs: round(sorted.length > 0 ? sorted[sorted.length - 1]! : null, 1),
    meanMs: round(sorted.length > 0 ? sum / sorted.length : null, 1),
  };
}

/** Events per second over a span; null when the span is empty or not positive. */
export function perSecond(count: number, spanMs: number): number | null {
  if (count <= 0 || !(spanMs > 0)) return null;
  return Math.round((count / spanMs) * 1000);
}

/**
 * Rate of a stream of completion timestamps: n − 1 intervals between the first and the last,
 * so a run that happens to start with one message already done is not counted as instant.
 */
export function rateOfTimestamps(timestampsMs: readonly number[]): number | null {
  if (timestampsMs.length < 2) return null;
  let first = Infinity;
  let last = -Infinity;
  for (const t of timestampsMs) {
    if (t < first) first = t;
    if (t > last) last = t;
  }
  return perSecond(timestampsMs.length - 1, last - first);
}

export function round(value: number | null, digits = 0): number | null {
  if (value === null || !Number.isFinite(value)) return null;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** a / b rounded to two decimals; null when either is unknown or b is zero. */
export function ratio(a: number | null, b: number | null): number | null {
  if (a === null || b === null || b === 0) return null;
  return round(a / b, 2);
}
