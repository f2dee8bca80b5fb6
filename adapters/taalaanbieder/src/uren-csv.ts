import { schemas } from '@ketenhub/contracts';
import type {
  TaalaanbiederUren,
  TaalaanbiederUrenCsvRow,
} from '@ketenhub/contracts/generated/taalaanbieder';
import { ValidationError, readCsv } from '@ketenhub/kit';
import { SCHEMA } from './translate.ts';

const rowSchema = schemas().byId(SCHEMA.urenCsvRow).schema as {
  required: string[];
  properties: Record<string, unknown>;
};
const KNOWN_COLUMNS = new Set(Object.keys(rowSchema.properties));

/** A refused row, as the COA TVS export reports it: spreadsheet row number, column, reason. */
export interface RejectedRow {
  /** The line a spreadsheet shows: the header is row 1; empty lines count. */
  row: number;
  field: string;
  rule: string;
  reason: string;
}

export interface UrenCsvResult {
  rows: number;
  accepted: { row: number; uren: TaalaanbiederUren }[];
  rejected: RejectedRow[];
}

function isoDate(ddmmyyyy: string): string {
  const [d, m, y] = ddmmyyyy.split('-');
  return `${y}-${m}-${d}`;
}

function isRealDate(iso: string): boolean {
  const date = new Date(`${iso}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(iso);
}

/**
 * A school's hours spreadsheet (semicolon separated, dd-mm-jjjj, optional BOM) → hours messages,
 * row by row: a bad row is reported with its row, column and reason and does not stop the
 * others. A file whose header is unusable is refused whole: no row could be read reliably.
 * Hours exports are one row per learner per week, small enough to parse at once.
 */
export function parseUrenCsv(text: string): UrenCsvResult {
  const records = readCsv(text);
  const header = records[0]?.cells;
  if (!header) {
    throw new ValidationError('the CSV is empty', [
      { field: '(file)', rule: 'header', message: 'a header row is required' },
    ]);
  }
  const headerViolations = [
    ...header
      .filter((c) => !KNOWN_COLUMNS.has(c))
      .map((c) => ({ field: c, rule: 'known column', message: `unknown column ${c}` })),
    ...rowSchema.required
      .filter((c) => !header.includes(c))
      .map((c) => ({ field: c, rule: 'required column', message: `column ${c} is missing` })),
  ];
  if (headerViolations.length > 0) {
    throw new ValidationError('the CSV header does not match the hours export', headerViolations);
  }

  const result: UrenCsvResult = { rows: records.length - 1, accepted: [], rejected: [] };
  for (const { cells, row } of records.slice(1)) {
    if (cells.length !== header.length) {
      result.rejected.push({
        row,
        field: '(row)',
        rule: 'column count',
        reason: `has ${cells.length} columns, the header has ${header.length}`,
      });
      continue;
    }
    const raw: Record<string, string> = {};
    header.forEach((col, j) => {
      if (cells[j] !== '') raw[col] = cells[j]!;
    });
    const violations = schemas().validate(SCHEMA.urenCsvRow, raw);
    if (raw.peildatum && /^\d{2}-\d{2}-\d{4}$/.test(raw.peildatum)) {
      if (!isRealDate(isoDate(raw.peildatum))) {
        violations.push({
          field: 'peildatum',
          rule: 'date',
          message: 'is not a calendar date',
        });
      }
    }
    if (violations.length > 0) {
      const v = violations[0]!;
      result.rejected.push({ row, field: v.field, rule: v.rule, reason: v.message });
      continue;
    }
    const r = raw as unknown as TaalaanbiederUrenCsvRow;
    result.accepted.push({
      row,
      uren: {
        trajectId: r.traject_id,
        peildatum: isoDate(r.peildatum),
        urenTotaal: Number(r.uren_totaal),
        ...(r.soort ? { soort: r.soort } : {}),
      },
    });
  }
  return result;
}
