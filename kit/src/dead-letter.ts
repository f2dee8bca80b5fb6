import { headers as natsHeaders } from '@nats-io/transport-node';
import type { JetStreamClient, JsMsg } from '@nats-io/jetstream';
import { InfrastructureError } from './errors.ts';

// The record and writing it, which every consumer needs (run-service.ts). Listing, showing and
// replaying are for operators: dead-letter-replay.ts, in the operations entry.

/**
 * A message the hub gave up on: the original (subject, headers, body, stream sequence), why,
 * for which partner, against which schema, and the attempts made. It stays in KETEN_DLQ until
 * an operator replays it: a replay publishes the original body again (same event id, so the
 * partner's idempotency holds), addressed to the service that gave up, and removes the letter.
 */
export interface DeadLetter {
  service: string;
  partner: string;
  gemeente?: string;
  reason: string;
  errorName: string;
  schemaId?: string;
  eventId?: string;
  eventType?: string;
  attempts: number;
  history: { at: string; error: string }[];
  deadLetteredAt: string;
  original: {
    stream: string;
    seq: number;
    subject: string;
    headers: Record<string, string[]>;
    body: string;
  };
}

/** Header on a replayed message naming the one service that should handle it. */
export const REPLAY_FOR_HEADER = 'Ketenhub-Replay-For';

export function dlqSubject(service: string, gemeente?: string): string {
  return `dlq.${service}.${gemeente ?? 'none'}`;
}

function headerRecord(m: JsMsg): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  if (!m.headers) return out;
  for (const [k, v] of m.headers) out[k] = v;
  return out;
}

export async function writeDeadLetter(
  js: JetStreamClient,
  m: JsMsg,
  record: Omit<DeadLetter, 'original' | 'deadLetteredAt' | 'attempts'>,
): Promise<void> {
  const letter: DeadLetter = {
    ...record,
    attempts: m.info.deliveryCount,
    deadLetteredAt: new Date().toISOString(),
    original: {
      stream: m.info.stream,
      seq: m.seq,
      subject: m.subject,
      headers: headerRecord(m),
      body: m.string(),
    },
  };
  const h = natsHeaders();
  h.set('dlq-reason', record.errorName);
  try {
    // One dead letter per original message and service, even if this write is retried.
    await js.publish(dlqSubject(record.service, record.gemeente), JSON.stringify(letter), {
      msgID: `${m.info.stream}:${m.seq}:${record.service}`,
      headers: h,
    });
  } catch (err) {
    throw new InfrastructureError('dead-letter write failed', { cause: err });
  }
}
