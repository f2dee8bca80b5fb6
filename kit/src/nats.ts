import {
  connect,
  headers as natsHeaders,
  nanos,
  type NatsConnection,
} from '@nats-io/transport-node';
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  RetentionPolicy,
  StorageType,
  jetstreamManager,
  type ConsumerConfig,
  type JetStreamClient,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';
import { InfrastructureError } from './errors.ts';

/**
 * Streams of the hub. Subjects carry no personal data: `keten.<gemeente>.<domain>.<event>`,
 * `dlq.<service>.<gemeente>`, `verwerking.<gemeente>.<partner>`. Only features of
 * nats-server 2.9 are used (single filter_subject per consumer).
 */
export const STREAMS = {
  keten: 'KETEN',
  deadLetters: 'KETEN_DLQ',
  processingLog: 'VERWERKINGEN',
  alerts: 'KETEN_ALERTS',
} as const;

export interface StreamLimits {
  /** How long chain events stay in the stream (replay window), in days. */
  ketenMaxAgeDays: number;
  deadLetterMaxAgeDays: number;
  processingLogMaxAgeDays: number;
  /** Replicas: 1 on one server, 3 on a cluster. */
  replicas: number;
}

export const DEFAULT_LIMITS: StreamLimits = {
  ketenMaxAgeDays: 90,
  deadLetterMaxAgeDays: 90,
  processingLogMaxAgeDays: 365,
  replicas: 1,
};

const DAY_NS = nanos(24 * 60 * 60 * 1000);

/** An event is at most 64 KB (DESIGN §2); headers and envelope get some room on top. */
const MAX_MSG_SIZE = 80 * 1024;

export function streamConfigs(limits: StreamLimits = DEFAULT_LIMITS): Partial<StreamConfig>[] {
  return [
    {
      name: STREAMS.keten,
      subjects: ['keten.>'],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      max_age: limits.ketenMaxAgeDays * DAY_NS,
      // Nats-Msg-Id = event id: a resend within this window is dropped by the server.
      duplicate_window: nanos(10 * 60 * 1000),
      max_msg_size: MAX_MSG_SIZE,
      discard: DiscardPolicy.Old,
      num_replicas: limits.replicas,
    },
    {
      name: STREAMS.deadLetters,
      subjects: ['dlq.>'],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      max_age: limits.deadLetterMaxAgeDays * DAY_NS,
      duplicate_window: nanos(2 * 60 * 1000),
      max_msg_size: MAX_MSG_SIZE * 2,
      num_replicas: limits.replicas,
    },
    {
      name: STREAMS.processingLog,
      subjects: ['verwerking.>'],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      max_age: limits.processingLogMaxAgeDays * DAY_NS,
      duplicate_window: nanos(2 * 60 * 1000),
      num_replicas: limits.replicas,
    },
    {
      // Operator alerts (retries exhausted, ...): no personal data, kept for a month.
      name: STREAMS.alerts,
      subjects: ['alert.>'],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      max_age: 30 * DAY_NS,
      duplicate_window: nanos(2 * 60 * 1000),
      num_replicas: limits.replicas,
    },
  ];
}

/**
 * `url` may list several servers separated by commas (`NATS_URL` for a cluster); nats.js takes
 * a single string as one server, so the list is split here and the client fails over between
 * them.
 */
export async function connectNats(url: string, name: string): Promise<NatsConnection> {
  const servers = url
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  try {
    return await connect({
      servers,
      name,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
    });
  } catch (err) {
    throw new InfrastructureError(`cannot connect to NATS at ${url}`, { cause: err });
  }
}

/** Creates the stream, or updates it to `config` when it exists. Safe to run at every start. */
export async function ensureStream(
  jsm: JetStreamManager,
  config: Partial<StreamConfig> & { name: string },
): Promise<void> {
  try {
    const info = await jsm.streams.info(config.name);
    await jsm.streams.update(config.name, { ...info.config, ...config });
  } catch (err) {
    if (!isNotFound(err)) throw err;
    await jsm.streams.add(config);
  }
}

export async function provisionStreams(
  nc: NatsConnection,
  limits: StreamLimits = DEFAULT_LIMITS,
): Promise<JetStreamManager> {
  const jsm = await jetstreamManager(nc);
  for (const config of streamConfigs(limits)) {
    await ensureStream(jsm, config as Partial<StreamConfig> & { name: string });
  }
  return jsm;
}

export interface DurableSpec {
  stream: string;
  durable: string;
  filterSubject: string;
  /** Server-side cap on deliveries; runService dead-letters before it is reached. */
  maxDeliver: number;
  ackWaitMs: number;
  maxAckPending?: number;
}

/** Creates or updates a durable pull consumer with explicit acks. */
export async function ensureConsumer(jsm: JetStreamManager, spec: DurableSpec): Promise<void> {
  const config: Partial<ConsumerConfig> = {
    durable_name: spec.durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject: spec.filterSubject,
    max_deliver: spec.maxDeliver,
    ack_wait: nanos(spec.ackWaitMs),
    max_ack_pending: spec.maxAckPending ?? 1000,
  };
  try {
    await jsm.consumers.info(spec.stream, spec.durable);
    await jsm.consumers.update(spec.stream, spec.durable, config);
  } catch (err) {
    if (!isNotFound(err)) throw err;
    await jsm.consumers.add(spec.stream, config);
  }
}

function isNotFound(err: unknown): boolean {
  const e = err as { code?: unknown; api_error?: { err_code?: number }; message?: string };
  return (
    e?.api_error?.err_code === 10059 ||
    e?.api_error?.err_code === 10014 ||
    e?.code === '404' ||
    /not found/i.test(e?.message ?? '')
  );
}

/** Subject of a chain event: `keten.<gemeente>.<type without nl.inburgering.>`. */
export function subjectFor(gemeente: string, type: string): string {
  if (!/^gm[0-9]{4}$/.test(gemeente)) throw new Error(`not a gemeente code: ${gemeente}`);
  if (!type.startsWith('nl.inburgering.')) throw new Error(`not a chain event type: ${type}`);
  return `keten.${gemeente}.${type.slice('nl.inburgering.'.length)}`;
}

export interface PublishResult {
  seq: number;
  duplicate: boolean;
}

/**
 * Publishes a chain event and waits for the stream's ack. `Nats-Msg-Id` is the event id, so a
 * retried publish of the same event is recognised as a duplicate by the server.
 */
export async function publishEvent(
  js: JetStreamClient,
  event: { id: string; type: string; source: string; gemeente: string },
  body: Uint8Array | string,
  opts: { traceparent?: string } = {},
): Promise<PublishResult> {
  const h = natsHeaders();
  if (opts.traceparent) h.set('traceparent', opts.traceparent);
  h.set('ce-type', event.type);
  // Which adapter the event came from, so consumers can label flows without parsing the body.
  h.set('ce-source', event.source);
  try {
    const ack = await js.publish(subjectFor(event.gemeente, event.type), body, {
      msgID: event.id,
      headers: h,
    });
    return { seq: ack.seq, duplicate: ack.duplicate };
  } catch (err) {
    throw new InfrastructureError('publish to JetStream failed', { cause: err });
  }
}
