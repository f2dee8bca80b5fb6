import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import {
  ProcessError,
  SCRIPTS,
  launchNode,
  peakRssMb,
  rssMb,
  waitForHealth,
  type LaunchOptions,
  type ManagedProcess,
} from './processes.ts';
import { REPO_ROOT } from './hub-config.ts';

// Every test starts Node processes; on a loaded machine that takes longer than vitest's 5 s.
vi.setConfig({ testTimeout: 30_000 });

const dir = mkdtempSync(join(os.tmpdir(), 'ketenhub-processes-'));

// A tiny real service: prints its URL as its first line, then answers /health (503 until
// --healthy-after has passed) and does what its flags say.
const FIXTURE = join(dir, 'fixture.mjs');
writeFileSync(
  FIXTURE,
  `import { createServer } from 'node:http';
const args = process.argv.slice(2);
const opt = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
if (args.includes('--ignore-term')) process.on('SIGTERM', () => console.error('SIGTERM ignored'));
else process.on('SIGTERM', () => { console.error('stopping on SIGTERM'); process.exit(0); });
const keep = opt('--alloc-mb') ? Buffer.alloc(Number(opt('--alloc-mb')) * 1024 * 1024, 1) : null;
if (opt('--exit-after')) setTimeout(() => process.exit(Number(opt('--exit-code') ?? 0)), Number(opt('--exit-after')));
if (args.includes('--silent')) setInterval(() => {}, 1000);
else {
  const healthyAt = Date.now() + Number(opt('--healthy-after') ?? 0);
  const server = createServer((req, res) => {
    res.statusCode = Date.now() >= healthyAt ? 200 : 503;
    res.end(String(keep?.length ?? 0));
  });
  server.listen(0, '127.0.0.1', () => {
    console.log('http://127.0.0.1:' + server.address().port);
    console.error('greeting=' + process.env.FIXTURE_GREETING + ' gc=' + typeof globalThis.gc);
    for (let i = 1; i <= 5; i++) console.log('line ' + i);
  });
}
`,
);

// Stands in for `npm start`: launches the fixture, prints its pid, then exits or waits.
const LAUNCHER = join(dir, 'launcher.mjs');
writeFileSync(
  LAUNCHER,
  `const { launchNode } = await import(${JSON.stringify(new URL('./processes.ts', import.meta.url).href)});
const [script, logDir, how, ...args] = process.argv.slice(2);
const p = launchNode({ name: 'child', script, logDir, args });
await p.firstLine();
console.log(p.pid);
if (how === 'exit') process.exit(0);
setInterval(() => {}, 1000);
`,
);

const launched: ManagedProcess[] = [];
function launch(name: string, extra: Partial<LaunchOptions> = {}): ManagedProcess {
  const p = launchNode({ name, script: FIXTURE, logDir: dir, ...extra });
  launched.push(p);
  return p;
}

afterEach(async () => {
  await Promise.all(launched.splice(0).map((p) => p.stop(1_000)));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Alive and not a zombie waiting for its parent to reap it. */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function gone(pid: number, withinMs: number): Promise<boolean> {
  const until = Date.now() + withinMs;
  while (Date.now() < until) {
    if (!alive(pid)) return true;
    await sleep(50);
  }
  return !alive(pid);
}

describe('launchNode', () => {
  it('starts the script with its arguments, environment and Node flags, logging to a file', async () => {
    const p = launch('env', {
      env: { ...process.env, FIXTURE_GREETING: 'hallo' },
      nodeFlags: ['--expose-gc'],
      args: ['--healthy-after', '300'],
    });
    const url = await p.firstLine();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const started = Date.now();
    await waitForHealth(`${url}/health`, p, 10_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
    expect(p.running).toBe(true);
    expect(p.pid).toBeGreaterThan(0);
    expect(p.logFile).toBe(join(dir, 'env.log'));
    await expect.poll(() => p.tail(20)).toContain('line 5');
    expect(p.tail(20)).toContain('greeting=hallo gc=function');
    expect(p.tail(2)).toBe('line 4\nline 5');
  });

  it('counts an exit nobody asked for, and restarts with the same script and arguments', async () => {
    const p = launch('crash', { args: ['--exit-after', '300', '--exit-code', '3'] });
    const firstPid = p.pid;
    await p.exited();
    expect(p.running).toBe(false);
    expect(p.unexpectedExits).toBe(1);
    expect(p.exit).toEqual({ code: 3, signal: null });

    p.start();
    expect(p.pid).not.toBe(firstPid);
    expect(p.exit).toBeUndefined();
    // The restarted child's first line, not the first child's.
    const url = await p.firstLine();
    await waitForHealth(`${url}/health`, p, 10_000);
    expect(readFileSync(p.logFile, 'utf8').match(/^http:/gm)).toHaveLength(2);
    p.kill();
    await p.exited();
    expect(p.exit).toEqual({ code: null, signal: 'SIGKILL' });
    expect(p.unexpectedExits).toBe(1);
  });

  it('refuses to start a second child while one runs', async () => {
    const p = launch('twice');
    expect(() => p.start()).toThrow(ProcessError);
  });

  it('stops with SIGTERM, and with SIGKILL after the grace period when SIGTERM is ignored', async () => {
    const polite = launch('polite');
    await waitForHealth(`${await polite.firstLine()}/health`, polite, 10_000);
    await polite.stop(5_000);
    expect(polite.exit).toEqual({ code: 0, signal: null });
    expect(polite.unexpectedExits).toBe(0);

    const stubborn = launch('stubborn', { args: ['--ignore-term'] });
    await waitForHealth(`${await stubborn.firstLine()}/health`, stubborn, 10_000);
    const started = Date.now();
    await stubborn.stop(400);
    expect(Date.now() - started).toBeGreaterThanOrEqual(350);
    expect(stubborn.exit).toEqual({ code: null, signal: 'SIGKILL' });
    expect(stubborn.tail()).toContain('SIGTERM ignored');
    expect(stubborn.unexpectedExits).toBe(0);
  });

  it('fails firstLine when the child exits without writing a line', async () => {
    const p = launch('silent', { args: ['--silent', '--exit-after', '100'] });
    await expect(p.firstLine()).rejects.toThrow('silent exited before writing a line');
  });

  it('reads peak and current RSS from /proc', async () => {
    const p = launch('memory', { args: ['--alloc-mb', '64'] });
    await waitForHealth(`${await p.firstLine()}/health`, p, 10_000);
    // In this order: the peak read after the current size cannot be below it.
    const now = rssMb(p.pid);
    const peak = peakRssMb(p.pid);
    expect(peak).toBeGreaterThan(64);
    expect(now).toBeGreaterThan(64);
    expect(peak!).toBeGreaterThanOrEqual(now!);
    await p.stop();
    expect(peakRssMb(p.pid)).toBeNull();
  });
});

describe('waitForHealth', () => {
  it('fails as soon as the process exits, with the end of its log', async () => {
    const p = launch('dies', { args: ['--healthy-after', '60000', '--exit-after', '300'] });
    const started = Date.now();
    const err = await waitForHealth(`${await p.firstLine()}/health`, p, 30_000).catch(
      (e: unknown) => e,
    );
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(err).toBeInstanceOf(ProcessError);
    expect((err as ProcessError).processName).toBe('dies');
    expect((err as Error).message).toContain('dies exited with code 0 during start-up');
    expect((err as Error).message).toContain('line 5');
  });

  it('fails after the timeout with the last answer as the cause', async () => {
    const p = launch('slow', { args: ['--healthy-after', '60000'] });
    const err = await waitForHealth(`${await p.firstLine()}/health`, p, 500).catch(
      (e: unknown) => e,
    );
    expect((err as Error).message).toContain('slow not healthy at');
    expect(((err as Error).cause as Error).message).toMatch(/answered 503$/);
    expect(p.running).toBe(true);
  });
});

describe('children die with the launcher', () => {
  // Should a test fail, its child must not outlive the run.
  const orphans: number[] = [];
  afterEach(() => {
    for (const pid of orphans.splice(0)) if (alive(pid)) process.kill(pid, 'SIGKILL');
  });

  async function runLauncher(how: 'exit' | 'wait', ...childArgs: string[]) {
    const launcher = spawn(process.execPath, [LAUNCHER, FIXTURE, dir, how, ...childArgs], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    launcher.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    await expect.poll(() => out, { timeout: 10_000 }).toMatch(/^\d+\n/);
    const childPid = Number(out.trim());
    orphans.push(childPid);
    return { launcher, childPid };
  }

  it('kills them on a normal exit of the launcher, even one that ignores SIGTERM', async () => {
    const { launcher, childPid } = await runLauncher('exit', '--ignore-term');
    // It may have exited already, before its output was read: then 'exit' never comes again.
    if (launcher.exitCode === null && launcher.signalCode === null) {
      await new Promise((done) => launcher.once('exit', done));
    }
    expect(await gone(childPid, 5_000)).toBe(true);
  });

  it('stops them when the launcher is killed outright', async () => {
    const { launcher, childPid } = await runLauncher('wait');
    expect(alive(childPid)).toBe(true);
    launcher.kill('SIGKILL');
    expect(await gone(childPid, 5_000)).toBe(true);
  });
});

describe('SCRIPTS', () => {
  it('names scripts that exist', () => {
    for (const script of Object.values(SCRIPTS)) {
      expect(() => readFileSync(join(REPO_ROOT, script))).not.toThrow();
    }
  });
});
