import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { constants as fsConstants, rmSync } from 'node:fs';
import { access, mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface LocalNats {
  url: string;
  port: number;
  storeDir: string;
  stop(): Promise<void>;
  pid: number;
}

export interface StartLocalNatsOptions {
  /** Client port; a free port is picked when omitted. */
  port?: number;
  /** Bind address; defaults to 127.0.0.1 so a test server is never exposed on the network. */
  host?: string;
  /** JetStream store directory; when given it is never removed by stop(). */
  storeDir?: string;
  /** Path to the nats-server binary; see findNatsServerBinary for the fallbacks. */
  binary?: string;
  /** Passed as -c; the -a/-p/-js/-sd flags still win over the file's values. */
  configFile?: string;
  readyTimeoutMs?: number;
  /** Keep a temporary store dir after stop(), e.g. to inspect it after a failing test. */
  keepStore?: boolean;
}

const DEFAULT_READY_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 5_000;
const STDERR_KEEP_CHARS = 16_000;
const DEBIAN_BINARY = '/usr/sbin/nats-server';

export async function getFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error(`could not determine a free port on ${host}`));
        return;
      }
      const { port } = address;
      server.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}

function parseNatsUrl(url: string): { host: string; port: number } {
  // A servers string may hold several comma-separated URLs; probing the first is enough.
  const first = (url.split(',')[0] ?? '').trim();
  const withScheme = first.includes('://') ? first : `nats://${first}`;
  const parsed = new URL(withScheme);
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1';
  const port = parsed.port === '' ? 4222 : Number(parsed.port);
  return { host, port };
}

/**
 * True when something at the URL's host:port speaks the NATS protocol (sends an INFO line).
 * A bare TCP accept is not enough: a port can be taken by an unrelated process.
 */
export async function isNatsReachable(url: string, timeoutMs = 1000): Promise<boolean> {
  let target: { host: string; port: number };
  try {
    target = parseNatsUrl(url);
  } catch {
    return false;
  }
  return new Promise<boolean>((resolve) => {
    let settled = false;
    let received = '';
    const socket = net.connect({ host: target.host, port: target.port });
    const finish = (result: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      received += chunk;
      if (received.length >= 4 && !received.startsWith('INFO')) finish(false);
      else if (received.includes('\r\n')) finish(true);
      else if (received.length > 64_000) finish(false);
    });
    socket.on('error', () => finish(false));
    socket.on('close', () => finish(false));
  });
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Resolves the nats-server binary: explicit option, NATS_SERVER_BIN, PATH, then the Debian
 * location, which is not on a non-root user's PATH.
 */
export async function findNatsServerBinary(binary?: string): Promise<string> {
  if (binary !== undefined && binary !== '') {
    if (await isExecutable(binary)) return binary;
    throw new Error(`nats-server binary ${binary} (from options) is not an executable file`);
  }
  const fromEnv = process.env['NATS_SERVER_BIN'];
  if (fromEnv !== undefined && fromEnv !== '') {
    if (await isExecutable(fromEnv)) return fromEnv;
    throw new Error(`NATS_SERVER_BIN=${fromEnv} is not an executable file`);
  }
  const exe = process.platform === 'win32' ? 'nats-server.exe' : 'nats-server';
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, exe);
    if (await isExecutable(candidate)) return candidate;
  }
  if (await isExecutable(DEBIAN_BINARY)) return DEBIAN_BINARY;
  throw new Error(
    'nats-server not found (looked at NATS_SERVER_BIN, PATH and /usr/sbin/nats-server). ' +
      'Install it with `sudo apt-get install nats-server` or set NATS_SERVER_BIN to its path.',
  );
}

// One 'exit' listener for all servers: a listener per server would trip Node's
// MaxListenersExceeded warning in test runs that start many servers.
const liveServers = new Set<{ child: ChildProcess; tempStoreDir: string | undefined }>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    // Only synchronous work is possible here.
    for (const entry of liveServers) {
      try {
        entry.child.kill('SIGKILL');
      } catch {
        // already gone
      }
      if (entry.tempStoreDir !== undefined) {
        try {
          rmSync(entry.tempStoreDir, { recursive: true, force: true });
        } catch {
          // best effort
        }
      }
    }
    liveServers.clear();
  });
}

class StartupError extends Error {
  readonly portInUse: boolean;
  constructor(message: string, portInUse: boolean) {
    super(message);
    this.name = 'StartupError';
    this.portInUse = portInUse;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Starts nats-server with JetStream as a child process and resolves once it accepts NATS
 * connections. The child does not keep the event loop alive and is killed when this process
 * exits, so a forgotten stop() cannot leave a server behind after a normal exit; a SIGKILL of
 * this process cannot be caught, so call stop() where possible.
 */
export async function startLocalNats(opts: StartLocalNatsOptions = {}): Promise<LocalNats> {
  const binary = await findNatsServerBinary(opts.binary);
  const host = opts.host ?? '127.0.0.1';
  const readyTimeoutMs = opts.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
  const ownsStoreDir = opts.storeDir === undefined;
  const storeDir = opts.storeDir ?? (await mkdtemp(path.join(os.tmpdir(), 'ketenhub-nats-')));

  // getFreePort closes its probe socket before nats-server binds, so another process can
  // grab the port in between; retry with a new port, but never when the caller chose it.
  const attempts = opts.port === undefined ? 3 : 1;
  let lastError: unknown;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const port = opts.port ?? (await getFreePort(host));
    try {
      return await spawnServer({
        binary,
        host,
        port,
        storeDir,
        ownsStoreDir,
        keepStore: opts.keepStore ?? false,
        configFile: opts.configFile,
        readyTimeoutMs,
      });
    } catch (err) {
      lastError = err;
      if (!(err instanceof StartupError && err.portInUse)) break;
    }
  }
  if (ownsStoreDir && !opts.keepStore) await rm(storeDir, { recursive: true, force: true });
  throw lastError;
}

async function spawnServer(p: {
  binary: string;
  host: string;
  port: number;
  storeDir: string;
  ownsStoreDir: boolean;
  keepStore: boolean;
  configFile: string | undefined;
  readyTimeoutMs: number;
}): Promise<LocalNats> {
  const args: string[] = [];
  if (p.configFile !== undefined) args.push('-c', p.configFile);
  args.push('-a', p.host, '-p', String(p.port), '-js', '-sd', p.storeDir);

  const child = spawn(p.binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let sawReadyLine = false;
  // nats-server logs to stderr; both pipes must be drained or a chatty server blocks on write.
  const collect = (chunk: Buffer): void => {
    const joined = output + chunk.toString('utf8');
    if (joined.includes('Server is ready')) sawReadyLine = true;
    output = joined.slice(-STDERR_KEEP_CHARS);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);

  let exited = false;
  let spawnError: Error | undefined;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      resolve();
    });
    child.once('error', (err) => {
      spawnError = err;
      exited = true;
      resolve();
    });
  });

  const entry = { child, tempStoreDir: p.ownsStoreDir && !p.keepStore ? p.storeDir : undefined };
  liveServers.add(entry);
  installExitHook();
  child.unref();
  (child.stdout as net.Socket | null)?.unref();
  (child.stderr as net.Socket | null)?.unref();

  const url = `nats://${p.host.includes(':') ? `[${p.host}]` : p.host}:${p.port}`;

  let stopping: Promise<void> | undefined;
  const terminate = async (): Promise<void> => {
    if (!exited) {
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        exitPromise.then(() => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), STOP_GRACE_MS);
        }),
      ]);
      clearTimeout(timer);
      if (timedOut && !exited) {
        child.kill('SIGKILL');
        await exitPromise;
      }
    }
    liveServers.delete(entry);
  };

  const deadline = Date.now() + p.readyTimeoutMs;
  for (;;) {
    if (exited) {
      liveServers.delete(entry);
      const reason = spawnError
        ? `could not run ${p.binary}: ${spawnError.message}`
        : `nats-server exited during start-up (code ${child.exitCode ?? 'null'}, signal ${child.signalCode ?? 'none'})`;
      throw new StartupError(
        `${reason}\n--- nats-server output ---\n${output}`,
        /address already in use/i.test(output),
      );
    }
    // The probe alone could be answered by another server that took the port first (our
    // child then fails to bind), so also wait for our own child's ready line; a config file
    // may redirect the log, in which case the probe has to do.
    if ((sawReadyLine || p.configFile !== undefined) && (await isNatsReachable(url, 500))) {
      if (!exited) break;
      continue;
    }
    if (Date.now() >= deadline) {
      await terminate();
      throw new StartupError(
        `nats-server did not accept connections on ${url} within ${p.readyTimeoutMs} ms\n` +
          `--- nats-server output ---\n${output}`,
        false,
      );
    }
    await delay(50);
  }

  return {
    url,
    port: p.port,
    storeDir: p.storeDir,
    pid: child.pid ?? -1,
    stop(): Promise<void> {
      stopping ??= (async () => {
        await terminate();
        if (p.ownsStoreDir && !p.keepStore) {
          await rm(p.storeDir, { recursive: true, force: true });
        }
      })();
      return stopping;
    },
  };
}
