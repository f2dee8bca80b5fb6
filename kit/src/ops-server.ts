/**
 * The operations endpoint of a service: health for the orchestrator, metrics for Prometheus.
 * It listens apart from the partner-facing edge (default on loopback) so neither needs a partner
 * credential nor is reachable by partners.
 */

import Fastify from 'fastify';
import type { Registry } from 'prom-client';
import type { Logger } from './log.ts';

export type HealthCheck = () => Promise<boolean> | boolean;

export interface OpsServerOptions {
  service: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 picks a free port. */
  port: number;
  registry: Registry;
  checks?: Record<string, HealthCheck>;
  logger?: Logger;
  /** A check that has not answered by then counts as failed. Default 2000 ms. */
  checkTimeoutMs?: number;
}

export interface OpsServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

async function runCheck(
  name: string,
  check: HealthCheck,
  timeoutMs: number,
  logger?: Logger,
): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    // A hung dependency must make health say "degraded", not make the probe itself time out.
    return (await Promise.race([Promise.resolve().then(check), timeout])) === true;
  } catch (err) {
    logger?.warn({ err, check: name }, 'health check failed');
    return false;
  } finally {
    clearTimeout(timer);
  }
}

export async function startOpsServer(opts: OpsServerOptions): Promise<OpsServer> {
  const host = opts.host ?? '127.0.0.1';
  const checks = opts.checks ?? {};
  const checkTimeoutMs = opts.checkTimeoutMs ?? 2000;
  // Scrapes every few seconds would drown the log; the ops server logs only its failures.
  const app = Fastify({ logger: false });

  app.get('/health', async (_request, reply) => {
    const names = Object.keys(checks);
    const results = await Promise.all(
      names.map((name) => runCheck(name, checks[name] as HealthCheck, checkTimeoutMs, opts.logger)),
    );
    const outcome: Record<string, boolean> = {};
    names.forEach((name, i) => (outcome[name] = results[i] === true));
    const ok = results.every(Boolean);
    return reply
      .code(ok ? 200 : 503)
      .send({ status: ok ? 'ok' : 'degraded', service: opts.service, checks: outcome });
  });

  app.get('/metrics', async (_request, reply) => {
    const text = await opts.registry.metrics();
    return reply.header('content-type', opts.registry.contentType).send(text);
  });

  await app.listen({ host, port: opts.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : opts.port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  opts.logger?.info({ host, port }, 'ops server listening');

  return {
    url: `http://${urlHost}:${port}`,
    port,
    close: async () => {
      await app.close();
    },
  };
}
