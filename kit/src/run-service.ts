import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import { delayFor, maxDeliverFor, type BackoffPolicy } from './backoff.ts';
import { writeDeadLetter } from './dead-letter.ts';
import { isRetryable } from './errors.ts';
import type { Metrics } from './metrics.ts';
import { ensureConsumer, type DurableSpec } from './nats.ts';

/** What a handler reports about a message it handled without throwing. */
export type Outcome = 'delivered' | 'duplicate' | 'skipped';

export interface DeadLetterContext {
  gemeente?: string;
  eventId?: string;
  eventType?: string;
  schemaId?: string;
}

export interface RunServiceOptions {
  /** Service name: durable consumer owner, log and metric label, dead-letter subject part. */
  service: string;
  /** Partner label for metrics and dead letters, e.g. `gemeente-kvs`. */
  partner: string;
  /** Flow label for metrics, e.g. `coa>kvs`. */
  flow: string;
  nc: NatsConnection;
  consumer: Omit<DurableSpec, 'maxDeliver'>;
  backoff: BackoffPolicy;
  /** Throws to fail: a `retryable` error is retried with backoff, any other is dead-lettered. */
  handler: (m: JsMsg) => Promise<Outcome>;
  /** What to record about the message in a dead letter (ids, schema); must not throw. */
  describe?: (m: JsMsg) => DeadLetterContext;
  logger: Logger;
  metrics?: Metrics;
  /** Messages handled at the same time. */
  concurrency?: number;
}

export interface RunningService {
  stop(): Promise<void>;
  /** Settles when the consume loop has ended (after stop, or on a fatal error). */
  done: Promise<void>;
}

const MAX_TRACKED_HISTORIES = 10_000;

/**
 * The consume loop every outbound service runs: durable pull consumer → handler → ack; a
 * retryable failure is nak'ed with a delay from the backoff policy (never a bare nak); a
 * permanent failure, or a retryable one past maxAttempts, goes to the dead-letter stream and is
 * then terminated. If the dead letter cannot be written the message is nak'ed: nothing is lost.
 */
export async function runService(opts: RunServiceOptions): Promise<RunningService> {
  const { nc, logger, metrics, backoff, service, partner, flow } = opts;
  const jsm = await jetstreamManager(nc);
  await ensureConsumer(jsm, { ...opts.consumer, maxDeliver: maxDeliverFor(backoff) });
  const js = jetstream(nc);
  const consumer = await js.consumers.get(opts.consumer.stream, opts.consumer.durable);
  const concurrency = Math.max(1, opts.concurrency ?? 16);
  const messages = await consumer.consume({ max_messages: concurrency * 2 });
  const inFlight = new Set<Promise<void>>();
  const histories = new Map<number, { at: string; error: string }[]>();
  const labels = { flow, partner };

  async function deadLetter(m: JsMsg, err: Error, reason: string) {
    const context = safeDescribe(m);
    try {
      await writeDeadLetter(js, m, {
        service,
        partner,
        reason,
        errorName: err.name,
        history: histories.get(m.seq) ?? [],
        ...context,
      });
      m.term(reason.slice(0, 200));
      histories.delete(m.seq);
      metrics?.messages.inc({ ...labels, outcome: 'dead_lettered' });
      logger.warn(
        { eventId: context.eventId, seq: m.seq, attempts: m.info.deliveryCount, err: err.name },
        `dead-lettered: ${reason}`,
      );
    } catch (dlqErr) {
      m.nak(delayFor(backoff, m.info.deliveryCount));
      logger.error(
        { seq: m.seq, err: (dlqErr as Error).message },
        'dead letter not written; retrying',
      );
    }
  }

  function safeDescribe(m: JsMsg): DeadLetterContext {
    try {
      return opts.describe?.(m) ?? {};
    } catch {
      return {};
    }
  }

  async function handle(m: JsMsg) {
    const started = performance.now();
    try {
      const outcome = await opts.handler(m);
      m.ack();
      histories.delete(m.seq);
      metrics?.messages.inc({ ...labels, outcome });
      if (outcome === 'delivered') {
        metrics?.deliveryDuration.observe(labels, (performance.now() - started) / 1000);
      }
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      const attempt = m.info.deliveryCount;
      const history = histories.get(m.seq) ?? [];
      history.push({ at: new Date().toISOString(), error: `${err.name}: ${err.message}` });
      if (histories.size < MAX_TRACKED_HISTORIES || histories.has(m.seq))
        histories.set(m.seq, history);
      if (!isRetryable(err)) {
        await deadLetter(m, err, err.message);
      } else if (attempt >= backoff.maxAttempts) {
        await deadLetter(m, err, `retries exhausted after ${attempt} attempts: ${err.message}`);
      } else {
        const retryAfterMs = (err as { retryAfterMs?: number }).retryAfterMs;
        const delay = delayFor(backoff, attempt, retryAfterMs);
        m.nak(delay);
        metrics?.messages.inc({ ...labels, outcome: 'retried' });
        logger.info({ seq: m.seq, attempt, delayMs: delay, err: err.name }, err.message);
      }
    }
  }

  const done = (async () => {
    for await (const m of messages) {
      const p = handle(m).finally(() => inFlight.delete(p));
      inFlight.add(p);
      if (inFlight.size >= concurrency) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
  })();

  logger.info(
    {
      stream: opts.consumer.stream,
      durable: opts.consumer.durable,
      filter: opts.consumer.filterSubject,
    },
    'consuming',
  );

  return {
    done,
    async stop() {
      await messages.close();
      await done;
    },
  };
}
