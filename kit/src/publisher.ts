import { createHash } from 'node:crypto';
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { ConflictError } from './errors.ts';
import type { Event } from './events.ts';
import { streamLimits, type HubConfig } from './hub-config.ts';
import { openJsonBucket, type JsonBucket } from './json-bucket.ts';
import { publishEvent } from './nats.ts';

/**
 * What an inbound edge accepted, per partner and gemeente: the event id and a digest of its
 * content. A partner that sends an id again gets the same answer when the content is the same,
 * and a 409 when it differs, instead of a 202 after which the new content was silently dropped
 * (JetStream's duplicate window only knows the id, and only for minutes).
 */
export const RECEIPT_BUCKET = 'ONTVANGSTEN';

interface Receipt {
  eventId: string;
  digest: string;
}

/** JSON with object keys sorted, so the same content sent with keys in another order is equal. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('base64url');

export interface AcceptOptions {
  /** Field and value of the partner's own id, for the 409 (`koppelingId`, `K-1`); default the event id. */
  id?: { field: string; value: string };
  /**
   * What counts as the content; default the type, gemeente and data. COA leaves out `bron`
   * (the channel and message id): the same koppeling pushed as JSON and exported again in the
   * nightly CSV is the same koppeling.
   */
  content?: unknown;
}

export interface Publisher {
  /** Publishes an event the hub made (a consumer's outcome, a translation) and waits for the ack. */
  publish(event: Event<unknown>, traceparent: string): Promise<void>;
  /**
   * Publishes an event an edge accepted from the partner, once per id: the same id with other
   * content is a ConflictError (409) naming the id, and nothing is published.
   */
  accept(event: Event<unknown>, traceparent: string, opts?: AcceptOptions): Promise<void>;
}

/** What an edge accepted (RECEIPT_BUCKET); kept as long as the KETEN stream keeps events. */
export type Receipts = JsonBucket<Receipt>;

export function openReceipts(
  nc: NatsConnection,
  opts: { ttlDays: number; replicas?: number },
): Promise<Receipts> {
  return openJsonBucket<Receipt>(nc, {
    bucket: RECEIPT_BUCKET,
    what: 'receipt store',
    description:
      'per partner and gemeente: the ids an edge accepted, with a digest of their content',
    ...opts,
  });
}

/**
 * The one way a service publishes chain events: always as its partner (the `Ketenhub-Partner`
 * header and the scope of the Nats-Msg-Id), and what its edge accepts with the receipt check
 * (a service with an edge passes `receipts`).
 */
export function createPublisher(opts: {
  js: JetStreamClient;
  partner: string;
  receipts?: Receipts;
}): Publisher {
  const { js, partner, receipts } = opts;
  const publish = async (event: Event<unknown>, traceparent: string) => {
    await publishEvent(js, event, JSON.stringify(event), { traceparent, partner });
  };
  return {
    publish,
    async accept(event, traceparent, accept = {}) {
      if (!receipts) throw new Error(`publisher of ${partner}: accept needs receipts`);
      // The key holds no partner-chosen text: a digest of the id, under the partner and gemeente.
      const key = `${partner}.${event.gemeente}.${sha256(event.id)}`;
      const digest = sha256(
        canonical(
          accept.content ?? { type: event.type, gemeente: event.gemeente, data: event.data },
        ),
      );
      // One KV write for an id seen the first time (the common case): the receipt is created
      // before the publish, which also settles two requests racing with the same id.
      const receipt = { eventId: event.id, digest };
      if (!(await receipts.create(key, receipt))) {
        const before = await receipts.get(key);
        if (before && before.digest !== digest) {
          const id = accept.id ?? { field: 'id', value: event.id };
          throw new ConflictError(
            `${id.field} ${id.value} was accepted before with other content; send a change under a new id`,
            { field: id.field, rule: 'same content for the same id' },
          );
        }
        // The same content again: published again (JetStream drops it within its window, the
        // receiving partner recognises the id after it), so the partner gets the same answer.
        await publish(event, traceparent);
        return;
      }
      try {
        await publish(event, traceparent);
      } catch (err) {
        // Nothing stored: the receipt goes, so the partner's retry, with any content, is new.
        // (A crash right here would leave it: a retry with the same content is then stored as
        // usual, one with other content is refused although nothing was stored.)
        await receipts.delete(key).catch(() => undefined);
        throw err;
      }
    },
  };
}

/**
 * The publisher of a service with a partner edge: as `partner`, with receipts kept as long as
 * the KETEN stream keeps events (the configuration's stream limits).
 */
export async function openEdgePublisher(
  nc: NatsConnection,
  config: HubConfig,
  partner: string,
): Promise<Publisher> {
  const limits = streamLimits(config);
  return createPublisher({
    js: jetstream(nc),
    partner,
    receipts: await openReceipts(nc, {
      ttlDays: limits.ketenMaxAgeDays,
      replicas: limits.replicas,
    }),
  });
}
