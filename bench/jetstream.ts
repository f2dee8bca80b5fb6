import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import {
  STREAMS,
  childSpan,
  formatTraceparent,
  publishEvent,
  type Event,
  type PublishResult,
} from '@ketenhub/kit';

/**
 * Publishes chain events exactly as the COA service does (publishEvent: Nats-Msg-Id = the scoped event id,
 * traceparent, type, source and partner headers), keeping `window` publishes awaiting their ack
 * at once.
 */
export async function publishAll(
  js: JetStreamClient,
  events: readonly Event<unknown>[],
  window = 256,
): Promise<{ duplicates: number }> {
  const inFlight = new Set<Promise<PublishResult>>();
  let duplicates = 0;
  for (const event of events) {
    const p = publishEvent(js, event, JSON.stringify(event), {
      traceparent: formatTraceparent(childSpan()),
      partner: 'coa',
    });
    inFlight.add(p);
    void p.then(
      (r) => {
        if (r.duplicate) duplicates++;
        inFlight.delete(p);
      },
      () => inFlight.delete(p),
    );
    if (inFlight.size >= window) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  return { duplicates };
}

/**
 * Waits until the KVS delivery consumers have nothing pending and nothing unacknowledged, so
 * one phase's tail does not run into the next phase's measurement.
 */
export async function waitForConsumersIdle(
  jsm: JetStreamManager,
  gemeenten: string[],
  timeoutMs: number,
): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    let busy = false;
    for (const code of gemeenten) {
      try {
        const info = await jsm.consumers.info(STREAMS.keten, `gemeente-kvs-${code}`);
        if (info.num_pending > 0 || info.num_ack_pending > 0) busy = true;
      } catch {
        busy = true;
      }
    }
    if (!busy) return true;
    if (Date.now() >= until) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}
