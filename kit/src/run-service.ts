import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import { raiseAlert } from './alerts.ts';
import { delayFor, maxDeliverFor, type BackoffPolicy } from './backoff.ts';
import { REPLAY_FOR_HEADER, writeDeadLetter } from './dead-letter.ts';
import { isRetryable, type AlertKind } from './errors.ts';
import { CONSUMER_STATE, type Metrics } from './metrics.ts';
import { ensureConsumer, type DurableSpec } from './nats.ts';
import type { PersonRegister } from './person-register.ts';

/** What a handler reports about a message it handled without throwing. */
export type Outcome = 'delivered' | 'duplicate' | 'skipped' | 'rejected';

export interface DeadLetterContext {
  gemeente?: string;
  eventId?: string;
  eventType?: string;
  schemaId?: string;
}

/**
 * Whether the consumer may pull: `pass` freely, `probe` one message at a time (a half-open
 * breaker wants one trial call), `hold` not at all (breaker open: messages wait in the stream).
 */
export interface ConsumerGate {
  state(): 'pass' | 'probe' | 'hold';
  /** Resolves when the state may have changed, or after `maxMs`. */
  changed(maxMs: number): Promise<void>;
  /** Redelivery delay for a message that was already pulled when the gate closed. */
  holdMs(): number;
}

export interface RunServiceOptions {
  /** Service name: durable consumer owner, log and metric label, dead-letter subject part. */
  service: string;
  /** Partner label for metrics and dead letters, e.g. `gemeente-kvs`. */
  partner: string;
  /** Flow label for metrics, e.g. `coa>kvs`, or a function naming the flow of each message. */
  flow: string | ((m: JsMsg) => string);
  nc: NatsConnection;
  consumer: Omit<DurableSpec, 'maxDeliver'>;
  backoff: BackoffPolicy;
  /** Throws to fail: a `retryable` error is retried with backoff, any other is dead-lettered. */
  handler: (m: JsMsg) => Promise<Outcome>;
  /**
   * What to record about the message in a dead letter (ids, schema); must not throw. Default:
   * the id, type and gemeente of the chain event in the body (`describeChainEvent`).
   */
  describe?: (m: JsMsg) => DeadLetterContext;
  /** Usually the partner client's breaker: while it is open the consumer stops pulling. */
  gate?: ConsumerGate;
  /**
   * The tenant check of every message, before the handler: a chain event about a person
   * (`data.inburgeraarId`) whom the person register binds to another gemeente than the event's
   * own is dead-lettered with the alert `tenant-mismatch`, whatever the handler would do
   * (docs/adr/0012-tenant-binding.md). Left out only by the consumers that bind persons.
   */
  persons?: PersonRegister;
  logger: Logger;
  metrics?: Metrics;
  /** Messages handled at the same time. */
  concurrency?: number;
}

export interface RunningService {
  stop(): Promise<void>;
  /** Settles when the pull loop has ended (after stop, or on a fatal error). */
  done: Promise<void>;
}

const MAX_TRACKED_HISTORIES = 10_000;
/** How long one pull waits for messages when the stream is idle. */
const IDLE_PULL_MS = 1_000;
/**
 * One gate over several partner endpoints, for a consumer whose handler calls all of them (the
 * DUO notifications read up to four DUO APIs): it holds while any of them holds, probes while
 * any probes, and passes only when all pass.
 */
export function combineGates(gates: ConsumerGate[]): ConsumerGate {
  const states = () => gates.map((g) => g.state());
  return {
    state: () => {
      const s = states();
      return s.includes('hold') ? 'hold' : s.includes('probe') ? 'probe' : 'pass';
    },
    changed: (maxMs) => Promise.race(gates.map((g) => g.changed(maxMs))),
    holdMs: () =>
      Math.max(...gates.filter((g) => g.state() !== 'pass').map((g) => g.holdMs()), 0) ||
      Math.max(...gates.map((g) => g.holdMs())),
  };
}

/** The dead-letter context of a message whose body is a chain event: its id, type and gemeente. */
export function describeChainEvent(m: JsMsg): DeadLetterContext {
  const e = m.json<{ id?: unknown; type?: unknown; gemeente?: unknown }>();
  return {
    ...(typeof e.id === 'string' ? { eventId: e.id } : {}),
    ...(typeof e.type === 'string' ? { eventType: e.type } : {}),
    ...(typeof e.gemeente === 'string' ? { gemeente: e.gemeente } : {}),
  };
}

/** `describeChainEvent` with the partner's contract for the body it was to become. */
export function describeChainEventFor(schemaId: string): (m: JsMsg) => DeadLetterContext {
  return (m) => ({ ...describeChainEvent(m), schemaId });
}

/** One durable consumer of a service on the KETEN stream, for `runConsumers`. */
export interface ConsumerSpec {
  durable: string;
  /** One subject filter (nats-server 2.9 allows one per consumer). */
  filter: string;
  handler: (m: JsMsg) => Promise<Outcome>;
  flow: string | ((m: JsMsg) => string);
  /** Holds the consumer while the partner's breaker is open. */
  gate?: ConsumerGate;
  /** What a dead letter records of a message (RunServiceOptions.describe). */
  describe?: (m: JsMsg) => DeadLetterContext;
  /**
   * The identity consumer: it binds (or moves) persons itself, by the rules of
   * createIdentityHandler, so the runner's tenant check is not for it.
   */
  bindsPersons?: boolean;
}

/**
 * The consumers of one module on the KETEN stream, each its own pull loop with the module's
 * retry, ack wait and concurrency (what `runModules` runs).
 */
export async function runConsumers(opts: {
  service: string;
  partner: string;
  nc: NatsConnection;
  stream: string;
  consumers: ConsumerSpec[];
  backoff: BackoffPolicy;
  ackWaitMs: number;
  concurrency: number;
  logger: Logger;
  metrics?: Metrics;
  /** The tenant check of every consumer but those that bind persons (RunServiceOptions). */
  persons?: PersonRegister;
}): Promise<RunningService[]> {
  const running: RunningService[] = [];
  try {
    for (const c of opts.consumers) {
      running.push(
        await runService({
          service: opts.service,
          partner: opts.partner,
          flow: c.flow,
          nc: opts.nc,
          consumer: {
            stream: opts.stream,
            durable: c.durable,
            filterSubject: c.filter,
            ackWaitMs: opts.ackWaitMs,
          },
          backoff: opts.backoff,
          handler: c.handler,
          ...(c.gate ? { gate: c.gate } : {}),
          ...(c.describe ? { describe: c.describe } : {}),
          ...(opts.persons && !c.bindsPersons ? { persons: opts.persons } : {}),
          logger: opts.logger.child({ consumer: c.durable }),
          ...(opts.metrics ? { metrics: opts.metrics } : {}),
          concurrency: opts.concurrency,
        }),
      );
    }
  } catch (err) {
    // One consumer could not start: stop the ones that did, so nothing pulls half-wired.
    await Promise.all(running.map((r) => r.stop()));
    throw err;
  }
  return running;
}

/**
 * The runner's tenant check (RunServiceOptions.persons). A body that is not a chain event about
 * a person passes untouched: the handler refuses what it cannot read.
 */
async function checkTenant(persons: PersonRegister, m: JsMsg): Promise<void> {
  let event: { gemeente?: unknown; data?: { inburgeraarId?: unknown } | null };
  try {
    event = m.json();
  } catch {
    return;
  }
  const id = event?.data?.inburgeraarId;
  if (typeof event?.gemeente === 'string' && typeof id === 'string') {
    await persons.check(event.gemeente, id);
  }
}

const ALWAYS_PASS: ConsumerGate = {
  state: () => 'pass',
  changed: (maxMs) => new Promise((r) => setTimeout(r, maxMs)),
  holdMs: () => 1_000,
};

/**
 * The pull loop every outbound service runs: durable pull consumer → handler → ack; a
 * retryable failure is nak'ed with a delay from the backoff policy (never a bare nak); a
 * permanent failure, or a retryable one past maxAttempts, goes to the dead-letter stream and is
 * then terminated (past maxAttempts an alert is raised too). If the dead letter cannot be
 * written the message is nak'ed: nothing is lost. While the gate holds (partner breaker open)
 * nothing is pulled, so messages wait in the stream instead of burning their attempts.
 */
export async function runService(opts: RunServiceOptions): Promise<RunningService> {
  const { nc, logger, metrics, backoff, service, partner, flow } = opts;
  const gate = opts.gate ?? ALWAYS_PASS;
  const jsm = await jetstreamManager(nc);
  await ensureConsumer(jsm, { ...opts.consumer, maxDeliver: maxDeliverFor(backoff) });
  const js = jetstream(nc);
  const consumer = await js.consumers.get(opts.consumer.stream, opts.consumer.durable);
  const concurrency = Math.max(1, opts.concurrency ?? 16);
  const inFlight = new Set<Promise<void>>();
  const histories = new Map<number, { at: string; error: string }[]>();
  const flowOf = (m: JsMsg) => (typeof flow === 'string' ? flow : flow(m));
  const consumerLabel = { consumer: opts.consumer.durable };
  let stopping = false;

  function safeDescribe(m: JsMsg): DeadLetterContext {
    try {
      return (opts.describe ?? describeChainEvent)(m);
    } catch {
      return {};
    }
  }

  async function deadLetter(m: JsMsg, err: Error, reason: string, exhausted: boolean) {
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
      // A bare +TERM: nats-server 2.9 does not know `+TERM <reason>` (2.10 does) and ignores
      // it, so the message would come back after its ack wait. The reason is in the letter.
      m.term();
      histories.delete(m.seq);
      metrics?.messages.inc({ flow: flowOf(m), partner, outcome: 'dead_lettered' });
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
      return;
    }
    // Past the last retry, or an error that names an alert of its own (a tenant mismatch):
    // a person has to look at it.
    const kind = exhausted ? 'retries-exhausted' : (err as { alert?: AlertKind }).alert;
    if (exhausted) metrics?.retriesExhausted.inc({ flow: flowOf(m), partner });
    if (kind) {
      await raiseAlert(js, {
        kind,
        service,
        partner,
        ...(context.gemeente ? { gemeente: context.gemeente } : {}),
        ...(context.eventId ? { eventId: context.eventId } : {}),
        ...(context.eventType ? { eventType: context.eventType } : {}),
        attempts: m.info.deliveryCount,
        reason,
      }).catch((e: Error) => logger.error({ err: e.message }, 'alert not raised'));
    }
  }

  async function handle(m: JsMsg) {
    // A replay of a dead letter is meant for the service that gave up on it, not for every
    // consumer of the subject (they already have it).
    const replayFor = m.headers?.get(REPLAY_FOR_HEADER);
    if (replayFor && replayFor !== service) {
      m.ack();
      return;
    }
    try {
      if (opts.persons) await checkTenant(opts.persons, m);
      const outcome = await opts.handler(m);
      m.ack();
      histories.delete(m.seq);
      const labels = { flow: flowOf(m), partner };
      metrics?.messages.inc({ ...labels, outcome });
      if (outcome === 'delivered') {
        const enteredMs = m.info.timestampNanos / 1e6;
        metrics?.deliveryDuration.observe(labels, Math.max(0, Date.now() - enteredMs) / 1000);
      }
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      const attempt = m.info.deliveryCount;
      const history = histories.get(m.seq) ?? [];
      history.push({ at: new Date().toISOString(), error: `${err.name}: ${err.message}` });
      if (histories.size < MAX_TRACKED_HISTORIES || histories.has(m.seq))
        histories.set(m.seq, history);
      if (!isRetryable(err)) {
        await deadLetter(m, err, err.message, false);
      } else if (attempt >= backoff.maxAttempts) {
        await deadLetter(
          m,
          err,
          `retries exhausted after ${attempt} attempts: ${err.message}`,
          true,
        );
      } else {
        const retryAfterMs = (err as { retryAfterMs?: number }).retryAfterMs;
        const delay = delayFor(backoff, attempt, retryAfterMs);
        m.nak(delay);
        metrics?.messages.inc({ flow: flowOf(m), partner, outcome: 'retried' });
        logger.info({ seq: m.seq, attempt, delayMs: delay, err: err.name }, err.message);
      }
    }
  }

  function start(m: JsMsg): Promise<void> {
    const p = handle(m).finally(() => inFlight.delete(p));
    inFlight.add(p);
    return p;
  }

  const done = (async () => {
    while (!stopping) {
      const state = gate.state();
      metrics?.consumerState.set(consumerLabel, CONSUMER_STATE[state]);
      if (state === 'hold') {
        await gate.changed(IDLE_PULL_MS);
        continue;
      }
      if (inFlight.size >= concurrency) {
        await Promise.race(inFlight);
        continue;
      }
      // Half-open: one trial message, handled before anything else is pulled.
      const want = state === 'probe' ? 1 : concurrency * 2 - inFlight.size;
      try {
        const batch = await consumer.fetch({ max_messages: want, expires: IDLE_PULL_MS });
        for await (const m of batch) {
          if (gate.state() === 'hold') {
            // Pulled just before the breaker opened: back to the stream, no attempt burnt
            // beyond this one, until the partner may be up again.
            m.nak(gate.holdMs());
            continue;
          }
          const p = start(m);
          if (state === 'probe') await p;
          while (inFlight.size >= concurrency) await Promise.race(inFlight);
        }
      } catch (err) {
        if (stopping) break;
        // A pull can fail while NATS reconnects; the messages stay in the stream.
        logger.warn({ err: (err as Error).message }, 'pull failed; retrying');
        await new Promise((r) => setTimeout(r, 500));
      }
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
      stopping = true;
      await done;
    },
  };
}
