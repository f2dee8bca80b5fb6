import { describe, expect, it } from 'vitest';
import {
  DeliveryStatsError,
  createDeliveryCount,
  deliveryStatsOf,
  sumDeliveryStats,
} from './stats.ts';

describe('DeliveryStats', () => {
  it('counts each key once and every repeat as a duplicate, per gemeente', () => {
    const c = createDeliveryCount();
    expect(c.record('a', 'gm0797')).toBe(true);
    expect(c.record('a', 'gm0797')).toBe(false);
    expect(c.record('b', 'gm0796')).toBe(true);
    expect(c.record('c')).toBe(true);
    expect(c.has('a')).toBe(true);
    expect(c.stats()).toEqual({
      received: 3,
      duplicates: 1,
      byGemeente: { gm0797: 1, gm0796: 1 },
    });
    c.reset();
    expect(c.stats()).toEqual({ received: 0, duplicates: 0 });
  });

  it("reads a simulator's /_sim/stats, dropping its own counters, and names a bad field", () => {
    expect(deliveryStatsOf({ received: 2, duplicates: 0, faulted: 3 })).toEqual({
      received: 2,
      duplicates: 0,
    });
    expect(deliveryStatsOf({ received: 1, duplicates: 1, byGemeente: { gm0797: 1 } })).toEqual({
      received: 1,
      duplicates: 1,
      byGemeente: { gm0797: 1 },
    });
    expect(() => deliveryStatsOf({ verzoeken: 2, deliveries: 2 })).toThrow(DeliveryStatsError);
    expect(() => deliveryStatsOf({ received: 1 })).toThrow(/^duplicates: must be a whole number/);
    expect(() => deliveryStatsOf({ received: -1, duplicates: 0 })).toThrow(/^received:/);
    expect(() =>
      deliveryStatsOf({ received: 1, duplicates: 0, byGemeente: { gm0797: 'x' } }),
    ).toThrow(/^byGemeente\.gm0797:/);
  });

  it('sums the simulators of one partner', () => {
    expect(
      sumDeliveryStats([
        { received: 2, duplicates: 1, byGemeente: { gm0797: 2 } },
        { received: 3, duplicates: 0, byGemeente: { gm0797: 1, gm0796: 2 } },
        { received: 1, duplicates: 0 },
      ]),
    ).toEqual({ received: 6, duplicates: 1, byGemeente: { gm0797: 3, gm0796: 2 } });
  });
});
