import { randomBytes } from 'node:crypto';

/** W3C trace context, carried as the `traceparent` NATS header and HTTP header. */
export interface TraceContext {
  traceId: string;
  spanId: string;
  flags: string;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export function parseTraceparent(value: string | undefined | null): TraceContext | undefined {
  const m = value ? TRACEPARENT.exec(value) : null;
  if (!m || /^0+$/.test(m[1]!) || /^0+$/.test(m[2]!)) return undefined;
  return { traceId: m[1]!, spanId: m[2]!, flags: m[3]! };
}

export function formatTraceparent(t: TraceContext): string {
  return `00-${t.traceId}-${t.spanId}-${t.flags}`;
}

/** A new span under `parent`, or the root of a new trace when there is none. */
export function childSpan(parent?: TraceContext): TraceContext {
  return {
    traceId: parent?.traceId ?? randomBytes(16).toString('hex'),
    spanId: randomBytes(8).toString('hex'),
    flags: parent?.flags ?? '01',
  };
}

/**
 * The traceparent of work a partner's HTTP request starts: a child of the caller's `traceparent`
 * header (or of `fallback`, e.g. one carried in the body), or a new trace.
 */
export function traceparentFor(
  headers: Record<string, string | string[] | undefined>,
  fallback?: unknown,
): string {
  const header = headers.traceparent;
  const parent =
    parseTraceparent(Array.isArray(header) ? header[0] : header) ??
    parseTraceparent(typeof fallback === 'string' ? fallback : undefined);
  return formatTraceparent(childSpan(parent));
}

/**
 * The span of handling one stream message: a child of its `traceparent` header, formatted for
 * the next hop, and the ids a processing log record carries.
 */
export function messageSpan(m: { headers?: { get(name: string): string } | undefined }): {
  traceparent: string;
  ids: { traceId: string; spanId: string; parentSpanId?: string };
} {
  const parent = parseTraceparent(m.headers?.get('traceparent'));
  const span = childSpan(parent);
  return {
    traceparent: formatTraceparent(span),
    ids: {
      traceId: span.traceId,
      spanId: span.spanId,
      ...(parent ? { parentSpanId: parent.spanId } : {}),
    },
  };
}
