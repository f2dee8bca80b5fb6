import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { schemas } from '@ketenhub/contracts';
import { streamTvsCsv, translateTvsCsv, type TvsRowOutcome } from './tvs-csv.ts';
import { testContext } from './translate.test.ts';

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
      { row: 4, field: 'geboortedatum', rule: 'date', reason: '31-02-2015 is not a calendar date' },
      {
        row: 5,
        field: 'gemeente_code',
        rule: 'served-gemeente',
        reason: 'gemeente 0363 is not served by this hub',
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

  describe('one row at a time (streamTvsCsv)', () => {
    async function collect(text: string): Promise<TvsRowOutcome[]> {
      const out: TvsRowOutcome[] = [];
      for await (const o of streamTvsCsv(text, testContext)) out.push(o);
      return out;
    }

    it('gives the same rows, events and rejections as the whole-file translation', async () => {
      const outcomes = await collect(csv);
      expect(outcomes).toHaveLength(result.rows);
      expect(outcomes.filter((o) => !('rejected' in o))).toEqual(result.accepted);
      expect(outcomes.flatMap((o) => ('rejected' in o ? [o.rejected] : []))).toEqual(
        result.rejected,
      );
    });

    it('numbers rows across chunk boundaries of a large export', async () => {
      const [header, first] = csv.replace(/^\uFEFF/, '').split('\r\n');
      // Enough rows that the text is read in several chunks.
      const rows = Array.from({ length: 4000 }, () => first!);
      const outcomes = await collect(`${header}\r\n${rows.join('\r\n')}\r\n`);
      expect(outcomes).toHaveLength(4000);
      expect(outcomes.map((o) => o.row)).toEqual(rows.map((_, i) => i + 2));
    });

    it('refuses a bad header or an unparseable file before any row comes out', async () => {
      await expect(collect('koppeling_id;foo\r\nKOP-1;x\r\n')).rejects.toMatchObject({
        name: 'ValidationError',
        violations: expect.arrayContaining([
          expect.objectContaining({ field: 'foo', rule: 'known column' }),
        ]),
      });
      const [header, first] = csv.replace(/^\uFEFF/, '').split('\r\n');
      const broken = `${header}\r\n${first}\r\n"unclosed;quote\r\n`;
      const seen: TvsRowOutcome[] = [];
      await expect(
        (async () => {
          for await (const o of streamTvsCsv(broken, testContext)) seen.push(o);
        })(),
      ).rejects.toMatchObject({
        name: 'ValidationError',
        violations: [expect.objectContaining({ field: '(file)', rule: 'csv' })],
      });
      expect(seen).toEqual([]);
    });
  });
});
