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
import { policies, retentionDays } from '@ketenhub/contracts';
import { ConfigError, InfrastructureError, PayloadTooLargeError } from './errors.ts';

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

/** The processing register's retention on one server; hub-config's streamLimits may shorten it. */
const registerRetention = retentionDays(policies().register);
export const DEFAULT_LIMITS: StreamLimits = {
  ketenMaxAgeDays: registerRetention.keten,
  deadLetterMaxAgeDays: registerRetention.keten,
  processingLogMaxAgeDays: registerRetention.processingLog,
  replicas: 1,
};

const DAY_NS = nanos(24 * 60 * 60 * 1000);

/** An event is at most 64 KB; headers and envelope get some room on top. */
const MAX_MSG_SIZE = 80 * 1024;
/** The largest event body publishEvent takes: the stream's limit less room for the headers. */
export const MAX_EVENT_BYTES = MAX_MSG_SIZE - 2 * 1024;

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
 * Credentials of one NATS user (deploy/nats/permissions.conf). Empty or absent = connect without
 * authentication, as the local development server expects.
 */
export interface NatsAuth {
  user?: string;
  password?: string;
}

/**
 * Reply subjects of a user's requests start with `_INBOX_<user>.` instead of the shared
 * `_INBOX.`: the permissions let each user subscribe to its own inbox only, so no service can
 * read the answers (stream messages, dead letters) meant for another.
 */
export function inboxPrefixFor(user: string): string {
  return `_INBOX_${user}`;
}

/**
 * `url` may list several servers separated by commas (`NATS_URL` for a cluster); nats.js takes
 * a single string as one server, so the list is split here and the client fails over between
 * them. Services pass the user of their config (`natsAuth(config)`); without `auth` the user
 * comes from `NATS_USER` / `NATS_PASSWORD`, so the operator commands (`npm run dlq`, ...) run
 * as whichever user the operator sets, like `NATS_URL`.
 */
export async function connectNats(
  url: string,
  name: string,
  auth: NatsAuth = { user: process.env.NATS_USER, password: process.env.NATS_PASSWORD },
): Promise<NatsConnection> {
  const servers = url
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const user = auth.user ?? '';
  const password = auth.password ?? '';
  if (user === '' && password !== '') {
    throw new ConfigError('nats.password is set but nats.user is empty', {
      field: 'nats.user',
      rule: 'required',
    });
  }
  // The user name becomes a subject token (the inbox prefix).
  if (user !== '' && !/^[A-Za-z0-9_-]+$/.test(user)) {
    throw new ConfigError(`nats.user ${JSON.stringify(user)} may hold only A-Z a-z 0-9 _ -`, {
      field: 'nats.user',
      rule: 'pattern',
    });
  }
  try {
    return await connect({
      servers,
      name,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      // Otherwise the client builds two Error objects (stack traces) for every request, so for
      // every JetStream publish: about a tenth of a delivery service's CPU (bench/README.md).
      // Failures are wrapped in InfrastructureError with their cause where they happen anyway.
      noAsyncTraces: true,
      ...(user === '' ? {} : { user, pass: password, inboxPrefix: inboxPrefixFor(user) }),
    });
  } catch (err) {
    // The message names the server and the user, never the password.
    const who = user === '' ? '' : ` as ${user}`;
    throw new InfrastructureError(`cannot connect to NATS at ${url}${who}`, { cause: err });
  }
}

/** Names of the fields of `wanted` whose value differs in `current`. */
function changedFields(current: object, wanted: object): string[] {
  const now = current as Record<string, unknown>;
  return Object.entries(wanted)
    .filter(([key, value]) => JSON.stringify(now[key]) !== JSON.stringify(value))
    .map(([key]) => key);
}

/** nats.js rejects a refused request with a RequestError whose cause names the violation. */
function isPermissionError(err: unknown): boolean {
  for (let e = err as { name?: unknown; cause?: unknown } | undefined; e; e = e.cause as never) {
    if (e.name === 'PermissionViolationError') return true;
  }
  return false;
}

/**
 * Creates the stream, or updates it to `config` when it differs. Safe to run at every start. A
 * stream that already matches is only read, so a service whose NATS user may read but not
 * change streams (deploy/nats/permissions.conf) starts once the provisioner has run.
 */
export async function ensureStream(
  jsm: JetStreamManager,
  config: Partial<StreamConfig> & { name: string },
): Promise<void> {
  let step = 'read';
  try {
    try {
      const info = await jsm.streams.info(config.name);
      if (changedFields(info.config, config).length === 0) return;
      step = 'update';
      await jsm.streams.update(config.name, { ...info.config, ...config });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      step = 'create';
      await jsm.streams.add(config);
    }
  } catch (err) {
    if (!isPermissionError(err)) throw err;
    throw new ConfigError(
      `stream ${config.name}: this NATS user may not ${step} it; ` +
        'run `npm run provision` with the provisioner user first (deploy/nats/permissions.conf)',
      { cause: err },
    );
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

/**
 * Creates or updates a durable pull consumer with explicit acks; one that already matches is only
 * read.
 */
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
    const info = await jsm.consumers.info(spec.stream, spec.durable);
    if (changedFields(info.config, config).length === 0) return;
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

/** NATS header naming the partner (policy name) an event came from. */
export const PARTNER_HEADER = 'Ketenhub-Partner';

/** Flow names use the short partner names: `gemeente-kvs` is `kvs`. */
export function flowName(from: string | undefined | null, to: string): string {
  const short = (p: string) => (p === 'gemeente-kvs' ? 'kvs' : p);
  return `${short(from || 'onbekend')}>${short(to)}`;
}

/** Subject of a chain event: `keten.<gemeente>.<type without nl.inburgering.>`. */
export function subjectFor(gemeente: string, type: string): string {
  if (!/^gm[0-9]{4}$/.test(gemeente)) throw new Error(`not a gemeente code: ${gemeente}`);
  if (!type.startsWith('nl.inburgering.')) throw new Error(`not a chain event type: ${type}`);
  return `keten.${gemeente}.${type.slice('nl.inburgering.'.length)}`;
}

/**
 * The event's id in the namespace of the partner that produced it and of its gemeente: the
 * `Nats-Msg-Id` of its publish, and the root of every id the hub derives from it towards a
 * partner (DUO's berichtId, the Kredietbank's and the schools' idempotency keys). A partner
 * chooses its own event ids (a KVS) or can predict the hub's (COA's are UUID v5 of the
 * koppelingId), so an id alone must never be able to stand for another partner's or another
 * gemeente's event: the same id from gm0796's KVS and from COA for gm0797 are two events.
 */
export function scopedEventId(partner: string, gemeente: string, id: string): string {
  return `${partner}:${gemeente}:${id}`;
}

/** The scoped id of the chain event in a KETEN message (its partner from the header). */
export function scopedEventIdOf(
  m: { headers?: { get(name: string): string } | undefined },
  event: { gemeente: string; id: string },
): string {
  return scopedEventId(m.headers?.get(PARTNER_HEADER) || 'onbekend', event.gemeente, event.id);
}

export interface PublishResult {
  seq: number;
  duplicate: boolean;
}

/** The server refused the message for its size (the stream's max_msg_size, JetStream 10054). */
function isTooLarge(err: unknown): boolean {
  for (let e = err as TooLargeShape | undefined; e; e = e.cause as TooLargeShape | undefined) {
    if (e.api_error?.err_code === 10054) return true;
    if (typeof e.message === 'string' && /exceeds maximum|maximum payload/i.test(e.message)) {
      return true;
    }
  }
  return false;
}
type TooLargeShape = { message?: unknown; cause?: unknown; api_error?: { err_code?: number } };

/**
 * Publishes a chain event and waits for the stream's ack. `Nats-Msg-Id` is the event's scoped
 * id (`scopedEventId` of `partner`, gemeente and id), so a retried publish of the same event is
 * recognised as a duplicate by the server, and no other partner's or gemeente's event can be.
 * An event larger than the stream stores is a PayloadTooLargeError (413, never retried).
 */
export async function publishEvent(
  js: JetStreamClient,
  event: { id: string; type: string; source: string; gemeente: string },
  body: Uint8Array | string,
  opts: { traceparent?: string; partner: string },
): Promise<PublishResult> {
  const size = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
  if (size > MAX_EVENT_BYTES) {
    throw new PayloadTooLargeError(
      `the event is ${size} bytes; the hub stores events of at most ${MAX_EVENT_BYTES} bytes: (body) (max event size)`,
      { field: '(body)', rule: 'max event size' },
    );
  }
  const h = natsHeaders();
  if (opts.traceparent) h.set('traceparent', opts.traceparent);
  h.set('ce-type', event.type);
  h.set('ce-source', event.source);
  // Which partner the event came from (policy name), so consumers can label flows
  // (`coa>kvs`, `kvs>duo`) and scope ids without parsing the body.
  h.set(PARTNER_HEADER, opts.partner);
  try {
    const ack = await js.publish(subjectFor(event.gemeente, event.type), body, {
      msgID: scopedEventId(opts.partner, event.gemeente, event.id),
      headers: h,
    });
    return { seq: ack.seq, duplicate: ack.duplicate };
  } catch (err) {
    if (isTooLarge(err)) {
      throw new PayloadTooLargeError(
        'the event is larger than the stream stores: (body) (max event size)',
        {
          cause: err,
          field: '(body)',
          rule: 'max event size',
        },
      );
    }
    throw new InfrastructureError('publish to JetStream failed', { cause: err });
  }
}
