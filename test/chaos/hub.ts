/**
 * One hub for one chaos scenario, every part a real process on loopback: NATS (one server or
 * a 3-node cluster), the KVS simulator, services/coa and services/gemeente-kvs, configured by a
 * config file written to a temp dir, with secrets in the environment as in production.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  STREAMS,
  connectNats,
  getFreePort,
  startLocalNats,
  startLocalNatsCluster,
  type LocalNats,
  type LocalNatsCluster,
} from '@ketenhub/kit';
import { SCRIPTS, launchNode, waitForHealth, type ManagedProcess } from '@ketenhub/kit/processes';

export const CHAOS_GEMEENTEN = [
  { code: '0797', naam: 'Heusden' },
  { code: '0796', naam: "'s-Hertogenbosch" },
  { code: '0865', naam: 'Vught' },
];

export const KVS_SERVICE = 'gemeente-kvs';

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
  /** Keep the temp dir (logs, config, NATS store) after stop(). */
  keep?: boolean;
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
  /** A connection of the chaos run itself, to read streams and consumers. */
  observer: NatsConnection;
  jsm(): Promise<JetStreamManager>;
  /** Stops the single NATS server and starts it again on the same port and store. */
  restartNats(downMs: number): Promise<{ stoppedAt: number; startedAt: number }>;
  /** Starts the KVS delivery service again after a kill and waits until it is healthy. */
  restartKvs(): Promise<void>;
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

    const [simPort, coaPort, coaOps, kvsOps] = await Promise.all([
      getFreePort(),
      getFreePort(),
      getFreePort(),
      getFreePort(),
    ]);
    const simUrl = `http://127.0.0.1:${simPort}`;
    const apiKey = randomBytes(24).toString('hex');
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      KETENHUB_CONFIG: path.join(dir, 'ketenhub.yaml'),
      NATS_URL: natsUrl,
      KETENHUB_PSEUDONYM_KEY: randomBytes(32).toString('hex'),
      KETENHUB_COA_API_KEY: apiKey,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
    };
    const config = {
      hub: { oin: '00000001234567890000', pseudonymKey: '${KETENHUB_PSEUDONYM_KEY}' },
      nats: { url: '${NATS_URL}', startLocal: false },
      streams: { replicas: opts.replicas },
      gemeenten: CHAOS_GEMEENTEN.map((g) => ({
        code: `gm${g.code}`,
        naam: g.naam,
        kvs: {
          url: `${simUrl}/gemeenten/gm${g.code}/events`,
          timeoutMs: CHAOS_DELIVERY.kvsTimeoutMs,
        },
      })),
      partners: { coa: { apiKey: '${KETENHUB_COA_API_KEY}' } },
      services: {
        coa: {
          host: '127.0.0.1',
          port: coaPort,
          opsPort: coaOps,
          csvBodyLimitBytes: 10 * 1024 * 1024,
        },
        [KVS_SERVICE]: {
          opsPort: kvsOps,
          concurrency: CHAOS_DELIVERY.concurrency,
          ackWaitMs: CHAOS_DELIVERY.ackWaitMs,
          retry: CHAOS_DELIVERY.retry,
          breaker: CHAOS_DELIVERY.breaker,
        },
      },
    };
    await writeFile(
      env.KETENHUB_CONFIG!,
      `# Written by the chaos run (test/chaos/hub.ts).\n${stringify(config)}`,
    );

    const sim = launchNode({
      name: 'kvs-simulator',
      script: SCRIPTS['kvs-simulator'],
      args: [
        '--port',
        String(simPort),
        '--gemeenten',
        CHAOS_GEMEENTEN.map((g) => `gm${g.code}`).join(','),
      ],
      env,
      logDir: dir,
    });
    cleanups.push(() => sim.stop(STOP_GRACE_MS));
    const coa = launchNode({ name: 'coa', script: SCRIPTS.coa, env, logDir: dir });
    cleanups.push(() => coa.stop(STOP_GRACE_MS));
    const kvs = launchNode({ name: KVS_SERVICE, script: SCRIPTS[KVS_SERVICE], env, logDir: dir });
    cleanups.push(() => kvs.stop(STOP_GRACE_MS));

    const coaHealth = `http://127.0.0.1:${coaOps}/health`;
    const kvsHealth = `http://127.0.0.1:${kvsOps}/health`;
    await Promise.all([
      waitForHealth(`${simUrl}/health`, sim),
      waitForHealth(coaHealth, coa),
      waitForHealth(kvsHealth, kvs),
    ]);

    const observer = await connectNats(natsUrl, 'chaos-observer');
    cleanups.push(() => observer.close());

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
      observer,
      jsm: () => jetstreamManager(observer, { timeout: 3_000, checkAPI: false }),
      async restartNats(downMs) {
        if (!nats) throw new Error('restartNats needs a single NATS server');
        const port = nats.port;
        // SIGTERM; the store is ours (not a temp dir of startLocalNats), so it stays.
        await nats.stop();
        const stoppedAt = Date.now();
        nats = undefined;
        await new Promise((r) => setTimeout(r, downMs));
        nats = await startLocalNats({ port, storeDir: natsStoreDir });
        hub.nats = nats;
        return { stoppedAt, startedAt: Date.now() };
      },
      async restartKvs() {
        await kvs.exited();
        kvs.start();
        await waitForHealth(kvsHealth, kvs);
      },
      stop: cleanup,
    };
    return hub;
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** Consumer counters of the KVS delivery, summed over the gemeenten. */
export async function deliveryBacklog(
  hub: ChaosHub,
): Promise<{ pending: number; ackPending: number; redelivered: number }> {
  const jsm = await hub.jsm();
  const out = { pending: 0, ackPending: 0, redelivered: 0 };
  for (const g of CHAOS_GEMEENTEN) {
    const info = await jsm.consumers.info(STREAMS.keten, `${KVS_SERVICE}-gm${g.code}`);
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
