import { describe, expect, it } from 'vitest';
import { flowOf, waitFor } from './demo.ts';

describe('flowOf', () => {
  it('counts each id sent once: delivered, lost and the extra arrivals as duplicates', () => {
    const arrived = new Map([
      ['a', 1],
      ['b', 3],
      ['x', 1],
    ]);
    expect(flowOf('kvs>p', ['a', 'b', 'c', 'a'], arrived)).toEqual({
      flow: 'kvs>p',
      sent: 3,
      delivered: 2,
      lost: 1,
      duplicates: 2,
    });
  });
});

describe('waitFor', () => {
  it('returns true once the condition holds, false when the time is up', async () => {
    let n = 0;
    expect(await waitFor(async () => ++n >= 2, Date.now() + 5_000)).toBe(true);
    expect(await waitFor(async () => false, Date.now() + 300)).toBe(false);
  });
});
