/**
 * Peak RSS of the COA service for one TVS export, without the rest of the chain:
 *
 *   node bench/tvs-rss.ts 300000
 *
 * starts a local nats-server and the COA service as a child process, uploads a generated export
 * of that many rows, and prints one JSON line with the answer, the time it took and the child's
 * resident size before the upload and at its peak (VmHWM from /proc, Linux only). Nothing is
 * delivered: the rows stay in KETEN.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateCohort, toTvsCsv } from '@ketenhub/simulator-coa';
import { generateApiKey } from '@ketenhub/kit';
import { startLocalNats } from '@ketenhub/kit/processes';

const CHILD = `
import { readFileSync } from 'node:fs';
import { coaModule } from '@ketenhub/adapter-coa';
import { createLogger, runModules } from '@ketenhub/kit';
const config = JSON.parse(readFileSync(process.argv[1], 'utf8'));
const coa = await runModules(config, [coaModule()], { logger: createLogger('coa', { level: 'error' }) });
process.stdout.write(coa.url + '\\n');
`;

const rows = Number(process.argv[2] ?? 100_000);
if (!Number.isInteger(rows) || rows < 1) throw new Error('usage: node bench/tvs-rss.ts <rows>');
const codes = ['0797', '0796', '0865'];
const nats = await startLocalNats();
const key = generateApiKey();
const config = {
  hub: { oin: '00000001234567890000', pseudonymKey: randomBytes(32).toString('hex') },
  nats: { url: nats.url },
  gemeenten: codes.map((c) => ({
    code: `gm${c}`,
    naam: c,
    oin: `0000000100${c}000000`,
    kvs: { url: 'http://127.0.0.1:9/', timeoutMs: 1000, inbound: { apiKey: generateApiKey() } },
  })),
  partners: { coa: { apiKey: key } },
  services: {
    coa: { port: 0, opsPort: 0, csvBodyLimitBytes: 200 * 1024 * 1024 },
    'gemeente-kvs': { port: 0, opsPort: 0 },
  },
};
const configFile = join(tmpdir(), `tvs-rss-${process.pid}.json`);
writeFileSync(configFile, JSON.stringify(config), { mode: 0o600 });
// Run from bench/ so '@ketenhub/kit' resolves as it does for the bench itself.
const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD, configFile], {
  cwd: new URL('.', import.meta.url).pathname,
  stdio: ['ignore', 'pipe', 'inherit'],
});
try {
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.once('data', (d: Buffer) => resolve(String(d).trim()));
    child.once('exit', (code) => reject(new Error(`the COA service exited (${code})`)));
  });
  const mb = (field: string) => {
    const line = readFileSync(`/proc/${child.pid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith(field))!;
    return Math.round(Number(/\d+/.exec(line)![0]) / 1024);
  };
  const cohort = generateCohort({
    size: rows,
    seed: 5,
    idPrefix: 'RSS',
    gemeenten: codes.map((code) => ({ code, naam: code })),
  });
  const body = toTvsCsv(cohort.koppelingen);
  const rssAtStartMb = mb('VmRSS');
  const started = Date.now();
  const res = await fetch(`${url}/v1/tvs-export`, {
    method: 'POST',
    headers: { 'content-type': 'text/csv', authorization: `Bearer ${key}` },
    body,
  });
  const report = (await res.json()) as { accepted?: unknown[] };
  console.log(
    JSON.stringify({
      rows,
      csvMb: Math.round((Buffer.byteLength(body) / 1024 / 1024) * 10) / 10,
      status: res.status,
      accepted: report.accepted?.length,
      seconds: (Date.now() - started) / 1000,
      rssAtStartMb,
      peakRssMb: mb('VmHWM'),
    }),
  );
} finally {
  child.kill();
  rmSync(configFile, { force: true });
  await nats.stop();
}
