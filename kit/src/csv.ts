import { Readable } from 'node:stream';
import { parse as parseStream } from 'csv-parse';
import { parse } from 'csv-parse/sync';
import { ValidationError } from './errors.ts';

/**
 * The semicolon exports partners upload (COA's TVS export, a school's hours): Dutch
 * spreadsheets, so a BOM, CRLF line ends, cells padded with spaces and empty lines happen.
 * Every row comes with the number a spreadsheet shows for it (the header is row 1), also when
 * empty lines are skipped or a quoted cell spans lines, so a partner can find the row it must fix.
 */
export interface CsvRow {
  cells: string[];
  /** The spreadsheet line the row starts on; the header is row 1. */
  row: number;
}

const OPTIONS = {
  delimiter: ';',
  bom: true,
  relax_column_count: true,
  skip_empty_lines: true,
  trim: true,
  info: true,
} as const;

type Parsed = { record: string[]; info: { lines: number } };

/** csv-parse counts a CRLF inside a quoted cell as two lines; one line end makes it exact. */
const lf = (text: string) => text.replace(/\r\n?/g, '\n');

function toRow(p: Parsed): CsvRow {
  // `lines` is where the record ends; a quoted cell with line breaks started that many earlier.
  const inner = p.record.reduce((n, cell) => n + (cell.match(/\n/g)?.length ?? 0), 0);
  return { cells: p.record, row: p.info.lines - inner };
}

function unparseable(err: unknown): ValidationError {
  return new ValidationError('the CSV could not be parsed', [
    { field: '(file)', rule: 'csv', message: (err as Error).message },
  ]);
}

/** Every row of the file, the header first; a file that does not parse is refused whole. */
export function readCsv(text: string): CsvRow[] {
  try {
    return (parse(lf(text), OPTIONS) as unknown as Parsed[]).map(toRow);
  } catch (err) {
    throw unparseable(err);
  }
}

/**
 * The header of a file that parses as a whole, without keeping its rows (for files too big to
 * hold as records); undefined for an empty file. A file that does not parse is refused whole.
 */
export function csvHeader(text: string): string[] | undefined {
  let header: string[] | undefined;
  try {
    parse(lf(text), {
      ...OPTIONS,
      info: false,
      on_record: (record: string[]) => {
        header ??= record;
        return undefined;
      },
    });
  } catch (err) {
    throw unparseable(err);
  }
  return header;
}

/** Slices of the text ending at a line end, so no character or CRLF is split between two. */
function* lineChunks(text: string, size = 256 * 1024): Generator<string> {
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', Math.min(text.length, start + size));
    end = end === -1 ? text.length : end + 1;
    yield lf(text.slice(start, end));
    start = end;
  }
}

/** The rows one at a time (the header first), for files of any size. */
export async function* streamCsv(text: string): AsyncGenerator<CsvRow> {
  const records = Readable.from(lineChunks(text)).pipe(parseStream(OPTIONS));
  try {
    for await (const p of records as AsyncIterable<Parsed>) yield toRow(p);
  } catch (err) {
    if ((err as Error).name === 'CsvError') throw unparseable(err);
    throw err;
  } finally {
    records.destroy();
  }
}
