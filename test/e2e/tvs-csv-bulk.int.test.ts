import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCohort, toTvsCsv, TVS_COLUMNS } from '@ketenhub/adapter-coa/simulator';
import { createLogger } from '@ketenhub/kit';
import { eventually, startTestChain, type TestChain } from '../harness/index.ts';

let chain: TestChain;
/** Every log line the services wrote during this file's tests. */
const logLines: string[] = [];

beforeAll(async () => {
  const logger = createLogger('e2e', {
    level: 'debug',
    destination: { write: (line: string) => void logLines.push(line) },
  });
  chain = await startTestChain({ logger });
});
afterAll(async () => {
  await chain?.stop();
});

describe('TVS CSV bulk path', () => {
  it('delivers the 997 good rows of 1,000 and reports the 3 bad ones with row, field and reason', async () => {
    const cohort = generateCohort({
      size: 1000,
      seed: 42,
      idPrefix: 'CSV',
      gemeenten: [
        { code: '0797', naam: 'Heusden' },
        { code: '0796', naam: "'s-Hertogenbosch" },
        { code: '0865', naam: 'Vught' },
      ],
    });
    const lines = toTvsCsv(cohort.koppelingen).split('\r\n');
    const col = (name: string) => (TVS_COLUMNS as readonly string[]).indexOf(name);
    const spoil = (row: number, column: string, value: string) => {
      const cells = lines[row - 1]!.split(';');
      cells[col(column)] = value;
      lines[row - 1] = cells.join(';');
    };
    // Spreadsheet row numbers: the header is row 1.
    spoil(17, 'bsn', '111222334'); // fails the elfproef
    spoil(402, 'koppel_datum', '31-02-2026'); // not a calendar date
    spoil(999, 'gemeente_code', '0363'); // a gemeente this hub does not serve

    const res = await chain.coaPost(
      '/v1/tvs-export',
      lines.join('\r\n'),
      'text/csv; charset=utf-8',
    );
    expect(res.status).toBe(200);
    const report = (await res.json()) as {
      rows: number;
      accepted: { row: number; eventId: string }[];
      rejected: { row: number; field: string; rule: string; reason: string }[];
    };
    expect(report.rows).toBe(1000);
    expect(report.accepted).toHaveLength(997);
    expect(report.rejected).toEqual([
      { row: 17, field: 'bsn', rule: 'elfproef', reason: 'fails the elfproef' },
      {
        row: 402,
        field: 'koppel_datum',
        rule: 'date',
        reason: '31-02-2026 is not a calendar date',
      },
      {
        row: 999,
        field: 'gemeente_code',
        rule: 'served-gemeente',
        reason: 'gemeente 0363 is not served by this hub',
      },
    ]);

    const expected = new Map(
      report.accepted.map((a) => [a.eventId, `gm${cohort.koppelingen[a.row - 2]!.gemeenteCode}`]),
    );
    const deliveredOnce = () => {
      const all = chain.kvs.received();
      const here = all.filter((e) => expected.get(e.id) === e.gemeente);
      return here.length === expected.size;
    };
    expect(await eventually(deliveredOnce, 45_000)).toBe(true);
    await new Promise((r) => setTimeout(r, 500));
    const stats = chain.kvs.stats().total;
    expect(stats.received).toBe(997);
    expect(stats.duplicates).toBe(0);
    expect(stats.misrouted).toBe(0);

    // Nothing personal in any log line: no BSN, V-nummer or name of the cohort.
    expect(logLines.length).toBeGreaterThan(0);
    const logs = logLines.join('');
    const personal = cohort.koppelingen.flatMap((k) => [
      k.persoon.vNummer,
      ...(k.persoon.bsn ? [k.persoon.bsn] : []),
      k.persoon.achternaam,
      k.persoon.voornamen,
    ]);
    expect(personal.filter((value) => logs.includes(value))).toEqual([]);
  });

  it('refuses a file with an unknown column as a whole, publishing nothing', async () => {
    const before = await chain.streamCount();
    const res = await chain.coaPost(
      '/v1/tvs-export',
      'koppeling_id;kleur\r\nKOP-1;rood\r\n',
      'text/csv',
    );
    expect(res.status).toBe(400);
    const problem = (await res.json()) as { errors: { field: string; rule: string }[] };
    expect(problem.errors).toContainEqual({
      field: 'kleur',
      rule: 'known column',
      message: 'unknown column kleur',
    });
    expect(await chain.streamCount()).toBe(before);
  });
});
