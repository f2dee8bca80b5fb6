/**
 * The processes a bench run starts: every service and the KVS simulator as its own Node process
 * (so its memory and CPU are its own, as in production), with output to a log file in the run's
 * temporary directory. Every child is killed when the bench exits, however it exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { REPO_ROOT } from '@ketenhub/kit';

export interface Child {
  name: string;
  pid: number;
  process: ChildProcess;
  logFile: string;
  /** First line the child wrote on stdout (the KVS simulator prints its URL there). */
  firstLine: Promise<string>;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Only synchronous work is possible in 'exit': a last resort for a crash or a watchdog exit.
  process.on('exit', () => {
    for (const child of live) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

export interface SpawnOptions {
  name: string;
  /** Script relative to the repository root. */
  script: string;
  args?: string[];
  env: NodeJS.ProcessEnv;
  logDir: string;
  /** Extra Node flags, e.g. --cpu-prof. */
  nodeFlags?: string[];
}

export function spawnNode(opts: SpawnOptions): Child {
  installExitHook();
  const logFile = join(opts.logDir, `${opts.name}.log`);
  const out = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(
    process.execPath,
    [...(opts.nodeFlags ?? []), resolve(REPO_ROOT, opts.script), ...(opts.args ?? [])],
    { env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  live.add(child);
  const exited = new Promise<void>((done) => {
    child.once('exit', () => {
      live.delete(child);
      done();
    });
  });
  let buffered = '';
  const firstLine = new Promise<string>((resolveLine, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      if (buffered.includes('\n')) return;
      buffered += chunk.toString('utf8');
      const nl = buffered.indexOf('\n');
      if (nl >= 0) resolveLine(buffered.slice(0, nl).trim());
    });
    void exited.then(() => reject(new Error(`${opts.name} exited before writing a line`)));
  });
  firstLine.catch(() => undefined);
  child.stdout!.pipe(out);
  child.stderr!.pipe(out);

  let stopping: Promise<void> | undefined;
  return {
    name: opts.name,
    pid: child.pid ?? -1,
    process: child,
    logFile,
    firstLine,
    stop() {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          // A service drains its consumers on SIGTERM; one that hangs is not what we measure.
          const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
          await exited;
          clearTimeout(timer);
        }
        await new Promise<void>((done) => out.end(done));
      })();
      return stopping;
    },
  };
}

export async function waitForHealth(url: string, child: Child, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.process.exitCode !== null) {
      throw new Error(`${child.name} exited with code ${child.process.exitCode}:\n${tail(child)}`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${child.name} did not become healthy at ${url} within ${timeoutMs} ms`);
}

/** The last lines of a child's log, for an error message. */
export function tail(child: Child, lines = 20): string {
  try {
    return readFileSync(child.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function statusMb(pid: number, field: 'VmHWM' | 'VmRSS'): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = new RegExp(`^${field}:\\s+(\\d+)\\s+kB$`, 'm').exec(status)?.[1];
    return kb === undefined ? null : Math.round((Number(kb) / 1024) * 10) / 10;
  } catch {
    return null;
  }
}

/**
 * Peak resident set size of a live process in MB, from VmHWM in /proc (Linux): the high-water
 * mark the kernel keeps, so no sampling can miss a short peak. Null where /proc is not there.
 */
export function peakRssMb(pid: number): number | null {
  return statusMb(pid, 'VmHWM');
}

/** Resident set size right now, MB (VmRSS). */
export function rssMb(pid: number): number | null {
  return statusMb(pid, 'VmRSS');
}
