/**
 * NATS server for integration tests. Each call gives a server for one test file, picked in
 * this order:
 *   (a) env  - NATS_URL is set: use that shared server; stop() leaves it running.
 *   (b) container - a Docker-compatible runtime answers a ping: nats:2.10-alpine via testcontainers.
 *   (c) local - a nats-server child process (startLocalNats from @ketenhub/kit).
 *
 * KETENHUB_TEST_NATS=env|container|local forces one path, for debugging a single path; a
 * forced path does not fall back, so its failure is reported as is.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { isNatsReachable, startLocalNats } from '@ketenhub/kit/processes';

export interface TestNats {
  url: string;
  kind: 'env' | 'container' | 'local';
  stop(): Promise<void>;
}

type Kind = TestNats['kind'];

const NATS_IMAGE = 'nats:2.10-alpine';
const DOCKER_SOCKET = '/var/run/docker.sock';
const RUNTIME_PING_TIMEOUT_MS = 1_500;

let envNoticeLogged = false;

function forcedKind(): Kind | undefined {
  const raw = process.env['KETENHUB_TEST_NATS'];
  if (raw === undefined || raw === '') return undefined;
  if (raw === 'env' || raw === 'container' || raw === 'local') return raw;
  throw new Error(`KETENHUB_TEST_NATS must be env, container or local, got "${raw}"`);
}

export async function startTestNats(): Promise<TestNats> {
  const forced = forcedKind();
  const envUrl = process.env['NATS_URL'];

  if (forced === 'env' || (forced === undefined && envUrl !== undefined && envUrl !== '')) {
    if (envUrl === undefined || envUrl === '') {
      throw new Error('KETENHUB_TEST_NATS=env needs NATS_URL to be set');
    }
    return useEnvNats(envUrl);
  }

  if (forced === 'container') return startContainerNats();

  if (forced === undefined && (await isContainerRuntimeReachable())) {
    try {
      return await startContainerNats();
    } catch (err) {
      const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
      console.error(`[test-nats] container start failed (${reason}); using a local nats-server`);
    }
  }

  return startLocalTestNats();
}

async function useEnvNats(url: string): Promise<TestNats> {
  if (!envNoticeLogged) {
    envNoticeLogged = true;
    console.error(`[test-nats] using the shared NATS server from NATS_URL=${url}`);
    if (!(await isNatsReachable(url, 2_000))) {
      console.error(`[test-nats] warning: no NATS server answers at ${url}`);
    }
  }
  return { url, kind: 'env', stop: async () => {} };
}

async function startLocalTestNats(): Promise<TestNats> {
  // startLocalNats already kills its child and removes its store on process exit.
  const server = await startLocalNats();
  return { url: server.url, kind: 'local', stop: () => server.stop() };
}

// Container ids still running; process 'exit' only allows synchronous work, so the safety net
// is a `docker rm -f`. testcontainers' Ryuk reaper is the second net when it is enabled.
const liveContainers = new Set<string>();
let exitHookInstalled = false;

function installContainerExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const id of liveContainers) {
      try {
        spawnSync('docker', ['rm', '-f', '-v', id], { stdio: 'ignore', timeout: 5_000 });
      } catch {
        // best effort: no docker CLI, or the runtime is gone
      }
    }
    liveContainers.clear();
  });
}

async function startContainerNats(): Promise<TestNats> {
  // Loaded only here so runs without a container runtime never load testcontainers/dockerode.
  const { GenericContainer, Wait } = await import('testcontainers');
  const container = await new GenericContainer(NATS_IMAGE)
    .withCommand(['-js'])
    .withExposedPorts(4222)
    .withWaitStrategy(Wait.forLogMessage(/Server is ready/))
    .start();
  const id = container.getId();
  liveContainers.add(id);
  installContainerExitHook();

  const host = container.getHost();
  const url = `nats://${host.includes(':') ? `[${host}]` : host}:${container.getMappedPort(4222)}`;
  let stopping: Promise<void> | undefined;
  return {
    url,
    kind: 'container',
    stop(): Promise<void> {
      stopping ??= (async () => {
        try {
          await container.stop();
        } finally {
          liveContainers.delete(id);
        }
      })();
      return stopping;
    },
  };
}

type RuntimeEndpoint =
  | { kind: 'http'; socketPath: string }
  | { kind: 'http'; host: string; port: number }
  | { kind: 'tcp'; host: string; port: number };

function runtimeEndpoint(): RuntimeEndpoint | undefined {
  const dockerHost = process.env['DOCKER_HOST'];
  if (dockerHost !== undefined && dockerHost !== '') {
    let parsed: URL;
    try {
      parsed = new URL(dockerHost);
    } catch {
      return undefined;
    }
    switch (parsed.protocol) {
      case 'unix:':
        return { kind: 'http', socketPath: parsed.pathname };
      case 'npipe:':
        // npipe:////./pipe/docker_engine -> \\.\pipe\docker_engine
        return {
          kind: 'http',
          socketPath: parsed.pathname.replace(/^\/+/, '\\\\').replace(/\//g, '\\'),
        };
      case 'tcp:':
      case 'http:':
      case 'https:': {
        const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
        const tls =
          parsed.protocol === 'https:' ||
          (process.env['DOCKER_TLS_VERIFY'] ?? '') !== '' ||
          parsed.port === '2376';
        const port = Number(parsed.port || (tls ? 2376 : 2375));
        // A TLS daemon wants client certificates for /_ping; a TCP connect is the cheap
        // check, and a failed container start still falls back to a local server.
        return tls ? { kind: 'tcp', host, port } : { kind: 'http', host, port };
      }
      default:
        // ssh:// and other transports: not worth probing; use a local server.
        return undefined;
    }
  }
  if (existsSync(DOCKER_SOCKET)) return { kind: 'http', socketPath: DOCKER_SOCKET };
  return undefined;
}

/**
 * True when a Docker-compatible runtime answers within the timeout. Without DOCKER_HOST or
 * /var/run/docker.sock it returns at once, so machines without a runtime pay nothing.
 */
export async function isContainerRuntimeReachable(
  timeoutMs = RUNTIME_PING_TIMEOUT_MS,
): Promise<boolean> {
  const endpoint = runtimeEndpoint();
  if (endpoint === undefined) return false;
  if (endpoint.kind === 'tcp') return tcpConnects(endpoint.host, endpoint.port, timeoutMs);
  return new Promise<boolean>((resolve) => {
    let settled = false;
    const finish = (result: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(result);
    };
    const target =
      'socketPath' in endpoint
        ? { socketPath: endpoint.socketPath }
        : { host: endpoint.host, port: endpoint.port };
    const req = http.get({ ...target, path: '/_ping', agent: false }, (res) => {
      res.resume();
      finish(res.statusCode === 200);
    });
    const timer = setTimeout(() => finish(false), timeoutMs);
    req.on('error', () => finish(false));
  });
}

function tcpConnects(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const socket = net.connect({ host, port });
    const finish = (result: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}
