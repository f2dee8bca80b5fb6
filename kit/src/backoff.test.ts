import { describe, expect, it } from 'vitest';
import { delayFor, maxDeliverFor } from './backoff.ts';

const policy = { delaysMs: [100, 1000], maxAttempts: 5 };

describe('backoff', () => {
  it('follows the schedule with bounded jitter and repeats the last delay', () => {
    for (let i = 0; i < 50; i++) {
      expect(delayFor(policy, 1)).toBeGreaterThanOrEqual(100);
      expect(delayFor(policy, 1)).toBeLessThanOrEqual(120);
      expect(delayFor(policy, 7)).toBeGreaterThanOrEqual(1000);
      expect(delayFor(policy, 7)).toBeLessThanOrEqual(1200);
    }
  });
  it('honours Retry-After when it is longer', () => {
    expect(delayFor(policy, 1, 5000)).toBe(5000);
  });
  it('lets the server deliver once more than the attempts', () => {
    expect(maxDeliverFor(policy)).toBe(6);
  });
});
