import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { connect } from '@nats-io/transport-node';
import { StorageType, jetstreamManager } from '@nats-io/jetstream';
import { findNatsServerBinary, getFreePort, startLocalNats, type LocalNats } from './local-nats.ts';

/**
 * A JetStream cluster of nats-server child processes on loopback, for integration and chaos
 * tests of the hub on R3 streams. Every node is a `startLocalNats()` server with a generated
 * config file for its name, monitoring port and routes, so binary lookup, start-up checks and
 * clean-up on exit are the same as for a single server.
 */

export interface LocalNatsClusterNode {
  /** server_name, `n1` … `nN`; what stream and meta leaders are reported as. */
  name: string;
  /** Client port. */
  port: number;
  clusterPort: number;
  /** HTTP monitoring port (/healthz, /jsz, /routez). */
  monitorPort: number;
  url: string;
  storeDir: string;
  /** Pid of the current process of this node; changes with restart(). */
  readonly pid: number;
  /** False after kill() until restart() is done. */
  readonly running: boolean;
  /** Sends a signal to the node's process, e.g. SIGKILL for a crash. */
  kill(signal?: NodeJS.Signals): void;
  /** Stops the node if it still runs, starts it again on the same ports and store, and
   * resolves when it accepts connections (catching up with the others may take longer). */
  restart(): Promise<void>;
}

export interface LocalNatsCluster {
  urls: string[];
  /** The client URLs joined with commas, as `NATS_URL` and `connectNats()` take them. */
  url: string;
  nodes: LocalNatsClusterNode[];
  /** Stops every node and removes the temporary stores. Safe to call twice. */
  stop(): Promise<void>;
}

export interface StartLocalNatsClusterOptions {
  /** Number of nodes; 3 tolerates one node down, 5 two. Default 3. */
  size?: 3 | 5;
  /** Path to the nats-server binary; see findNatsServerBinary. */
  binary?: string;
  /** For the whole cluster to have a meta leader and place an R`size` stream. Default 30 s. */
  readyTimeoutMs?: number;
  /** Cluster name in the route handshake. Default `ketenhub`. */
  name?: string;
}

const DEFAULT_READY_TIMEOUT_MS = 30_000;
const HOST = '127.0.0.1';
const PROBE_STREAM = 'KETENHUB_CLUSTER_PROBE';

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** `count` distinct free ports; two probes can be handed the same port in theory. */
async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await getFreePort(HOST));
  return [...ports];
}

/** Config of one node; address, client port and store dir come from startLocalNats' flags. */
function nodeConfig(p: {
  name: string;
  clusterName: string;
  monitorPort: number;
  clusterPort: number;
  routes: number[];
}): string {
  return [
    `server_name: ${p.name}`,
    `http: ${HOST}:${p.monitorPort}`,
    'cluster {',
    `  name: ${p.clusterName}`,
    `  listen: ${HOST}:${p.clusterPort}`,
    `  routes: [${p.routes.map((r) => `nats-route://${HOST}:${r}`).join(', ')}]`,
    '}',
    '',
  ].join('\n');
}

/**
 * Waits until the cluster can place a stream on every node: a meta leader alone is not enough
 * for an R3 stream, which also needs all peers known to it.
 */
async function waitForJetStream(urls: string[], replicas: number, deadline: number) {
  const nc = await connect({ servers: urls, name: 'local-nats-cluster-probe' });
  try {
    let last: unknown;
    while (Date.now() < deadline) {
      try {
        // checkAPI would fail the same way the add does while there is no meta leader yet.
        const jsm = await jetstreamManager(nc, { timeout: 2_000, checkAPI: false });
        await jsm.streams.add({
          name: PROBE_STREAM,
          subjects: ['ketenhub.cluster.probe'],
          storage: StorageType.Memory,
          num_replicas: replicas,
        });
        await jsm.streams.delete(PROBE_STREAM);
        return;
      } catch (err) {
        last = err;
        await delay(250);
      }
    }
    throw new Error(`the cluster placed no R${replicas} stream in time`, { cause: last });
  } finally {
    await nc.close();
  }
}

// Only the temp root needs this: each node's process is already killed on exit by local-nats.
const liveRoots = new Set<string>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const root of liveRoots) {
      try {
        rmSync(root, { recursive: true, force: true });
      } catch {
        // best effort
      }
    }
  });
}

export async function startLocalNatsCluster(
  opts: StartLocalNatsClusterOptions = {},
): Promise<LocalNatsCluster> {
  const size = opts.size ?? 3;
  const binary = await findNatsServerBinary(opts.binary);
  const readyTimeoutMs = opts.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
  const deadline = Date.now() + readyTimeoutMs;
  const root = await mkdtemp(path.join(os.tmpdir(), 'ketenhub-nats-cluster-'));
  liveRoots.add(root);
  installExitHook();

  const ports = await freePorts(size * 3);
  const specs = Array.from({ length: size }, (_, i) => ({
    name: `n${i + 1}`,
    port: ports[i * 3] as number,
    clusterPort: ports[i * 3 + 1] as number,
    monitorPort: ports[i * 3 + 2] as number,
  }));
  const routes = specs.map((s) => s.clusterPort);

  const servers = new Map<string, LocalNats>();
  const killed = new Set<string>();

  async function startNode(spec: (typeof specs)[number], nodeDeadline: number): Promise<void> {
    const dir = path.join(root, spec.name);
    await mkdir(dir, { recursive: true });
    const configFile = path.join(root, `${spec.name}.conf`);
    await writeFile(
      configFile,
      nodeConfig({ ...spec, clusterName: opts.name ?? 'ketenhub', routes }),
    );
    const server = await startLocalNats({
      binary,
      host: HOST,
      port: spec.port,
      storeDir: dir,
      configFile,
      readyTimeoutMs: Math.max(1_000, nodeDeadline - Date.now()),
    });
    servers.set(spec.name, server);
    killed.delete(spec.name);
  }

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await Promise.all([...servers.values()].map((s) => s.stop()));
      servers.clear();
      await rm(root, { recursive: true, force: true });
      liveRoots.delete(root);
    })();
    return stopping;
  };

  try {
    // In parallel: a node waits for its routes, and JetStream needs a quorum to elect.
    await Promise.all(specs.map((s) => startNode(s, deadline)));
    const urls = specs.map((s) => `nats://${HOST}:${s.port}`);
    await waitForJetStream(urls, size, deadline);

    const nodes: LocalNatsClusterNode[] = specs.map((spec) => {
      const url = `nats://${HOST}:${spec.port}`;
      const storeDir = path.join(root, spec.name);
      return {
        ...spec,
        url,
        storeDir,
        get pid() {
          return servers.get(spec.name)?.pid ?? -1;
        },
        get running() {
          return servers.has(spec.name) && !killed.has(spec.name);
        },
        kill(signal: NodeJS.Signals = 'SIGKILL') {
          const server = servers.get(spec.name);
          if (!server || killed.has(spec.name)) return;
          // Only a terminating signal makes the node "not running"; SIGSTOP and the like
          // are the caller's business.
          if (['SIGKILL', 'SIGTERM', 'SIGINT', 'SIGQUIT'].includes(signal)) killed.add(spec.name);
          process.kill(server.pid, signal);
        },
        async restart() {
          if (stopping) throw new Error('the cluster is stopping');
          const old = servers.get(spec.name);
          servers.delete(spec.name);
          // Reaps a killed process too; the store dir is ours, so stop() leaves it.
          await old?.stop();
          // Up and routed, not necessarily caught up: /healthz also waits for every consumer
          // to be current, which on a loaded machine can take longer than any fixed limit. A
          // caller that needs the replicas current checks the stream's cluster info itself.
          await startNode(spec, Date.now() + readyTimeoutMs);
        },
      };
    });

    return { urls, url: urls.join(','), nodes, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
