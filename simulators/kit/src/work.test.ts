import { describe, expect, it } from 'vitest';
import { createWork } from './work.ts';

describe('work', () => {
  it('runs scheduled jobs and drains once they are done', async () => {
    const errors: unknown[] = [];
    const work = createWork((err) => errors.push(err));
    const ran: number[] = [];
    work.schedule(30, () => {
      ran.push(2);
    });
    work.schedule(0, async () => {
      await new Promise((r) => setTimeout(r, 10));
      ran.push(1);
      throw new Error('boom');
    });
    expect(work.pending()).toBe(2);
    expect(await work.drain(1000)).toBe(true);
    expect(ran).toEqual([1, 2]);
    expect(errors).toEqual([new Error('boom')]);
    expect(work.pending()).toBe(0);
  });

  it('reports a drain that times out', async () => {
    const work = createWork(() => {});
    work.schedule(500, () => {});
    expect(await work.drain(20)).toBe(false);
    work.cancel();
  });

  it('cancels scheduled jobs and aborts the signal running ones took', async () => {
    const work = createWork(() => {});
    let ran = false;
    work.schedule(20, () => {
      ran = true;
    });
    let seen: AbortSignal | undefined;
    work.schedule(0, async () => {
      seen = work.signal();
      await new Promise((r) => setTimeout(r, 50));
    });
    await new Promise((r) => setTimeout(r, 5));
    work.cancel();
    expect(seen?.aborted).toBe(true);
    expect(work.signal().aborted).toBe(false);
    expect(await work.drain(1000)).toBe(true);
    expect(ran).toBe(false);
  });
});
