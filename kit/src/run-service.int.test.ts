import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { DeadLetter } from './dead-letter.ts';
import { PartnerUnavailableError, ValidationError } from './errors.ts';
import { openPersonRegister, tenantMismatch } from './person-register.ts';
import { startLocalNats, type LocalNats } from './local-nats.ts';
import { createLogger } from './log.ts';
import { createMetrics } from './metrics.ts';
import { STREAMS, connectNats, provisionStreams } from './nats.ts';
import { runService, type RunningService } from './run-service.ts';

let server: LocalNats;
let nc: NatsConnection;
let js: JetStreamClient;
const logger = createLogger('run-service-test', { level: 'silent' });

beforeAll(async () => {
  server = await startLocalNats();
  nc = await connectNats(server.url, 'test');
  await provisionStreams(nc);
  js = jetstream(nc);
});
afterAll(async () => {
  await nc?.drain();
  await server?.stop();
});

async function deadLetters(subjectFilter: string): Promise<DeadLetter[]> {
  const out: DeadLetter[] = [];
  const consumer = await js.consumers.get(STREAMS.deadLetters, {
    filter_subjects: subjectFilter,
  });
  const info = await consumer.info();
  if (info.num_pending === 0) return out;
  const batch = await consumer.fetch({ max_messages: info.num_pending, expires: 2000 });
  for await (const m of batch) {
    out.push(m.json<DeadLetter>());
    if (out.length === info.num_pending) break;
  }
  return out;
}

async function until(check: () => boolean | Promise<boolean>, ms = 15_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return false;
}

function start(
  name: string,
  handler: Parameters<typeof runService>[0]['handler'],
  backoff = { delaysMs: [300], maxAttempts: 3 },
) {
  return runService({
    service: name,
    partner: 'test-partner',
    flow: 'test>partner',
    nc,
    consumer: {
      stream: STREAMS.keten,
      durable: name,
      filterSubject: `keten.gm0001.${name}.>`,
      ackWaitMs: 5000,
    },
    backoff,
    handler,
    describe: () => ({ gemeente: 'gm0001', eventId: `${name}-event`, schemaId: 'urn:test' }),
    logger,
    metrics: createMetrics(name),
  });
}

describe('runService with a real JetStream', () => {
  it('retries a retryable failure with the backoff delay, then acks once', async () => {
    const attempts: number[] = [];
    const svc: RunningService = await start('retry', async () => {
      attempts.push(Date.now());
      if (attempts.length < 3) throw new PartnerUnavailableError('partner down');
      return 'delivered';
    });
    await js.publish('keten.gm0001.retry.x', '{}', { msgID: 'retry-1' });
    expect(await until(() => attempts.length === 3)).toBe(true);
    // nak with a delay, never a bare nak: each retry waits the scheduled 300 ms at least.
    expect(attempts[1]! - attempts[0]!).toBeGreaterThanOrEqual(280);
    expect(attempts[2]! - attempts[1]!).toBeGreaterThanOrEqual(280);
    await new Promise((r) => setTimeout(r, 800));
    expect(attempts).toHaveLength(3);
    await svc.stop();
  });

  it('dead-letters a permanent failure at once with the original, reason and context', async () => {
    let calls = 0;
    const svc = await start('permanent', async () => {
      calls++;
      throw new ValidationError('bad event', [
        { field: 'data.x', rule: 'required', message: 'is required' },
      ]);
    });
    await js.publish('keten.gm0001.permanent.x', '{"hello":"world"}', { msgID: 'permanent-1' });
    expect(await until(async () => (await deadLetters('dlq.permanent.>')).length === 1)).toBe(true);
    const [letter] = await deadLetters('dlq.permanent.>');
    expect(letter).toMatchObject({
      service: 'permanent',
      partner: 'test-partner',
      gemeente: 'gm0001',
      eventId: 'permanent-event',
      schemaId: 'urn:test',
      errorName: 'ValidationError',
      reason: 'bad event',
      attempts: 1,
      original: {
        stream: STREAMS.keten,
        subject: 'keten.gm0001.permanent.x',
        body: '{"hello":"world"}',
      },
    });
    expect(letter!.history).toHaveLength(1);
    // Terminated at once, not left pending until its ack wait and then delivered again.
    const jsm = await jetstreamManager(nc);
    expect(
      await until(
        async () => (await jsm.consumers.info(STREAMS.keten, 'permanent')).num_ack_pending === 0,
        2000,
      ),
    ).toBe(true);
    await new Promise((r) => setTimeout(r, 500));
    expect(calls).toBe(1);
    await svc.stop();
  });

  it('dead-letters a retryable failure once maxAttempts is reached, with the attempt history', async () => {
    let calls = 0;
    const svc = await start(
      'exhausted',
      async () => {
        calls++;
        throw new PartnerUnavailableError('still down');
      },
      { delaysMs: [50], maxAttempts: 3 },
    );
    await js.publish('keten.gm0001.exhausted.x', '{}', { msgID: 'exhausted-1' });
    expect(await until(async () => (await deadLetters('dlq.exhausted.>')).length === 1)).toBe(true);
    const [letter] = await deadLetters('dlq.exhausted.>');
    expect(letter!.reason).toMatch(/^retries exhausted after 3 attempts/);
    expect(letter!.attempts).toBe(3);
    expect(letter!.history.map((h) => h.error)).toEqual([
      'PartnerUnavailableError: still down',
      'PartnerUnavailableError: still down',
      'PartnerUnavailableError: still down',
    ]);
    await new Promise((r) => setTimeout(r, 300));
    expect(calls).toBe(3);
    await svc.stop();
  });
});

describe('runService and the gate (partner breaker)', () => {
  it('pulls nothing while the gate holds, one message while probing, then everything', async () => {
    let state: 'pass' | 'probe' | 'hold' = 'hold';
    let wake: () => void = () => undefined;
    const gate = {
      state: () => state,
      holdMs: () => 200,
      changed: (maxMs: number) =>
        new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, maxMs);
        }),
    };
    const seen: string[] = [];
    let concurrent = 0;
    let maxConcurrentWhileProbing = 0;
    const svc = await runService({
      service: 'gated',
      partner: 'test-partner',
      flow: 'test>partner',
      nc,
      consumer: {
        stream: STREAMS.keten,
        durable: 'gated',
        filterSubject: 'keten.gm0001.gated.>',
        ackWaitMs: 5000,
      },
      backoff: { delaysMs: [100], maxAttempts: 5 },
      gate,
      handler: async (m) => {
        concurrent++;
        if (state === 'probe')
          maxConcurrentWhileProbing = Math.max(maxConcurrentWhileProbing, concurrent);
        seen.push(m.string());
        await new Promise((r) => setTimeout(r, 50));
        concurrent--;
        return 'delivered';
      },
      logger,
    });
    for (let i = 0; i < 10; i++)
      await js.publish('keten.gm0001.gated.x', `m${i}`, { msgID: `gated-${i}` });

    await new Promise((r) => setTimeout(r, 1500));
    expect(seen).toEqual([]);
    const info = await (await js.consumers.get(STREAMS.keten, 'gated')).info();
    expect(info.num_pending + info.num_ack_pending).toBe(10);

    state = 'probe';
    wake();
    expect(await until(() => seen.length >= 3)).toBe(true);
    expect(maxConcurrentWhileProbing).toBe(1);

    state = 'pass';
    expect(await until(() => seen.length === 10)).toBe(true);
    expect(new Set(seen).size).toBe(10);
    await svc.stop();
  });
});

describe('alerts', () => {
  it('raises an alert and counts it when retries are exhausted', async () => {
    const metrics = createMetrics('alerting');
    const svc = await runService({
      service: 'alerting',
      partner: 'test-partner',
      flow: 'test>partner',
      nc,
      consumer: {
        stream: STREAMS.keten,
        durable: 'alerting',
        filterSubject: 'keten.gm0001.alerting.>',
        ackWaitMs: 5000,
      },
      backoff: { delaysMs: [20], maxAttempts: 2 },
      handler: async () => {
        throw new PartnerUnavailableError('down');
      },
      describe: () => ({ gemeente: 'gm0001', eventId: 'alert-event' }),
      logger,
      metrics,
    });
    await js.publish('keten.gm0001.alerting.x', '{}', { msgID: 'alerting-1' });
    const alerts = await js.consumers.get(STREAMS.alerts, {
      filter_subjects: 'alert.retries-exhausted.alerting',
    });
    const m = await alerts.next({ expires: 10_000 });
    expect(m?.json()).toMatchObject({
      kind: 'retries-exhausted',
      service: 'alerting',
      partner: 'test-partner',
      gemeente: 'gm0001',
      eventId: 'alert-event',
      attempts: 2,
    });
    expect(
      await metrics.registry.getSingleMetricAsString('ketenhub_retries_exhausted_total'),
    ).toMatch(/ketenhub_retries_exhausted_total\{[^}]*partner="test-partner"[^}]*\} 1/);
    await svc.stop();
  });

  it('dead-letters a tenant mismatch at once and raises the alert tenant-mismatch', async () => {
    const svc = await runService({
      service: 'tenant',
      partner: 'test-partner',
      flow: 'test>partner',
      nc,
      consumer: {
        stream: STREAMS.keten,
        durable: 'tenant',
        filterSubject: 'keten.gm0002.tenant.>',
        ackWaitMs: 5000,
      },
      backoff: { delaysMs: [20], maxAttempts: 5 },
      handler: async () => {
        throw tenantMismatch();
      },
      describe: () => ({ gemeente: 'gm0002', eventId: 'tenant-event' }),
      logger,
    });
    await js.publish('keten.gm0002.tenant.x', '{}', { msgID: 'tenant-1' });
    const alerts = await js.consumers.get(STREAMS.alerts, {
      filter_subjects: 'alert.tenant-mismatch.tenant',
    });
    const m = await alerts.next({ expires: 10_000 });
    expect(m?.json()).toMatchObject({
      kind: 'tenant-mismatch',
      service: 'tenant',
      gemeente: 'gm0002',
      eventId: 'tenant-event',
      attempts: 1,
      reason: expect.stringContaining('person of gemeente'),
    });
    const letters = await js.consumers.get(STREAMS.deadLetters, {
      filter_subjects: 'dlq.tenant.gm0002',
    });
    expect((await letters.next({ expires: 10_000 }))?.json()).toMatchObject({
      errorName: 'TenantMismatchError',
      eventId: 'tenant-event',
    });
    await svc.stop();
  });

  it('refuses, before the handler, a message about a person of another gemeente', async () => {
    const persons = await openPersonRegister(nc, { ttlDays: 1 });
    const own = `ih-${'3'.repeat(32)}`;
    const other = `ih-${'4'.repeat(32)}`;
    await persons.bind(own, 'gm0003', 'coa');
    await persons.bind(other, 'gm0004', 'coa');
    const handled: string[] = [];
    const svc = await runService({
      service: 'guarded',
      partner: 'test-partner',
      flow: 'test>partner',
      nc,
      consumer: {
        stream: STREAMS.keten,
        durable: 'guarded',
        filterSubject: 'keten.gm0003.guarded.>',
        ackWaitMs: 5000,
      },
      backoff: { delaysMs: [20], maxAttempts: 5 },
      handler: async (m) => {
        handled.push(m.json<{ id: string }>().id);
        return 'delivered';
      },
      persons,
      logger,
    });
    const publish = (id: string, inburgeraarId: string) =>
      js.publish(
        'keten.gm0003.guarded.x',
        JSON.stringify({ id, gemeente: 'gm0003', data: { inburgeraarId } }),
        { msgID: `guarded-${id}` },
      );
    await publish('mine', own);
    await publish('theirs', other);
    await publish('unknown', `ih-${'5'.repeat(32)}`);
    const alerts = await js.consumers.get(STREAMS.alerts, {
      filter_subjects: 'alert.tenant-mismatch.guarded',
    });
    expect((await alerts.next({ expires: 10_000 }))?.json()).toMatchObject({
      kind: 'tenant-mismatch',
      gemeente: 'gm0003',
      eventId: 'theirs',
    });
    const letters = await js.consumers.get(STREAMS.deadLetters, {
      filter_subjects: 'dlq.guarded.gm0003',
    });
    expect((await letters.next({ expires: 10_000 }))?.json()).toMatchObject({
      errorName: 'TenantMismatchError',
      eventId: 'theirs',
    });
    // Its own person and one the register does not know are the handler's to decide.
    await vi.waitFor(() => expect(handled.sort()).toEqual(['mine', 'unknown']), {
      timeout: 10_000,
    });
    await svc.stop();
  });
});
