/**
 * The baseline: the bus on its own, on the same server, with messages of the size of a chain
 * event. A stream configured like KETEN (file storage, limits retention, a duplicate window),
 * async publishes with a bounded window of outstanding acks, then a durable pull consumer with
 * explicit acks, as every outbound hub service uses, with the client's default pull batch.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import {
  AckPolicy,
  DeliverPolicy,
  RetentionPolicy,
  StorageType,
  jetstream,
  jetstreamManager,
  type PubAck,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { perSecond } from './stats.ts';

export interface RawResult {
  messages: number;
  messageBytes: number;
  /** Publishes with their acks outstanding at once. */
  publishWindow: number;
  publishPerSec: number | null;
  consumePerSec: number | null;
  /** Pull + two acked processing-log publishes + ack per message: the hop's bus work alone. */
  busWorkPerSec: number | null;
}

const STREAM = 'BENCH_RAW';
const SUBJECT = 'bench.raw.gm0797.inburgeraar.gekoppeld';

export async function measureRaw(
  nc: NatsConnection,
  opts: { messages: number; messageBytes: number; window: number; timeoutMs: number },
): Promise<RawResult> {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({
    name: STREAM,
    subjects: ['bench.raw.>'],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    duplicate_window: nanos(10 * 60 * 1000),
    num_replicas: 1,
  });
  const js = jetstream(nc);
  // JSON-ish printable bytes of the chain event's size; the content does not matter to the bus.
  const payload = new TextEncoder().encode('x'.repeat(opts.messageBytes));
  const deadline = Date.now() + opts.timeoutMs;

  const publishStarted = performance.now();
  const inFlight = new Set<Promise<PubAck>>();
  for (let i = 0; i < opts.messages; i++) {
    const p = js.publish(SUBJECT, payload);
    inFlight.add(p);
    void p.then(
      () => inFlight.delete(p),
      () => inFlight.delete(p),
    );
    if (inFlight.size >= opts.window) await Promise.race(inFlight);
    if ((i & 1023) === 0 && Date.now() > deadline) throw new Error('raw publish timed out');
  }
  await Promise.all(inFlight);
  const publishMs = performance.now() - publishStarted;

  const durable = 'bench-raw';
  await jsm.consumers.add(STREAM, {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject: 'bench.raw.>',
    ack_wait: nanos(30_000),
    // The hub's consumers use the same limit (kit/src/nats.ts ensureConsumer).
    max_ack_pending: 1000,
  });
  const consumer = await js.consumers.get(STREAM, durable);
  const consumeStarted = performance.now();
  const messages = await consumer.consume();
  let seen = 0;
  const timer = setTimeout(() => void messages.close(), Math.max(1000, deadline - Date.now()));
  for await (const m of messages) {
    seen++;
    if (seen < opts.messages) {
      m.ack();
      continue;
    }
    // The last ack is confirmed, so every ack before it on this connection has been processed.
    await m.ackAck();
    break;
  }
  const consumeMs = performance.now() - consumeStarted;
  clearTimeout(timer);
  await messages.close();
  if (seen < opts.messages) throw new Error(`raw consume timed out after ${seen} messages`);

  const busMs = await consumeWithLogPublishes(nc, opts.messages, deadline);
  await jsm.streams.delete(STREAM);

  return {
    messages: opts.messages,
    messageBytes: opts.messageBytes,
    publishWindow: opts.window,
    publishPerSec: perSecond(opts.messages, publishMs),
    consumePerSec: perSecond(opts.messages, consumeMs),
    busWorkPerSec: perSecond(opts.messages, busMs),
  };
}

/**
 * The JetStream work of one hub hop without the hub: pull, two acked publishes of a small
 * record (the processing log's `gestart` and `verstrekt`, with a Nats-Msg-Id), then the ack,
 * with as many messages in flight as the gemeente-kvs service has (16 for each of 3 gemeenten).
 */
async function consumeWithLogPublishes(
  nc: NatsConnection,
  total: number,
  deadline: number,
): Promise<number> {
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  await jsm.streams.add({
    name: `${STREAM}_LOG`,
    subjects: ['bench.log.>'],
    storage: StorageType.File,
    duplicate_window: nanos(2 * 60 * 1000),
  });
  const durable = 'bench-raw-bus';
  await jsm.consumers.add(STREAM, {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject: 'bench.raw.>',
    ack_wait: nanos(30_000),
    max_ack_pending: 1000,
  });
  const concurrency = 48;
  const record = JSON.stringify({ status: 'gestart', pad: 'x'.repeat(400) });
  const consumer = await js.consumers.get(STREAM, durable);
  const started = performance.now();
  const messages = await consumer.consume({ max_messages: concurrency * 2 });
  const timer = setTimeout(() => void messages.close(), Math.max(1000, deadline - Date.now()));
  const inFlight = new Set<Promise<void>>();
  let done = 0;
  for await (const m of messages) {
    const p = (async () => {
      await js.publish('bench.log.gm0797', record, { msgID: `${m.seq}:gestart` });
      await js.publish('bench.log.gm0797', record, { msgID: `${m.seq}:verstrekt` });
      m.ack();
      done++;
    })().finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= concurrency) await Promise.race(inFlight);
    if (done + inFlight.size >= total) break;
  }
  await Promise.all(inFlight);
  const ms = performance.now() - started;
  clearTimeout(timer);
  await messages.close();
  if (done < total) throw new Error(`raw bus-work run timed out after ${done} messages`);
  await jsm.streams.delete(`${STREAM}_LOG`);
  return ms;
}
