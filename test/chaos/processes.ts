/**
 * The hub's processes as chaos tests need them: real child processes (as in production, so a
 * SIGKILL is a real crash), logs to files, a health wait, kill and restart. Every child is
 * SIGKILLed when this process exits, so an aborted run leaves nothing behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '@ketenhub/kit';

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
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

export interface ManagedProcess {
  name: string;
  logFile: string;
  readonly pid: number;
  /** True while the current child has not exited. */
  readonly running: boolean;
  /** Exits of children that were not asked to stop (kill() counts as asked). */
  readonly unexpectedExits: number;
  kill(signal?: NodeJS.Signals): void;
  /** Resolves when the current child has exited (at once when it has). */
  exited(): Promise<void>;
  /** Starts a new child with the same script, arguments and environment. */
  start(): void;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** The last lines of the log, for a failure report. */
  tail(lines?: number): string;
}

export function spawnManaged(p: {
  name: string;
  script: string;
  args?: string[];
  env: NodeJS.ProcessEnv;
  logDir: string;
}): ManagedProcess {
  installExitHook();
  const logFile = join(p.logDir, `${p.name}.log`);
  let child: ChildProcess | undefined;
  let exitPromise: Promise<void> = Promise.resolve();
  let asked = false;
  let unexpectedExits = 0;

  const start = (): void => {
    // A file descriptor, not a pipe: the child never blocks on a full pipe, and a killed
    // parent does not take its children down with SIGPIPE.
    const fd = openSync(logFile, 'a');
    asked = false;
    const c = spawn(process.execPath, [join(REPO_ROOT, p.script), ...(p.args ?? [])], {
      cwd: REPO_ROOT,
      env: p.env,
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    child = c;
    live.add(c);
    exitPromise = new Promise<void>((resolve) => {
      const done = (): void => {
        live.delete(c);
        if (!asked) unexpectedExits++;
        resolve();
      };
      c.once('exit', done);
      c.once('error', done);
    });
  };
  start();

  const isRunning = (): boolean =>
    child !== undefined && child.exitCode === null && child.signalCode === null;

  return {
    name: p.name,
    logFile,
    get pid() {
      return child?.pid ?? -1;
    },
    get running() {
      return isRunning();
    },
    get unexpectedExits() {
      return unexpectedExits;
    },
    kill(signal: NodeJS.Signals = 'SIGKILL') {
      asked = true;
      if (isRunning()) child!.kill(signal);
    },
    exited: () => exitPromise,
    start,
    async stop(graceMs = 5_000) {
      if (!isRunning()) return exitPromise;
      asked = true;
      child!.kill('SIGTERM');
      const timer = setTimeout(() => child?.kill('SIGKILL'), graceMs);
      await exitPromise;
      clearTimeout(timer);
    },
    tail(lines = 20) {
      try {
        return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
      } catch {
        return '(no log)';
      }
    },
  };
}

/** Resolves when `url` answers 2xx; fails early when the process exits. */
export async function waitForHealth(
  url: string,
  proc: ManagedProcess,
  timeoutMs = 30_000,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (!proc.running) {
      throw new Error(`${proc.name} exited during start-up:\n${proc.tail()}`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`${proc.name} not healthy at ${url} within ${timeoutMs} ms:\n${proc.tail()}`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
