import { describe, expect, it } from 'vitest';
import type { JsMsg } from '@nats-io/jetstream';
import { combineGates, describeChainEvent, type ConsumerGate } from './run-service.ts';

/** A gate whose state the test sets, waking its waiters as a breaker event would. */
function gate(holdMs: number): ConsumerGate & { set(s: 'pass' | 'probe' | 'hold'): void } {
  let state: 'pass' | 'probe' | 'hold' = 'pass';
  let waiters: (() => void)[] = [];
  return {
    state: () => state,
    holdMs: () => holdMs,
    changed: (maxMs) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, maxMs);
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
    set(s) {
      state = s;
      const ready = waiters;
      waiters = [];
      for (const w of ready) w();
    },
  };
}

describe('combineGates', () => {
  it('holds while any holds, probes while any probes, passes when all pass', () => {
    const a = gate(1000);
    const b = gate(5000);
    const both = combineGates([a, b]);
    expect(both.state()).toBe('pass');
    b.set('probe');
    expect(both.state()).toBe('probe');
    a.set('hold');
    expect(both.state()).toBe('hold');
    b.set('pass');
    expect(both.state()).toBe('hold');
    a.set('pass');
    expect(both.state()).toBe('pass');
  });

  it('waits as long as the longest gate that is not passing', () => {
    const a = gate(1000);
    const b = gate(5000);
    const both = combineGates([a, b]);
    a.set('hold');
    expect(both.holdMs()).toBe(1000);
    b.set('hold');
    expect(both.holdMs()).toBe(5000);
  });

  it('wakes when any of the gates changes, well before maxMs', async () => {
    const a = gate(1000);
    const b = gate(1000);
    a.set('hold');
    const both = combineGates([a, b]);
    const started = Date.now();
    const woke = both.changed(10_000);
    setTimeout(() => b.set('probe'), 20);
    await woke;
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe('describeChainEvent', () => {
  const msg = (body: unknown) => ({ json: () => body }) as unknown as JsMsg;

  it("names a chain event's id, type and gemeente, and nothing of its data", () => {
    expect(
      describeChainEvent(
        msg({
          id: 'e1',
          type: 'nl.inburgering.pip.vastgesteld',
          gemeente: 'gm0797',
          data: { bsn: '999990019' },
        }),
      ),
    ).toEqual({ eventId: 'e1', eventType: 'nl.inburgering.pip.vastgesteld', gemeente: 'gm0797' });
  });

  it('leaves out what is missing or not a string', () => {
    expect(describeChainEvent(msg({ id: 42, gemeente: null }))).toEqual({});
  });
});
