import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createHttpEdge, createLogger } from '@ketenhub/kit';
import { registerAdminRoutes } from './routes.ts';

/**
 * What the admin API decides before it touches NATS: who may call, what a valid request is,
 * and which gemeente a bound administrator may ask for. The NATS side is in
 * test/e2e/admin-api.int.test.ts.
 */
const logger = createLogger('test', { level: 'silent' });
const KEYS = { all: 'admin-all-key-0123456789', gm0796: 'admin-gm0796-key-0123456789' };
let app: FastifyInstance;

/** Fails the test when a route reaches NATS although it should have refused first. */
const untouchable = new Proxy(
  {},
  {
    get(_target, prop) {
      if (prop === 'then') return undefined;
      throw new Error(`NATS touched: ${String(prop)}`);
    },
  },
);

beforeAll(async () => {
  app = createHttpEdge({
    service: 'admin',
    logger,
    credentials: [
      { id: 'beheer', kind: 'admin', apiKey: KEYS.all },
      { id: 'fg-gm0796', kind: 'admin', apiKey: KEYS.gm0796, gemeenten: ['gm0796'] },
      { id: 'coa', kind: 'coa', apiKey: 'coa-key-0123456789abcdef' },
    ],
  });
  registerAdminRoutes(app, {
    js: untouchable as never,
    jsm: untouchable as never,
    policySet: untouchable as never,
    pseudonymKeys: ['k'.repeat(32)],
    uren: untouchable as never,
    served: ['gm0796', 'gm0797'],
    logger,
  });
  await app.ready();
});
afterAll(async () => {
  await app?.close();
});

async function call(method: string, url: string, key?: string, body?: unknown) {
  const res = await app.inject({
    method: method as 'GET',
    url,
    headers: {
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
  });
  return { status: res.statusCode, type: res.headers['content-type'], body: res.json() };
}

describe('admin API: authentication and validation', () => {
  it('answers 401 without a key and 403 to another kind of credential', async () => {
    for (const [method, url] of [
      ['GET', '/api/flows'],
      ['GET', '/api/alerts'],
      ['GET', '/api/dead-letters'],
      ['GET', '/api/dead-letters/1'],
    ]) {
      const anonymous = await call(method!, url!);
      expect(anonymous.status).toBe(401);
      expect(anonymous.type).toMatch(/application\/problem\+json/);
      const coa = await call(method!, url!, 'coa-key-0123456789abcdef');
      expect(coa.status).toBe(403);
      expect(coa.body.errors).toEqual([expect.objectContaining({ rule: 'credential-scope' })]);
    }
    expect((await call('POST', '/api/inzage', undefined, { bsn: '999990019' })).status).toBe(401);
  });

  it('refuses a bad BSN naming the field and the rule, without echoing the number', async () => {
    for (const bsn of ['111222334', '12345678', '000000000']) {
      const res = await call('POST', '/api/inzage', KEYS.all, { bsn });
      expect(res.status).toBe(400);
      expect(res.body.errors).toEqual([
        expect.objectContaining({ field: 'bsn', rule: 'elfproef' }),
      ]);
      // (000000000 is named by its rule, 'must not be 000000000'.)
      if (bsn !== '000000000') expect(JSON.stringify(res.body)).not.toContain(bsn);
    }
    const none = await call('POST', '/api/inzage', KEYS.all, {});
    expect(none.body.errors).toEqual([expect.objectContaining({ field: 'bsn', rule: 'required' })]);
    const v = await call('POST', '/api/inzage', KEYS.all, { bsn: '999990019', vnummer: 'x1' });
    expect(v.body.errors).toEqual([expect.objectContaining({ field: 'vnummer', rule: 'vnummer' })]);
    const extra = await call('POST', '/api/inzage', KEYS.all, { bsn: '999990019', naam: 'x' });
    expect(extra.body.errors).toEqual([
      expect.objectContaining({ field: 'naam', rule: 'additionalProperties' }),
    ]);
  });

  it('keeps a gemeente-bound administrator to its gemeente', async () => {
    const inzage = await call('POST', '/api/inzage', KEYS.gm0796, {
      bsn: '999990019',
      gemeente: 'gm0797',
    });
    expect(inzage.status).toBe(403);
    expect(inzage.body.errors).toEqual([
      expect.objectContaining({ field: 'gemeente', rule: 'credential-scope' }),
    ]);
    expect((await call('GET', '/api/dead-letters?gemeente=gm0797', KEYS.gm0796)).status).toBe(403);
    const replay = await call('POST', '/api/dead-letters/replay', KEYS.gm0796, {
      gemeente: 'gm0797',
    });
    expect(replay.status).toBe(403);
  });

  it('asks what to replay, and refuses seqs together with a filter', async () => {
    const nothing = await call('POST', '/api/dead-letters/replay', KEYS.all, {});
    expect(nothing.status).toBe(400);
    expect(nothing.body.errors).toEqual([
      expect.objectContaining({ field: 'seqs', rule: 'required' }),
    ]);
    const both = await call('POST', '/api/dead-letters/replay', KEYS.all, {
      seqs: [1],
      all: true,
    });
    expect(both.body.errors).toEqual([
      expect.objectContaining({ field: 'seqs', rule: 'exclusive' }),
    ]);
    const bad = await call('POST', '/api/dead-letters/replay', KEYS.all, { seqs: [0] });
    expect(bad.status).toBe(400);
    expect((await call('GET', '/api/dead-letters/abc', KEYS.all)).status).toBe(400);
    expect((await call('GET', '/api/dead-letters?gemeente=0797', KEYS.all)).status).toBe(400);
  });
});
