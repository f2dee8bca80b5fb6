/**
 * Starts the whole chain on this machine: a local NATS when none answers at the configured URL,
 * the streams, and then every registered partner module (scripts/modules.ts) the same way, in
 * that order: its simulator (the module's `simulator` declaration, one per organisation where it
 * says so), then its service, each as its own process (as in production), each waited for
 * until it answers its health check. Used by `npm start` and by `npm run demo` when no chain is
 * running.
 *
 * Every process reads one development copy of the configuration (.tmp/ketenhub.dev.yaml): the
 * configured one, with what a module's blocks leave out filled in for this machine (a service
 * block's ports, a partner endpoint at its simulator). A simulator gets only `--port` (and
 * `--organisation`); it reads the rest from that copy (simulators/kit `runSimulatorMain`).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import {
  REPO_ROOT,
  connectNats,
  hashApiKey,
  DEFAULT_CONFIG,
  loadHubConfig,
  organisationsOf,
  provisionStreams,
  streamLimits,
  type HubConfig,
  type PartnerModule,
} from '@ketenhub/kit';
import {
  getFreePort,
  isNatsReachable,
  startLocalNats,
  type LocalNats,
  launchNode,
  waitForHealth,
  type ManagedProcess,
  type ProcessSpec,
} from '@ketenhub/kit/processes';
import { MODULES } from './modules.ts';

/** Local state (dev secrets, logs, chain.json); KETENHUB_STATE_DIR moves it (tests do). */
export const TMP = resolve(REPO_ROOT, process.env.KETENHUB_STATE_DIR ?? '.tmp');
export const CHAIN_FILE = join(TMP, 'chain.json');
const SECRETS_FILE = join(TMP, 'dev-secrets.json');
/** The development copy of the configuration every process of the chain reads. */
export const DEV_CONFIG = join(TMP, 'ketenhub.dev.yaml');

/** One registered module as `npm start` runs it. */
export interface ChainModule {
  /** The `services.<name>` block and process it runs under. */
  service: string;
  /** Its partner API, when it serves one. */
  api?: string;
  /** Its process's ops server (`/health`, `/metrics`). */
  ops: string;
  /** Its durable consumers: the demo checks they caught up and counts their subjects. */
  consumers: { durable: string; filter: string }[];
  /** Its simulators' base URLs, by organisation (by the module id for one simulator). */
  simulators: Record<string, string>;
}

/** What `npm start` leaves for `npm run demo` and the admin to find the running chain. */
export interface ChainInfo {
  pid: number;
  nats: string;
  coa: string;
  coaApiKey: string;
  /** The admin API and the key of its development administrator (`beheer`). */
  admin: string;
  adminApiKey: string;
  kvsSimulator: string;
  /** Where a KVS sends its events, and each gemeente's KVS key (for the demo acting as KVS). */
  kvsInbound: string;
  kvsApiKeys: Record<string, string>;
  /** The hub's Notificatie API for DUO, and the DUO simulator (with its /_sim control API). */
  duo: string;
  duoSimulator: string;
  /** Where the Kredietbank's webhooks arrive, and its simulator (/_sim: clock, faults, trajecten). */
  kredietbankWebhooks: string;
  kredietbankSimulator: string;
  /** The hub's API for the language schools, and each school's simulator (/_sim: tick, ontvangen). */
  taalaanbiederApi: string;
  taalaanbiederSimulators: Record<string, string>;
  /** Every process's health check, by process name. */
  health: Record<string, string>;
  /** Every service's metrics, by service. */
  metrics: Record<string, string>;
  /** Every registered module, by module id, in the order of scripts/modules.ts. */
  modules: Record<string, ChainModule>;
  logs: string;
  gemeenten: { code: string; naam: string }[];
}

export interface Chain {
  info: ChainInfo;
  config: HubConfig;
  stop(): Promise<void>;
}

/** A whole-value `${VAR}` or `${VAR:-default}` in the configuration: the variable's name. */
function variableOf(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  return /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-[^}]*)?\}$/.exec(value.trim())?.[1];
}

/** The variables behind one organisation's (or administrator's) secrets in the configuration. */
interface SecretVars {
  /** `credential.apiKey`: the key in plaintext (development only). */
  apiKey?: string;
  /** `credential.apiKeyHash`: its digest, what a deployment gives the services. */
  apiKeyHash?: string;
  /** `endpoint.token`: the bearer token the hub presents to the partner. */
  token?: string;
}

type RawBlock = {
  id?: string;
  endpoint?: Record<string, unknown>;
  credential?: Record<string, unknown>;
};

function secretVarsOf(block: RawBlock): SecretVars {
  const apiKey = variableOf(block.credential?.apiKey);
  const apiKeyHash = variableOf(block.credential?.apiKeyHash);
  const token = variableOf(block.endpoint?.token);
  return {
    ...(apiKey ? { apiKey } : {}),
    ...(apiKeyHash ? { apiKeyHash } : {}),
    ...(token ? { token } : {}),
  };
}

/**
 * The secret variables of the configuration as written (before substitution): per partner and
 * organisation (`partners.<id>` itself is organisation `<id>`), and per administrator.
 */
export function secretVariables(raw: {
  partners?: Record<string, RawBlock & { organisations?: RawBlock[] }>;
  admins?: RawBlock[];
}): { partners: Record<string, Record<string, SecretVars>>; admins: Record<string, SecretVars> } {
  const partners: Record<string, Record<string, SecretVars>> = {};
  for (const [id, block] of Object.entries(raw.partners ?? {})) {
    partners[id] = block.organisations
      ? Object.fromEntries(block.organisations.map((o) => [String(o.id), secretVarsOf(o)]))
      : { [id]: secretVarsOf(block) };
  }
  const admins = Object.fromEntries((raw.admins ?? []).map((a) => [String(a.id), secretVarsOf(a)]));
  return { partners, admins };
}

/** The name a credential's key is kept under: its `apiKey` variable, or its hash's without `_HASH`. */
function keyVariable(v: SecretVars): string | undefined {
  return v.apiKey ?? v.apiKeyHash?.replace(/_HASH$/, '');
}

/**
 * Secrets for local development only: generated once, kept in .tmp/ (git-ignored, mode 0600)
 * so pseudonyms stay stable across restarts. A real deployment sets them in the environment.
 * Which there are comes from the configuration: every credential's key (`${VAR}` of its
 * `apiKey`) and every endpoint's token. A key stays here in plaintext for the demo and for its
 * own partner's simulator (and goes to .tmp/chain.json); the services get only its digest in the
 * variable of its `apiKeyHash`, as a deployment configures them. Setting a key yourself uses
 * that key; set its hash only together with it, or the demo presents a key the hash does not
 * match. A token is a shared secret both sides need in plaintext: the service and the partner's
 * simulator get the same one.
 */
function devSecrets(
  env: NodeJS.ProcessEnv,
  vars: ReturnType<typeof secretVariables>,
): { env: NodeJS.ProcessEnv; keys: Record<string, string> } {
  mkdirSync(TMP, { recursive: true });
  let stored: Record<string, string> = {};
  if (existsSync(SECRETS_FILE))
    stored = JSON.parse(readFileSync(SECRETS_FILE, 'utf8')) as Record<string, string>;
  const all = [
    ...Object.values(vars.partners).flatMap((orgs) => Object.values(orgs)),
    ...Object.values(vars.admins),
  ];
  const keyVars = [...new Set(all.map(keyVariable).filter((v) => v !== undefined))];
  const tokenVars = [...new Set(all.map((v) => v.token).filter((v) => v !== undefined))];
  let changed = false;
  for (const name of ['KETENHUB_PSEUDONYM_KEY', ...keyVars, ...tokenVars]) {
    if (!stored[name]) {
      stored[name] = randomBytes(32).toString('hex');
      changed = true;
    }
  }
  if (changed) {
    writeFileSync(SECRETS_FILE, JSON.stringify(stored, null, 2));
    chmodSync(SECRETS_FILE, 0o600);
  }
  const out = { ...env };
  out.KETENHUB_PSEUDONYM_KEY ??= stored.KETENHUB_PSEUDONYM_KEY;
  const keys: Record<string, string> = {};
  for (const v of all) {
    const name = keyVariable(v);
    if (!name) continue;
    keys[name] = env[name] || stored[name]!;
    if (v.apiKeyHash) out[v.apiKeyHash] ||= hashApiKey(keys[name]);
    if (v.apiKey) delete out[v.apiKey];
  }
  for (const name of tokenVars) out[name] ||= stored[name];
  return { env: out, keys };
}

/** The port of the first server in a (possibly comma-separated) NATS URL. */
function natsPort(url: string): number {
  const first = url.split(',')[0]!.trim();
  return Number(new URL(first.replace(/^nats:/, 'http:')).port || 4222);
}

/** A URL on this machine for a bind address: loopback for a wildcard. */
function hostUrl(host: string | undefined, port: number): string {
  const h = !host || host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${h.includes(':') ? `[${h}]` : h}:${port}`;
}

/** One simulator process of a module. */
interface SimulatorPlan {
  name: string;
  main: string;
  port: number;
  /** The organisation it plays (`--organisation`), for one per organisation. */
  organisation?: string;
  /** The organisations whose key it presents (its `credential.apiKey`). */
  plays: string[];
}

interface ServicePlan {
  service: string;
  modules: PartnerModule[];
  opsPort: number;
  /** Ports of the block, when the configured one has none. */
  added: { port?: number; opsPort?: number };
}

export interface ChainPlan {
  services: ServicePlan[];
  simulators: Record<string, SimulatorPlan[]>;
  /** What the development copy adds to the configuration, by config path, for the log. */
  filledIn: string[];
  /** The development copy: the configuration as written with what npm start fills in. */
  devConfig: Record<string, unknown>;
}

/**
 * How `npm start` runs `modules` on this machine, from the configuration (`config` as loaded,
 * `raw` as written): each module's simulators on `simulators.<id>.port` (consecutive per
 * organisation) or free ports, a partner endpoint the configuration leaves out pointed at its
 * simulator, and a service's ports the configuration leaves out taken free; the development
 * copy holds these. A configured endpoint is kept, so its simulator must listen where it points:
 * a module with one needs its `simulators.<id>.port`.
 */
export async function planChain(
  config: HubConfig,
  raw: Record<string, unknown>,
  modules: PartnerModule[],
  freePort: () => Promise<number> = getFreePort,
): Promise<ChainPlan> {
  const dev = structuredClone(raw) as {
    services?: Record<string, Record<string, unknown>>;
    partners?: Record<string, Record<string, unknown> & { organisations?: RawBlock[] }>;
  };
  dev.services ??= {};
  const filledIn: string[] = [];
  const simulators: Record<string, SimulatorPlan[]> = {};
  for (const module of modules) {
    const decl = module.simulator;
    if (!decl) continue;
    const orgs = organisationsOf(config, module.id);
    const block = config.partners?.[module.id];
    const multiple = block?.organisations !== undefined;
    // One process per organisation, or one for the partner (and all its organisations).
    const procs: { organisation?: string; plays: string[] }[] = decl.perOrganisation
      ? orgs.map((o) => ({ organisation: o.id, plays: [o.id] }))
      : [{ plays: orgs.map((o) => o.id) }];
    const first = config.simulators?.[module.id]?.port;
    if (first === undefined && orgs.some((o) => o.endpoint)) {
      throw new Error(
        `config: partners.${module.id} has an endpoint but simulators.${module.id}.port is not set: ` +
          `its simulator must listen where the endpoint points`,
      );
    }
    const plans: SimulatorPlan[] = [];
    for (const [i, p] of procs.entries()) {
      const port = first === undefined ? await freePort() : first + i;
      plans.push({
        name:
          p.organisation === undefined
            ? `${module.id}-simulator`
            : `${module.id}-simulator-${p.organisation}`,
        main: decl.main,
        port,
        ...(p.organisation === undefined ? {} : { organisation: p.organisation }),
        plays: p.plays,
      });
    }
    simulators[module.id] = plans;
    // A partner of one organisation with no endpoint is called at its simulator.
    if (!multiple && !block?.endpoint) {
      dev.partners ??= {};
      dev.partners[module.id] = {
        ...dev.partners[module.id],
        endpoint: { url: hostUrl(undefined, plans[0]!.port), timeoutMs: 5_000 },
      };
      filledIn.push(`partners.${module.id}.endpoint`);
    }
  }

  const services: ServicePlan[] = [];
  for (const module of modules) {
    let plan = services.find((s) => s.service === module.service);
    if (!plan) {
      const block = (config.services[module.service] ?? {}) as { port?: number; opsPort?: number };
      const added: ServicePlan['added'] = {};
      // npm start health-checks every process: each needs a known ops port.
      if (block.opsPort === undefined) added.opsPort = await freePort();
      plan = {
        service: module.service,
        modules: [],
        opsPort: block.opsPort ?? added.opsPort!,
        added,
      };
      services.push(plan);
    }
    plan.modules.push(module);
    const block = config.services[module.service] as { port?: number } | undefined;
    // A partner API that is always served needs a port; an optional one is served only where
    // the configuration gives it one.
    if (module.edge && !module.edge.optional && block?.port === undefined && !plan.added.port) {
      plan.added.port = await freePort();
    }
  }
  for (const s of services) {
    if (Object.keys(s.added).length === 0) continue;
    dev.services[s.service] = { ...dev.services[s.service], ...s.added };
    filledIn.push(...Object.keys(s.added).map((k) => `services.${s.service}.${k}`));
  }
  return { services, simulators, filledIn, devConfig: dev };
}

export async function startChain(
  opts: { env?: NodeJS.ProcessEnv; log?: (line: string) => void } = {},
): Promise<Chain> {
  const log = opts.log ?? (() => undefined);
  const base = opts.env ?? process.env;
  const configFile = base.KETENHUB_CONFIG ?? DEFAULT_CONFIG;
  const raw = (parse(readFileSync(configFile, 'utf8')) ?? {}) as Record<string, unknown>;
  const vars = secretVariables(raw as Parameters<typeof secretVariables>[0]);
  const { env, keys } = devSecrets(base, vars);
  // Read before the development copy exists: what the configuration as written says.
  const configured = loadHubConfig(configFile, env);
  const modules = MODULES.map((m) => m());
  const plan = await planChain(configured, raw, modules);
  mkdirSync(TMP, { recursive: true });
  writeFileSync(
    DEV_CONFIG,
    `# Written by npm start (scripts/chain.ts) from ${relative(REPO_ROOT, configFile)}, with what it\n` +
      `# fills in for this machine: ${plan.filledIn.join(', ') || 'nothing'}. Edit that file instead.\n` +
      stringify(plan.devConfig),
  );
  const config = loadHubConfig(DEV_CONFIG, env);
  if (plan.filledIn.length > 0) {
    log(`configuration: ${relative(REPO_ROOT, DEV_CONFIG)} fills in ${plan.filledIn.join(', ')}`);
  }

  let localNats: LocalNats | undefined;
  if (await isNatsReachable(config.nats.url)) {
    log(`NATS: using the server at ${config.nats.url}`);
  } else if (config.nats.startLocal !== false) {
    const storeDir = resolve(REPO_ROOT, config.nats.storeDir ?? '.tmp/nats');
    mkdirSync(storeDir, { recursive: true });
    localNats = await startLocalNats({
      port: natsPort(config.nats.url),
      storeDir,
      keepStore: true,
    });
    log(`NATS: started a local nats-server at ${localNats.url} (store ${storeDir})`);
  } else {
    throw new Error(`no NATS server answers at ${config.nats.url} and nats.startLocal is false`);
  }
  const natsUrl = localNats?.url ?? config.nats.url;
  const childEnv: NodeJS.ProcessEnv = { ...env, NATS_URL: natsUrl, KETENHUB_CONFIG: DEV_CONFIG };
  const nc = await connectNats(natsUrl, 'chain-launcher');
  await provisionStreams(nc, streamLimits(config));
  await nc.drain();

  const logs = join(TMP, 'logs');
  mkdirSync(logs, { recursive: true });
  const children: ManagedProcess[] = [];

  const stop = async () => {
    // SIGTERM to all at once, last started first; SIGKILL for any still there after 10 s.
    await Promise.all(children.reverse().map((child) => child.stop(10_000)));
    if (existsSync(CHAIN_FILE)) {
      const info = JSON.parse(readFileSync(CHAIN_FILE, 'utf8')) as ChainInfo;
      if (info.pid === process.pid) rmSync(CHAIN_FILE);
    }
    await localNats?.stop();
  };

  try {
    /** The plaintext key a simulator presents for an organisation of partner `id`. */
    const keyOf = (
      id: string,
      organisation: string,
    ): { name: string; value: string } | undefined => {
      const v = vars.partners[id]?.[organisation];
      const name = v?.apiKey;
      return name && keys[name] ? { name, value: keys[name] } : undefined;
    };
    const chainModules: Record<string, ChainModule> = {};
    const health: Record<string, string> = {};
    const metrics: Record<string, string> = {};
    // In the order of scripts/modules.ts, per service: its modules' simulators (the service
    // calls them, and a simulator that calls back retries until its service is up), then the
    // service. The parts of one group start together, then each is waited for.
    const groups: ProcessSpec[][] = [];
    for (const s of plan.services) {
      const settings = config.services[s.service] as { host?: string; port?: number } | undefined;
      const ops = hostUrl(settings?.host, s.opsPort);
      const sims: ProcessSpec[] = [];
      for (const module of s.modules) {
        const simulators: Record<string, string> = {};
        for (const sim of plan.simulators[module.id] ?? []) {
          const url = hostUrl(undefined, sim.port);
          simulators[sim.organisation ?? module.id] = url;
          const own = sim.plays.map((o) => keyOf(module.id, o)).filter((k) => k !== undefined);
          sims.push({
            name: sim.name,
            script: sim.main,
            args: [
              '--port',
              String(sim.port),
              ...(sim.organisation === undefined ? [] : ['--organisation', sim.organisation]),
            ],
            // Its own partner's key in plaintext, which its credential.apiKey reads.
            env: Object.fromEntries(own.map((k) => [k.name, k.value])),
            health: `${url}/health`,
          });
          health[sim.name] = `${url}/health`;
        }
        chainModules[module.id] = {
          service: s.service,
          ...(settings?.port !== undefined && module.edge
            ? { api: hostUrl(settings.host, settings.port) }
            : {}),
          ops,
          consumers: module.consumers?.(config) ?? [],
          simulators,
        };
      }
      if (sims.length > 0) groups.push(sims);
      groups.push([
        { name: s.service, script: `services/${s.service}/main.ts`, health: `${ops}/health` },
      ]);
      health[s.service] = `${ops}/health`;
      metrics[s.service] = `${ops}/metrics`;
    }
    for (const group of groups) {
      const started = group.map((part) => {
        const child = launchNode({
          name: part.name,
          script: part.script,
          args: part.args ?? [],
          env: { ...childEnv, ...part.env },
          logDir: logs,
        });
        children.push(child);
        return child;
      });
      for (const [i, part] of group.entries()) await waitForHealth(part.health, started[i]!);
    }

    // What the demo's own flows (and start.ts) name: the partners it drives by hand.
    const moduleOf = (id: string): ChainModule => {
      const m = chainModules[id];
      if (!m) throw new Error(`npm start: the ${id} module is not registered (scripts/modules.ts)`);
      return m;
    };
    const api = (id: string): string =>
      moduleOf(id).api ?? throw_(`npm start: the ${id} module serves no partner API`);
    const simulator = (id: string, organisation = id): string =>
      moduleOf(id).simulators[organisation] ??
      throw_(`npm start: the ${id} module has no simulator`);
    const keyVar = (v: SecretVars | undefined) => (v ? keyVariable(v) : undefined);
    const key = (name: string | undefined): string =>
      (name && keys[name]) || throw_('npm start: a credential has no key variable');
    const admins = Object.entries(vars.admins);
    const admin = admins.find(([id]) => id === 'beheer') ?? admins[0];
    const kvsApiKeys: Record<string, string> = {};
    for (const o of organisationsOf(config, 'gemeente-kvs')) {
      const name = keyVar(vars.partners['gemeente-kvs']?.[o.id]);
      for (const g of o.gemeenten ?? []) if (name && keys[name]) kvsApiKeys[g] = keys[name];
    }

    const info: ChainInfo = {
      pid: process.pid,
      nats: natsUrl,
      coa: api('coa'),
      coaApiKey: key(keyVar(vars.partners.coa?.coa)),
      admin: api('admin'),
      adminApiKey: key(keyVar(admin?.[1])),
      kvsSimulator: simulator('gemeente-kvs'),
      kvsInbound: api('gemeente-kvs'),
      kvsApiKeys,
      duo: `${api('duo')}/v1`,
      duoSimulator: simulator('duo'),
      kredietbankWebhooks: `${api('kredietbank')}/v1/webhooks`,
      kredietbankSimulator: simulator('kredietbank'),
      taalaanbiederApi: api('taalaanbieder'),
      taalaanbiederSimulators: moduleOf('taalaanbieder').simulators,
      health,
      metrics,
      modules: chainModules,
      logs,
      gemeenten: config.gemeenten.map((g) => ({ code: g.code, naam: g.naam })),
    };
    writeFileSync(CHAIN_FILE, JSON.stringify(info, null, 2));
    chmodSync(CHAIN_FILE, 0o600);
    return { info, config, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

function throw_(message: string): never {
  throw new Error(message);
}
/** The chain `npm start` is running, if there is one and it answers. */
export async function findRunningChain(): Promise<ChainInfo | undefined> {
  if (!existsSync(CHAIN_FILE)) return undefined;
  const info = JSON.parse(readFileSync(CHAIN_FILE, 'utf8')) as ChainInfo;
  try {
    for (const url of Object.values(info.health)) {
      if (!(await fetch(url)).ok) return undefined;
    }
    return info;
  } catch {
    return undefined;
  }
}

/**
 * Where the operator commands (inzage, dlq) find NATS: `--nats`, `NATS_URL`, the running
 * `npm start`, or the configured server. When none answers and the config lets `npm start`
 * start a local server, one is started on the same store for the duration of the command, so a
 * demo that started (and stopped) its own server can still be inspected afterwards.
 */
export async function operatorNats(
  explicit?: string,
): Promise<{ url: string; stop(): Promise<void> }> {
  const given = explicit ?? process.env.NATS_URL ?? (await findRunningChain())?.nats;
  if (given) return { url: given, stop: async () => undefined };
  const config = loadHubConfig(undefined, {
    KETENHUB_PSEUDONYM_KEY: 'x'.repeat(32),
    ...process.env,
  });
  const url = config.nats.url;
  if ((await isNatsReachable(url)) || config.nats.startLocal === false)
    return { url, stop: async () => undefined };
  const storeDir = resolve(REPO_ROOT, config.nats.storeDir ?? '.tmp/nats');
  if (!existsSync(storeDir)) return { url, stop: async () => undefined };
  const local = await startLocalNats({ port: natsPort(url), storeDir, keepStore: true });
  return { url: local.url, stop: () => local.stop() };
}
