/**
 * One hub for one chaos scenario, every part a real process on loopback: NATS (one server or
 * a 3-node cluster), the KVS simulator, services/coa and services/gemeente-kvs (with the KVS
 * inbound API) and, when the scenario asks for them, the other partner services with their
 * simulators: services/duo and the DUO simulator, services/kredietbank and the Kredietbank
 * simulator, and services/taalaanbieder, services/woningcorporatie and
 * services/vluchtelingenwerk with one simulator per organisation (school, corporatie, office).
 * Configured by a config file written to a temp dir, with secrets in the environment as in
 * production.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { STREAMS, connectNats, hashApiKey } from '@ketenhub/kit';
import {
  getFreePort,
  startLocalNats,
  startLocalNatsCluster,
  type LocalNats,
  type LocalNatsCluster,
  SCRIPTS,
  launchNode,
  waitForHealth,
  type ManagedProcess,
  type ProcessSpec,
} from '@ketenhub/kit/processes';

export const CHAOS_GEMEENTEN = [
  { code: '0797', naam: 'Heusden' },
  { code: '0796', naam: "'s-Hertogenbosch" },
  { code: '0865', naam: 'Vught' },
];

export const KVS_SERVICE = 'gemeente-kvs';

/** The partner services a scenario can add to the COA → KVS hub, each with its simulator(s). */
export const PARTNER_SERVICES = [
  'duo',
  'kredietbank',
  'taalaanbieder',
  'woningcorporatie',
  'vluchtelingenwerk',
] as const;
export type PartnerService = (typeof PARTNER_SERVICES)[number];

/**
 * The organisations of the partners that have several (`partners.<id>.organisations`), one
 * simulator each, with the gemeenten that contracted them where the partner routes by them.
 * Woonpoort and Stadswonen are both contracted by gm0797, so its aanvragen go to the one they
 * name or else to Woonpoort (the first); a VluchtelingenWerk office serves its gemeenten alone.
 */
export const CHAOS_ORGANISATIONS = {
  taalaanbieder: [{ id: 'taalschool-noord' }, { id: 'roc-meierij' }],
  woningcorporatie: [
    { id: 'woonpoort', gemeenten: ['gm0797', 'gm0865'] },
    { id: 'stadswonen', gemeenten: ['gm0796', 'gm0797'] },
  ],
  vluchtelingenwerk: [
    { id: 'vwn-den-bosch', gemeenten: ['gm0796', 'gm0865'] },
    { id: 'vwn-langstraat', gemeenten: ['gm0797'] },
  ],
} as const satisfies Partial<
  Record<PartnerService, readonly { id: string; gemeenten?: readonly string[] }[]>
>;
export type OrganisationService = keyof typeof CHAOS_ORGANISATIONS;
const ORGANISATION_SERVICES = Object.keys(CHAOS_ORGANISATIONS) as OrganisationService[];

/** The language schools of the chaos hub, one simulator each. */
export const CHAOS_SCHOOLS = CHAOS_ORGANISATIONS.taalaanbieder.map((o) => o.id);

/** DUO's OIN as the chaos hub and the DUO simulator know it (synthetic). */
export const CHAOS_DUO_OIN = '00000001003214345000';

/** The (synthetic) OIN of a chaos gemeente, e.g. gm0797 → 00000001000797000000. */
export function chaosOinOf(gemeente: string): string {
  return `0000000100${gemeente.slice(2)}000000`;
}

/** The environment variable a secret of `who` is in, e.g. KETENHUB_TAALAANBIEDER_ROC_MEIERIJ_TOKEN. */
function secretVar(who: string, what: 'API_KEY' | 'TOKEN'): string {
  return `KETENHUB_${who.toUpperCase().replace(/-/g, '_')}_${what}`;
}

/** A scenario's processes get 5 s to drain at its end before they are SIGKILLed. */
const STOP_GRACE_MS = 5_000;

/** Retry and breaker settings short enough for a test, long enough for a 60 s outage. */
export const CHAOS_DELIVERY = {
  concurrency: 16,
  ackWaitMs: 5_000,
  retry: { delaysMs: [200, 500, 1_000, 2_000], maxAttempts: 300 },
  breaker: {
    errorThresholdPercentage: 50,
    resetTimeoutMs: 1_000,
    volumeThreshold: 10,
    rollingCountTimeoutMs: 10_000,
  },
  kvsTimeoutMs: 2_000,
};

export interface ChaosHubOptions {
  nats: 'single' | 'cluster';
  replicas: 1 | 3;
  /** Partner services (each with its simulator) to run beside COA and the KVS delivery. */
  partners?: readonly PartnerService[];
  /** Keep the temp dir (logs, config, NATS store) after stop(). */
  keep?: boolean;
}

/** A service of the hub as a process, and where it answers its health check. */
export interface ChaosService {
  process: ManagedProcess;
  health: string;
}

/** A partner simulator as a process, and its base URL (its /_sim control API is there). */
export interface ChaosSimulator {
  process: ManagedProcess;
  url: string;
}

export interface ChaosHub {
  dir: string;
  natsUrl: string;
  /** The single server (nats: 'single'). */
  nats?: LocalNats;
  /** Store dir of the single server: it survives a restart of the server. */
  natsStoreDir: string;
  cluster?: LocalNatsCluster;
  sim: ManagedProcess;
  simUrl: string;
  coa: ManagedProcess;
  coaUrl: string;
  coaHealth: string;
  kvs: ManagedProcess;
  kvsHealth: string;
  apiKey: string;
  /** The KVS inbound API (`POST /v1/events`), where a KVS sends its PIPs and aanvragen. */
  kvsInboundUrl: string;
  /** Each gemeente's KVS key for the inbound API, bound to that gemeente. */
  kvsKeys: Record<string, string>;
  /** The hub's pseudonym key: the run derives the inburgeraarIds of its persons with it. */
  pseudonymKey: string;
  /** The partner services the scenario asked for, by name. */
  services: Partial<Record<PartnerService, ChaosService>>;
  duoSim?: ChaosSimulator;
  kredietbankSim?: ChaosSimulator;
  /**
   * One simulator per organisation of CHAOS_ORGANISATIONS, by organisation id, for each such
   * partner service the scenario asked for (the schools under `taalaanbieder`).
   */
  organisationSims: Partial<Record<OrganisationService, Record<string, ChaosSimulator>>>;
  /** Every process of the hub but NATS, for the exit check and the log tails. */
  processes: ManagedProcess[];
  /** A connection of the chaos run itself, to read streams and consumers. */
  observer: NatsConnection;
  jsm(): Promise<JetStreamManager>;
  /** Stops the single NATS server and starts it again on the same port and store. */
  restartNats(downMs: number): Promise<{ stoppedAt: number; startedAt: number }>;
  /** Starts the KVS delivery service again after a kill and waits until it is healthy. */
  restartKvs(): Promise<void>;
  /** Starts a partner service again after a kill and waits until it is healthy. */
  restartService(name: PartnerService): Promise<void>;
  stop(): Promise<void>;
}

// Temp dirs still in use; removed on exit too, should a watchdog end the run early.
const liveDirs = new Set<string>();
let exitHookInstalled = false;
function removeOnExit(dir: string): void {
  liveDirs.add(dir);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const d of liveDirs) rmSync(d, { recursive: true, force: true });
  });
}

export async function startChaosHub(opts: ChaosHubOptions): Promise<ChaosHub> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ketenhub-chaos-'));
  if (!opts.keep) removeOnExit(dir);
  const cleanups: (() => Promise<void>)[] = [];
  const cleanup = async (): Promise<void> => {
    for (const fn of cleanups.reverse()) await fn().catch(() => undefined);
    if (!opts.keep) await rm(dir, { recursive: true, force: true });
    liveDirs.delete(dir);
  };

  try {
    const natsStoreDir = path.join(dir, 'nats');
    let nats: LocalNats | undefined;
    let cluster: LocalNatsCluster | undefined;
    if (opts.nats === 'cluster') {
      cluster = await startLocalNatsCluster({ size: 3 });
      cleanups.push(() => cluster!.stop());
    } else {
      nats = await startLocalNats({ storeDir: natsStoreDir });
      // Stopped through the variable: restartNats() replaces the server.
      cleanups.push(() => nats?.stop() ?? Promise.resolve());
    }
    const natsUrl = cluster?.url ?? nats!.url;

    const partners = new Set(opts.partners ?? []);
    const port = (): Promise<number> => getFreePort();
    const [simPort, coaPort, coaOps, kvsPort, kvsOps] = await Promise.all([
      port(),
      port(),
      port(),
      port(),
      port(),
    ]);
    const simUrl = `http://127.0.0.1:${simPort}`;
    const apiKey = randomBytes(24).toString('hex');
    const pseudonymKey = randomBytes(32).toString('hex');
    const secret = (): string => randomBytes(24).toString('hex');
    const kvsKeys = Object.fromEntries(CHAOS_GEMEENTEN.map((g) => [`gm${g.code}`, secret()]));
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      KETENHUB_CONFIG: path.join(dir, 'ketenhub.yaml'),
      NATS_URL: natsUrl,
      KETENHUB_PSEUDONYM_KEY: pseudonymKey,
      KETENHUB_COA_API_KEY: apiKey,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
    };
    // Each KVS's key reaches the hub only as its digest, as in a deployment.
    for (const [gemeente, key] of Object.entries(kvsKeys)) {
      env[`${secretVar(`kvs-${gemeente}`, 'API_KEY')}_HASH`] = hashApiKey(key);
    }
    /** Delivery settings of a consumer service: the KVS delivery's, fast enough for a test. */
    const delivery = {
      concurrency: CHAOS_DELIVERY.concurrency,
      ackWaitMs: CHAOS_DELIVERY.ackWaitMs,
      retry: CHAOS_DELIVERY.retry,
      breaker: CHAOS_DELIVERY.breaker,
    };
    const config: Record<string, unknown> & { services: Record<string, unknown> } = {
      hub: { oin: '00000001234567890000', pseudonymKey: '${KETENHUB_PSEUDONYM_KEY}' },
      nats: { url: '${NATS_URL}', startLocal: false },
      streams: { replicas: opts.replicas },
      gemeenten: CHAOS_GEMEENTEN.map((g) => ({
        code: `gm${g.code}`,
        oin: chaosOinOf(`gm${g.code}`),
        naam: g.naam,
      })),
      partners: {
        coa: { credential: { apiKey: '${KETENHUB_COA_API_KEY}' } },
        [KVS_SERVICE]: {
          organisations: CHAOS_GEMEENTEN.map((g) => ({
            id: `kvs-gm${g.code}`,
            gemeenten: [`gm${g.code}`],
            endpoint: {
              url: `${simUrl}/gemeenten/gm${g.code}/events`,
              timeoutMs: CHAOS_DELIVERY.kvsTimeoutMs,
            },
            credential: { apiKeyHash: `\${${secretVar(`kvs-gm${g.code}`, 'API_KEY')}_HASH}` },
          })),
        },
      } as Record<string, unknown>,
      services: {
        coa: {
          host: '127.0.0.1',
          port: coaPort,
          opsPort: coaOps,
          csvBodyLimitBytes: 10 * 1024 * 1024,
        },
        [KVS_SERVICE]: { port: kvsPort, opsPort: kvsOps, ...delivery },
      },
    };

    const simulators: (ProcessSpec & { url: string; as: 'duo' | 'kredietbank' | string })[] = [];
    const services: (ProcessSpec & { as: PartnerService })[] = [];
    const partnerKeys: Record<string, string> = {};

    /** Ports of a partner service: its partner-facing API and its ops server. */
    const servicePorts = async (name: PartnerService) => {
      const [api, ops] = await Promise.all([port(), port()]);
      config.services[name] = { host: '127.0.0.1', port: api, opsPort: ops, ...delivery };
      services.push({
        name,
        as: name,
        script: SCRIPTS[name],
        health: `http://127.0.0.1:${ops}/health`,
      });
      return `http://127.0.0.1:${api}`;
    };

    if (partners.has('duo')) {
      const api = await servicePorts('duo');
      const simPortDuo = await port();
      const url = `http://127.0.0.1:${simPortDuo}`;
      env.KETENHUB_DUO_API_KEY = partnerKeys.duo = secret();
      (config.partners as Record<string, unknown>).duo = {
        endpoint: { url: `${url}/v1`, timeoutMs: 2_000 },
        credential: { apiKey: '${KETENHUB_DUO_API_KEY}' },
        settings: { oin: CHAOS_DUO_OIN },
      };
      simulators.push({
        name: 'duo-simulator',
        as: 'duo',
        script: SCRIPTS['duo-simulator'],
        url,
        args: [
          '--port',
          String(simPortDuo),
          '--oin',
          CHAOS_DUO_OIN,
          ...CHAOS_GEMEENTEN.flatMap((g) => [
            '--gemeente',
            `${g.code}:${chaosOinOf(`gm${g.code}`)}`,
          ]),
          '--hub-url',
          `${api}/v1`,
          '--hub-api-key-env',
          'KETENHUB_DUO_API_KEY',
        ],
        health: `${url}/health`,
      });
    }
    if (partners.has('kredietbank')) {
      const api = await servicePorts('kredietbank');
      const simPortKb = await port();
      const url = `http://127.0.0.1:${simPortKb}`;
      env.KETENHUB_KREDIETBANK_API_KEY = partnerKeys.kredietbank = secret();
      env.KETENHUB_KREDIETBANK_TOKEN = secret();
      (config.partners as Record<string, unknown>).kredietbank = {
        endpoint: { url: `${url}/v1`, token: '${KETENHUB_KREDIETBANK_TOKEN}', timeoutMs: 2_000 },
        credential: { apiKey: '${KETENHUB_KREDIETBANK_API_KEY}' },
      };
      simulators.push({
        name: 'kredietbank-simulator',
        as: 'kredietbank',
        script: SCRIPTS['kredietbank-simulator'],
        url,
        args: [
          '--port',
          String(simPortKb),
          '--hub-url',
          `${api}/v1/webhooks`,
          '--hub-api-key-env',
          'KETENHUB_KREDIETBANK_API_KEY',
          '--token-env',
          'KETENHUB_KREDIETBANK_TOKEN',
        ],
        health: `${url}/health`,
      });
    }
    // A partner with organisations: one simulator per organisation, each with the token the
    // hub presents to it and the key it presents to the hub, in variables of its own.
    for (const service of ORGANISATION_SERVICES) {
      if (!partners.has(service)) continue;
      const api = await servicePorts(service);
      const organisations = [];
      for (const org of CHAOS_ORGANISATIONS[service]) {
        const { id } = org;
        const simPortOrg = await port();
        const url = `http://127.0.0.1:${simPortOrg}`;
        const keyVar = secretVar(`${service}-${id}`, 'API_KEY');
        const tokenVar = secretVar(`${service}-${id}`, 'TOKEN');
        env[keyVar] = partnerKeys[id] = secret();
        env[tokenVar] = secret();
        organisations.push({
          id,
          naam: id,
          ...('gemeenten' in org ? { gemeenten: [...org.gemeenten] } : {}),
          endpoint: { url, token: `\${${tokenVar}}`, timeoutMs: 2_000 },
          credential: { apiKey: `\${${keyVar}}` },
        });
        simulators.push({
          name: `${service}-simulator-${id}`,
          as: id,
          script: SCRIPTS[`${service}-simulator`],
          url,
          args: [
            '--organisation',
            id,
            '--port',
            String(simPortOrg),
            '--hub-url',
            api,
            '--hub-api-key-env',
            keyVar,
            '--token-env',
            tokenVar,
          ],
          health: `${url}/health`,
        });
      }
      (config.partners as Record<string, unknown>)[service] = { organisations };
    }

    await writeFile(
      env.KETENHUB_CONFIG!,
      `# Written by the chaos run (test/chaos/hub.ts).\n${stringify(config)}`,
    );

    const launch = (part: Omit<ProcessSpec, 'health'>): ManagedProcess => {
      const p = launchNode({
        name: part.name,
        script: part.script,
        args: part.args ?? [],
        env: { ...env, ...part.env },
        logDir: dir,
      });
      cleanups.push(() => p.stop(STOP_GRACE_MS));
      return p;
    };
    const sim = launch({
      name: 'kvs-simulator',
      script: SCRIPTS['kvs-simulator'],
      args: [
        '--port',
        String(simPort),
        '--gemeenten',
        CHAOS_GEMEENTEN.map((g) => `gm${g.code}`).join(','),
      ],
    });
    const coa = launch({ name: 'coa', script: SCRIPTS.coa });
    const kvs = launch({ name: KVS_SERVICE, script: SCRIPTS[KVS_SERVICE] });
    // The simulators and the services all start at once: a service calls its simulator only
    // once events flow, and a simulator that calls its service back retries until it is up.
    const simProcs = simulators.map((part) => ({ part, process: launch(part) }));
    const serviceProcs = services.map((part) => ({ part, process: launch(part) }));

    const coaHealth = `http://127.0.0.1:${coaOps}/health`;
    const kvsHealth = `http://127.0.0.1:${kvsOps}/health`;
    // Up to ten processes start together on a small, maybe busy machine (a start took 61 s on
    // two shared cores): more time than the default.
    const startMs = 120_000;
    await Promise.all([
      waitForHealth(`${simUrl}/health`, sim, startMs),
      waitForHealth(coaHealth, coa, startMs),
      waitForHealth(kvsHealth, kvs, startMs),
      ...[...simProcs, ...serviceProcs].map(({ part, process: p }) =>
        waitForHealth(part.health, p, startMs),
      ),
    ]);

    const observer = await connectNats(natsUrl, 'chaos-observer');
    cleanups.push(() => observer.close());

    const chaosServices: Partial<Record<PartnerService, ChaosService>> = Object.fromEntries(
      serviceProcs.map(({ part, process: p }) => [part.as, { process: p, health: part.health }]),
    );
    const simOf = (as: string): ChaosSimulator | undefined => {
      const found = simProcs.find(({ part }) => part.as === as);
      return found ? { process: found.process, url: found.part.url } : undefined;
    };
    const duoSim = simOf('duo');
    const kredietbankSim = simOf('kredietbank');
    const organisationSims: ChaosHub['organisationSims'] = {};
    for (const service of ORGANISATION_SERVICES) {
      if (!partners.has(service)) continue;
      organisationSims[service] = Object.fromEntries(
        CHAOS_ORGANISATIONS[service].map(({ id }) => [id, simOf(id)!]),
      );
    }

    const hub: ChaosHub = {
      dir,
      natsUrl,
      ...(nats ? { nats } : {}),
      natsStoreDir,
      ...(cluster ? { cluster } : {}),
      sim,
      simUrl,
      coa,
      coaUrl: `http://127.0.0.1:${coaPort}`,
      coaHealth,
      kvs,
      kvsHealth,
      apiKey,
      kvsInboundUrl: `http://127.0.0.1:${kvsPort}`,
      kvsKeys,
      pseudonymKey,
      services: chaosServices,
      ...(duoSim ? { duoSim } : {}),
      ...(kredietbankSim ? { kredietbankSim } : {}),
      organisationSims,
      processes: [
        sim,
        coa,
        kvs,
        ...simProcs.map((s) => s.process),
        ...serviceProcs.map((s) => s.process),
      ],
      observer,
      jsm: () => jetstreamManager(observer, { timeout: 3_000, checkAPI: false }),
      async restartNats(downMs) {
        if (!nats) throw new Error('restartNats needs a single NATS server');
        const natsPort = nats.port;
        // SIGTERM; the store is ours (not a temp dir of startLocalNats), so it stays.
        await nats.stop();
        const stoppedAt = Date.now();
        nats = undefined;
        await new Promise((r) => setTimeout(r, downMs));
        nats = await startLocalNats({ port: natsPort, storeDir: natsStoreDir });
        hub.nats = nats;
        return { stoppedAt, startedAt: Date.now() };
      },
      async restartKvs() {
        await kvs.exited();
        kvs.start();
        await waitForHealth(kvsHealth, kvs);
      },
      async restartService(name) {
        const service = chaosServices[name];
        if (!service) throw new Error(`the hub runs no ${name} service`);
        await service.process.exited();
        service.process.start();
        await waitForHealth(service.health, service.process);
      },
      stop: cleanup,
    };
    return hub;
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/**
 * Consumer counters summed over `durables`: by default the KVS delivery's, one per gemeente.
 */
export async function deliveryBacklog(
  hub: ChaosHub,
  durables: readonly string[] = CHAOS_GEMEENTEN.map((g) => `${KVS_SERVICE}-gm${g.code}`),
): Promise<{ pending: number; ackPending: number; redelivered: number }> {
  const jsm = await hub.jsm();
  const out = { pending: 0, ackPending: 0, redelivered: 0 };
  for (const durable of durables) {
    const info = await jsm.consumers.info(STREAMS.keten, durable);
    out.pending += info.num_pending;
    out.ackPending += info.num_ack_pending;
    out.redelivered += info.num_redelivered;
  }
  return out;
}

/** Event ids of every message in the dead-letter stream, one entry per message. */
export async function deadLetterEventIds(hub: ChaosHub): Promise<string[]> {
  const jsm = await hub.jsm();
  const info = await jsm.streams.info(STREAMS.deadLetters);
  const ids: string[] = [];
  if (info.state.messages === 0) return ids;
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    try {
      const m = await jsm.streams.getMessage(STREAMS.deadLetters, { seq });
      if (!m) continue;
      const letter = m.json<{ eventId?: string }>();
      ids.push(letter.eventId ?? `(no event id, dlq seq ${seq})`);
    } catch {
      // deleted (replayed) letter: a gap in the sequence
    }
  }
  return ids;
}
