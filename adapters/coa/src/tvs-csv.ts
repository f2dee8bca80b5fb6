import type { InburgeraarGekoppeld } from '@ketenhub/contracts/generated';
import type { CoaKoppeling, CoaTvsCsvRow } from '@ketenhub/contracts/generated/coa';
import { schemas } from '@ketenhub/contracts';
import {
  ValidationError,
  nameBasedUuid,
  readCsv,
  streamCsv,
  type CsvInput,
  type Event,
} from '@ketenhub/kit';
import { koppelingToEvent, type TranslateContext } from './translate.ts';

export const TVS_ROW_SCHEMA = 'https://contracts.ketenhub.nl/coa/tvs-csv-row.schema.json';

const rowSchema = schemas().byId(TVS_ROW_SCHEMA).schema as {
  required: string[];
  properties: Record<string, unknown>;
};
const KNOWN_COLUMNS = new Set(Object.keys(rowSchema.properties));

export interface RejectedRow {
  /** Row number as a spreadsheet shows it: the header is row 1, the first data row is row 2. */
  row: number;
  field: string;
  rule: string;
  reason: string;
}

export interface TvsCsvResult {
  rows: number;
  accepted: { row: number; koppelingId: string; event: Event<InburgeraarGekoppeld> }[];
  rejected: RejectedRow[];
}

/** dd-mm-jjjj → jjjj-mm-dd (the row schema has already checked the shape). */
function isoDate(ddmmyyyy: string): string {
  const [d, m, y] = ddmmyyyy.split('-');
  return `${y}-${m}-${d}`;
}

function isRealDate(iso: string): boolean {
  const date = new Date(`${iso}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(iso);
}

function rowToKoppeling(r: CoaTvsCsvRow): CoaKoppeling {
  return {
    berichtId: nameBasedUuid(`coa:tvs:${r.koppeling_id}`),
    koppelingId: r.koppeling_id,
    koppelDatum: isoDate(r.koppel_datum),
    gemeenteCode: r.gemeente_code,
    vergunningDatum: isoDate(r.vergunning_datum),
    persoon: {
      vNummer: r.v_nummer,
      ...(r.bsn ? { bsn: r.bsn } : {}),
      voornamen: r.voornamen,
      achternaam: r.achternaam,
      geboortedatum: isoDate(r.geboortedatum),
      geslacht: r.geslacht,
      ...(r.nationaliteit ? { nationaliteit: r.nationaliteit } : {}),
      ...(r.geboorteland ? { geboorteland: r.geboorteland } : {}),
    },
    azc: { locatieCode: r.azc_code, naam: r.azc_naam },
    huishouden: {
      huishoudenId: r.huishouden_id,
      rol: r.huishouden_rol,
      aantalLeden: Number(r.huishouden_omvang),
      nareiziger: r.nareiziger === 'J',
    },
  };
}

/** The header row, checked against the row schema; refuses the file when it does not match. */
function checkHeader(header: string[] | undefined): string[] {
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
    throw new ValidationError('the CSV header does not match the TVS export', headerViolations);
  }
  return header;
}

/**
 * One data row, accepted with its event or rejected with the field and reason; `end` is the
 * line it ends on (later than `row` when a quoted cell spans lines).
 */
export type TvsRowOutcome =
  | { row: number; end: number; koppelingId: string; event: Event<InburgeraarGekoppeld> }
  | { row: number; end: number; rejected: RejectedRow };

function translateRow(
  header: string[],
  cells: string[],
  row: number,
  end: number,
  ctx: TranslateContext,
): TvsRowOutcome {
  if (cells.length !== header.length) {
    return {
      row,
      end,
      rejected: {
        row,
        field: '(row)',
        rule: 'column count',
        reason: `has ${cells.length} columns, the header has ${header.length}`,
      },
    };
  }
  const raw: Record<string, string> = {};
  header.forEach((col, j) => {
    if (cells[j] !== '') raw[col] = cells[j]!;
  });
  const violations = schemas().validate(TVS_ROW_SCHEMA, raw);
  for (const col of ['geboortedatum', 'koppel_datum', 'vergunning_datum']) {
    const v = raw[col];
    if (v && /^\d{2}-\d{2}-\d{4}$/.test(v) && !isRealDate(isoDate(v))) {
      violations.push({ field: col, rule: 'date', message: 'is not a calendar date' });
    }
  }
  if (violations.length > 0) {
    const v = violations[0]!;
    return { row, end, rejected: { row, field: v.field, rule: v.rule, reason: v.message } };
  }
  try {
    const event = koppelingToEvent(
      rowToKoppeling(raw as unknown as CoaTvsCsvRow),
      ctx,
      'coa-tvs-csv',
    );
    return { row, end, koppelingId: raw.koppeling_id!, event };
  } catch (err) {
    if ((err as Error).name !== 'ValidationError') throw err;
    const v = (err as ValidationError).violations[0]!;
    return {
      row,
      end,
      rejected: { row, field: csvField(v.field), rule: v.rule, reason: v.message },
    };
  }
}

/**
 * COA's nightly TVS export → gekoppeld events, row by row: a bad row is reported with its row
 * number, field and reason and does not stop the others. A file whose header is unusable is
 * refused as a whole (ValidationError), since no row could be read reliably.
 */
export function translateTvsCsv(text: string, ctx: TranslateContext): TvsCsvResult {
  const records = readCsv(text);
  const header = checkHeader(records[0]?.cells);
  const result: TvsCsvResult = { rows: records.length - 1, accepted: [], rejected: [] };
  for (const { cells, row, end } of records.slice(1)) {
    const outcome = translateRow(header, cells, row, end, ctx);
    if ('rejected' in outcome) result.rejected.push(outcome.rejected);
    else result.accepted.push(outcome);
  }
  return result;
}

/**
 * translateTvsCsv one row at a time, for exports of any size, from the text or from the request
 * body as it arrives: the caller can publish each batch before the next rows are read, so a
 * year's catch-up of 100,000 rows is never held whole, as text or as events. Same outcomes, same
 * row numbers. A bad header is refused before any row comes out; a row that breaks CSV syntax
 * ends the rows with a ValidationError naming it, after the rows before it (the caller has
 * stored those and must say so).
 */
export async function* streamTvsCsv(
  input: CsvInput,
  ctx: TranslateContext,
): AsyncGenerator<TvsRowOutcome> {
  let header: string[] | undefined;
  for await (const { cells, row, end } of streamCsv(input)) {
    if (!header) header = checkHeader(cells);
    else yield translateRow(header, cells, row, end, ctx);
  }
  if (!header) checkHeader(undefined);
}

/** Names a koppeling field by its CSV column so the report points at the cell COA can fix. */
const CSV_COLUMN: Record<string, string> = {
  koppelingId: 'koppeling_id',
  'persoon.vNummer': 'v_nummer',
  'persoon.bsn': 'bsn',
  'persoon.geboortedatum': 'geboortedatum',
  gemeenteCode: 'gemeente_code',
  vergunningDatum: 'vergunning_datum',
};

export function csvField(field: string): string {
  return CSV_COLUMN[field] ?? field;
}
