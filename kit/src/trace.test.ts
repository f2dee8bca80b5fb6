import { describe, expect, it } from 'vitest';
import { childSpan, formatTraceparent, parseTraceparent } from './trace.ts';

describe('trace context', () => {
  it('round-trips and keeps the trace id in child spans', () => {
    const root = childSpan();
    const header = formatTraceparent(root);
    expect(parseTraceparent(header)).toEqual(root);
    const child = childSpan(parseTraceparent(header));
    expect(child.traceId).toBe(root.traceId);
    expect(child.spanId).not.toBe(root.spanId);
  });
  it('rejects malformed and all-zero ids', () => {
    expect(parseTraceparent('garbage')).toBeUndefined();
    expect(parseTraceparent(`00-${'0'.repeat(32)}-${'1'.repeat(16)}-01`)).toBeUndefined();
    expect(parseTraceparent(undefined)).toBeUndefined();
  });
});
