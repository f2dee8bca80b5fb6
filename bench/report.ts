/**
 * What a bench run reports: the machine, each figure, and the targets of issue 7 with whether
 * they were met. One table for people, one JSON line for scripts; both come from the same
 * BenchResult, so they cannot disagree.
 */
import os from 'node:os';
import type { ChainResult } from './chain.ts';
import type { CoresUsed } from './cpu.ts';
import type { CsvResult } from './csv.ts';
import type { HopDrainResult, HopOfferedResult } from './hop.ts';
import type { RawResult } from './raw.ts';

export interface Machine {
  cores: number;
  cpu: string;
  memoryGb: number;
  os: string;
  node: string;
  nats: string;
  /** Load average over the minute before the run: other work on the machine skews figures. */
  loadAvg1m: number;
}

export function machineInfo(natsVersion: string): Machine {
  return {
    cores: os.availableParallelism(),
    cpu: os.cpus()[0]?.model.replace(/\s+/g, ' ').trim() ?? 'unknown',
    memoryGb: Math.round(os.totalmem() / 1024 ** 3),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    nats: natsVersion,
    loadAvg1m: Math.round(os.loadavg()[0]! * 100) / 100,
  };
}

export interface HopResult {
  /** Drain rate of the delivery service, msgs/s. */
  perSec: number | null;
  /** Latency per hop at the offered load. */
  p50Ms: number | null;
  p99Ms: number | null;
  /** perSec over the raw pull-consume rate. */
  ratio: number | null;
  /** perSec over the rate of the hop's JetStream work alone (raw.busWorkPerSec). */
  busRatio: number | null;
  drain: HopDrainResult;
  offered: HopOfferedResult | null;
}

export interface Target {
  name: string;
  target: string;
  value: number | null;
  unit: string;
  /** Null when the figure was not measured (a phase skipped or failed). */
  met: boolean | null;
}

export interface BenchResult {
  machine: Machine;
  raw: RawResult | null;
  hop: HopResult | null;
  chain: ChainResult | null;
  csv: CsvResult | null;
  /** Peak resident set size (VmHWM) per process, MB. */
  rssMb: Record<string, number | null>;
  /** Resident set size once healthy, before any load, MB: the runtime's own share. */
  rssAtStartMb: Record<string, number | null>;
  targets: Target[];
  /** Phases during which processes outside the bench used a noticeable share of the cores. */
  warnings: string[];
  seconds: number;
  /** False when a phase failed or the run hit its time limit. */
  ok: boolean;
  error?: string;
}

export const RSS_SERVICES = ['coa', 'gemeente-kvs'] as const;

function atLeast(value: number | null, min: number): boolean | null {
  return value === null ? null : value >= min;
}

function atMost(value: number | null, max: number): boolean | null {
  return value === null ? null : value <= max;
}

/** The targets of issue 7, checked against this run's figures. */
export function evaluateTargets(r: Pick<BenchResult, 'hop' | 'chain' | 'csv' | 'rssMb'>): Target[] {
  const offeredRate = r.hop?.offered?.ratePerSec ?? 1000;
  const rows = r.csv?.rows ?? 100_000;
  const targets: Target[] = [
    {
      name: 'one hop vs raw JetStream consume',
      target: '≥ 0.50',
      value: r.hop?.ratio ?? null,
      unit: '×',
      met: atLeast(r.hop?.ratio ?? null, 0.5),
    },
    {
      name: 'chain events/s',
      target: '≥ 2,000',
      value: r.chain?.perSec ?? null,
      unit: '/s',
      met: atLeast(r.chain?.perSec ?? null, 2000),
    },
    {
      name: `hop p99 at ${offeredRate.toLocaleString('en')} msgs/s`,
      target: '≤ 20 ms',
      value: r.hop?.p99Ms ?? null,
      unit: 'ms',
      met: atMost(r.hop?.p99Ms ?? null, 20),
    },
    {
      name: `CSV of ${rows.toLocaleString('en')} rows delivered`,
      target: '≤ 60 s',
      value: r.csv?.deliveredSeconds ?? null,
      unit: 's',
      met: atMost(r.csv?.deliveredSeconds ?? null, 60),
    },
  ];
  for (const service of RSS_SERVICES) {
    const value = r.rssMb[service] ?? null;
    targets.push({
      name: `peak RSS ${service}`,
      target: '≤ 150 MB',
      value,
      unit: 'MB',
      met: atMost(value, 150),
    });
  }
  return targets;
}

/** Cores used by processes outside the run above which a phase's figures are suspect. */
const NOISE_CORES = 0.2;

export function noiseWarnings(r: Pick<BenchResult, 'hop' | 'chain' | 'csv'>): string[] {
  const phases: [string, CoresUsed | undefined][] = [
    ['hop drain', r.hop?.drain.cores],
    ['hop offered load', r.hop?.offered?.cores],
    ['chain', r.chain?.cores],
    ['csv', r.csv?.cores],
  ];
  return phases
    .filter(([, cores]) => (cores?.other ?? 0) > NOISE_CORES)
    .map(
      ([name, cores]) =>
        `${name}: other processes on the machine used ${cores!.other!.toFixed(2)} cores`,
    );
}

function num(value: number | null | undefined, unit = ''): string {
  if (value === null || value === undefined) return '–';
  return `${value.toLocaleString('en')}${unit}`;
}

/** `gemeente-kvs 0.95, nats-server 0.41, …` busiest first: which process was the limit. */
export function coresText(cores: CoresUsed | undefined, digits = 2): string {
  if (!cores) return '';
  return Object.entries(cores)
    .sort((a, b) => b[1] - a[1])
    .map(([name, used]) => `${name} ${used.toFixed(digits)}`)
    .join(', ');
}

function table(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((row) =>
    row
      .map((c, i) => (i === 0 || i === 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
}

export function renderTable(r: BenchResult): string {
  const m = r.machine;
  const lines = [
    `Ketenhub bench: ${m.cores} cores (${m.cpu}), ${m.memoryGb} GB, ${m.os}`,
    `Node ${m.node}, nats-server ${m.nats}, load ${m.loadAvg1m} before the run; ${r.seconds} s${r.ok ? '' : ` — INCOMPLETE: ${r.error ?? 'failed'}`}`,
    '',
  ];
  const rows: string[][] = [['', 'figure', 'value', 'detail']];
  const raw = r.raw;
  rows.push(
    [
      'raw',
      'JetStream publish (async, acked)',
      num(raw?.publishPerSec, '/s'),
      raw ? `${raw.messages} × ${raw.messageBytes} B, ${raw.publishWindow} in flight` : '',
    ],
    ['raw', 'JetStream pull consume (explicit ack)', num(raw?.consumePerSec, '/s'), ''],
    [
      'raw',
      "JetStream work of a hop, hub's code left out",
      num(raw?.busWorkPerSec, '/s'),
      raw ? 'pull + 2 acked log publishes + ack, 48 in flight' : '',
    ],
  );
  const hop = r.hop;
  rows.push(
    [
      'hop',
      'gemeente-kvs drain',
      num(hop?.perSec, '/s'),
      hop
        ? `${hop.drain.delivered}/${hop.drain.messages} delivered; ${num(hop.ratio)} × raw consume, ` +
          `${num(hop.busRatio)} × its JetStream work`
        : '',
    ],
    ['hop', '  cores used while draining', '', coresText(hop?.drain.cores)],
    ['hop', '  CPU µs per message', '', coresText(hop?.drain.cpuUsPerMessage, 0)],
    [
      'hop',
      `latency at ${num(hop?.offered?.ratePerSec)}/s offered p50 / p99`,
      `${num(hop?.p50Ms)} / ${num(hop?.p99Ms, ' ms')}`,
      hop?.offered
        ? `${hop.offered.delivered}/${hop.offered.messages} delivered, max ${num(hop.offered.maxMs, ' ms')}`
        : '',
    ],
    ['hop', '  cores used at the offered load', '', coresText(hop?.offered?.cores)],
  );
  const c = r.chain;
  rows.push(
    [
      'chain',
      'cohort, partner in → partner out',
      num(c?.perSec, '/s'),
      c
        ? `${c.delivered}/${c.events} events of ${c.inburgeraars} inburgeraars in ${c.seconds} s`
        : '',
    ],
    ['chain', '  cores used', '', coresText(c?.cores)],
    ['chain', '  CPU µs per event', '', coresText(c?.cpuUsPerEvent, 0)],
    ['chain', 'latency p50 / p99', `${num(c?.p50Ms)} / ${num(c?.p99Ms, ' ms')}`, ''],
  );
  if (c) {
    for (const [flow, s] of Object.entries(c.flows)) {
      if (s.count === 0) continue;
      rows.push([
        'chain',
        `  ${flow} p50 / p99`,
        `${num(s.p50Ms)} / ${num(s.p99Ms, ' ms')}`,
        `${s.count} events`,
      ]);
    }
  }
  const csv = r.csv;
  rows.push([
    'csv',
    `TVS export of ${num(csv?.rows)} rows, upload → last at KVS`,
    num(csv?.deliveredSeconds, ' s'),
    csv
      ? `${csv.csvMb} MB, hub answered after ${num(csv.uploadSeconds, ' s')}, ${num(csv.rowsPerSec, ' rows/s')}`
      : '',
  ]);
  rows.push(['csv', '  cores used', '', coresText(csv?.cores)]);
  rows.push(['csv', '  CPU µs per row', '', coresText(csv?.cpuUsPerRow, 0)]);
  for (const [name, mb] of Object.entries(r.rssMb)) {
    const atStart = r.rssAtStartMb[name];
    rows.push([
      'rss',
      `peak ${name}`,
      num(mb, ' MB'),
      atStart === undefined ? '' : `${num(atStart, ' MB')} once started, before load`,
    ]);
  }
  lines.push(...table(rows));
  if (r.warnings.length > 0) {
    lines.push('', 'figures disturbed by other work on this machine (see cores used):');
    for (const w of r.warnings) lines.push(`  ${w}`);
  }
  lines.push('', 'targets (issue 7)');
  lines.push(
    ...table(
      r.targets.map((t) => [
        t.met === null ? '  n/a ' : t.met ? '  met ' : 'MISSED',
        t.name,
        num(t.value, t.unit === '×' ? '' : ` ${t.unit}`.replace(' /s', '/s')),
        t.target,
      ]),
    ),
  );
  return lines.join('\n');
}
