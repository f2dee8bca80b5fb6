import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  jetstream,
  jetstreamManager,
  type JetStreamClient,
  type JetStreamManager,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { getDeadLetter, listDeadLetters, replayDeadLetter } from './dead-letter-replay.ts';
import { ValidationError } from './errors.ts';
import { startLocalNats, type LocalNats } from './local-nats.ts';
import { createLogger } from './log.ts';
import { STREAMS, connectNats, provisionStreams } from './nats.ts';
import { runService } from './run-service.ts';

let server: LocalNats;
let nc: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;
const logger = createLogger('dlq-test', { level: 'silent' });

beforeAll(async () => {
  server = await startLocalNats();
  nc = await connectNats(server.url, 'test');
  await provisionStreams(nc);
  js = jetstream(nc);
  jsm = await jetstreamManager(nc);
});
afterAll(async () => {
  await nc?.drain();
  await server?.stop();
});

async function until(check: () => boolean | Promise<boolean>, ms = 15_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return false;
}

describe('dead letters: list, show, replay', () => {
  it('replays a dead letter to the service that gave up on it, with the same body, and removes it', async () => {
    const refuse = new Set(['e1', 'e2']);
    const handled: string[] = [];
    const otherHandled: string[] = [];
    const partnerService = await runService({
      service: 'partner-a',
      partner: 'partner-a',
      flow: 'test>a',
      nc,
      consumer: {
        stream: STREAMS.keten,
        durable: 'partner-a',
        filterSubject: 'keten.gm0002.>',
        ackWaitMs: 5000,
      },
      backoff: { delaysMs: [50], maxAttempts: 3 },
      handler: async (m) => {
        const { id } = m.json<{ id: string }>();
        if (refuse.has(id))
          throw new ValidationError('partner refused', [{ field: 'x', rule: 'y', message: 'z' }]);
        handled.push(id);
        return 'delivered';
      },
      describe: (m) => ({
        gemeente: 'gm0002',
        eventId: m.json<{ id: string }>().id,
        eventType: 'test.type',
      }),
      logger,
    });
    // A second consumer of the same subjects: a replay is not for it.
    const other = await runService({
      service: 'partner-b',
      partner: 'partner-b',
      flow: 'test>b',
      nc,
      consumer: {
        stream: STREAMS.keten,
        durable: 'partner-b',
        filterSubject: 'keten.gm0002.>',
        ackWaitMs: 5000,
      },
      backoff: { delaysMs: [50], maxAttempts: 3 },
      handler: async (m) => {
        otherHandled.push(m.json<{ id: string }>().id);
        return 'delivered';
      },
      logger,
    });
    for (const id of ['e1', 'e2', 'e3']) {
      await js.publish('keten.gm0002.test.x', JSON.stringify({ id }), { msgID: id });
    }
    expect(await until(async () => (await listDeadLetters(js, jsm)).length === 2)).toBe(true);
    expect(await until(() => otherHandled.length === 3)).toBe(true);

    const letters = await listDeadLetters(js, jsm, { partner: 'partner-a' });
    expect(letters.map((l) => l.eventId).sort()).toEqual(['e1', 'e2']);
    expect(await listDeadLetters(js, jsm, { partner: 'nobody' })).toEqual([]);
    const shown = await getDeadLetter(jsm, letters[0]!.seq);
    expect(shown).toMatchObject({
      seq: letters[0]!.seq,
      service: 'partner-a',
      reason: 'partner refused',
    });

    refuse.clear(); // the partner fixed its side
    for (const letter of letters) await replayDeadLetter(js, jsm, letter);
    expect(await until(() => handled.length === 3)).toBe(true);
    expect(handled.sort()).toEqual(['e1', 'e2', 'e3']);
    expect(await listDeadLetters(js, jsm)).toEqual([]);
    expect(await getDeadLetter(jsm, letters[0]!.seq)).toBeUndefined();
    await new Promise((r) => setTimeout(r, 500));
    expect(otherHandled.sort()).toEqual(['e1', 'e2', 'e3']);

    await partnerService.stop();
    await other.stop();
  });
});
