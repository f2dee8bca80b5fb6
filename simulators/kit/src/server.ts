/**
 * The HTTP side every partner simulator shares: the Fastify instance, listening and closing,
 * the control routes (`/health`, `/_sim/faults`, `/_sim/stats`, `/_sim/reset`) and the hook
 * that applies injected faults to the partner API's requests.
 *
 * The control routes have no authentication, which is why a simulator binds to loopback by
 * default and warns when it does not.
 */

import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PROBLEM_BASE, problem } from '@ketenhub/kit';
import type { Violation } from '@ketenhub/kit';
import { FaultInputError, createFaultTable } from './faults.ts';
import type { Fault, FaultInput, FaultScope, FaultTable, FaultTableOptions } from './faults.ts';
import type { DeliveryStats } from './stats.ts';

/** Only `info` and `warn` are used, pino-style: `(fields, message)`. */
export interface SimulatorLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

export const SIMULATED_FAULT_TYPE = `${PROBLEM_BASE}simulated-fault`;

export interface SimAppOptions {
  /** Largest request body accepted; default 1 MiB. */
  bodyLimit?: number;
}

/** A Fastify instance as a simulator wants it: no request log, and close() does not wait. */
export function createSimApp(opts: SimAppOptions = {}): FastifyInstance {
  return Fastify({
    logger: false,
    bodyLimit: opts.bodyLimit ?? 1024 * 1024,
    // Otherwise close() would wait for the keep-alive connections the hub still holds open.
    forceCloseConnections: true,
  });
}

export interface ListenOptions {
  /** Default 127.0.0.1: the control routes are unauthenticated. */
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Names the simulator in the warning about a non-loopback bind. */
  name: string;
  logger?: SimulatorLogger;
}

export interface Listening {
  /** Base URL, e.g. `http://127.0.0.1:4310`; loopback for a wildcard bind. */
  url: string;
  port: number;
  /** Closes once; later calls return the same promise. */
  close(): Promise<void>;
}

export async function listenSim(app: FastifyInstance, opts: ListenOptions): Promise<Listening> {
  const host = opts.host ?? '127.0.0.1';
  await app.listen({ host, port: opts.port ?? 0 });
  const address = app.server.address() as AddressInfo;
  // A wildcard bind is reachable on loopback; a URL with 0.0.0.0 in it is not everywhere.
  const urlHost =
    address.address === '0.0.0.0'
      ? '127.0.0.1'
      : address.address === '::'
        ? '[::1]'
        : address.family === 'IPv6'
          ? `[${address.address}]`
          : address.address;
  if (!['127.0.0.1', '::1', 'localhost'].includes(host)) {
    opts.logger?.warn({ host }, `${opts.name}: /_sim is unauthenticated and not bound to loopback`);
  }
  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${address.port}`,
    port: address.port,
    close() {
      closing ??= app.close();
      return closing;
    },
  };
}

/** The control API and `/health`: never faulted. */
function isControl(path: string): boolean {
  return path === '/health' || path.startsWith('/_sim/');
}

function pathOf(request: FastifyRequest): string {
  return request.url.split('?')[0] ?? '';
}

export interface FaultHookOptions {
  /**
   * The gemeente and/or API a request is for, as the fault table's scopes name them; undefined
   * leaves the request alone (e.g. a route that is not the partner API). Runs after the body is
   * parsed, so it may read the body. Without it every request but the control API is subject
   * to faults, matched on method and path.
   */
  scopeOf?: (request: FastifyRequest) => Pick<FaultScope, 'gemeente' | 'api'> | undefined;
  /**
   * Called for each request a fault takes, before the fault acts: to count it, or to add
   * headers to a `status` answer.
   */
  onFault?: (fault: Fault, request: FastifyRequest, reply: FastifyReply) => void;
  /**
   * The body of a `status` fault that brings none: `problem` (default) a problem+json
   * `simulated-fault`, `none` an empty body (a partner whose spec documents none).
   */
  statusBody?: 'problem' | 'none';
  /** The header a `version` fault sets; default `API-Version`. */
  versionHeader?: string;
}

const faultsOf = new WeakMap<FastifyRequest, Fault>();

/** The fault that took this request, if any (a `version` or delaying `hang` lets it through). */
export function faultOf(request: FastifyRequest): Fault | undefined {
  return faultsOf.get(request);
}

/**
 * Applies the table's faults to every request of `app` except the control API. Hooks are
 * encapsulated by Fastify: install it inside a plugin to fault only that plugin's routes.
 */
export function installFaultHook(
  app: FastifyInstance,
  table: FaultTable,
  opts: FaultHookOptions = {},
): void {
  const hung = new Set<IncomingMessage>();
  const versionHeader = opts.versionHeader ?? 'API-Version';

  app.addHook('preHandler', async (request, reply) => {
    const path = pathOf(request);
    if (isControl(path)) return;
    const scope = opts.scopeOf ? opts.scopeOf(request) : {};
    if (scope === undefined) return;
    const fault = table.take({ method: request.method, path, ...scope });
    if (!fault) return;
    faultsOf.set(request, fault);
    opts.onFault?.(fault, request, reply);
    switch (fault.kind) {
      case 'version':
        return;
      case 'hang':
        if (fault.delayMs !== undefined) {
          await new Promise((r) => setTimeout(r, fault.delayMs));
          return;
        }
        reply.hijack();
        // Kept so close() can end it; the client is expected to time out on its own.
        hung.add(request.raw);
        request.raw.socket.once('close', () => hung.delete(request.raw));
        return reply;
      case 'reset':
        reply.hijack();
        request.raw.socket.resetAndDestroy();
        return reply;
      case 'status': {
        if (fault.retryAfterSeconds !== undefined) {
          reply.header('retry-after', String(fault.retryAfterSeconds));
        }
        reply.code(fault.status);
        if (fault.body !== undefined) {
          return typeof fault.body === 'string'
            ? reply.type('text/plain; charset=utf-8').send(fault.body)
            : reply.type('application/json').send(JSON.stringify(fault.body));
        }
        if (opts.statusBody === 'none') return reply.send();
        return reply.type('application/problem+json').send({
          type: SIMULATED_FAULT_TYPE,
          title: 'Simulated fault',
          status: fault.status,
          detail: `fault ${fault.id} injected in the simulator`,
        });
      }
    }
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const fault = faultsOf.get(request);
    if (fault?.kind === 'version') reply.header(versionHeader, fault.apiVersion);
    return payload;
  });

  app.addHook('preClose', async () => {
    for (const req of hung) req.socket.destroy();
    hung.clear();
  });
}

/** JSON from a raw body; an empty body is no value. */
function jsonOf(body: unknown): { value?: unknown; error?: Violation } {
  if (!Buffer.isBuffer(body)) return {};
  const text = body.toString('utf8');
  if (text.trim() === '') return {};
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (err) {
    return { error: { field: '(body)', rule: 'json', message: (err as Error).message } };
  }
}

function sendProblem(reply: FastifyReply, status: number, title: string, errors: Violation[]) {
  return reply
    .code(status)
    .type('application/problem+json')
    .send(problem(status, title, undefined, errors));
}

export interface SimRoutesOptions {
  /**
   * What `GET /_sim/stats` answers: the simulator's own counters and, for every simulator, the
   * DeliveryStats (`received`, `duplicates`) the demo counts a flow by.
   */
  stats: () => DeliveryStats;
  /** Forgets the simulator's state and counters; `POST /_sim/reset` clears the faults too. */
  reset: () => void;
  faults: FaultTable;
}

/**
 * `GET /health` → `{status: 'ok'}`; `GET /_sim/faults` → `{faults}`; `POST /_sim/faults` → 201
 * with the fault, 400 problem+json naming each bad field; `DELETE /_sim/faults` → 204;
 * `GET /_sim/stats`; `POST /_sim/reset` → 204.
 */
export function registerSimRoutes(app: FastifyInstance, opts: SimRoutesOptions): void {
  app.get('/health', async () => ({ status: 'ok' }));

  // In a plugin of their own, with their own body parser: whatever parsers the simulator gives
  // its partner API, a bad body here is the same problem+json naming the field.
  void app.register(async (control) => {
    control.removeAllContentTypeParsers();
    control.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) =>
      done(null, body),
    );

    control.get('/_sim/faults', async () => ({ faults: opts.faults.list() }));

    control.post('/_sim/faults', async (request, reply) => {
      const { value, error } = jsonOf(request.body);
      if (error) return sendProblem(reply, 400, 'Body is not valid JSON', [error]);
      try {
        return reply.code(201).send(opts.faults.add(value));
      } catch (err) {
        if (!(err instanceof FaultInputError)) throw err;
        return sendProblem(reply, 400, 'Invalid fault', err.violations);
      }
    });

    control.delete('/_sim/faults', async (_request, reply) => {
      opts.faults.clear();
      return reply.code(204).send();
    });

    control.get('/_sim/stats', async () => opts.stats());

    control.post('/_sim/reset', async (_request, reply) => {
      opts.reset();
      opts.faults.clear();
      return reply.code(204).send();
    });
  });
}

/** What every simulator offers in-process besides its own calls, as its routes do over HTTP. */
export interface SimControls {
  /** Adds a fault; throws a FaultInputError naming each bad field. */
  injectFault(fault: FaultInput): void;
  clearFaults(): void;
  /** Forgets the simulator's state, counters and faults, as `POST /_sim/reset` does. */
  reset(): void;
}

export function simControls(faults: FaultTable, reset: () => void): SimControls {
  return {
    injectFault(fault) {
      faults.add(fault);
    },
    clearFaults: faults.clear,
    reset() {
      reset();
      faults.clear();
    },
  };
}

export interface SimServerOptions extends FaultHookOptions {
  /** Names the simulator in log lines. */
  name: string;
  /** Largest request body accepted; default 1 MiB. */
  bodyLimit?: number;
  /** What the simulator's faults may be scoped by besides method and path. */
  scopes?: FaultTableOptions['scopes'];
  /** Clock for the faults' `durationMs`; injectable for tests. */
  now?: () => number;
  /** What `GET /_sim/stats` answers: its own counters with the DeliveryStats every simulator has. */
  stats: () => DeliveryStats;
  /** Forgets the simulator's state and counters (the faults are cleared besides). */
  reset: () => void;
}

export interface SimServer {
  /** Add the partner API's routes to it. */
  app: FastifyInstance;
  faults: FaultTable;
  /** For the simulator's in-process interface. */
  controls: SimControls;
  listen(opts?: { host?: string; port?: number; logger?: SimulatorLogger }): Promise<Listening>;
}

/**
 * A simulator's server as every simulator starts it: the Fastify instance with the control
 * routes and the fault hook installed, its fault table, the in-process controls, and `listen`.
 */
export function createSimServer(opts: SimServerOptions): SimServer {
  const { name, bodyLimit, scopes, now, stats, reset, ...hook } = opts;
  const app = createSimApp(bodyLimit === undefined ? {} : { bodyLimit });
  const faults = createFaultTable({
    ...(scopes === undefined ? {} : { scopes }),
    ...(now === undefined ? {} : { now }),
  });
  registerSimRoutes(app, { stats, reset, faults });
  installFaultHook(app, faults, hook);
  return {
    app,
    faults,
    controls: simControls(faults, reset),
    listen: (listen = {}) => listenSim(app, { ...listen, name }),
  };
}
