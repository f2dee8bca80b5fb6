/**
 * A small seeded PRNG so a cohort is the same for the same seed on every machine: the demo,
 * `npm start` and tests can name a seed and get the same people, ids and berichtIds (which is
 * what lets a rerun of the demo exercise the hub's idempotency instead of creating new people).
 */

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  uint32(): number;
  /** Uniform integer in [min, max], both inclusive. */
  int(min: number, max: number): number;
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  /** Picks by relative weight; weights need not sum to 1. */
  weighted<T>(items: readonly (readonly [T, number])[]): T;
  /** A UUID formatted as version 4, but drawn from this generator so it is reproducible. */
  uuid(): string;
}

/**
 * mulberry32 after a murmur3 finaliser on the seed: mulberry32 alone steps its state by a
 * constant, so seeds 7 and 8 would start out highly correlated; the finaliser spreads them.
 */
export function createRng(seed: number): Rng {
  let h = Math.trunc(seed) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  let state = h >>> 0;

  const uint32 = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  const next = (): number => uint32() / 4294967296;
  const int = (min: number, max: number): number => {
    if (max < min) throw new RangeError(`int(${min}, ${max}): empty range`);
    return min + Math.floor(next() * (max - min + 1));
  };
  const pick = <T>(items: readonly T[]): T => {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[Math.floor(next() * items.length)] as T;
  };
  const weighted = <T>(items: readonly (readonly [T, number])[]): T => {
    const total = items.reduce((sum, [, w]) => sum + w, 0);
    if (!(total > 0)) throw new RangeError('weighted pick needs a positive total weight');
    let r = next() * total;
    for (const [item, w] of items) {
      r -= w;
      if (r < 0) return item;
    }
    // Floating-point rounding can leave r a hair above 0 after the last item.
    return (items[items.length - 1] as readonly [T, number])[0];
  };
  const uuid = (): string => {
    const hex = [uint32(), uint32(), uint32(), uint32()]
      .map((n) => n.toString(16).padStart(8, '0'))
      .join('');
    const variant = ((parseInt(hex[16] as string, 16) & 0x3) | 0x8).toString(16);
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  };
  return { next, uint32, int, chance: (p) => next() < p, pick, weighted, uuid };
}
