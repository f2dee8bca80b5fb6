import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { TVS_COLUMNS } from './tvs-csv.ts';

const run = promisify(execFile);
const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
// Each test starts Node processes, each a second or two on a loaded machine: more than the
// default 5 s for two of them.
const SPAWNS = { timeout: 30_000 };
const dir = mkdtempSync(join(tmpdir(), 'coa-sim-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('main.ts', () => {
  it('--dry-run --json prints one summary line and writes the TVS export', SPAWNS, async () => {
    const csvOut = join(dir, 'tvs.csv');
    const { stdout } = await run(process.execPath, [
      MAIN,
      '--inburgeraars',
      '25',
      '--seed',
      '3',
      '--dry-run',
      '--json',
      '--csv-out',
      csvOut,
    ]);
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const out = JSON.parse(lines[0] as string) as { seed: number; summary: { persons: number } };
    expect(out.seed).toBe(3);
    expect(out.summary.persons).toBe(25);
    const csv = readFileSync(csvOut, 'utf8');
    expect(csv.startsWith(`\uFEFF${TVS_COLUMNS.join(';')}\r\n`)).toBe(true);
    expect(csv.split('\r\n').filter((l) => l !== '')).toHaveLength(26);
  });

  it('exits 2 with the usage on bad arguments', SPAWNS, async () => {
    await expect(run(process.execPath, [MAIN, '--inburgeraars', '5'])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--url is required'),
    });
    await expect(
      run(process.execPath, [MAIN, '--dry-run', '--gemeenten', 'gm0797:Heusden,0796:x']),
    ).rejects.toMatchObject({ code: 2 });
  });
});
