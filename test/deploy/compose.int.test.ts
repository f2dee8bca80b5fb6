/**
 * deploy/compose.yaml without a container engine: every Node process of the file (provisioning,
 * the services, the simulators) runs as compose would run it, from its own command, with exactly
 * the environment compose gives it from a filled-in deploy/.env and the mounted
 * compose/ketenhub.yaml, in dependency order, each awaited by its own healthcheck command. What
 * differs, and only so it runs on one host next to other tests:
 *
 * - one local nats-server with deploy/nats/permissions.conf and the passwords compose gives the
 *   NATS containers, instead of the three nodes (so `streams.replicas` is 1);
 * - each compose service name is 127.0.0.1 and each container port a free port, in the
 *   commands, the healthchecks and the config alike.
 *
 * Then DUO (its simulator) sends a notification that must reach the KVS (simulator) through the
 * duo and gemeente-kvs services, the admin API answers the administrator's key, every process
 * stays within compose's memory limit, and the server logged no permission violation.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { REPO_ROOT } from '@ketenhub/kit';
import { getFreePort, startLocalNats, type LocalNats } from '@ketenhub/kit/processes';
import {
  PERMISSIONS,
  composeEnvironment,
  readCompose,
  readComposeConfig,
  readEnvExample,
  serviceNames,
  standInDotenv,
  type ComposeService,
} from './manifests.ts';

const compose = readCompose();
const dotenv = standInDotenv(compose, readEnvExample());
const NATS_NODES = Object.keys(compose.services).filter((n) => /^nats-\d$/.test(n));
/** What runs here: every service of the file but the NATS nodes. */
const PROCESSES = Object.keys(compose.services).filter((n) => !NATS_NODES.includes(n));

/** compose service → container port → the free host port it gets here. */
const ports = new Map<string, Map<number, number>>();
let dir: string;
let nats: LocalNats;
let serverLog: string;
const children = new Map<string, ChildProcess>();
const output = new Map<string, string>();
const savedEnv: Record<string, string | undefined> = {};

/** `http://<service>:<port>` → `http://127.0.0.1:<free port>`, wherever it appears. */
function rewriteUrls(text: string): string {
  return text.replace(/http:\/\/([a-z0-9-]+):(\d+)/g, (whole, host: string, port: string) => {
    const mapped = ports.get(host)?.get(Number(port));
    return mapped ? `http://127.0.0.1:${mapped}` : whole;
  });
}

/** A command of `service` with its ports and listen address as they are here. */
function rewriteCommand(service: string, cmd: string[]): string[] {
  return cmd.map((arg, i) => {
    if (cmd[i - 1] === '--host' && arg === '0.0.0.0') return '127.0.0.1';
    if (cmd[i - 1] === '--port') return String(ports.get(service)?.get(Number(arg)) ?? arg);
    // The healthchecks fetch http://127.0.0.1:<container port>/… inside the container.
    return rewriteUrls(arg).replace(/http:\/\/127\.0\.0\.1:(\d+)\//g, (whole, port: string) => {
      const mapped = ports.get(service)?.get(Number(port));
      return mapped ? `http://127.0.0.1:${mapped}/` : whole;
    });
  });
}

/** compose/ketenhub.yaml with R1 streams, loopback hosts and this host's ports. */
function hostConfig(): string {
  const config = parse(readComposeConfig()) as {
    streams: { replicas: number };
    services: Record<string, { host?: string; port?: number; opsPort?: number }>;
  };
  config.streams.replicas = 1;
  for (const [name, s] of Object.entries(config.services)) {
    s.host = '127.0.0.1';
    for (const key of ['port', 'opsPort'] as const) {
      const mapped = s[key] === undefined ? undefined : ports.get(name)?.get(s[key]);
      if (s[key] !== undefined) {
        if (mapped === undefined) throw new Error(`services.${name}.${key} is not published`);
        s[key] = mapped;
      }
    }
  }
  return rewriteUrls(stringify(config));
}

/** The environment of `service` here: compose's, with this host's NATS and config file. */
function environmentOf(service: ComposeService, configFile: string): Record<string, string> {
  const env = composeEnvironment(service, dotenv);
  if (env.NATS_URL !== undefined) env.NATS_URL = nats.url;
  if (env.KETENHUB_CONFIG !== undefined) env.KETENHUB_CONFIG = configFile;
  return env;
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Whether `node <args>` exits 0 within the healthcheck's timeout (3 s). */
const succeeds = (args: string[]) =>
  new Promise<boolean>((resolve) => {
    execFile(process.execPath, args, { timeout: 3_000 }, (err) => resolve(err === null));
  });

/** Runs a healthcheck command of the file until it succeeds. */
async function healthy(name: string, timeoutMs = 40_000): Promise<void> {
  const test = compose.services[name]!.healthcheck!.test!;
  expect(test[0]).toBe('CMD');
  const [bin, ...args] = rewriteCommand(name, test.slice(1));
  expect(bin).toBe('node');
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const child = children.get(name)!;
    if (child.exitCode !== null) {
      throw new Error(`${name} exited with ${child.exitCode}:\n${output.get(name)}`);
    }
    if (await succeeds(args)) return;
    await delay(250);
  }
  throw new Error(`${name} not healthy within ${timeoutMs} ms:\n${output.get(name)}`);
}

async function exited(name: string, timeoutMs = 40_000): Promise<number | null> {
  const child = children.get(name)!;
  if (child.exitCode !== null) return child.exitCode;
  return await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} still running`)), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

/** Each service started once its depends_on conditions hold, as compose starts them. */
function startAll(configFile: string): Promise<void[]> {
  const done = new Map<string, Promise<void>>();
  const start = (name: string): Promise<void> => {
    if (done.has(name)) return done.get(name)!;
    const service = compose.services[name]!;
    const p = (async () => {
      await Promise.all(
        Object.entries(service.depends_on ?? {})
          .filter(([dep]) => !NATS_NODES.includes(dep))
          .map(async ([dep, { condition }]) => {
            await start(dep);
            if (condition === 'service_completed_successfully') {
              expect(await exited(dep), `${dep}:\n${output.get(dep)}`).toBe(0);
            } else {
              expect(condition).toBe('service_healthy');
              await healthy(dep);
            }
          }),
      );
      const [bin, ...args] = rewriteCommand(name, service.command!);
      expect(bin).toBe('node');
      const child = spawn(process.execPath, args, {
        cwd: REPO_ROOT,
        env: environmentOf(service, configFile),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      output.set(name, '');
      const keep = (chunk: Buffer) => output.set(name, (output.get(name)! + chunk).slice(-8000));
      child.stdout!.on('data', keep);
      child.stderr!.on('data', keep);
      children.set(name, child);
    })();
    done.set(name, p);
    return p;
  };
  return Promise.all(PROCESSES.map(start));
}

/** Resident memory of a process in MB, from /proc. */
function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)![1]) / 1024;
}

const url = (service: string, port: number) => `http://127.0.0.1:${ports.get(service)!.get(port)!}`;

beforeAll(async () => {
  for (const [name, s] of Object.entries(compose.services)) {
    const mapped = new Map<number, number>();
    for (const p of s.ports ?? []) mapped.set(Number(p.split(':')[2]), await getFreePort());
    ports.set(name, mapped);
  }
  dir = mkdtempSync(join(tmpdir(), 'ketenhub-compose-'));
  const configFile = join(dir, 'ketenhub.yaml');
  writeFileSync(configFile, hostConfig());

  // nats-server reads the passwords from its environment: what compose gives the NATS nodes.
  const natsEnv = composeEnvironment(compose.services[NATS_NODES[0]!]!, dotenv);
  for (const [k, v] of Object.entries(natsEnv)) {
    savedEnv[k] = process.env[k];
    process.env[k] = v;
  }
  serverLog = join(dir, 'nats.log');
  const conf = join(dir, 'nats.conf');
  writeFileSync(conf, `logfile: "${serverLog}"\n${readFileSync(PERMISSIONS, 'utf8')}`);
  nats = await startLocalNats({ configFile: conf });

  await startAll(configFile);
  for (const name of PROCESSES) {
    if (compose.services[name]!.restart === 'no') expect(await exited(name)).toBe(0);
    else await healthy(name);
  }
}, 180_000);

afterAll(async () => {
  await Promise.all(
    [...children.values()].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
          child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
  await nats?.stop();
  for (const [k, v] of Object.entries(savedEnv)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('deploy/compose.yaml, run without an engine', () => {
  it('starts every process of the file: provisioning done, every other one healthy', () => {
    expect(children.get('provision')?.exitCode).toBe(0);
    for (const name of serviceNames()) expect(children.get(name)?.exitCode, name).toBeNull();
    for (const name of PROCESSES) {
      if (compose.services[name]!.restart !== 'no') {
        expect(children.get(name)?.exitCode, `${name}:\n${output.get(name)}`).toBeNull();
      }
    }
  });

  it("carries DUO's notification to the KVS through the duo and gemeente-kvs services", async () => {
    const duo = url('duo-simulator', 4320);
    const kvs = url('kvs-simulator', 4310);
    const bsn = '999990019';
    const post = (path: string, body: unknown) =>
      fetch(`${duo}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect(
      (await post('/_sim/personen', { bsn, gemeentecode: '0797', replace: true })).status,
    ).toBe(201);
    expect((await post('/_sim/notify', { bsn, gebeurtenisId: 'SS101' })).status).toBe(202);
    const type = 'nl.inburgering.inburgeringsplicht.gewijzigd';
    const until = Date.now() + 30_000;
    let events: unknown[] = [];
    while (Date.now() < until && events.length === 0) {
      const res = await fetch(`${kvs}/_sim/gemeenten/gm0797/events?type=${type}`);
      events = ((await res.json()) as { events?: unknown[] }).events ?? [];
      if (events.length === 0) await delay(250);
    }
    expect(events.length, output.get('duo')).toBeGreaterThan(0);
    // The notification was accepted with DUO's key: the simulator's key matched the hash.
    const notes = (await (await fetch(`${duo}/_sim/notifications?bsn=${bsn}`)).json()) as {
      notifications: { outcome?: string }[];
    };
    expect(notes.notifications.map((n) => n.outcome)).toContain('delivered');
  }, 60_000);

  it("answers the administrator's key at the admin API, and only that key", async () => {
    const admin = url('admin', 4309);
    const ok = await fetch(`${admin}/api/flows`, {
      headers: { authorization: `Bearer ${dotenv.KETENHUB_ADMIN_API_KEY}` },
    });
    expect(ok.status, await ok.text()).toBe(200);
    const wrong = await fetch(`${admin}/api/flows`, {
      headers: { authorization: `Bearer ${dotenv.KETENHUB_DUO_API_KEY}` },
    });
    expect(wrong.status).toBe(401);
  });

  it("keeps every process within compose's memory limit", () => {
    for (const name of PROCESSES) {
      const child = children.get(name)!;
      if (child.exitCode !== null) continue;
      const limit = parseInt(compose.services[name]!.deploy!.resources!.limits!.memory!, 10);
      expect(rssMb(child.pid!), name).toBeLessThan(limit);
    }
  });

  it('runs every process within its NATS permissions: no violation in the server log', () => {
    const violations = readFileSync(serverLog, 'utf8')
      .split('\n')
      .filter((line) => /Violation/.test(line));
    expect(violations).toEqual([]);
  });
});
