import { schemas } from '@ketenhub/contracts';
import type { CoaKoppeling } from '@ketenhub/contracts/generated/coa';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { generateCohort } from './cohort.ts';
import { TVS_COLUMNS, toTvsCsv } from './tvs-csv.ts';

const ROW = 'https://contracts.ketenhub.nl/coa/tvs-csv-row.schema.json';
const cohort = generateCohort({
  size: 300,
  seed: 5,
  gemeenten: [
    { code: '0797', naam: 'Heusden' },
    { code: '0865', naam: 'Vught' },
  ],
});

function rowsOf(csv: string, eol: string): string[][] {
  const lines = csv.replace(/^\uFEFF/, '').split(eol);
  expect(lines.pop()).toBe('');
  return lines.map((l) => l.split(';'));
}

describe('toTvsCsv', () => {
  it('writes a header and one row per koppeling, with a BOM and CRLF by default', () => {
    const csv = toTvsCsv(cohort.koppelingen);
    expect(csv.startsWith('\uFEFFkoppeling_id;v_nummer;')).toBe(true);
    expect(csv.endsWith('\r\n')).toBe(true);
    const rows = rowsOf(csv, '\r\n');
    expect(rows[0]).toEqual([...TVS_COLUMNS]);
    expect(rows).toHaveLength(cohort.koppelingen.length + 1);
    for (const r of rows) expect(r).toHaveLength(TVS_COLUMNS.length);
  });

  it('leaves out the BOM and uses LF when asked', () => {
    const csv = toTvsCsv(cohort.koppelingen, { bom: false, eol: '\n' });
    expect(csv.startsWith('koppeling_id;')).toBe(true);
    expect(csv).not.toContain('\r');
    expect(rowsOf(csv, '\n')).toHaveLength(cohort.koppelingen.length + 1);
  });

  it('puts the required columns first, in the schema order', () => {
    const schema = schemas().byId(ROW).schema as { required: string[]; properties: object };
    expect(TVS_COLUMNS.slice(0, schema.required.length)).toEqual(schema.required);
    expect([...TVS_COLUMNS].sort()).toEqual(Object.keys(schema.properties).sort());
  });

  it('round-trips: every row is valid and carries the koppeling with Dutch dates', () => {
    const [, ...rows] = rowsOf(toTvsCsv(cohort.koppelingen), '\r\n');
    rows.forEach((cells, i) => {
      const k = cohort.koppelingen[i] as CoaKoppeling;
      // Empty optional cells are absent, as the hub reads them.
      const row = Object.fromEntries(
        TVS_COLUMNS.map((c, j) => [c, cells[j]] as const).filter(([, v]) => v !== ''),
      );
      expect(schemas().validate(ROW, row)).toEqual([]);
      const [y, m, d] = k.persoon.geboortedatum.split('-');
      expect(row.geboortedatum).toBe(`${d}-${m}-${y}`);
      expect(row.koppel_datum).toMatch(/^\d{2}-\d{2}-\d{4}$/);
      expect(row.koppel_datum?.split('-').reverse().join('-')).toBe(k.koppelDatum);
      expect(row.vergunning_datum?.split('-').reverse().join('-')).toBe(k.vergunningDatum);
      expect(row.koppeling_id).toBe(k.koppelingId);
      expect(row.bsn).toBe(k.persoon.bsn);
      expect(row.huishouden_omvang).toBe(String(k.huishouden.aantalLeden));
      expect(row.nareiziger).toBe(k.huishouden.nareiziger ? 'J' : 'N');
    });
  });

  it('is read by a standard CSV parser', () => {
    const records = parse(toTvsCsv(cohort.koppelingen), {
      delimiter: ';',
      bom: true,
      columns: true,
    }) as Record<string, string>[];
    expect(records).toHaveLength(cohort.koppelingen.length);
    expect(records[0]?.koppeling_id).toBe(cohort.koppelingen[0]?.koppelingId);
  });

  it('replaces what an unquoted TVS value cannot hold', () => {
    const k = structuredClone(cohort.koppelingen[0] as CoaKoppeling);
    k.azc.naam = 'AZC; tijdelijke "noodlocatie"\r\nhal 2';
    const [, row] = rowsOf(toTvsCsv([k], { bom: false }), '\r\n');
    expect(row).toHaveLength(TVS_COLUMNS.length);
    expect(row?.[TVS_COLUMNS.indexOf('azc_naam')]).toBe("AZC, tijdelijke 'noodlocatie' hal 2");
  });

  it('writes only the header for no koppelingen', () => {
    expect(toTvsCsv([], { bom: false })).toBe(`${TVS_COLUMNS.join(';')}\r\n`);
  });
});
