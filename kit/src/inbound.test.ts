import { describe, expect, it } from 'vitest';
import { InfrastructureError } from './errors.ts';
import { buildEvent, type Event } from './events.ts';
import { createHttpEdge } from './http-edge.ts';
import { nameBasedUuid } from './ids.ts';
import { inboundRoute, type InboundRoute } from './inbound.ts';
import { createLogger } from './log.ts';
import type { AcceptOptions } from './publisher.ts';

/**
 * The inbound recipe's order: every refusal comes at its own step, with the status, field and
 * rule a partner can act on, and nothing is published unless every step passed.
 */
const logger = createLogger('inbound-test', { level: 'silent' });
const KVS_KEY = 'kvs-key-0123456789abcdef0123';
const COA_KEY = 'coa-key-0123456789abcdef0123';
const ID = `ih-${'a'.repeat(32)}`;
const PIP_INGETROKKEN = 'nl.inburgering.pip.ingetrokken';
const TRACE = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

interface Withdrawal {
  inburgeraarId: string;
  gemeenteCode: string;
  pipId: string;
  traceparent?: string;
}

function setup(overrides: Partial<InboundRoute<Withdrawal>> = {}, failPublish = false) {
  const published: { event: Event<unknown>; traceparent: string; opts?: AcceptOptions }[] = [];
  const steps: string[] = [];
  const app = createHttpEdge({
    service: 'inbound-test',
    logger,
    credentials: [
      { id: 'kvs-gm0797', kind: 'gemeente-kvs', apiKey: KVS_KEY, gemeenten: ['gm0797'] },
      { id: 'coa', kind: 'coa', apiKey: COA_KEY },
    ],
  });
  inboundRoute<Withdrawal>(
    app,
    {
      url: '/v1/intrekkingen',
      kind: 'gemeente-kvs',
      what: 'intrekking',
      produces: [PIP_INGETROKKEN],
      schema: 'https://contracts.ketenhub.nl/events/pip.ingetrokken.schema.json',
      check: (body) => {
        steps.push('check');
        return body.pipId === 'PIP-0'
          ? [{ field: 'pipId', rule: 'not zero', message: 'PIP-0 is no PIP' }]
          : [];
      },
      translate: (body) => {
        steps.push('translate');
        const { traceparent: _t, ...data } = body;
        return buildEvent({
          id: nameBasedUuid(`intrekking-${body.pipId}`),
          type: PIP_INGETROKKEN,
          source: 'urn:nld:oin:00000001234567890000:systeem:test',
          gemeente: body.gemeenteCode,
          data,
        });
      },
      traceparentOf: (body) => body.traceparent,
      accept: (event) => ({ id: { field: 'pipId', value: (event.data as Withdrawal).pipId } }),
      after: async () => void steps.push('after'),
      ...overrides,
    },
    {
      logger,
      async publish(event, traceparent, opts) {
        steps.push('publish');
        if (failPublish) throw new InfrastructureError('stream unavailable');
        published.push({ event, traceparent, ...(opts ? { opts } : {}) });
      },
    },
  );
  const post = (body: unknown, key = KVS_KEY, headers: Record<string, string> = {}) =>
    app.inject({
      method: 'POST',
      url: '/v1/intrekkingen',
      headers: { authorization: `Bearer ${key}`, ...headers },
      payload: body as object,
    });
  return { app, post, published, steps };
}

const body = (over: Partial<Withdrawal> = {}): Withdrawal => ({
  inburgeraarId: ID,
  gemeenteCode: 'gm0797',
  pipId: 'PIP-1',
  ...over,
});

describe('inboundRoute', () => {
  it('publishes a good message once, with its receipt, trace and 202 answer', async () => {
    const { post, published, steps } = setup();
    const res = await post(body(), KVS_KEY, { traceparent: TRACE });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({
      eventId: nameBasedUuid('intrekking-PIP-1'),
      type: PIP_INGETROKKEN,
    });
    expect(steps).toEqual(['check', 'translate', 'publish', 'after']);
    expect(published).toHaveLength(1);
    expect(published[0]!.opts).toEqual({ id: { field: 'pipId', value: 'PIP-1' } });
    // A child span of the caller's trace.
    expect(published[0]!.traceparent.split('-')[1]).toBe(TRACE.split('-')[1]);
    expect(published[0]!.traceparent).not.toBe(TRACE);
  });

  it('takes the trace from the body when the header has none', async () => {
    const { post, published } = setup();
    expect((await post(body({ traceparent: TRACE }))).statusCode).toBe(400);
    // The schema refuses the extra field; a route whose body may carry it takes it.
    const lenient = setup({ schema: () => [] });
    expect((await lenient.post(body({ traceparent: TRACE }))).statusCode).toBe(202);
    expect(lenient.published[0]!.traceparent.split('-')[1]).toBe(TRACE.split('-')[1]);
    expect(published).toHaveLength(0);
  });

  it('refuses another kind of partner with 403 before reading the body', async () => {
    const { post, published, steps } = setup();
    const res = await post({ not: 'even valid' }, COA_KEY);
    expect(res.statusCode).toBe(403);
    expect(steps).toEqual([]);
    expect(published).toHaveLength(0);
  });

  it('refuses a type outside the policy with 403 before reading the body', async () => {
    const { post, steps } = setup({ produces: ['nl.inburgering.inburgeraar.gekoppeld'] });
    const res = await post({ not: 'even valid' });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ errors: [{ field: 'type', rule: 'policy levert' }] });
    expect(steps).toEqual([]);
  });

  it('answers a schema violation 400 naming field and rule, without running the other checks', async () => {
    const { post, published, steps } = setup();
    const res = await post(body({ pipId: 'no spaces allowed' }));
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      errors: [{ field: 'pipId', rule: 'pattern ^[A-Za-z0-9-]{1,40}$' }],
    });
    expect(steps).toEqual([]);
    expect(published).toHaveLength(0);
  });

  it('answers a rule the schema cannot hold 400, before translating', async () => {
    const { post, steps } = setup();
    const res = await post(body({ pipId: 'PIP-0' }));
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ errors: [{ field: 'pipId', rule: 'not zero' }] });
    expect(steps).toEqual(['check']);
  });

  it('refuses another gemeente than the credential is bound to with 403 credential-scope', async () => {
    const { post, published } = setup({ gemeenteField: 'gemeenteCode' });
    const res = await post(body({ gemeenteCode: 'gm0796' }));
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({
      errors: [{ field: 'gemeenteCode', rule: 'credential-scope' }],
    });
    expect(published).toHaveLength(0);
  });

  it('checks the translated event: its type against the policy, one gemeente, its contract', async () => {
    const otherType = setup({
      produces: [],
      translate: () =>
        buildEvent({
          id: nameBasedUuid('x'),
          type: 'nl.inburgering.inburgeraar.gekoppeld',
          source: 'urn:nld:oin:00000001234567890000:systeem:test',
          gemeente: 'gm0797',
          data: {},
        }),
    });
    expect((await otherType.post(body())).statusCode).toBe(403);

    const twoGemeenten = setup({
      translate: (b) =>
        buildEvent({
          id: nameBasedUuid('x'),
          type: PIP_INGETROKKEN,
          source: 'urn:nld:oin:00000001234567890000:systeem:test',
          gemeente: 'gm0797',
          data: { ...b, gemeenteCode: 'gm0796' },
        }),
    });
    const res = await twoGemeenten.post(body());
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      errors: [{ field: 'data.gemeenteCode', rule: 'equals gemeente' }],
    });

    const broken = setup({
      translate: (b) =>
        buildEvent({
          id: nameBasedUuid('x'),
          type: PIP_INGETROKKEN,
          source: 'urn:nld:oin:00000001234567890000:systeem:test',
          gemeente: 'gm0797',
          data: { ...b, extra: 1 },
        }),
    });
    expect((await broken.post(body())).statusCode).toBe(400);
    expect(twoGemeenten.published.concat(broken.published, otherType.published)).toHaveLength(0);
  });

  it('answers a message handled before as the first time, without publishing it again', async () => {
    const { post, published, steps } = setup({
      handled: async () => true,
      answer: { status: 201 },
    });
    const res = await post(body());
    expect(res.statusCode).toBe(201);
    expect(res.body).toBe('');
    expect(steps).toEqual(['check']);
    expect(published).toHaveLength(0);
  });

  it('answers 503 when the stream does not store the event, and does not run `after`', async () => {
    const { post, steps } = setup({}, true);
    const res = await post(body());
    expect(res.statusCode).toBe(503);
    expect(steps).toEqual(['check', 'translate', 'publish']);
  });
});
