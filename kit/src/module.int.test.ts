import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from './api-key-hash.ts';
import { ConfigError } from './errors.ts';
import { buildEvent } from './events.ts';
import type { HubConfig } from './hub-config.ts';
import { getFreePort, startLocalNats, type LocalNats } from './local-nats.ts';
import { createLogger } from './log.ts';
import { runModules, type PartnerModule } from './module.ts';
import { traceparentFor } from './trace.ts';

/**
 * The one runner of every service, against a real nats-server: configuration before any
 * connection, modules together in one process, a failed start undoing what started before it,
 * and a stop that closes edges before consumers.
 */
let server: LocalNats;
const logger = createLogger('module-test', { level: 'silent' });
const KEY = 'module-test-key-0123456789abcdef';

beforeAll(async () => {
  server = await startLocalNats();
});
afterAll(async () => {
  await server?.stop();
});

function config(natsUrl: string, services: Partial<HubConfig['services']> = {}): HubConfig {
  return {
    hub: { oin: '00000001234567890000', pseudonymKey: randomBytes(32).toString('hex') },
    nats: { url: natsUrl },
    gemeenten: [{ code: 'gm0797', naam: 'Helmond' }],
    partners: { coa: { credential: { apiKeyHash: hashApiKey(KEY) } } },
    services: {
      coa: { port: 0, opsPort: 0 },
      'gemeente-kvs': { opsPort: 0, retry: { delaysMs: [50], maxAttempts: 3 } },
      ...services,
    } as HubConfig['services'],
  } as HubConfig;
}

/** An inbound module: `POST /v1/ping {gemeente, n}` publishes a pip.ingetrokken as `coa`. */
function inbound(started: string[] = []): PartnerModule {
  return {
    id: 'coa',
    kind: 'inbound',
    service: 'coa',
    description: 'test inbound',
    stores: [],
    edge: { credentials: () => [{ id: 'coa', kind: 'coa', apiKeyHash: hashApiKey(KEY) }] },
    async start(rt) {
      started.push('inbound');
      const publisher = await rt.edgePublisher();
      return {
        routes(edge) {
          edge.post('/v1/ping', async (request, reply) => {
            const { gemeente, n } = request.body as { gemeente: string; n: number };
            const event = buildEvent({
              id: `ping-${n}`,
              type: 'nl.inburgering.pip.ingetrokken',
              source: rt.source,
              gemeente,
              data: { inburgeraarId: `ih-${'1'.repeat(32)}`, gemeenteCode: gemeente },
            });
            await publisher.accept(event, traceparentFor(request.headers));
            return reply.code(202).send({ id: event.id });
          });
        },
      };
    },
  };
}

/** An outbound module: every pip.ingetrokken's id into `seen`. */
function outbound(seen: string[], released: string[] = []): PartnerModule {
  const consumer = {
    durable: `module-test-${randomBytes(4).toString('hex')}`,
    filter: 'keten.*.pip.ingetrokken',
  };
  return {
    id: 'gemeente-kvs',
    kind: 'outbound',
    service: 'gemeente-kvs',
    description: 'test outbound',
    stores: [],
    consumers: () => [consumer],
    async start() {
      return {
        consumers: [
          {
            ...consumer,
            flow: 'coa>kvs',
            async handler(m) {
              seen.push(m.json<{ id: string }>().id);
              return 'delivered';
            },
          },
        ],
        stop: () => void released.push('outbound'),
      };
    },
  };
}

async function until(check: () => boolean, ms = 10_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end && !check()) await new Promise((r) => setTimeout(r, 25));
  return check();
}

const ping = (url: string, n: number, key = KEY) =>
  fetch(`${url}/v1/ping`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ gemeente: 'gm0797', n }),
  });

describe('runModules', () => {
  it('runs an inbound and an outbound module in one process, with one ops server', async () => {
    const seen: string[] = [];
    const released: string[] = [];
    const running = await runModules(config(server.url), [inbound(), outbound(seen, released)], {
      logger,
    });
    try {
      expect(Object.keys(running.urls)).toEqual(['coa']);
      expect(running.routes).toEqual({ coa: ['POST /v1/ping'] });
      expect(running.url).toBe(running.urls.coa);
      expect((await ping(running.url!, 1)).status).toBe(202);
      expect((await ping(running.url!, 2, 'wrong-key-0123456789abcdef')).status).toBe(401);
      expect(await until(() => seen.includes('ping-1'))).toBe(true);
      expect(seen).not.toContain('ping-2');
      const health = await fetch(`${running.opsUrl}/health`);
      expect(health.status).toBe(200);
    } finally {
      await running.stop();
    }
    expect(released).toEqual(['outbound']);
    await expect(ping(running.url!, 3)).rejects.toThrow();
  });

  it('reads configuration and credentials before it connects: a bad one fails at once', async () => {
    // Nothing listens on this port: a connection attempt would fail differently, and later.
    const nowhere = `nats://127.0.0.1:${await getFreePort()}`;
    const bad: PartnerModule = {
      ...inbound(),
      edge: {
        credentials: () => {
          throw new ConfigError('partners.coa: no key', {
            field: 'partners.coa',
            rule: 'required',
          });
        },
      },
    };
    await expect(runModules(config(nowhere), [bad], { logger })).rejects.toMatchObject({
      name: 'ConfigError',
      field: 'partners.coa',
    });
    const withoutBlock = config(nowhere);
    delete (withoutBlock.services as Partial<HubConfig['services']>).coa;
    await expect(runModules(withoutBlock, [inbound()], { logger })).rejects.toMatchObject({
      name: 'ConfigError',
      field: 'services.coa',
      rule: 'required',
    });
  });

  it('stops what it started when a later module fails to start', async () => {
    const port = await getFreePort();
    const failing: PartnerModule = {
      ...outbound([]),
      start: async () => {
        throw new Error('store unavailable');
      },
    };
    await expect(
      runModules(config(server.url, { coa: { port, opsPort: 0 } }), [inbound(), failing], {
        logger,
      }),
    ).rejects.toThrow('store unavailable');
    // The first module's edge was listening on `port`; it is closed again.
    await expect(ping(`http://127.0.0.1:${port}`, 1)).rejects.toThrow();
  });

  it('refuses to run a consumer the module does not declare (its NATS user would not allow it)', async () => {
    const port = await getFreePort();
    const undeclared: PartnerModule = { ...outbound([]), consumers: () => [] };
    await expect(
      runModules(config(server.url, { coa: { port, opsPort: 0 } }), [inbound(), undeclared], {
        logger,
      }),
    ).rejects.toThrow(
      /starts consumers \[module-test-[0-9a-f]+ keten\.\*\.pip\.ingetrokken\] but declares \[\]/,
    );
    await expect(ping(`http://127.0.0.1:${port}`, 1)).rejects.toThrow();
  });

  it('serves an optional edge only with a port and a credential', async () => {
    const optional: PartnerModule = {
      ...inbound(),
      id: 'gemeente-kvs',
      service: 'gemeente-kvs',
      edge: { optional: true, credentials: () => [] },
    };
    const running = await runModules(config(server.url), [optional], { logger });
    try {
      expect(running.urls).toEqual({});
      expect(running.url).toBeUndefined();
    } finally {
      await running.stop();
    }
  });
});
