import { describe, expect, it } from 'vitest';
import {
  childSpan,
  formatTraceparent,
  messageSpan,
  parseTraceparent,
  traceparentFor,
} from './trace.ts';

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

  it("continues the caller's trace from a header, a fallback, or starts a new one", () => {
    const caller = formatTraceparent(childSpan());
    const fromHeader = parseTraceparent(traceparentFor({ traceparent: caller }))!;
    expect(fromHeader.traceId).toBe(parseTraceparent(caller)!.traceId);
    const fromBody = parseTraceparent(traceparentFor({}, caller))!;
    expect(fromBody.traceId).toBe(parseTraceparent(caller)!.traceId);
    const other = formatTraceparent(childSpan());
    expect(parseTraceparent(traceparentFor({ traceparent: [caller] }, other))!.traceId).toBe(
      parseTraceparent(caller)!.traceId,
    );
    expect(parseTraceparent(traceparentFor({ traceparent: 'garbage' }))).toBeDefined();
  });
  it('gives a stream message a child span and the ids of its processing log record', () => {
    const parent = childSpan();
    const { traceparent, ids } = messageSpan({
      headers: { get: (n: string) => (n === 'traceparent' ? formatTraceparent(parent) : '') },
    });
    expect(ids).toEqual({
      traceId: parent.traceId,
      spanId: parseTraceparent(traceparent)!.spanId,
      parentSpanId: parent.spanId,
    });
    expect(messageSpan({ headers: undefined }).ids).not.toHaveProperty('parentSpanId');
  });
});
