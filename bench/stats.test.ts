import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  perSecond,
  percentile,
  percentileSorted,
  rateOfTimestamps,
  ratio,
  round,
  summarize,
} from './stats.ts';

describe('percentile (nearest rank)', () => {
  const oneToHundred = Array.from({ length: 100 }, (_, i) => i + 1);

  it('gives the measured value at the rank, not an interpolation', () => {
    expect(percentile(oneToHundred, 50)).toBe(50);
    expect(percentile(oneToHundred, 99)).toBe(99);
    expect(percentile(oneToHundred, 100)).toBe(100);
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
    expect(percentile([10, 20], 75)).toBe(20);
  });

  it('gives the minimum at p0 and the only value of one sample', () => {
    expect(percentile([5, 3, 9], 0)).toBe(3);
    expect(percentile([7], 50)).toBe(7);
    expect(percentile([7], 99)).toBe(7);
  });

  it('sorts numerically, not as text, and leaves the input alone', () => {
    const samples = [100, 9, 20, 3];
    expect(percentile(samples, 50)).toBe(9);
    expect(percentile(samples, 100)).toBe(100);
    expect(samples).toEqual([100, 9, 20, 3]);
  });

  it('p99 of 1,000 samples ignores the 10 worst', () => {
    const samples = [...Array.from({ length: 990 }, () => 2), ...Array(10).fill(500)];
    expect(percentile(samples, 99)).toBe(2);
    expect(percentile([...samples, 500], 99)).toBe(500);
  });

  it('is null for no samples and refuses a percentile outside 0–100', () => {
    expect(percentile([], 50)).toBeNull();
    expect(() => percentileSorted([1], 101)).toThrow(RangeError);
    expect(() => percentileSorted([1], Number.NaN)).toThrow(RangeError);
  });

  it('is always one of the samples and grows with p', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1e6, noNaN: true }), { minLength: 1 }),
        fc.integer({ min: 0, max: 100 }),
        fc.integer({ min: 0, max: 100 }),
        (samples, p, q) => {
          const a = percentile(samples, Math.min(p, q))!;
          const b = percentile(samples, Math.max(p, q))!;
          expect(samples).toContain(a);
          expect(a).toBeLessThanOrEqual(b);
        },
      ),
    );
  });
});

describe('summarize', () => {
  it('reports count, p50, p99, max and mean in ms with one decimal', () => {
    expect(summarize([4, 1, 3, 2, 10.26])).toEqual({
      count: 5,
      p50Ms: 3,
      p99Ms: 10.3,
      maxMs: 10.3,
      meanMs: 4.1,
    });
  });

  it('has nulls, not zeros, when nothing was measured', () => {
    expect(summarize([])).toEqual({
      count: 0,
      p50Ms: null,
      p99Ms: null,
      maxMs: null,
      meanMs: null,
    });
  });
});

describe('rates', () => {
  it('counts per second over the span', () => {
    expect(perSecond(5000, 2000)).toBe(2500);
    expect(perSecond(0, 1000)).toBeNull();
    expect(perSecond(10, 0)).toBeNull();
  });

  it('takes n − 1 intervals between the first and last timestamp', () => {
    expect(rateOfTimestamps([1000, 1500, 2000])).toBe(2);
    expect(rateOfTimestamps([2000, 1000, 1500])).toBe(2);
    expect(rateOfTimestamps([1000])).toBeNull();
    expect(rateOfTimestamps([1000, 1000])).toBeNull();
  });

  it('rounds ratios to two decimals and is null when a side is unknown', () => {
    expect(ratio(1, 3)).toBe(0.33);
    expect(ratio(null, 3)).toBeNull();
    expect(ratio(3, 0)).toBeNull();
    expect(round(Number.POSITIVE_INFINITY)).toBeNull();
  });
});
