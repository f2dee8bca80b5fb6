import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '@ketenhub/kit';
import { KREDIETBANK_PARTNER } from './handlers.ts';
import { registerWebhookRoutes } from './webhooks.ts';

/**
 * The webhook handler on its own, on a bare Fastify without the hub edge's body checks (which
 * refuse much of this before a handler runs): the handler must answer every body with a
 * ValidationError naming the field and the rule, whatever reaches it.
 */
let app: FastifyInstance;

const notReached = () => {
  throw new Error('a bad webhook must be refused before the traject store or the stream');
};

beforeEach(async () => {
  app = Fastify();
  app.addHook('onRequest', async (request) => {
    request.principal = { id: KREDIETBANK_PARTNER, kind: KREDIETBANK_PARTNER };
  });
  app.setErrorHandler((err: Error & { status?: number; violations?: unknown }, _req, reply) => {
    void reply.code(err.status ?? 500).send({ name: err.name, violations: err.violations });
  });
  registerWebhookRoutes(app, {
    gemeenten: new Set(['gm0796']),
    trajecten: { get: notReached, ofPerson: notReached, put: notReached },
    publish: notReached,
    source: 'urn:test',
    logger: createLogger('test', { level: 'silent' }),
  });
  await app.ready();
});
afterEach(async () => {
  await app.close();
});

let deep = '{"iban":"NL00"}';
for (let i = 0; i < 50_000; i++) deep = `{"a":${deep}}`;
const webhook = (gegevens: string) =>
  '{"id":"4a1e6b4c-8f2e-4b7a-9a53-0c6f3d1e2b10","type":"traject.gestart",' +
  '"referentie":"OZ-1","gemeentecode":"0796","dossiernummer":"KB-1",' +
  `"tijdstip":"2026-11-23T10:00:00Z","gegevens":${gegevens}}`;

describe('POST /v1/webhooks, the handler alone', () => {
  it.each([
    ['JSON null', 'null'],
    ['a JSON string', '"webhook"'],
    ['a JSON number', '42'],
    ['a JSON array', '[{"id":"x"}]'],
    ['an object without gegevens', '{"id":"x"}'],
    ['gegevens null', webhook('null')],
    ['gegevens nested 50,000 levels deep', webhook(deep)],
    [
      'a betaling whose gegevens nest 50,000 levels deep',
      webhook(deep).replace('traject.gestart', 'betaling.uitgevoerd'),
    ],
  ])('refuses %s with a ValidationError naming the field and the rule', async (_what, body) => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/webhooks',
      headers: { 'content-type': 'application/json' },
      payload: body,
    });
    expect(res.json()).toMatchObject({ name: 'ValidationError' });
    expect(res.statusCode).toBe(400);
    const { violations } = res.json() as { violations: { field: string; rule: string }[] };
    expect(violations.length).toBeGreaterThan(0);
    for (const v of violations)
      expect(v).toMatchObject({ field: expect.any(String), rule: expect.any(String) });
  });
});
