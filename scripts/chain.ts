/**
 * Starts the whole chain on this machine: a local NATS when none answers at the configured URL,
 * the streams, every service and every partner simulator, each as its own process (as in
 * production), and waits until each answers its health check. Used by `npm start` and by
 * `npm run demo` when no chain is running.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import {
  REPO_ROOT,
  connectNats,
  hashApiKey,
  DEFAULT_CONFIG,
  loadHubConfig,
  organisationsOf,
  partnerSettings,
  provisionStreams,
  streamLimits,
  type HubConfig,
} from '@ketenhub/kit';
import { duoModule, type DuoSettings } from '@ketenhub/adapter-duo';
import {
  getFreePort,
  isNatsReachable,
  startLocalNats,
  type LocalNats,
  SCRIPTS,
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
  health: Record<string, string>;
  metrics: Record<string, string>;
  /**
   * The registered modules without a start group of their own, by service: their consumers
   * (the demo checks they caught up) and their simulator.
   */
  modules: Record<string, { consumers: string[]; simulator?: string }>;
  logs: string;
  gemeenten: { code: string; naam: string }[];
}

export interface Chain {
  info: ChainInfo;
  config: HubConfig;
  stop(): Promise<void>;
}

/**
 * Secrets for local development only: generated once, kept in .tmp/ (git-ignored, mode 0600)
 * so pseudonyms stay stable across restarts. A real deployment sets them in the environment.
 * Every partner key (`KETENHUB_<WHO>_API_KEY`) stays here in plaintext for the demo and the
 * simulators (it goes to .tmp/chain.json); the services get only its digest in
 * `KETENHUB_<WHO>_API_KEY_HASH`, as a deployment configures them. Setting a key yourself uses
 * that key; set its hash only together with it, or the demo presents a key the hash does not
 * match. Bearer tokens the hub presents to a partner (`KETENHUB_<WHO>_TOKEN`) are shared secrets
 * both sides need in plaintext: the service and the partner's simulator get the same one.
 */
function devSecrets(
  env: NodeJS.ProcessEnv,
  who: string[],
  tokensFor: string[] = [],
): { env: NodeJS.ProcessEnv; keys: Record<string, string> } {
  mkdirSync(TMP, { recursive: true });
  let stored: Record<string, string> = {};
  if (existsSync(SECRETS_FILE))
    stored = JSON.parse(readFileSync(SECRETS_FILE, 'utf8')) as Record<string, string>;
  const wanted = [
    'KETENHUB_PSEUDONYM_KEY',
    ...who.map((w) => `KETENHUB_${w}_API_KEY`),
    ...tokensFor.map((w) => `KETENHUB_${w}_TOKEN`),
  ];
  let changed = false;
  for (const name of wanted) {
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
  for (const w of who) {
    const name = `KETENHUB_${w}_API_KEY`;
    keys[w] = env[name] || stored[name]!;
    out[`${name}_HASH`] ||= hashApiKey(keys[w]);
    delete out[name];
  }
  for (const w of tokensFor) {
    const name = `KETENHUB_${w}_TOKEN`;
    out[name] ||= stored[name];
  }
  return { env: out, keys };
}

/** The port of the first server in a (possibly comma-separated) NATS URL. */
function natsPort(url: string): number {
  const first = url.split(',')[0]!.trim();
  return Number(new URL(first.replace(/^nats:/, 'http:')).port || 4222);
}

/** The services the start groups of `startChain` name, each with its simulators and secrets. */
const STARTED_BY_NAME = ['coa', 'gemeente-kvs', 'duo', 'kredietbank', 'taalaanbieder', 'admin'];

/**
 * The partner modules registered in scripts/modules.ts that the start groups do not name (one
 * written by `npm run new:partner`): each runs as `services/<service>/main.ts` with its
 * simulator, by convention `simulators/<id>/src/main.ts`, and a generic services block (free
 * ports, `endpoint` at the simulator) added to a development copy of the configuration.
 */
async function registeredExtras(config: HubConfig): Promise<{
  groups: ProcessSpec[][];
  services: Record<string, object>;
  partners: Record<string, object>;
  ops: Record<string, string>;
  modules: ChainInfo['modules'];
}> {
  const groups: ProcessSpec[][] = [];
  const services: Record<string, object> = {};
  const partners: Record<string, object> = {};
  const ops: Record<string, string> = {};
  const modules: ChainInfo['modules'] = {};
  for (const module of MODULES.map((m) => m())) {
    if (STARTED_BY_NAME.includes(module.service)) continue;
    const opsUrl = `http://127.0.0.1:${await getFreePort()}`;
    const simScript = `simulators/${module.id}/src/main.ts`;
    const sim = existsSync(join(REPO_ROOT, simScript))
      ? `http://127.0.0.1:${await getFreePort()}`
      : undefined;
    services[module.service] = {
      ...(config.services[module.service] ?? {}),
      opsPort: Number(new URL(opsUrl).port),
      ...(module.edge ? { port: await getFreePort() } : {}),
    };
    if (sim) {
      partners[module.id] = {
        ...config.partners?.[module.id],
        endpoint: { url: sim, timeoutMs: 5_000 },
      };
    }
    ops[module.service] = opsUrl;
    modules[module.service] = {
      consumers: (module.consumers?.(config) ?? []).map((c) => c.durable),
      ...(sim ? { simulator: sim } : {}),
    };
    if (sim) {
      groups.push([
        {
          name: `${module.id}-simulator`,
          script: simScript,
          args: ['--port', new URL(sim).port],
          health: `${sim}/health`,
        },
      ]);
    }
    groups.push([
      {
        name: module.service,
        script: `services/${module.service}/main.ts`,
        health: `${opsUrl}/health`,
      },
    ]);
  }
  return { groups, services, partners, ops, modules };
}

export async function startChain(
  opts: { env?: NodeJS.ProcessEnv; log?: (line: string) => void } = {},
): Promise<Chain> {
  const log = opts.log ?? (() => undefined);
  const base = opts.env ?? process.env;
  // The gemeenten (whose KVSs get keys) and the language schools (each with a key at the hub and
  // a token) are in the config; secrets are not needed to read them.
  const preliminary = loadHubConfig(undefined, { KETENHUB_PSEUDONYM_KEY: 'x'.repeat(32), ...base });
  const gemeenten = preliminary.gemeenten;
  const kvsWho = gemeenten.map((g) => `KVS_${g.code.toUpperCase()}`);
  const schoolIds = organisationsOf(preliminary, 'taalaanbieder').map((t) => t.id);
  const schoolWho = schoolIds.map((id) => `TAALAANBIEDER_${id.toUpperCase().replace(/-/g, '_')}`);
  const { env, keys } = devSecrets(
    base,
    ['COA', 'ADMIN', 'DUO', 'KREDIETBANK', ...kvsWho, ...schoolWho],
    ['KREDIETBANK', ...schoolWho],
  );
  const config = loadHubConfig(undefined, env);
  const coaApiKey = keys.COA!;
  const adminApiKey = keys.ADMIN!;

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
  const childEnv: NodeJS.ProcessEnv = { ...env, NATS_URL: natsUrl };
  const extras = await registeredExtras(config);
  if (Object.keys(extras.services).length > 0) {
    // The development copy of the configuration with the extra modules' blocks, for every
    // process of the chain.
    const file = join(TMP, 'ketenhub.dev.yaml');
    const shipped = parse(readFileSync(env.KETENHUB_CONFIG ?? DEFAULT_CONFIG, 'utf8')) as {
      services: Record<string, object>;
      partners?: Record<string, object>;
    };
    shipped.services = { ...shipped.services, ...extras.services };
    shipped.partners = { ...shipped.partners, ...extras.partners };
    mkdirSync(TMP, { recursive: true });
    writeFileSync(file, stringify(shipped));
    childEnv.KETENHUB_CONFIG = file;
    log(`modules without a start group of their own: ${Object.keys(extras.services).join(', ')}`);
  }
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
    /** A service (its settings must be there) and where its API and ops listen. */
    const partnerService = (name: string) => {
      const settings = config.services[name];
      if (!settings) throw new Error(`config: set services.${name}`);
      const host = settings.host ?? '127.0.0.1';
      return {
        host,
        api: `http://${host}:${settings.port}`,
        ops: `http://${host}:${settings.opsPort}`,
      };
    };
    const { api: coaApi, ops: coaOps } = partnerService('coa');
    const { api: kvsInbound, ops: kvsOps } = partnerService('gemeente-kvs');
    const kvsPort = config.simulators?.kvs?.port ?? 4310;
    const kvsSimulator = `http://127.0.0.1:${kvsPort}`;

    const { api: duoApi, ops: duoOps } = partnerService('duo');
    const duoUrl = `${duoApi}/v1`;
    const duoSimPort = config.simulators?.duo?.port ?? 4320;
    const duoSimulator = `http://127.0.0.1:${duoSimPort}`;

    const { api: kbApi, ops: kbOps } = partnerService('kredietbank');
    const kbSimPort = config.simulators?.kredietbank?.port ?? 4340;
    const kredietbankSimulator = `http://127.0.0.1:${kbSimPort}`;

    const { api: taalaanbiederApi, ops: taOps } = partnerService('taalaanbieder');
    const taFirstPort = config.simulators?.taalaanbieder?.port ?? 4331;
    // One simulator per language school, on consecutive ports.
    const taalaanbiederSimulators: Record<string, string> = Object.fromEntries(
      schoolIds.map((id, i) => [id, `http://127.0.0.1:${taFirstPort + i}`]),
    );

    const adminSettings = config.services.admin;
    // npm start health-checks every service, so the admin API needs a fixed ops port here.
    if (!adminSettings?.opsPort) throw new Error('config: set services.admin.port and opsPort');
    const adminHost = adminSettings.host ?? '127.0.0.1';
    const adminOps = `http://${adminHost}:${adminSettings.opsPort}`;

    const service = (name: keyof typeof SCRIPTS, ops: string): ProcessSpec => ({
      name,
      script: SCRIPTS[name],
      health: `${ops}/health`,
    });
    // In start order; the parts of one group start together, then each is waited for. A
    // simulator comes before its service: the service calls it (and the simulators that call
    // back retry until their service is up).
    const groups: ProcessSpec[][] = [
      [
        {
          name: 'kvs-simulator',
          script: SCRIPTS['kvs-simulator'],
          args: [
            '--port',
            String(kvsPort),
            '--gemeenten',
            config.gemeenten.map((g) => g.code).join(','),
          ],
          health: `${kvsSimulator}/health`,
        },
      ],
      [service('coa', coaOps), service('gemeente-kvs', kvsOps)],
      [
        {
          name: 'duo-simulator',
          script: SCRIPTS['duo-simulator'],
          args: [
            '--port',
            String(duoSimPort),
            '--oin',
            partnerSettings<DuoSettings>(config, duoModule()).oin,
            ...config.gemeenten.flatMap((g) => ['--gemeente', `${g.code.slice(2)}:${g.oin}`]),
            '--hub-url',
            duoUrl,
            '--hub-api-key-env',
            'KETENHUB_DUO_SIM_HUB_KEY',
          ],
          env: { KETENHUB_DUO_SIM_HUB_KEY: keys.DUO! },
          health: `${duoSimulator}/_sim/stats`,
        },
      ],
      [service('duo', duoOps)],
      // Financieel ontzorgen: the simulator calls the service's webhook back.
      [
        {
          name: 'kredietbank-simulator',
          script: SCRIPTS['kredietbank-simulator'],
          args: [
            '--port',
            String(kbSimPort),
            '--hub-url',
            `${kbApi}/v1/webhooks`,
            '--hub-api-key-env',
            'KETENHUB_KREDIETBANK_SIM_HUB_KEY',
            '--token-env',
            'KETENHUB_KREDIETBANK_TOKEN',
          ],
          env: { KETENHUB_KREDIETBANK_SIM_HUB_KEY: keys.KREDIETBANK! },
          health: `${kredietbankSimulator}/_sim/stats`,
        },
      ],
      [service('kredietbank', kbOps)],
      // Each school with its own key at the hub's school API and the token the hub presents
      // to it.
      ...schoolIds.map((id, i): ProcessSpec[] => [
        {
          name: `taalaanbieder-simulator-${id}`,
          script: SCRIPTS['taalaanbieder-simulator'],
          args: [
            '--id',
            id,
            '--port',
            String(taFirstPort + i),
            '--hub-url',
            taalaanbiederApi,
            '--hub-api-key-env',
            'KETENHUB_TAALAANBIEDER_SIM_HUB_KEY',
            '--token-env',
            `KETENHUB_${schoolWho[i]!}_TOKEN`,
          ],
          env: { KETENHUB_TAALAANBIEDER_SIM_HUB_KEY: keys[schoolWho[i]!]! },
          health: `${taalaanbiederSimulators[id]!}/_sim/stats`,
        },
      ]),
      [service('taalaanbieder', taOps)],
      ...extras.groups,
      [service('admin', adminOps)],
    ];
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

    const info: ChainInfo = {
      pid: process.pid,
      nats: natsUrl,
      coa: coaApi,
      coaApiKey,
      admin: `http://${adminHost}:${adminSettings.port}`,
      adminApiKey,
      kvsSimulator,
      kvsInbound,
      kvsApiKeys: Object.fromEntries(
        gemeenten.map((g) => [g.code, keys[`KVS_${g.code.toUpperCase()}`]!]),
      ),
      duo: duoUrl,
      duoSimulator,
      kredietbankWebhooks: `${kbApi}/v1/webhooks`,
      kredietbankSimulator,
      taalaanbiederApi,
      taalaanbiederSimulators,
      health: {
        coa: `${coaOps}/health`,
        'gemeente-kvs': `${kvsOps}/health`,
        admin: `${adminOps}/health`,
        duo: `${duoOps}/health`,
        'kvs-simulator': `${kvsSimulator}/health`,
        'duo-simulator': `${duoSimulator}/_sim/stats`,
        kredietbank: `${kbOps}/health`,
        'kredietbank-simulator': `${kredietbankSimulator}/_sim/stats`,
        taalaanbieder: `${taOps}/health`,
        ...Object.fromEntries(Object.entries(extras.ops).map(([n, url]) => [n, `${url}/health`])),
        ...Object.fromEntries(
          Object.entries(taalaanbiederSimulators).map(([id, url]) => [
            `taalaanbieder-simulator-${id}`,
            `${url}/_sim/stats`,
          ]),
        ),
      },
      metrics: {
        coa: `${coaOps}/metrics`,
        'gemeente-kvs': `${kvsOps}/metrics`,
        admin: `${adminOps}/metrics`,
        duo: `${duoOps}/metrics`,
        kredietbank: `${kbOps}/metrics`,
        taalaanbieder: `${taOps}/metrics`,
        ...Object.fromEntries(Object.entries(extras.ops).map(([n, url]) => [n, `${url}/metrics`])),
      },
      modules: extras.modules,
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
