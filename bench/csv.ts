/**
 * The bulk path: one TVS export of many rows (a year's catch-up) uploaded to the COA service,
 * timed from the start of the upload until the KVS simulator has received every accepted row.
 * The upload answer comes once every row is stored in JetStream; delivery to the KVS starts
 * while the upload is still being published, so the two overlap.
 */
import { toTvsCsv } from '@ketenhub/simulator-coa';
import { cohortFor } from './fixtures.ts';
import { perUnit, type CoresUsed, type CpuProbe } from './cpu.ts';
import type { KvsSim } from './kvs-sim.ts';
import { perSecond } from './stats.ts';

export interface CsvResult {
  rows: number;
  csvMb: number;
  accepted: number;
  rejected: number;
  delivered: number;
  duplicates: number;
  /** Upload start until the hub answered (every accepted row stored in JetStream). */
  uploadSeconds: number | null;
  /** Upload start until the KVS had every accepted row. */
  deliveredSeconds: number | null;
  /** Accepted rows over deliveredSeconds. */
  rowsPerSec: number | null;
  cores: CoresUsed;
  /** CPU time per accepted row and process, µs. */
  cpuUsPerRow: Record<string, number>;
}

export interface CsvDeps {
  sim: KvsSim;
  gemeenten: string[];
  coaUrl: string;
  coaApiKey: string;
  say: (line: string) => void;
  cpu: () => CpuProbe;
}

export async function measureCsv(
  deps: CsvDeps,
  opts: { rows: number; timeoutMs: number },
): Promise<CsvResult> {
  const { sim, say } = deps;
  const cohort = cohortFor(deps.gemeenten, opts.rows, 'CSV');
  const body = toTvsCsv(cohort.koppelingen);
  const csvMb = Math.round((Buffer.byteLength(body) / 1024 / 1024) * 10) / 10;
  await sim.reset();
  say(`csv: uploading a TVS export of ${opts.rows} rows (${csvMb} MB)`);

  const started = Date.now();
  const probe = deps.cpu();
  const res = await fetch(`${deps.coaUrl}/v1/tvs-export`, {
    method: 'POST',
    headers: {
      'content-type': 'text/csv; charset=utf-8',
      accept: 'application/json, application/problem+json',
      authorization: `Bearer ${deps.coaApiKey}`,
    },
    body,
    signal: AbortSignal.timeout(opts.timeoutMs),
  });
  const text = await res.text();
  const uploaded = Date.now();
  if (res.status !== 200) {
    throw new Error(`the TVS export was answered with ${res.status}: ${text.slice(0, 300)}`);
  }
  const report = JSON.parse(text) as { accepted: unknown[]; rejected: unknown[] };
  const accepted = report.accepted.length;
  say(
    `csv: hub answered after ${((uploaded - started) / 1000).toFixed(1)} s: ` +
      `${accepted} accepted, ${report.rejected.length} rejected; waiting for the KVS`,
  );
  const done = await sim.waitForReceived(accepted, opts.timeoutMs - (uploaded - started), 100);
  const { cores, cpuSeconds } = probe.stop();
  const totals = await sim.totals();
  if (done === null) say(`csv: timed out with ${totals.received} of ${accepted} at the KVS`);
  const deliveredMs = done === null ? null : done - started;
  return {
    rows: opts.rows,
    csvMb,
    accepted,
    rejected: report.rejected.length,
    delivered: totals.received,
    duplicates: totals.duplicates,
    uploadSeconds: Math.round((uploaded - started) / 100) / 10,
    deliveredSeconds: deliveredMs === null ? null : Math.round(deliveredMs / 100) / 10,
    rowsPerSec: deliveredMs === null ? null : perSecond(accepted, deliveredMs),
    cores,
    cpuUsPerRow: perUnit(cpuSeconds, accepted),
  };
}
