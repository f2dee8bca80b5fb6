/**
 * The COA simulator on the command line: generates a cohort and pushes it into the hub.
 *
 *   node simulators/coa/src/main.ts --inburgeraars 50 --seed 7 --url http://127.0.0.1:4301
 *
 * The API key is read from an environment variable (KETENHUB_COA_API_KEY unless
 * --api-key-env names another) so it stays out of the process list. Exit 0 when the hub
 * accepted everything, 1 when it rejected something, 2 on a usage error.
 */

import { writeFileSync } from 'node:fs';
import { parseCli } from '@ketenhub/simulator-kit';
import { generateCohort, summarizeCohort } from './cohort.ts';
import type { Cohort, CohortSummary, Gemeente } from './cohort.ts';
import { sendCohort } from './sender.ts';
import type { SendReport } from './sender.ts';
import { toTvsCsv } from './tvs-csv.ts';

const DEFAULT_GEMEENTEN = "0797:Heusden,0796:'s-Hertogenbosch,0865:Vught";

const USAGE = `usage: main.ts --inburgeraars 50 [--seed 7] --url http://127.0.0.1:4301
               [--api-key-env KETENHUB_COA_API_KEY] [--csv-share 0.3] [--concurrency 8]
               [--gemeenten "${DEFAULT_GEMEENTEN}"] [--start-date 2026-09-01]
               [--id-prefix D7] [--csv-out koppelingen.csv] [--json] [--dry-run]
  --dry-run   generate and summarise only; nothing is sent (--url not needed)
  --csv-out   also write every koppeling of the cohort as a TVS export (BOM, CRLF)
  --json      print one JSON line instead of the summary`;

function parseGemeenten(value: string): Gemeente[] {
  return value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map((part) => {
      const colon = part.indexOf(':');
      const code = (colon < 0 ? part : part.slice(0, colon)).trim();
      const naam = colon < 0 ? code : part.slice(colon + 1).trim();
      if (!/^[0-9]{4}$/.test(code)) fail(`gemeente '${part}' must look like 0797:Heusden`);
      return { code, naam };
    });
}

function numberArg(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) fail(`--${name} must be a number`);
  return n;
}

function percent(share: number): string {
  return `${Math.round(share * 1000) / 10}%`;
}

function summaryLines(
  seed: number,
  s: CohortSummary,
  gemeenten: Gemeente[],
  report?: SendReport,
  url?: string,
): string[] {
  const lines = [
    `cohort seed ${seed}: ${s.households} households, ${s.persons} persons ` +
      `(${s.adults} adults, ${s.minors} minors), ${s.nareizigers} nareizigers in ` +
      `${s.householdsWithNareizigers} households`,
    `koppelDatum ${s.firstKoppelDatum} .. ${s.lastKoppelDatum}; BSN known for ${s.withBsn} ` +
      `(${percent(s.bsnShare)}); medisch for ${s.medisch} of ${s.adults} adults ` +
      `(${percent(s.medischShare)}), ${s.medischToestemming} with consent to share`,
    `household sizes: ${Object.entries(s.householdSizes)
      .map(([size, n]) => `${size}:${n}`)
      .join('  ')}`,
    'per gemeente:',
  ];
  for (const g of gemeenten) {
    const c = s.perGemeente[g.code] ?? { households: 0, persons: 0, adults: 0 };
    lines.push(
      `  ${g.code} ${g.naam.padEnd(18)} ${String(c.households).padStart(5)} households ` +
        `${String(c.persons).padStart(6)} persons ${String(c.adults).padStart(6)} adults`,
    );
  }
  lines.push('per AZC:');
  for (const [code, n] of Object.entries(s.perAzc).sort((a, b) => b[1] - a[1])) {
    lines.push(`  ${code.padEnd(10)} ${String(n).padStart(6)} persons`);
  }
  lines.push(
    `adults per herkomstland: ${Object.entries(s.adultsPerHerkomstland)
      .sort((a, b) => b[1] - a[1])
      .map(([land, n]) => `${land} ${n}`)
      .join(', ')}`,
  );
  if (report) {
    const count = (kind: string, channel: string) =>
      report.accepted.filter((a) => a.kind === kind && a.channel === channel).length;
    lines.push(
      `sent to ${url} in ${report.durationMs} ms: accepted koppelingen ${count('koppeling', 'json')} json + ` +
        `${count('koppeling', 'csv')} csv, overdrachten ${count('overdracht', 'json')}; ` +
        `rejected ${report.rejected.length}; overdrachten skipped ${report.skipped.length}`,
    );
    for (const r of report.rejected.slice(0, 20)) {
      lines.push(
        `  rejected ${r.kind} (${r.channel}) ${r.koppelingId ?? ''}${r.row !== undefined ? ` row ${r.row}` : ''}` +
          `${r.status !== undefined ? ` HTTP ${r.status}` : ''}${r.field ? ` ${r.field}` : ''}: ${r.reason}`,
      );
    }
    if (report.rejected.length > 20) lines.push(`  … and ${report.rejected.length - 20} more`);
  }
  return lines;
}

const cli = parseCli({
  name: 'coa-simulator',
  usage: USAGE,
  options: {
    inburgeraars: { type: 'string', default: '50' },
    seed: { type: 'string', default: '1' },
    url: { type: 'string' },
    'api-key-env': { type: 'string', default: 'KETENHUB_COA_API_KEY' },
    'csv-share': { type: 'string', default: '0.3' },
    concurrency: { type: 'string', default: '8' },
    gemeenten: { type: 'string', default: DEFAULT_GEMEENTEN },
    'start-date': { type: 'string' },
    'id-prefix': { type: 'string' },
    'csv-out': { type: 'string' },
    json: { type: 'boolean', default: false },
    'dry-run': { type: 'boolean', default: false },
  },
});
const args = cli.values;
// Annotated, so TypeScript knows that code after a fail() does not run.
const fail: (message: string) => never = cli.fail;

const size = numberArg(args.inburgeraars, 'inburgeraars', 50);
const seed = numberArg(args.seed, 'seed', 1);
const csvShare = numberArg(args['csv-share'], 'csv-share', 0.3);
const concurrency = numberArg(args.concurrency, 'concurrency', 8);
const gemeenten = parseGemeenten(args.gemeenten);
if (!(csvShare >= 0 && csvShare <= 1)) fail('--csv-share must be between 0 and 1');
if (!Number.isInteger(concurrency) || concurrency < 1) fail('--concurrency must be at least 1');
if (!args['dry-run'] && !args.url) fail('--url is required unless --dry-run');

let cohort: Cohort;
try {
  cohort = generateCohort({
    size,
    seed,
    gemeenten,
    ...(args['start-date'] !== undefined ? { startDate: args['start-date'] } : {}),
    ...(args['id-prefix'] !== undefined ? { idPrefix: args['id-prefix'] } : {}),
  });
} catch (err) {
  fail((err as Error).message);
}
const summary = summarizeCohort(cohort);

if (args['csv-out']) writeFileSync(args['csv-out'], toTvsCsv(cohort.koppelingen));

let report: SendReport | undefined;
if (!args['dry-run']) {
  const envName = args['api-key-env'];
  const apiKey = process.env[envName];
  if (!apiKey) fail(`the API key is read from $${envName}, which is not set`);
  report = await sendCohort({
    baseUrl: args.url as string,
    apiKey,
    cohort,
    csvShare,
    concurrency,
  });
}

if (args.json) {
  const out = {
    seed,
    summary,
    ...(report
      ? {
          sent: {
            url: args.url,
            durationMs: report.durationMs,
            accepted: {
              koppelingJson: report.accepted.filter(
                (a) => a.kind === 'koppeling' && a.channel === 'json',
              ).length,
              koppelingCsv: report.accepted.filter(
                (a) => a.kind === 'koppeling' && a.channel === 'csv',
              ).length,
              overdracht: report.accepted.filter((a) => a.kind === 'overdracht').length,
            },
            rejected: report.rejected,
            skipped: report.skipped.length,
          },
        }
      : {}),
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
} else {
  process.stdout.write(`${summaryLines(seed, summary, gemeenten, report, args.url).join('\n')}\n`);
  if (args['csv-out']) process.stdout.write(`TVS export written to ${args['csv-out']}\n`);
}

process.exitCode = report && report.rejected.length > 0 ? 1 : 0;
