/**
 * `npm run bench [-- --json] [--quick] [--phases raw,hop,chain,csv] [--profile]`: how fast the
 * hub runs next to the bus it sits on, on this machine, in one run. See bench/README.md for what
 * each figure means.
 *
 * Everything runs on 127.0.0.1: a fresh nats-server with a temporary store, the KVS simulator,
 * the COA service and the gemeente-kvs service as their own processes, configured from a copy
 * of config/ketenhub.yaml with free ports and random secrets. Every phase has a time limit and
 * the whole run a hard one; every process and the temporary directory are removed at the end,
 * also after a failure or Ctrl-C.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { DEFAULT_LIMITS, REPO_ROOT, connectNats, provisionStreams } from '@ketenhub/kit';
import {
  startLocalNats,
  type LocalNats,
  SCRIPTS,
  launchNode,
  peakRssMb,
  rssMb,
  waitForHealth,
  type ManagedProcess,
} from '@ketenhub/kit/processes';
import type { HopDeps } from './hop.ts';
import { writeBenchConfig, type BenchHub } from './hub-config.ts';
import { waitForConsumersIdle } from './jetstream.ts';
import { kvsSim } from './kvs-sim.ts';
import { startCpuProbe, type Proc } from './cpu.ts';
import { measureRaw } from './raw.ts';
import {
  evaluateTargets,
  machineInfo,
  noiseWarnings,
  renderTable,
  type BenchResult,
} from './report.ts';
import { ratio } from './stats.ts';

const PHASES = ['raw', 'hop', 'chain', 'csv'] as const;
type Phase = (typeof PHASES)[number];

const USAGE = `usage: npm run bench -- [--json] [--quick] [--phases raw,hop,chain,csv] [--profile]
  [--raw-messages 50000] [--hop-messages 20000] [--rate 1000] [--rate-seconds 10]
  [--inburgeraars 10000] [--concurrency 32] [--csv-rows 100000] [--max-seconds 540] [--keep-logs]
  [--node-flags="--max-old-space-size=96 ..."]  extra Node flags for the hub's services`;

function parseCommandLine() {
  try {
    return parseArgs({
      options: {
        json: { type: 'boolean', default: false },
        quick: { type: 'boolean', default: false },
        phases: { type: 'string', default: PHASES.join(',') },
        profile: { type: 'boolean', default: false },
        'node-flags': { type: 'string', default: '' },
        'keep-logs': { type: 'boolean', default: false },
        'raw-messages': { type: 'string' },
        'hop-messages': { type: 'string' },
        rate: { type: 'string' },
        'rate-seconds': { type: 'string' },
        inburgeraars: { type: 'string' },
        concurrency: { type: 'string' },
        'csv-rows': { type: 'string' },
        'max-seconds': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }).values;
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    process.exit(2);
  }
}
const args = parseCommandLine();

if (args.help) {
  console.log(USAGE);
  process.exit(0);
}

function count(name: string, value: string | undefined, full: number, quick: number): number {
  if (value === undefined) return args.quick ? quick : full;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1_000_000) {
    console.error(`--${name} must be a whole number from 1 to 1000000\n${USAGE}`);
    process.exit(2);
  }
  return n;
}

const opts = {
  rawMessages: count('raw-messages', args['raw-messages'], 50_000, 5_000),
  hopMessages: count('hop-messages', args['hop-messages'], 20_000, 2_000),
  rate: count('rate', args.rate, 1_000, 1_000),
  rateSeconds: count('rate-seconds', args['rate-seconds'], 10, 3),
  inburgeraars: count('inburgeraars', args.inburgeraars, 10_000, 500),
  concurrency: count('concurrency', args.concurrency, 32, 32),
  csvRows: count('csv-rows', args['csv-rows'], 100_000, 5_000),
  maxSeconds: count('max-seconds', args['max-seconds'], 540, 540),
};
const phases = new Set(args.phases.split(',').map((p) => p.trim()));
for (const p of phases) {
  if (!(PHASES as readonly string[]).includes(p)) {
    console.error(`unknown phase ${p}\n${USAGE}`);
    process.exit(2);
  }
}
const runs = (p: Phase) => phases.has(p);

// With --json stdout holds only the JSON line, so `npm run bench -- --json | jq` works.
const human = args.json ? process.stderr : process.stdout;
const started = Date.now();
const say = (line: string) =>
  human.write(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${line}\n`);

const tmp = mkdtempSync(join(os.tmpdir(), 'ketenhub-bench-'));
const profileDir = resolve(REPO_ROOT, '.tmp/bench-profiles');
const children: ManagedProcess[] = [];
let nats: LocalNats | undefined;
let nc: NatsConnection | undefined;

const result: Omit<BenchResult, 'targets' | 'seconds' | 'ok' | 'warnings'> = {
  machine: machineInfo('unknown'),
  raw: null,
  hop: null,
  chain: null,
  csv: null,
  rssMb: {},
  rssAtStartMb: {},
};
let failure: string | undefined;

function finish(): BenchResult {
  const full: BenchResult = {
    ...result,
    targets: evaluateTargets(result),
    warnings: noiseWarnings(result),
    seconds: Math.round((Date.now() - started) / 100) / 10,
    ok: failure === undefined,
    ...(failure === undefined ? {} : { error: failure }),
  };
  return full;
}

function emit(full: BenchResult): void {
  human.write(`\n${renderTable(full)}\n\n`);
  process.stdout.write(`${JSON.stringify(full)}\n`);
}

function removeTmp(): void {
  if (args['keep-logs']) {
    human.write(`logs and config kept in ${tmp}\n`);
    return;
  }
  rmSync(tmp, { recursive: true, force: true });
}

/** Last resort when the run exceeds its limit or is interrupted: report, kill, exit. */
function abort(reason: string): never {
  failure ??= reason;
  for (const c of children) {
    result.rssMb[c.name] ??= peakRssMb(c.pid);
    c.kill('SIGKILL');
  }
  // Before the report: the JSON line must stay the last line.
  removeTmp();
  emit(finish());
  // startLocalNats and the kit's launcher kill their children in their exit hooks.
  process.exit(1);
}

const watchdog = setTimeout(
  () => abort(`the run exceeded its limit of ${opts.maxSeconds} s`),
  opts.maxSeconds * 1000,
);
watchdog.unref();
process.once('SIGINT', () => abort('interrupted'));
process.once('SIGTERM', () => abort('terminated'));

/** Every process of the run, for the CPU accounting. */
function procs(): Proc[] {
  return [
    { name: 'bench', pid: process.pid },
    ...(nats ? [{ name: 'nats-server', pid: nats.pid }] : []),
    ...children.map((c) => ({ name: c.name, pid: c.pid })),
  ];
}
const cpu = () => startCpuProbe(procs);

function launch(
  hub: BenchHub,
  name: keyof typeof SCRIPTS,
  { extra = [], service = true }: { extra?: string[]; service?: boolean } = {},
): ManagedProcess {
  const child = launchNode({
    name,
    script: SCRIPTS[name],
    args: extra,
    env: hub.env,
    logDir: tmp,
    nodeFlags: [
      ...(args.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
      // The simulator stands in for a partner: tuning flags are for the hub's own processes.
      ...(service ? args['node-flags'].split(' ').filter((f) => f !== '') : []),
    ],
  });
  children.push(child);
  return child;
}

/** Waits until a child is healthy and notes its memory at rest, before any load. */
async function healthy(child: ManagedProcess, url: string): Promise<void> {
  await waitForHealth(url, child);
  result.rssAtStartMb[child.name] = rssMb(child.pid);
}

async function phase<T>(name: string, timeoutMs: number, run: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      run(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`${name} did not finish within ${timeoutMs / 1000} s`)),
          timeoutMs,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

try {
  // Loaded here, not at the top: the adapters compile the contract schemas when they load, and a
  // broken schema must end in a report with "ok": false, not in a run without a JSON line.
  const { gekoppeldEvents, meanBytes } = await import('./fixtures.ts');
  const { measureHopDrain, measureHopOffered } = await import('./hop.ts');
  const { measureChain } = await import('./chain.ts');
  const { measureCsv } = await import('./csv.ts');
  nats = await startLocalNats();
  nc = await connectNats(nats.url, 'bench');
  result.machine = machineInfo(nc.info?.version ?? 'unknown');
  say(`nats-server ${result.machine.nats} at ${nats.url}, store ${nats.storeDir}`);
  const hub = await writeBenchConfig(tmp, nats.url);
  await provisionStreams(nc, DEFAULT_LIMITS);
  const jsm = await jetstreamManager(nc);
  const sim = kvsSim(hub.kvsSimUrl);

  if (runs('raw')) {
    // The chain event's size, so the bus moves the same bytes in both measurements.
    const sample = gekoppeldEvents(hub.gemeenten, 2000, 'SIZE').map((e) => JSON.stringify(e));
    const messageBytes = meanBytes(sample);
    say(`raw: ${opts.rawMessages} messages of ${messageBytes} bytes`);
    result.raw = await phase('raw', 120_000, () =>
      measureRaw(nc!, {
        messages: opts.rawMessages,
        messageBytes,
        window: 256,
        timeoutMs: 110_000,
      }),
    );
    say(
      `raw: publish ${result.raw.publishPerSec}/s, consume ${result.raw.consumePerSec}/s, ` +
        `bus work of a hop ${result.raw.busWorkPerSec}/s`,
    );
  }

  const needsHub = runs('hop') || runs('chain') || runs('csv');
  const startKvsService = async () => {
    const kvs = launch(hub, 'gemeente-kvs');
    await healthy(kvs, `${hub.kvsOpsUrl}/health`);
  };
  if (needsHub) {
    // Bodies of the largest phase read back at once; the 100,000-row CSV is only counted.
    const maxEvents = Math.max(
      opts.hopMessages,
      opts.rate * opts.rateSeconds,
      3 * opts.inburgeraars,
    );
    const simChild = launch(hub, 'kvs-simulator', {
      service: false,
      extra: [
        '--port',
        String(hub.kvsSimPort),
        '--gemeenten',
        hub.gemeenten.join(','),
        '--max-events',
        String(maxEvents),
      ],
    });
    await healthy(simChild, `${hub.kvsSimUrl}/health`);
  }

  if (runs('hop')) {
    const deps: HopDeps = {
      nc,
      sim,
      gemeenten: hub.gemeenten,
      startService: startKvsService,
      say,
      cpu,
    };
    const drain = await phase('hop drain', 180_000, () =>
      measureHopDrain(deps, { messages: opts.hopMessages, timeoutMs: 170_000 }),
    );
    say(`hop: drained ${drain.delivered}/${drain.messages} at ${drain.perSec}/s`);
    const offered = await phase('hop offered load', 60_000 + opts.rateSeconds * 1000, () =>
      measureHopOffered(deps, {
        ratePerSec: opts.rate,
        seconds: opts.rateSeconds,
        timeoutMs: 45_000,
      }),
    );
    say(`hop: at ${offered.ratePerSec}/s p50 ${offered.p50Ms} ms, p99 ${offered.p99Ms} ms`);
    result.hop = {
      perSec: drain.perSec,
      p50Ms: offered.p50Ms,
      p99Ms: offered.p99Ms,
      ratio: ratio(drain.perSec, result.raw?.consumePerSec ?? null),
      busRatio: ratio(drain.perSec, result.raw?.busWorkPerSec ?? null),
      drain,
      offered,
    };
  } else if (needsHub) {
    await startKvsService();
  }

  if (runs('chain') || runs('csv')) {
    const coa = launch(hub, 'coa');
    await healthy(coa, `${hub.coaOpsUrl}/health`);
    const deps = {
      sim,
      gemeenten: hub.gemeenten,
      coaUrl: hub.coaUrl,
      coaApiKey: hub.coaApiKey,
      say,
      cpu,
    };
    if (runs('chain')) {
      await waitForConsumersIdle(jsm, hub.gemeenten, 30_000);
      result.chain = await phase('chain', 180_000, () =>
        measureChain(deps, {
          inburgeraars: opts.inburgeraars,
          concurrency: opts.concurrency,
          csvShare: 0.3,
          timeoutMs: 170_000,
        }),
      );
      say(
        `chain: ${result.chain.delivered}/${result.chain.events} at ${result.chain.perSec}/s, ` +
          `p50 ${result.chain.p50Ms} ms, p99 ${result.chain.p99Ms} ms`,
      );
    }
    if (runs('csv')) {
      await waitForConsumersIdle(jsm, hub.gemeenten, 30_000);
      result.csv = await phase('csv', 240_000, () =>
        measureCsv(deps, { rows: opts.csvRows, timeoutMs: 230_000 }),
      );
      say(
        `csv: ${result.csv.delivered}/${result.csv.accepted} at the KVS after ${result.csv.deliveredSeconds} s`,
      );
    }
  }
  for (const c of children) result.rssMb[c.name] = peakRssMb(c.pid);
  if (nats) result.rssMb['nats-server'] = peakRssMb(nats.pid);
} catch (err) {
  failure = (err as Error).message;
  say(`FAILED: ${failure}`);
  for (const c of children) {
    result.rssMb[c.name] ??= peakRssMb(c.pid);
    human.write(`--- last lines of ${c.name} ---\n${c.tail()}\n`);
  }
} finally {
  // Services first (they drain their consumers), then the simulator, then the bus.
  for (const c of [...children].reverse()) await c.stop();
  await nc?.close().catch(() => undefined);
  await nats?.stop();
}

const full = finish();
removeTmp();
emit(full);
clearTimeout(watchdog);
process.exitCode = full.ok ? 0 : 1;
