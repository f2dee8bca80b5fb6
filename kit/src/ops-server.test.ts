import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics } from './metrics.ts';
import { startOpsServer, type OpsServer } from './ops-server.ts';

describe('startOpsServer', () => {
  let server: OpsServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('answers health ok when every check passes', async () => {
    const { registry } = createMetrics('svc');
    server = await startOpsServer({
      service: 'svc',
      port: 0,
      registry,
      checks: { nats: () => true, store: async () => true },
    });
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    const res = await fetch(`${server.url}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      status: 'ok',
      service: 'svc',
      checks: { nats: true, store: true },
    });
  });

  it('answers 503 degraded when a check fails, throws or hangs', async () => {
    const { registry } = createMetrics('svc');
    server = await startOpsServer({
      service: 'svc',
      port: 0,
      registry,
      checkTimeoutMs: 50,
      checks: {
        nats: () => true,
        store: async () => false,
        partner: () => {
          throw new Error('boom');
        },
        slow: () => new Promise<boolean>(() => {}),
      },
    });
    const res = await fetch(`${server.url}/health`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({
      status: 'degraded',
      service: 'svc',
      checks: { nats: true, store: false, partner: false, slow: false },
    });
  });

  it('serves metrics in the Prometheus text format', async () => {
    const metrics = createMetrics('svc');
    metrics.messages.inc({ flow: 'f', partner: 'p', outcome: 'delivered' });
    server = await startOpsServer({ service: 'svc', port: 0, registry: metrics.registry });
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    expect(await res.text()).toContain(
      'ketenhub_messages_total{flow="f",partner="p",outcome="delivered",service="svc"} 1',
    );
  });
});
