import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseCli } from './cli.ts';
import { spawnMain } from './testing.ts';

const FIXTURE = fileURLToPath(new URL('./cli-fixture.ts', import.meta.url));

function run(args: string[]) {
  const child = spawn(process.execPath, [FIXTURE, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exit = once(child, 'exit').then(([code]) => ({
    code: code as number | null,
    stdout,
    stderr,
  }));
  return { child, exit };
}

describe('runSimulatorMain', () => {
  // Each case starts a node process that loads the kit: seconds on a busy machine.
  it('prints the URL as the first stdout line, serves, and exits 0 on SIGTERM', async () => {
    const main = await spawnMain(FIXTURE, ['--port', '0', '--greeting', 'hoi']);
    const url = main.firstLine;
    try {
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(await (await fetch(`${url}/_sim/stats`)).json()).toEqual({ greeting: 'hoi' });
    } finally {
      expect(await main.stop()).toBe(0);
    }
    expect(main.stdout()).toBe(`${url}\n`);
  }, 30_000);

  it('logs at info with --verbose, on stderr', async () => {
    const { child, exit } = run(['--port', '0', '--verbose']);
    await once(child.stdout, 'data');
    child.kill('SIGTERM');
    const { code, stderr } = await exit;
    expect(code).toBe(0);
    expect(stderr).toContain('fixture-simulator: starting');
  }, 30_000);

  it('exits 2 with the usage on a bad option, a bad port or a start that throws', async () => {
    const cases = [['--nope'], ['--port', 'x'], ['--port', '70000'], ['--fail-start']];
    const results = await Promise.all(cases.map((args) => run(args).exit));
    for (const [i, { code, stdout, stderr }] of results.entries()) {
      expect(code, cases[i]!.join(' ')).toBe(2);
      expect(stdout).toBe('');
      expect(stderr).toMatch(/^fixture-simulator: .+\nusage: cli-fixture\.ts/);
    }
    expect(results[3]!.stderr).toContain('no such gemeente');
  }, 30_000);

  it('answers --help with the usage and exit 0', async () => {
    const { code, stderr } = await run(['--help']).exit;
    expect(code).toBe(0);
    expect(stderr).toMatch(/^usage: cli-fixture\.ts/);
  }, 30_000);
});

describe('parseCli', () => {
  const options = {
    size: { type: 'string' },
    'key-env': { type: 'string' },
    quiet: { type: 'boolean', default: false },
  } as const;

  it('reads options, whole numbers and secrets named by an option', () => {
    process.env.CLI_TEST_KEY = 'geheim';
    try {
      const cli = parseCli({
        name: 'x',
        usage: 'usage: x',
        options,
        args: ['--size', '12', '--key-env', 'CLI_TEST_KEY', '--quiet'],
      });
      expect(cli.values.quiet).toBe(true);
      expect(cli.integer('size', 5, { max: 20 })).toBe(12);
      expect(cli.fromEnv('key-env')).toBe('geheim');
      const none = parseCli({ name: 'x', usage: 'usage: x', options, args: [] });
      expect(none.integer('size', 5)).toBe(5);
      expect(none.fromEnv('key-env')).toBeUndefined();
      const unset = parseCli({
        name: 'x',
        usage: 'u',
        options,
        args: ['--key-env', 'CLI_TEST_NONE'],
      });
      expect(unset.fromEnv('key-env', { optional: true })).toBeUndefined();
    } finally {
      delete process.env.CLI_TEST_KEY;
    }
  });
});
