import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { connect } from '@nats-io/transport-node';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCohort } from '@ketenhub/simulator-coa';
import { startTestNats, type TestNats } from '../harness/index.ts';

/**
 * The privacy scan of a whole demo run (issues "DUO", "AVG", "Kredietbank and taalaanbieder"):
 * the demo cohort goes through every flow, as real processes, and not one BSN, V-nummer or name
 * of the cohort, nor an IBAN, appears in a log line, a metric, a NATS subject or a NATS header.
 */
const run = promisify(execFile);

/** Whether `count` ports from `first` on can all be listened on now. */
async function consecutiveFree(first: number, count: number): Promise<boolean> {
  for (let p = first; p < first + count; p++) {
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(p, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (!free) return false;
  }
  return true;
}
/**
 * Free ports below Linux's ephemeral range (32768 and up), each handed out once: a port the OS
 * picks for us there may meanwhile be taken as the local port of some outgoing connection before
 * our process binds it (it happened: EADDRINUSE at the admin API's start).
 */
const taken = new Set<number>();
async function listenablePort(count = 1): Promise<number> {
  for (;;) {
    const first = 20_000 + Math.floor(Math.random() * 12_000);
    const range = Array.from({ length: count }, (_, i) => first + i);
    if (range.some((p) => taken.has(p)) || !(await consecutiveFree(first, count))) continue;
    for (const p of range) taken.add(p);
    return first;
  }
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SEED = 11;
const SIZE = 30;

let nats: TestNats;
let state: string;

beforeAll(async () => {
  nats = await startTestNats();
  state = mkdtempSync(join(tmpdir(), 'ketenhub-demo-'));
});
afterAll(async () => {
  await nats?.stop();
  if (state) rmSync(state, { recursive: true, force: true });
});

describe('a demo run leaks no personal data', () => {
  it('keeps BSNs, V-nummers and names out of logs, metrics, subjects and headers', async () => {
    // The shipped config on free ports, so the test never meets a running `npm start`.
    const config = parse(readFileSync(join(ROOT, 'config/ketenhub.yaml'), 'utf8')) as Record<
      string,
      any
    >;
    const port = () => listenablePort();
    for (const s of ['coa', 'gemeente-kvs', 'duo', 'admin', 'kredietbank', 'taalaanbieder']) {
      config.services[s].port = await port();
      config.services[s].opsPort = await port();
    }
    config.simulators['gemeente-kvs'].port = await port();
    config.simulators.duo.port = await port();
    config.simulators.kredietbank.port = await port();
    // The school simulators take consecutive ports from here.
    const schools = config.partners.taalaanbieder.organisations as { id: string }[];
    const first = await listenablePort(schools.length);
    config.simulators.taalaanbieder.port = first;
    config.nats.storeDir = join(state, 'nats');
    const configFile = join(state, 'ketenhub.yaml');
    writeFileSync(configFile, stringify(config));
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      KETENHUB_CONFIG: configFile,
      KETENHUB_STATE_DIR: state,
      KETENHUB_DEMO_METRICS_OUT: join(state, 'metrics.txt'),
      NATS_URL: nats.url,
      DUO_BASE_URL: `http://127.0.0.1:${config.simulators.duo.port}/v1`,
      KREDIETBANK_BASE_URL: `http://127.0.0.1:${config.simulators.kredietbank.port}/v1`,
      LOG_LEVEL: 'debug',
    };
    for (const [i, t] of schools.entries()) {
      env[`TAALAANBIEDER_${t.id.toUpperCase().replace(/-/g, '_')}_URL`] =
        `http://127.0.0.1:${first + i}`;
    }
    for (const g of config.gemeenten as { code: string }[]) {
      env[`KVS_URL_${g.code.toUpperCase()}`] =
        `http://127.0.0.1:${config.simulators['gemeente-kvs'].port}/gemeenten/${g.code}/events`;
    }

    // Every subject and header that crosses NATS during the run.
    const nc = await connect({ servers: nats.url });
    const wire: string[] = [];
    const sub = nc.subscribe('>');
    void (async () => {
      for await (const m of sub) {
        wire.push(m.subject);
        if (m.headers) for (const [k, v] of m.headers) wire.push(`${k}: ${v.join(',')}`);
      }
    })();

    const { stdout } = await run(
      process.execPath,
      [
        join(ROOT, 'scripts/demo.ts'),
        '--inburgeraars',
        String(SIZE),
        '--seed',
        String(SEED),
        '--json',
      ],
      { env, cwd: ROOT, timeout: 150_000, maxBuffer: 32 * 1024 * 1024 },
    );
    await nc.drain();
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
      flows: { flow: string; lost: number; duplicates: number }[];
      sampleBsn?: string;
    };
    // The demo's own flows, then one per registered module it does not drive itself (one
    // written by new:partner).
    expect(result.flows.map((f) => f.flow).slice(0, 8)).toEqual([
      'coa>kvs',
      'duo>kvs',
      'kvs>duo',
      'kvs>taalaanbieder',
      'taalaanbieder>kvs',
      'taalaanbieder>duo',
      'kvs>kredietbank',
      'kredietbank>kvs',
    ]);
    // The drivers of the woningcorporatie and VluchtelingenWerk take the cohort through housing,
    // begeleiding and the PVT.
    expect(result.flows.map((f) => f.flow)).toEqual(
      expect.arrayContaining([
        'kvs>woningcorporatie',
        'woningcorporatie>kvs',
        'kvs>vluchtelingenwerk',
        'vluchtelingenwerk>kvs',
      ]),
    );
    for (const f of result.flows) expect(f, f.flow).toMatchObject({ lost: 0, duplicates: 0 });

    const cohort = generateCohort({
      size: SIZE,
      seed: SEED,
      gemeenten: (config.gemeenten as { code: string; naam: string }[]).map((g) => ({
        code: g.code.slice(2),
        naam: g.naam,
      })),
    });
    expect(cohort.persons.some((p) => p.bsn === result.sampleBsn)).toBe(true);
    const personal = new Set<string>();
    for (const k of cohort.koppelingen) {
      if (k.persoon.bsn) personal.add(k.persoon.bsn);
      personal.add(k.persoon.vNummer);
      personal.add(k.persoon.vNummer.padStart(10, '0'));
      for (const name of [k.persoon.achternaam, k.persoon.voornamen])
        if (name.length >= 4) personal.add(name);
    }

    const logs = readdirSync(join(state, 'logs')).map((f) =>
      readFileSync(join(state, 'logs', f), 'utf8'),
    );
    const metrics = readFileSync(join(state, 'metrics.txt'), 'utf8');
    expect(logs.join('').length).toBeGreaterThan(1000);
    expect(metrics).toContain('ketenhub_messages_total');
    expect(wire.length).toBeGreaterThan(100);
    const places = { logs: logs.join('\n'), metrics, 'subjects and headers': wire.join('\n') };
    for (const [where, text] of Object.entries(places)) {
      expect(
        [...personal].filter((p) => text.includes(p)),
        where,
      ).toEqual([]);
      // The clients' (and creditors') account numbers of the ontzorgen part.
      expect(text.match(/NL[0-9]{2}[A-Z]{4}[0-9]{10}/g) ?? [], where).toEqual([]);
    }
  }, 180_000);
});
