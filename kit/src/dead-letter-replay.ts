/**
 * The operator side of dead letters: listing, showing (without the body) and replaying them, for
 * `npm run dlq` and the admin API. Services only write dead letters (`dead-letter.ts`, in the
 * runtime entry) and never load this file.
 */
import { headers as natsHeaders } from '@nats-io/transport-node';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { REPLAY_FOR_HEADER, type DeadLetter } from './dead-letter.ts';
import { STREAMS } from './nats.ts';

const REPLAY_OF_HEADER = 'Ketenhub-Replay-Of';

/** A dead letter as stored: `seq` is its sequence in KETEN_DLQ, the handle for show/replay. */
export interface StoredDeadLetter extends DeadLetter {
  seq: number;
}

export interface DeadLetterFilter {
  service?: string;
  partner?: string;
  gemeente?: string;
  eventType?: string;
}

function matches(letter: DeadLetter, f: DeadLetterFilter): boolean {
  return (
    (!f.service || letter.service === f.service) &&
    (!f.partner || letter.partner === f.partner) &&
    (!f.gemeente || letter.gemeente === f.gemeente) &&
    (!f.eventType || letter.eventType === f.eventType)
  );
}

/** Every dead letter still waiting, oldest first. */
export async function listDeadLetters(
  js: JetStreamClient,
  jsm: JetStreamManager,
  filter: DeadLetterFilter = {},
): Promise<StoredDeadLetter[]> {
  // Service and gemeente are subject tokens: the server reads only the matching letters, so a
  // listing for one gemeente does not pull every other gemeente's bodies into this process.
  const subject = `dlq.${filter.service || '*'}.${filter.gemeente || '*'}`;
  const info = await jsm.streams.info(STREAMS.deadLetters, { subjects_filter: subject });
  const total = Object.values(info.state.subjects ?? {}).reduce((a, b) => a + b, 0);
  const out: StoredDeadLetter[] = [];
  if (total === 0) return out;
  const consumer = await js.consumers.get(STREAMS.deadLetters, { filter_subjects: subject });
  try {
    let seen = 0;
    while (seen < total) {
      const batch = await consumer.fetch({
        max_messages: Math.min(1000, total - seen),
        expires: 2000,
      });
      let got = 0;
      for await (const m of batch) {
        got++;
        seen++;
        const letter = m.json<DeadLetter>();
        if (matches(letter, filter)) out.push({ ...letter, seq: m.seq });
      }
      if (got === 0) break;
    }
  } finally {
    await consumer.delete().catch(() => undefined);
  }
  return out;
}

/** A dead letter as operators see it: {@link publicDeadLetter}. */
export type PublicDeadLetter = Omit<StoredDeadLetter, 'original'> & {
  original: Pick<DeadLetter['original'], 'stream' | 'seq' | 'subject'>;
};

/**
 * A dead letter without the original body and headers: those hold personal data and are for
 * replay, not for a screen, a listing or an API answer (`npm run dlq`, the admin API).
 */
export function publicDeadLetter(letter: StoredDeadLetter): PublicDeadLetter {
  const { original, ...rest } = letter;
  return {
    ...rest,
    original: { stream: original.stream, seq: original.seq, subject: original.subject },
  };
}

export async function getDeadLetter(
  jsm: JetStreamManager,
  seq: number,
): Promise<StoredDeadLetter | undefined> {
  try {
    const sm = await jsm.streams.getMessage(STREAMS.deadLetters, { seq });
    if (!sm) return undefined;
    return { ...sm.json<DeadLetter>(), seq };
  } catch (err) {
    if (/no message found|not found/i.test((err as Error).message)) return undefined;
    throw err;
  }
}

/**
 * Puts a dead letter back on its original subject for the service that gave up on it, then
 * removes the letter. The body is untouched, so the event id (and the partner's idempotency)
 * stays; the publish id is new, so JetStream's duplicate window does not swallow the replay.
 */
export async function replayDeadLetter(
  js: JetStreamClient,
  jsm: JetStreamManager,
  letter: StoredDeadLetter,
): Promise<void> {
  const h = natsHeaders();
  for (const [key, values] of Object.entries(letter.original.headers)) {
    if (/^nats-/i.test(key)) continue;
    for (const v of values) h.append(key, v);
  }
  h.set(REPLAY_FOR_HEADER, letter.service);
  h.set(REPLAY_OF_HEADER, String(letter.seq));
  await js.publish(letter.original.subject, letter.original.body, {
    msgID: `replay:${STREAMS.deadLetters}:${letter.seq}`,
    headers: h,
  });
  await jsm.streams.deleteMessage(STREAMS.deadLetters, letter.seq, false);
}
