import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { schemas } from '@ketenhub/contracts';
import { csvBody, type CsvInput } from '@ketenhub/kit';
import { streamTvsCsv, translateTvsCsv, type TvsRowOutcome } from './tvs-csv.ts';
import { goldenContext as testContext } from './golden-context.ts';

const csv = readFileSync(
  fileURLToPath(new URL('../fixtures/golden/tvs-export.csv', import.meta.url)),
  'utf8',
);

describe('TVS CSV export', () => {
  const result = translateTvsCsv(csv, testContext);

  it('reads a BOM, semicolons, CRLF and dd-mm-jjjj dates', () => {
    expect(result.rows).toBe(7);
    const first = result.accepted[0]!;
    expect(first.row).toBe(2);
    expect(first.event.data.koppeldatum).toBe('2026-10-01');
    expect(first.event.data.persoon.geboortedatum).toBe('1985-02-04');
    expect(first.event.data.bron).toEqual(expect.objectContaining({ kanaal: 'coa-tvs-csv' }));
    for (const a of result.accepted) expect(schemas().validateEvent(a.event)).toEqual([]);
  });

  it('reports every bad row with its row number, field and reason, and keeps the good ones', () => {
    expect(result.accepted.map((a) => a.koppelingId)).toEqual([
      'KOP-2026-000201',
      'KOP-2026-000207',
    ]);
    expect(result.rejected).toEqual([
      { row: 3, field: 'bsn', rule: 'elfproef', reason: 'fails the elfproef' },
      { row: 4, field: 'geboortedatum', rule: 'date', reason: 'is not a calendar date' },
      {
        row: 5,
        field: 'gemeente_code',
        rule: 'served-gemeente',
        reason: 'is not a gemeente this hub serves',
      },
      { row: 6, field: '(row)', rule: 'column count', reason: 'has 7 columns, the header has 18' },
      expect.objectContaining({
        row: 7,
        field: 'geboortedatum',
        rule: expect.stringMatching(/^pattern/),
      }),
    ]);
  });

  it('gives a koppeling the same event id by CSV as by JSON push', async () => {
    const { koppelingToEvent } = await import('./translate.ts');
    const json = koppelingToEvent(
      {
        ...{ berichtId: '0b6c7a52-3f0e-4c55-9d8e-5a1f2b3c4d5e', koppelingId: 'KOP-2026-000201' },
        koppelDatum: '2026-10-01',
        gemeenteCode: '0797',
        vergunningDatum: '2026-09-20',
        persoon: {
          vNummer: '4412000001',
          voornamen: 'Hamid',
          achternaam: 'Rahimi',
          geboortedatum: '1985-02-04',
          geslacht: 'M',
        },
        azc: { locatieCode: 'GRAVE', naam: 'AZC Grave' },
        huishouden: { huishoudenId: 'HH-2026-0101', rol: 'HOOFDPERSOON', aantalLeden: 1 },
      },
      testContext,
    );
    expect(json.id).toBe(result.accepted[0]!.event.id);
  });

  it('refuses a file whose header does not match, naming the columns', () => {
    expect(() => translateTvsCsv('koppeling_id;foo\r\nKOP-1;x\r\n', testContext)).toThrowError(
      expect.objectContaining({
        name: 'ValidationError',
        violations: expect.arrayContaining([
          expect.objectContaining({ field: 'foo', rule: 'known column' }),
          expect.objectContaining({ field: 'v_nummer', rule: 'required column' }),
        ]),
      }),
    );
  });

  const [header, first] = csv.replace(/^\uFEFF/, '').split('\r\n');
  /** The first data row of the fixture with its cells changed. */
  const rowWith = (cells: Record<string, string>, koppelingId: string) => {
    const columns = header!.split(';');
    const out = first!.split(';');
    for (const [column, value] of Object.entries({ ...cells, koppeling_id: koppelingId })) {
      out[columns.indexOf(column)] = value;
    }
    return out.join(';');
  };

  it('rejects a row with V-nummer 0 like any other bad row, naming the column', () => {
    const text = [
      header,
      rowWith({ v_nummer: '0' }, 'KOP-V-1'),
      rowWith({}, 'KOP-V-2'),
      rowWith({ v_nummer: '0000000000' }, 'KOP-V-3'),
      rowWith({ v_nummer: '-12' }, 'KOP-V-4'),
      rowWith({ v_nummer: '12345678901' }, 'KOP-V-5'),
    ].join('\r\n');
    const r = translateTvsCsv(text, testContext);
    expect(r.accepted.map((a) => a.koppelingId)).toEqual(['KOP-V-2']);
    expect(r.rejected.map((x) => [x.row, x.field, x.rule])).toEqual([
      [2, 'v_nummer', 'vnummer'],
      [4, 'v_nummer', 'vnummer'],
      [5, 'v_nummer', 'pattern ^[0-9]{1,10}$'],
      [6, 'v_nummer', 'pattern ^[0-9]{1,10}$'],
    ]);
    expect(JSON.stringify(r.rejected)).not.toMatch(/0000000000|12345678901/);
  });

  describe('one row at a time (streamTvsCsv)', () => {
    async function collect(text: CsvInput): Promise<TvsRowOutcome[]> {
      const out: TvsRowOutcome[] = [];
      for await (const o of streamTvsCsv(text, testContext)) out.push(o);
      return out;
    }
    async function* bytesOf(text: string, size: number): AsyncGenerator<Uint8Array> {
      const bytes = Buffer.from(text, 'utf8');
      for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
    }

    it('gives the same rows, events and rejections as the whole-file translation', async () => {
      const outcomes = await collect(csv);
      expect(outcomes).toHaveLength(result.rows);
      expect(outcomes.filter((o) => !('rejected' in o))).toEqual(result.accepted);
      expect(outcomes.flatMap((o) => ('rejected' in o ? [o.rejected] : []))).toEqual(
        result.rejected,
      );
      // The same from a request body arriving in small chunks.
      expect(await collect(csvBody(bytesOf(csv, 5), 1024 * 1024))).toEqual(outcomes);
    });

    it('numbers rows across chunk boundaries of a large export', async () => {
      // Enough rows that the text is read in several chunks.
      const rows = Array.from({ length: 4000 }, () => first!);
      const outcomes = await collect(`${header}\r\n${rows.join('\r\n')}\r\n`);
      expect(outcomes).toHaveLength(4000);
      expect(outcomes.map((o) => o.row)).toEqual(rows.map((_, i) => i + 2));
    });

    it('refuses a bad header before any row comes out', async () => {
      await expect(collect('koppeling_id;foo\r\nKOP-1;x\r\n')).rejects.toMatchObject({
        name: 'ValidationError',
        violations: expect.arrayContaining([
          expect.objectContaining({ field: 'foo', rule: 'known column' }),
        ]),
      });
    });

    it('gives the rows before a row that breaks CSV, then names that row and column, not the cell', async () => {
      const bsn = '123456782';
      const broken = [
        header,
        first,
        rowWith({ bsn: `${bsn}"x"` }, 'KOP-BROKEN'),
        rowWith({}, 'KOP-AFTER'),
      ].join('\r\n');
      const seen: TvsRowOutcome[] = [];
      let err: unknown;
      try {
        for await (const o of streamTvsCsv(csvBody(bytesOf(broken, 64), 1024 * 1024), testContext))
          seen.push(o);
      } catch (e) {
        err = e;
      }
      expect(seen.map((o) => o.row)).toEqual([2]);
      expect(err).toMatchObject({
        name: 'ValidationError',
        violations: [{ field: 'bsn', rule: 'csv', message: expect.stringMatching(/^row 3: /) }],
      });
      const { message, violations } = err as { message: string; violations: unknown };
      expect(JSON.stringify({ message, violations })).not.toContain(bsn);
    });
  });
});
