import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseCli } from './cli.ts';
import { spawnMain } from './testing.ts';

const FIXTURE = fileURLToPath(new URL('./cli-fixture.ts', import.meta.url));

function run(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const child = spawn(process.execPath, [FIXTURE, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
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
      expect(await (await fetch(`${url}/_sim/stats`)).json()).toEqual({
        received: 0,
        duplicates: 0,
        greeting: 'hoi',
      });
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

  it('reads what no flag gives from the hub configuration in KETENHUB_CONFIG; flags win', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sim-cli-'));
    try {
      const config = join(dir, 'hub.yaml');
      // JSON is YAML: the loader reads it as the shipped file.
      writeFileSync(
        config,
        JSON.stringify({
          hub: { oin: '00000001234567890000', pseudonymKey: 'k'.repeat(32) },
          nats: { url: 'nats://127.0.0.1:4222' },
          gemeenten: [{ code: 'gm0797', naam: 'Heusden', oin: '00000001000797000000' }],
          partners: {
            fixture: {
              organisations: [
                {
                  id: 'school-a',
                  endpoint: { url: 'http://127.0.0.1:1', token: 'token-a' },
                  credential: { apiKey: '${FIXTURE_KEY}' },
                },
              ],
            },
          },
          services: { fixture: { port: 4306 } },
        }),
      );
      const env = { ...process.env, KETENHUB_CONFIG: config, FIXTURE_KEY: 'sleutel-a-0123456789' };
      const main = await spawnMain(FIXTURE, ['--port', '0', '--organisation', 'school-a'], { env });
      const flagged = await spawnMain(
        FIXTURE,
        ['--port', '0', '--organisation', 'school-a', '--hub-url', 'http://hub.example'],
        { env },
      );
      try {
        expect(await (await fetch(`${main.firstLine}/_sim/stats`)).json()).toMatchObject({
          organisation: 'school-a',
          hubUrl: 'http://127.0.0.1:4306',
          token: 'token-a',
          apiKey: 'sleutel-a-0123456789',
        });
        expect(await (await fetch(`${flagged.firstLine}/_sim/stats`)).json()).toMatchObject({
          hubUrl: 'http://hub.example',
        });
      } finally {
        expect(await main.stop()).toBe(0);
        expect(await flagged.stop()).toBe(0);
      }
      // An organisation the configuration does not have is a usage error.
      const { code, stderr } = await run(['--port', '0', '--organisation', 'school-z'], env).exit;
      expect(code).toBe(2);
      expect(stderr).toContain(
        '--organisation school-z: not one of partners.fixture.organisations (school-a)',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
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
