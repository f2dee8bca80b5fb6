/**
 * The one launcher of the hub's own Node processes, for `npm start` (scripts/chain.ts), the
 * chaos run (test/chaos) and the bench: each service or simulator a real child process, as in
 * production (so a SIGKILL is a real crash and its memory is its own), its output in a log file,
 * a health wait, kill, restart and a graceful stop.
 *
 * No child outlives the launcher: a normal exit (also `process.exit` from a watchdog) SIGKILLs
 * the children still running, and a launcher that is killed outright closes the IPC channel each
 * child watches (`exit-with-launcher.ts`), which then stops itself as on SIGTERM.
 *
 * Imported as `@ketenhub/kit/processes`, never from the kit's index: services do not launch
 * processes and should not load this.
 */
// The local nats-server (one, or a cluster of three) of npm start, the chaos run, the bench and
// the tests: in this entry rather than in `/testing`, whose conformance suite loads vitest, which
// throws outside its runner.
export * from './local-nats.ts';
export * from './local-nats-cluster.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, readSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_ROOT } from './hub-config.ts';

/**
 * Entry points of the processes the launchers start, relative to the repository root: the one
 * place to change when a script moves.
 */
export const SCRIPTS = {
  coa: 'services/coa/main.ts',
  'gemeente-kvs': 'services/gemeente-kvs/main.ts',
  duo: 'services/duo/main.ts',
  kredietbank: 'services/kredietbank/main.ts',
  taalaanbieder: 'services/taalaanbieder/main.ts',
  woningcorporatie: 'services/woningcorporatie/main.ts',
  vluchtelingenwerk: 'services/vluchtelingenwerk/main.ts',
  admin: 'services/admin/main.ts',
  'kvs-simulator': 'simulators/gemeente-kvs/src/main.ts',
  'duo-simulator': 'simulators/duo/src/main.ts',
  'kredietbank-simulator': 'simulators/kredietbank/src/main.ts',
  'taalaanbieder-simulator': 'simulators/taalaanbieder/src/main.ts',
  'woningcorporatie-simulator': 'simulators/woningcorporatie/src/main.ts',
  'vluchtelingenwerk-simulator': 'simulators/vluchtelingenwerk/src/main.ts',
} as const;

const EXIT_WITH_LAUNCHER = new URL('./exit-with-launcher.ts', import.meta.url).href;
const DEFAULT_GRACE_MS = 10_000;
/** How much of a log tail() and firstLine() read at once: enough for their lines, never the whole file. */
const TAIL_BYTES = 64 * 1024;

/** A launched process failed to start, or did not become healthy in time. */
export class ProcessError extends Error {
  override readonly name = 'ProcessError';
  readonly processName: string;

  constructor(processName: string, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.processName = processName;
  }
}

/** One process of a chain (npm start, a chaos hub): what it runs and where it is healthy. */
export interface ProcessSpec {
  name: string;
  script: string;
  args?: string[];
  env?: NodeJS.ProcessEnv;
  /** URL that answers 2xx once it is up. */
  health: string;
}

export interface LaunchOptions {
  /** Names the log file (`<logDir>/<name>.log`) and the process in errors. */
  name: string;
  /** The script, relative to the repository root (see SCRIPTS) or absolute. */
  script: string;
  args?: string[];
  /** The child's whole environment; defaults to this process's. */
  env?: NodeJS.ProcessEnv;
  logDir: string;
  /** Extra Node flags, e.g. --cpu-prof. */
  nodeFlags?: string[];
}

export interface ManagedProcess {
  readonly name: string;
  readonly logFile: string;
  /** The current child's pid; -1 when it could not be spawned. */
  readonly pid: number;
  /** True while the current child has not exited. */
  readonly running: boolean;
  /** Exits of children that were not asked to end (kill() and stop() count as asked). */
  readonly unexpectedExits: number;
  /** How the last child ended; undefined while it runs. */
  readonly exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  /** Sends a signal (SIGKILL by default: a crash) to the current child. */
  kill(signal?: NodeJS.Signals): void;
  /** Resolves when the current child has exited (at once when it has). */
  exited(): Promise<void>;
  /** Starts a new child with the same script, arguments, environment and flags. */
  start(): void;
  /** SIGTERM, then SIGKILL when the child has not exited after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** The last lines of the log, for a failure report. */
  tail(lines?: number): string;
  /**
   * The first line the current child wrote (a simulator prints its URL there). Stdout and stderr
   * share the log file, so it is the first line of either; rejects when the child exits first.
   */
  firstLine(): Promise<string>;
}

const live = new Set<ChildProcess>();
// Only synchronous work is possible in 'exit': the last resort for a crash or a watchdog exit.
// kill() of a child that is already gone returns false; it does not throw.
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** Starts `node [nodeFlags] <script> [args]` as a managed child process. */
export function launchNode(opts: LaunchOptions): ManagedProcess {
  mkdirSync(opts.logDir, { recursive: true });
  const logFile = join(opts.logDir, `${opts.name}.log`);
  const argv = [
    ...(opts.nodeFlags ?? []),
    '--import',
    EXIT_WITH_LAUNCHER,
    resolve(REPO_ROOT, opts.script),
    ...(opts.args ?? []),
  ];
  let child: ChildProcess | undefined;
  let exitPromise: Promise<void> = Promise.resolve();
  let exit: ManagedProcess['exit'];
  let asked = false;
  let unexpectedExits = 0;
  let stopping: Promise<void> | undefined;
  let logOffset = 0;
  let firstLine: Promise<string> | undefined;

  const isRunning = (): boolean =>
    child !== undefined && child.exitCode === null && child.signalCode === null && !exit;

  const start = (): void => {
    if (isRunning()) throw new ProcessError(opts.name, `${opts.name} is already running`);
    // A file descriptor, not a pipe: the child never blocks on a full pipe and never gets EPIPE
    // when the launcher dies, and its log survives it.
    const fd = openSync(logFile, 'a');
    logOffset = fstatSync(fd).size;
    let c: ChildProcess;
    try {
      c = spawn(process.execPath, argv, {
        cwd: REPO_ROOT,
        env: opts.env ?? process.env,
        // The IPC channel only tells the child when the launcher is gone.
        stdio: ['ignore', fd, fd, 'ipc'],
      });
    } finally {
      closeSync(fd);
    }
    child = c;
    exit = undefined;
    asked = false;
    stopping = undefined;
    firstLine = undefined;
    live.add(c);
    exitPromise = new Promise<void>((done) => {
      const ended = (code: number | null, signal: NodeJS.Signals | null): void => {
        if (exit) return;
        exit = { code, signal };
        live.delete(c);
        if (!asked) unexpectedExits++;
        done();
      };
      c.once('exit', ended);
      // Emitted alone when the spawn itself fails; after an exit it changes nothing.
      c.once('error', () => ended(c.exitCode, c.signalCode));
    });
  };
  start();

  const readFirstLine = async (): Promise<string> => {
    for (;;) {
      const exitedBefore = !isRunning();
      const text = readPart(logFile, logOffset)?.text ?? '';
      const nl = text.indexOf('\n');
      if (nl >= 0) return text.slice(0, nl).trim();
      if (exitedBefore) {
        throw new ProcessError(opts.name, `${opts.name} exited before writing a line`);
      }
      await Promise.race([sleep(25), exitPromise]);
    }
  };

  return {
    name: opts.name,
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
    get exit() {
      return exit;
    },
    kill(signal: NodeJS.Signals = 'SIGKILL') {
      asked = true;
      if (isRunning()) child!.kill(signal);
    },
    exited: () => exitPromise,
    start,
    stop(graceMs = DEFAULT_GRACE_MS) {
      if (!isRunning()) return exitPromise;
      stopping ??= (async () => {
        asked = true;
        const c = child!;
        c.kill('SIGTERM');
        const timer = setTimeout(() => c.kill('SIGKILL'), graceMs);
        await exitPromise;
        clearTimeout(timer);
      })();
      return stopping;
    },
    tail(lines = 20) {
      return tailOf(logFile, lines);
    },
    firstLine() {
      firstLine ??= readFirstLine();
      return firstLine;
    },
  };
}

/**
 * Up to TAIL_BYTES of `file` from byte `from` on, or, with a negative `from`, its last -`from`
 * bytes; with where the text starts. Undefined when the file cannot be read (not there yet).
 */
function readPart(file: string, from: number): { text: string; start: number } | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const start = from >= 0 ? from : Math.max(0, fstatSync(fd).size + from);
    const buf = Buffer.alloc(TAIL_BYTES);
    return { text: buf.toString('utf8', 0, readSync(fd, buf, 0, buf.length, start)), start };
  } finally {
    closeSync(fd);
  }
}

function tailOf(file: string, lines: number): string {
  const part = readPart(file, -TAIL_BYTES);
  if (!part) return '(no log)';
  const all = part.text.trimEnd().split('\n');
  // A read that starts inside the file most likely starts inside a line: drop that part.
  if (part.start > 0) all.shift();
  return all.slice(-lines).join('\n');
}

/**
 * Resolves when `url` answers 2xx; fails at once when the process exits, and after `timeoutMs`,
 * each time with the end of its log.
 */
export async function waitForHealth(
  url: string,
  proc: ManagedProcess,
  timeoutMs = 30_000,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < until) {
    if (!proc.running) {
      const how = proc.exit?.signal ? `on ${proc.exit.signal}` : `with code ${proc.exit?.code}`;
      throw new ProcessError(
        proc.name,
        `${proc.name} exited ${how} during start-up (log ${proc.logFile}):\n${proc.tail()}`,
      );
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      if (res.ok) return;
      lastError = new Error(`${url} answered ${res.status}`);
    } catch (err) {
      // not listening yet
      lastError = err;
    }
    await sleep(100);
  }
  throw new ProcessError(
    proc.name,
    `${proc.name} not healthy at ${url} within ${timeoutMs} ms (log ${proc.logFile}):\n${proc.tail()}`,
    { cause: lastError },
  );
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
 * mark the kernel keeps, so no sampling can miss a short peak. Null where /proc is not there or
 * the process is gone.
 */
export function peakRssMb(pid: number): number | null {
  return statusMb(pid, 'VmHWM');
}

/** Resident set size right now, MB (VmRSS). */
export function rssMb(pid: number): number | null {
  return statusMb(pid, 'VmRSS');
}
