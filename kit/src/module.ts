/**
 * Partner modules and the one runner that starts them (docs/adr/0013-partner-modules.md).
 *
 * A module declares one partner: its id and kind, the `services.<name>` block it runs under,
 * the schema of its own settings in `partners.<id>`, its partner API (credentials, CSV or not), its KV stores, and a `start` that returns its
 * routes and consumers. `runModules` does everything else the same way for every partner:
 * config and credentials read before anything connects, one NATS connection, stream
 * provisioning, one HTTP edge per module (TLS and body limits from its block), the consumers
 * with the block's retry, ack wait and concurrency, each held by its breaker gate and checked
 * against the person register, one ops server, and a drain in the right order.
 */
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { FastifyInstance } from 'fastify';
import { DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.ts';
import { ConfigError } from './errors.ts';
import { sourceUrn } from './events.ts';
import { createAjv, toViolations } from '@ketenhub/contracts';
import {
  edgeOptionsFromConfig,
  loadHubConfig,
  natsAuth,
  partnerBlock,
  streamLimits,
  type HubConfig,
} from './hub-config.ts';
import { createHttpEdge, recordRoutes, type PartnerCredential } from './http-edge.ts';
import { IDENTITY_BUCKET, openIdentityStore, type IdentityStore } from './identity-store.ts';
import { stopOnSignals } from './lifecycle.ts';
import { createLogger, type Logger } from './log.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { STREAMS, connectNats, provisionStreams } from './nats.ts';
import { PERSON_BUCKET, openPersonRegister, type PersonRegister } from './person-register.ts';
import { createPseudonymizer, type Pseudonymizer } from './pseudonym.ts';
import { createProjector, type Projector } from './policy.ts';
import { createProcessingLog, type ProcessingLog } from './processing-log.ts';
import { RECEIPT_BUCKET, createPublisher, openEdgePublisher, type Publisher } from './publisher.ts';
import { startOpsServer } from './ops-server.ts';
import {
  createPartnerClient,
  type PartnerClient,
  type PartnerClientOptions,
} from './partner-client.ts';
import { runConsumers, type ConsumerSpec, type RunningService } from './run-service.ts';
import { UREN_LEDGER_BUCKET } from './uren-ledger.ts';

/**
 * How long the hub keeps who a person is and which gemeente they belong to: the
 * inburgeringstermijn (3 years) plus extensions, with margin.
 */
export const PERSON_TTL_DAYS = 5 * 366;

/** A `services.<name>` block: one of the schema's own, or a module's generic block. */
export type ServiceName = string;

/** What every `services.<name>` block may hold; which of it applies depends on the module. */
export interface ServiceSettings {
  host?: string;
  port?: number;
  opsPort?: number;
  concurrency?: number;
  ackWaitMs?: number;
  retry?: BackoffPolicy;
  breaker?: {
    resetTimeoutMs?: number;
    volumeThreshold?: number;
    errorThresholdPercentage?: number;
  };
}

/**
 * - `inbound`: the partner calls the hub (routes only);
 * - `outbound`: the hub calls the partner (consumers only);
 * - `both`;
 * - `operations`: the hub's own API for operators, no partner.
 */
export type ModuleKind = 'inbound' | 'outbound' | 'both' | 'operations';

/** What the runner gives a module's `start`: shared per process, opened once. */
export interface ModuleRuntime {
  config: HubConfig;
  /** The module's `services.<name>` block. */
  settings: ServiceSettings;
  nc: NatsConnection;
  js: JetStreamClient;
  logger: Logger;
  metrics: Metrics;
  /** Replicas of every KV bucket and stream (config `streams.replicas`). */
  replicas: number;
  /** The CloudEvents `source` of events the hub makes for this partner. */
  source: string;
  /** The outbound field allow-list of this partner's policy. */
  projector: Projector;
  processingLog: ProcessingLog;
  pseudonymizer: Pseudonymizer;
  /** Publishes an event the hub makes, as this partner (no receipt: its id is the hub's). */
  publish: Publisher['publish'];
  /** The publisher of this partner's edge: every message accepted once per id (receipts). */
  edgePublisher(): Promise<Publisher>;
  /** Pseudonym → BSN (and the person register), for modules that address partners by BSN. */
  identities(): Promise<IdentityStore>;
  /** Pseudonym → gemeente, for modules that act on persons but need no BSN. */
  persons(): Promise<PersonRegister>;
  /**
   * A client of one partner endpoint (a gemeente's KVS, a school) with its own breaker from the
   * module's block, labelled for logs and metrics; shut down by the runner on stop.
   */
  partnerClient(
    endpoint: { id: string; url: string; token?: string; timeoutMs?: number },
    opts?: Pick<PartnerClientOptions, 'treatAsSuccess' | 'credentialStatuses'>,
  ): PartnerClient;
}

/** What a started module hands the runner. */
export interface ModuleParts {
  /** Its partner API's routes, registered on an edge of its own (only when it is served). */
  routes?(edge: FastifyInstance): void | Promise<void>;
  /** Its durable consumers on the KETEN stream. */
  consumers?: ConsumerSpec[];
  /**
   * The tenant check of every consumer except those that bind persons: a message about another
   * gemeente's person is refused before its handler (docs/adr/0012-tenant-binding.md).
   */
  persons?: PersonRegister;
  /** Releases what the module holds (partner clients, timers), after its consumers stopped. */
  stop?(): void | Promise<void>;
}

/** A KV bucket a module uses, and how: what its NATS user may do there follows from it. */
export interface StoreDecl {
  bucket: string;
  /** `read`: direct gets only; `write`: gets and puts. */
  access: 'read' | 'write';
  /** Only keys under the module's own partner id (`<bucket>.<partner>.…`), as the receipts. */
  ownKeys?: boolean;
}

/** The receipts of a module with a partner edge (kit `openEdgePublisher`). */
export const RECEIPTS: StoreDecl = { bucket: RECEIPT_BUCKET, access: 'write', ownKeys: true };
/** Pseudonym → BSN, with the person register it keeps in step. */
export const IDENTITIES: StoreDecl = { bucket: IDENTITY_BUCKET, access: 'write' };
/** Pseudonym → gemeente, for a module that binds persons (the identity feed). */
export const PERSONS: StoreDecl = { bucket: PERSON_BUCKET, access: 'write' };
/** Pseudonym → gemeente, for a module that only checks. */
export const PERSONS_READ: StoreDecl = { bucket: PERSON_BUCKET, access: 'read' };
/** The hours ledger (kit `openUrenLedger`), for the module that sends hours to DUO. */
export const UREN_LEDGER: StoreDecl = { bucket: UREN_LEDGER_BUCKET, access: 'write' };
/** The hours ledger, read only (the inzage). */
export const UREN_LEDGER_READ: StoreDecl = { bucket: UREN_LEDGER_BUCKET, access: 'read' };

/** A durable consumer on KETEN: its name and its one filter subject (nats-server 2.9). */
export interface ConsumerDecl {
  durable: string;
  filter: string;
}

/**
 * The simulator that stands in for a partner in development (`npm start`, the demo), by path:
 * production code never imports a simulator, and the image holds none
 * (docs/adr/0018-module-declares-its-simulator.md).
 *
 * The launcher runs its main with `--port <port>` and, for one per organisation,
 * `--organisation <id>`, and `KETENHUB_CONFIG` pointing at the hub configuration. The simulator
 * reads everything else from there through the simulator kit (`runSimulatorMain`): the
 * organisation's `endpoint.token` it demands, its `credential.apiKey` it presents when it calls
 * the hub back, the hub's `services.<name>` address, the module's `settings`. Its `/health`
 * answers once it is up, and its `/_sim/stats` holds the kit's `DeliveryStats` (`received`,
 * `duplicates`), which the demo counts a flow by.
 */
export interface SimulatorDecl {
  /** Its main, relative to the repository root, e.g. `simulators/duo/src/main.ts`. */
  main: string;
  /**
   * One process per organisation of `partners.<id>.organisations` (each school), on
   * consecutive ports from `simulators.<id>.port`; otherwise one process for the partner (and
   * for every organisation it has, as the one KVS simulator serves every gemeente).
   */
  perOrganisation?: boolean;
  /**
   * For a partner whose flows start with a request the demo must make (the KVS asking for a
   * home): the module, relative to the repository root, whose `runDemo` (simulator kit
   * `DemoDriver`) `npm run demo` calls to make the requests and count the partner's flows.
   */
  demo?: string;
}

export interface PartnerModule {
  /** Partner id: policy, processing log, `ce-partner` header, source URN, metrics label. */
  id: string;
  kind: ModuleKind;
  /** The `services.<name>` block it runs under (ports, retry, breaker, TLS, limits). */
  service: ServiceName;
  /** One line for operators and the docs. */
  description: string;
  /** The KV buckets it reads or writes (its NATS user may use those, and only so). */
  stores: StoreDecl[];
  /**
   * Its durable consumers for a configuration (one per gemeente, per school, ...): what its
   * NATS user may create and read. `start` must return exactly these.
   */
  consumers?(config: HubConfig): ConsumerDecl[];
  /** Chain event types it publishes besides its policy's `levert` (outcomes the hub makes). */
  alsoPublishes?: string[];
  /**
   * NATS subjects its user may publish to besides what the declarations above give (an
   * operations module's stream and consumer administration).
   */
  natsPublish?: string[];
  /** Its partner API, when it has one. */
  edge?: {
    /** Takes `text/csv` bulk uploads. */
    csv?: boolean;
    /** Served only when its block has a `port` and a credential is configured. */
    optional?: boolean;
    /** Who may call it; read before anything connects, so a bad credential stops the start. */
    credentials(config: HubConfig, logger: Logger): PartnerCredential[];
  };
  /**
   * JSON Schema of its own settings (`partners.<id>.settings`), checked before anything
   * connects: the spec of its configuration, and so its documentation.
   */
  settingsSchema?: object;
  /** Defaults for what its block leaves out. */
  defaults?: { concurrency?: number; ackWaitMs?: number };
  /**
   * The simulator `npm start` runs for it before its service; none for a module without a
   * partner to stand in for (the admin API) or whose partner only calls the hub (COA, whose
   * simulator is a sender the demo drives).
   */
  simulator?: SimulatorDecl;
  /** Checks its configuration before anything connects; throws a ConfigError. */
  check?(config: HubConfig, logger: Logger): void;
  start(rt: ModuleRuntime): Promise<ModuleParts>;
}

export interface RunModulesOptions {
  /** Process name (NATS connection, logs, metrics); default the modules' services joined by `+`. */
  service?: string;
  logger?: Logger;
  /** Port of the first module's edge instead of its block's (tests: 0). */
  port?: number;
  /** Port of the ops server instead of the first module's block's. */
  opsPort?: number;
}

export interface RunningModules {
  /** The first module's edge, when it has one. */
  url?: string;
  /** Every served edge, by module id. */
  urls: Record<string, string>;
  /** The routes of every served edge (`POST /v1/events`), by module id. */
  routes: Record<string, string[]>;
  opsUrl: string;
  stop(): Promise<void>;
}

/** The name of a process running `modules`: their services joined by `+`. */
function processName(modules: PartnerModule[]): string {
  return [...new Set(modules.map((m) => m.service))].join('+');
}

/**
 * A module's `services.<name>` block over `serviceDefaults` (retry and breaker written once);
 * a missing block is a configuration error naming it.
 */
export function settingsOf(
  config: HubConfig,
  module: Pick<PartnerModule, 'id' | 'service'>,
): ServiceSettings {
  const settings = config.services[module.service] as ServiceSettings | undefined;
  if (!settings) {
    throw new ConfigError(`services.${module.service}: required by the ${module.id} module`, {
      field: `services.${module.service}`,
      rule: 'required',
    });
  }
  return { ...config.serviceDefaults, ...settings };
}

/**
 * A module's own settings (`partners.<id>.settings`, absent = `{}`), checked against its
 * `settingsSchema`; a bad value is a ConfigError naming the field and the rule.
 */
export function partnerSettings<T extends object>(
  config: HubConfig,
  module: Pick<PartnerModule, 'id' | 'settingsSchema'>,
): T {
  const settings = partnerBlock(config, module.id).settings ?? {};
  if (module.settingsSchema) {
    const validate = createAjv().compile(module.settingsSchema);
    if (!validate(settings)) {
      const where = `partners.${module.id}.settings`;
      const violations = toViolations(validate.errors).map((v) => ({
        ...v,
        field: v.field ? `${where}.${v.field}` : where,
      }));
      throw new ConfigError(
        `invalid configuration:\n${violations.map((v) => `${v.field}: ${v.message}`).join('\n')}`,
        { field: violations[0]?.field, rule: violations[0]?.rule },
      );
    }
  }
  return settings as T;
}

/** A module runs the consumers it declares, no other: its NATS user allows only those. */
function assertDeclaredConsumers(
  module: PartnerModule,
  config: HubConfig,
  running: ConsumerSpec[],
): void {
  const key = (c: ConsumerDecl) => `${c.durable} ${c.filter}`;
  const declared = (module.consumers?.(config) ?? []).map(key).sort();
  const started = running.map((c) => key(c)).sort();
  if (declared.join('\n') !== started.join('\n')) {
    throw new Error(
      `module ${module.id} starts consumers [${started.join(', ')}] but declares [${declared.join(', ')}]`,
    );
  }
}

interface Plan {
  module: PartnerModule;
  settings: ServiceSettings;
  credentials: PartnerCredential[];
  serveEdge: boolean;
}

function plan(config: HubConfig, module: PartnerModule, logger: Logger): Plan {
  const settings = settingsOf(config, module);
  partnerSettings(config, module);
  module.check?.(config, logger);
  const credentials = module.edge?.credentials(config, logger) ?? [];
  const serveEdge =
    !!module.edge &&
    (!module.edge.optional || (settings.port !== undefined && credentials.length > 0));
  return { module, settings, credentials, serveEdge };
}

/** Per process: one identity store, one person register, one receipts publisher per partner. */
function sharedStores(nc: NatsConnection, config: HubConfig, replicas: number) {
  const opts = { ttlDays: PERSON_TTL_DAYS, replicas };
  let identities: Promise<IdentityStore> | undefined;
  let persons: Promise<PersonRegister> | undefined;
  const edgePublishers = new Map<string, Promise<Publisher>>();
  return {
    identities: () => (identities ??= openIdentityStore(nc, opts)),
    persons: () => (persons ??= openPersonRegister(nc, opts)),
    edgePublisher(partner: string): Promise<Publisher> {
      let p = edgePublishers.get(partner);
      if (!p) edgePublishers.set(partner, (p = openEdgePublisher(nc, config, partner)));
      return p;
    },
  };
}

/**
 * Starts `modules` in this process. A module whose start fails stops everything started
 * before it, so nothing runs half-wired.
 */
export async function runModules(
  config: HubConfig,
  modules: PartnerModule[],
  opts: RunModulesOptions = {},
): Promise<RunningModules> {
  if (modules.length === 0) {
    throw new ConfigError('no module to run', { field: 'modules', rule: 'at least one' });
  }
  const service = opts.service ?? processName(modules);
  const logger = opts.logger ?? createLogger(service);
  const metrics = createMetrics(service);
  // Configuration and credentials first: a bad one stops the start before anything connects.
  const plans = modules.map((m) => plan(config, m, logger));
  const edgeOptions = plans.map((p) =>
    p.serveEdge ? edgeOptionsFromConfig(config, p.module.service, { csv: p.module.edge?.csv }) : {},
  );

  const nc = await connectNats(config.nats.url, service, natsAuth(config));
  const edges: FastifyInstance[] = [];
  const consumers: RunningService[] = [];
  const releases: Array<() => void | Promise<void>> = [];
  let closeOps: (() => Promise<void>) | undefined;
  const stopAll = async () => {
    await Promise.all(edges.map((e) => e.close()));
    await Promise.all(consumers.map((c) => c.stop()));
    for (const release of releases) await release();
    await closeOps?.();
  };
  try {
    const limits = streamLimits(config);
    await provisionStreams(nc, limits);
    const js = jetstream(nc);
    const stores = sharedStores(nc, config, limits.replicas);
    const pseudonymizer = createPseudonymizer(config.hub.pseudonymKey);
    const processingLog = createProcessingLog(js);
    const urls: Record<string, string> = {};
    const routes: Record<string, string[]> = {};
    for (const [i, { module, settings, credentials, serveEdge }] of plans.entries()) {
      const moduleLogger = modules.length > 1 ? logger.child({ module: module.id }) : logger;
      let projector: Projector | undefined;
      const clients: PartnerClient[] = [];
      releases.push(() => clients.forEach((c) => c.shutdown()));
      const parts = await module.start({
        // Read only by modules that disclose to their partner; an operations module has no
        // partner policy.
        get projector() {
          return (projector ??= createProjector(module.id));
        },
        config,
        settings,
        nc,
        js,
        logger: moduleLogger,
        metrics,
        replicas: limits.replicas,
        source: sourceUrn(config.hub.oin, module.id),
        processingLog,
        pseudonymizer,
        publish: createPublisher({ js, partner: module.id }).publish,
        edgePublisher: () => stores.edgePublisher(module.id),
        identities: stores.identities,
        persons: stores.persons,
        partnerClient(endpoint, opts = {}) {
          const client = createPartnerClient({
            partner: module.id,
            endpoint: endpoint.id,
            baseURL: endpoint.url,
            timeoutMs: endpoint.timeoutMs ?? 5_000,
            ...(endpoint.token ? { headers: { authorization: `Bearer ${endpoint.token}` } } : {}),
            ...(settings.breaker ? { breaker: settings.breaker } : {}),
            ...opts,
            logger: moduleLogger.child({ endpoint: endpoint.id }),
            metrics,
          });
          clients.push(client);
          return client;
        },
      });
      if (parts.stop) releases.push(parts.stop);
      if (serveEdge && parts.routes) {
        const edge = createHttpEdge({
          service,
          logger: moduleLogger,
          metrics,
          credentials,
          ...edgeOptions[i],
        });
        edges.push(edge);
        routes[module.id] = recordRoutes(edge);
        await parts.routes(edge);
        const port = i === plans.findIndex((p) => p.serveEdge) ? opts.port : undefined;
        urls[module.id] = await edge.listen({
          host: settings.host ?? '127.0.0.1',
          port: port ?? settings.port ?? 0,
        });
      }
      assertDeclaredConsumers(module, config, parts.consumers ?? []);
      if (parts.consumers?.length) {
        consumers.push(
          ...(await runConsumers({
            service: module.service,
            partner: module.id,
            nc,
            stream: STREAMS.keten,
            consumers: parts.consumers,
            backoff: settings.retry ?? DEFAULT_BACKOFF,
            ackWaitMs: settings.ackWaitMs ?? module.defaults?.ackWaitMs ?? 30_000,
            concurrency: settings.concurrency ?? module.defaults?.concurrency ?? 8,
            ...(parts.persons ? { persons: parts.persons } : {}),
            logger: moduleLogger,
            metrics,
          })),
        );
      }
    }
    const first = plans[0]!.settings;
    const ops = await startOpsServer({
      service,
      ...(first.host ? { host: first.host } : {}),
      port: opts.opsPort ?? first.opsPort ?? 0,
      registry: metrics.registry,
      checks: { nats: () => !nc.isClosed() },
      logger,
    });
    closeOps = () => ops.close();
    const firstEdge = plans.find((p) => urls[p.module.id]);
    logger.info({ modules: modules.map((m) => m.id), urls, ops: ops.url }, 'modules running');
    return {
      ...(firstEdge ? { url: urls[firstEdge.module.id] } : {}),
      urls,
      routes,
      opsUrl: ops.url,
      async stop() {
        await stopAll();
        await nc.drain();
      },
    };
  } catch (err) {
    await stopAll().catch(() => undefined);
    await nc.close().catch(() => undefined);
    throw err;
  }
}

/**
 * A service's main: its modules with the configuration of `KETENHUB_CONFIG`, stopped on
 * SIGINT/SIGTERM.
 */
export async function runMain(
  modules: PartnerModule[],
  opts: RunModulesOptions = {},
): Promise<RunningModules> {
  const service = opts.service ?? processName(modules);
  const logger = opts.logger ?? createLogger(service);
  const running = await runModules(loadHubConfig(), modules, { ...opts, service, logger });
  stopOnSignals(() => running.stop(), logger);
  return running;
}
