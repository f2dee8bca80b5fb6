import { describe, expect, it } from 'vitest';
import { parseUrenCsv } from './uren-csv.ts';

const T1 = `tr-${'1'.repeat(32)}`;
const T2 = `tr-${'2'.repeat(32)}`;

describe('hours CSV', () => {
  it('reads good rows and reports each bad row with its row, column and reason', () => {
    const csv = [
      '\uFEFFtraject_id;peildatum;uren_totaal',
      `${T1};01-12-2026;48`,
      `${T2};31-02-2026;12`,
      `${T2};01-12-2026;veel`,
      `${T2};01-12-2026;36;extra`,
      `${T2};08-12-2026;40`,
    ].join('\r\n');
    const r = parseUrenCsv(csv);
    expect(r.rows).toBe(5);
    expect(r.accepted).toEqual([
      { row: 2, uren: { trajectId: T1, peildatum: '2026-12-01', urenTotaal: 48 } },
      { row: 6, uren: { trajectId: T2, peildatum: '2026-12-08', urenTotaal: 40 } },
    ]);
    expect(r.rejected.map((x) => [x.row, x.field, x.rule])).toEqual([
      [3, 'peildatum', 'date'],
      [4, 'uren_totaal', 'pattern ^[0-9]{1,4}$'],
      [5, '(row)', 'column count'],
    ]);
    expect(r.rejected.every((x) => x.reason.length > 0)).toBe(true);
  });

  it('numbers rows as the spreadsheet does, with empty lines in between', () => {
    const csv = [
      'traject_id;peildatum;uren_totaal',
      `${T1};01-12-2026;48`,
      '',
      '',
      `${T2};31-11-2026;12`,
      `${T2};08-12-2026;40`,
    ].join('\r\n');
    const r = parseUrenCsv(csv);
    expect(r.rows).toBe(3);
    expect(r.rejected.map((x) => [x.row, x.field])).toEqual([[5, 'peildatum']]);
    expect(r.accepted.map((a) => a.row)).toEqual([2, 6]);
  });

  it('reports a missing cell and a traject id that is not one', () => {
    const r = parseUrenCsv(`traject_id;peildatum;uren_totaal\n${T1};;4\nih-123;01-12-2026;4\n`);
    expect(r.accepted).toEqual([]);
    expect(r.rejected.map((x) => [x.row, x.field])).toEqual([
      [2, 'peildatum'],
      [3, 'traject_id'],
    ]);
  });

  it('names the row, the column and the rule of a bad cell, never its content', () => {
    const bsn = '123456782';
    const r = parseUrenCsv(
      `traject_id;peildatum;uren_totaal\n${bsn};01-12-2026;4\n${T1};31-02-2026;4\n${T1};01-12-2026;${bsn}\n`,
    );
    expect(r.rejected.map((x) => [x.row, x.field])).toEqual([
      [2, 'traject_id'],
      [3, 'peildatum'],
      [4, 'uren_totaal'],
    ]);
    expect(JSON.stringify(r.rejected)).not.toMatch(/123456782|31-02-2026/);

    let err: unknown;
    try {
      parseUrenCsv(`traject_id;peildatum;uren_totaal\n${T1};01-12-2026;4\n${T1};${bsn}"x";4\n`);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({
      name: 'ValidationError',
      violations: [{ field: 'peildatum', rule: 'csv', message: expect.stringMatching(/^row 3: /) }],
    });
    const { message, violations } = err as { message: string; violations: unknown };
    expect(JSON.stringify({ message, violations })).not.toContain(bsn);
  });

  it('refuses a file whose header is not the hours export', () => {
    expect(() => parseUrenCsv('leerling;uren\nx;1\n')).toThrow(/header/);
    expect(() => parseUrenCsv('')).toThrow(/empty/);
  });
});
