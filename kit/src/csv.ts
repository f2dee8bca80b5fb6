import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { parse as parseStream } from 'csv-parse';
import { parse } from 'csv-parse/sync';
import { ValidationError } from './errors.ts';

/**
 * The semicolon exports partners upload (COA's TVS export, a school's hours): Dutch
 * spreadsheets, so a BOM, CRLF line ends, cells padded with spaces and empty lines happen.
 * Every row comes with the number a spreadsheet shows for it (the header is row 1), also when
 * empty lines are skipped or a quoted cell spans lines, so a partner can find the row it must fix.
 * No error names the content of a cell (it may be a BSN): only the row, the column and the rule.
 */
export interface CsvRow {
  cells: string[];
  /** The spreadsheet line the row starts on; the header is row 1. */
  row: number;
  /** The line the row ends on (later than `row` when a quoted cell spans lines). */
  end: number;
}

/** A CSV file as text, or as the bytes of a request body arriving in chunks. */
export type CsvInput = string | AsyncIterable<Uint8Array | string>;

const OPTIONS = {
  delimiter: ';',
  bom: true,
  relax_column_count: true,
  skip_empty_lines: true,
  trim: true,
  info: true,
} as const;

type Parsed = { record: string[]; info: { lines: number; empty_lines: number } };

/**
 * `on_record` with `info: true` gets the record with its info, whatever csv-parse's types say
 * (they describe the plain record); returning undefined drops the record from the output.
 */
function onRecord(fn: (p: Parsed) => Parsed | undefined): { on_record: () => undefined } {
  return { on_record: fn as unknown as () => undefined };
}

/** csv-parse counts a CRLF inside a quoted cell as two lines; one line end makes it exact. */
const lf = (text: string) => text.replace(/\r\n?/g, '\n');

function toRow(p: Parsed): CsvRow {
  // `lines` is where the record ends; a quoted cell with line breaks started that many earlier.
  const inner = p.record.reduce((n, cell) => n + (cell.match(/\n/g)?.length ?? 0), 0);
  return { cells: p.record, row: p.info.lines - inner, end: p.info.lines };
}

/**
 * csv-parse's own messages quote the cell they stumbled on; these say what is wrong instead.
 * Keyed by csv-parse's error code.
 */
const CSV_PROBLEMS: Record<string, string> = {
  INVALID_OPENING_QUOTE:
    'a quote inside a cell that does not start with one (quote the whole cell and double the quote)',
  CSV_INVALID_CLOSING_QUOTE: 'a quoted cell goes on after its closing quote',
  CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE: 'a quoted cell goes on after its closing quote',
  CSV_QUOTE_NOT_CLOSED: 'a quoted cell is not closed before the end of the file',
};

/** Where the parser was after the last good row: the line it ended on, empty lines so far. */
interface Last {
  end: number;
  empty: number;
  header?: string[];
}

function track(last: Last, p: Parsed): void {
  last.header ??= p.record;
  last.end = p.info.lines;
  last.empty = p.info.empty_lines;
}

/**
 * The file breaks CSV syntax: which row, which column (named by the header when known) and the
 * rule. Never csv-parse's message or the error itself: both carry the cell. An unclosed quote is
 * reported at the end of the file; its row is the first non-empty line after the last good row.
 */
function unparseable(err: unknown, last: Last) {
  const e = err as { code?: unknown; lines?: unknown; column?: unknown; empty_lines?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  const skipped = typeof e.empty_lines === 'number' ? e.empty_lines - last.empty : 0;
  const row =
    code === 'CSV_QUOTE_NOT_CLOSED' || typeof e.lines !== 'number'
      ? last.end + 1 + skipped
      : e.lines;
  const index = typeof e.column === 'number' ? e.column : undefined;
  const column =
    index === undefined ? undefined : (last.header?.[index] ?? `(column ${index + 1})`);
  return new ValidationError(`the CSV could not be parsed at row ${row}`, [
    {
      field: column ?? '(file)',
      rule: 'csv',
      message: `row ${row}: ${CSV_PROBLEMS[code] ?? 'is not valid CSV'}`,
    },
  ]);
}

/** True for csv-parse's syntax errors (not for a failing request body under it). */
function isCsvError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('CSV_') || code === 'INVALID_OPENING_QUOTE');
}

/** Every row of the file, the header first; a file that does not parse is refused whole. */
export function readCsv(text: string): CsvRow[] {
  const last: Last = { end: 0, empty: 0 };
  try {
    return (
      parse(lf(text), {
        ...OPTIONS,
        ...onRecord((p) => {
          track(last, p);
          return p;
        }),
      }) as unknown as Parsed[]
    ).map(toRow);
  } catch (err) {
    if (isCsvError(err)) throw unparseable(err, last);
    throw err;
  }
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

/**
 * The chunks of a body as text with `\n` line ends: UTF-8 decoded across chunk boundaries, and a
 * CR at the end of a chunk held back until the next shows whether a LF follows.
 */
async function* lfChunks(body: AsyncIterable<Uint8Array | string>): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let held = '';
  for await (const chunk of body) {
    let text = held + (typeof chunk === 'string' ? chunk : decoder.write(chunk as Buffer));
    held = text.endsWith('\r') ? '\r' : '';
    if (held) text = text.slice(0, -1);
    if (text) yield lf(text);
  }
  const rest = held + decoder.end();
  if (rest) yield lf(rest);
}

/**
 * The rows one at a time (the header first), for files of any size: a request body is read as it
 * arrives, so memory does not grow with the file. A syntax error ends the rows with a
 * ValidationError naming the row, after every row before it; an error of the body itself (too
 * large, the client gone) ends them with that error, unchanged.
 */
export async function* streamCsv(input: CsvInput): AsyncGenerator<CsvRow> {
  const chunks = typeof input === 'string' ? lineChunks(input) : lfChunks(input);
  // Rows are taken as the parser finds them (on_record), not from its output: a stream that
  // fails drops what it had not handed out yet, and those rows came before the error.
  const rows: CsvRow[] = [];
  const last: Last = { end: 0, empty: 0 };
  const parser = parseStream({
    ...OPTIONS,
    ...onRecord((p) => {
      track(last, p);
      rows.push(toRow(p));
      return undefined;
    }),
  });
  parser.on('error', () => undefined); // reported through the write callbacks below
  parser.resume();
  const feed = (chunk: string | undefined) =>
    new Promise<unknown>((resolve) => {
      const done = (err?: Error | null) => resolve(err ?? undefined);
      if (chunk === undefined) parser.end(done);
      else parser.write(chunk, done);
    });
  function* take(): Generator<CsvRow> {
    yield* rows.splice(0);
  }
  let failure: unknown;
  try {
    for await (const chunk of chunks) {
      failure = await feed(chunk);
      yield* take();
      if (failure) break;
    }
    if (!failure) {
      failure = await feed(undefined);
      yield* take();
    }
  } finally {
    parser.destroy();
  }
  if (failure) throw isCsvError(failure) ? unparseable(failure, last) : failure;
}

const CSV_BODY = Symbol.for('ketenhub.csv-body');

/** A text/csv request body as the HTTP edge hands it to a route: its bytes, as they arrive. */
export interface CsvBody extends AsyncIterable<Uint8Array> {
  readonly [CSV_BODY]: true;
  /** True once the body was read to its end. */
  readonly complete: boolean;
  /**
   * Reads and drops what the client still sends after the route has answered, up to the limit
   * once more (beyond that the connection is cut). Closing at once instead would reset the
   * connection while the client is still sending, and the answer would be lost with it.
   */
  discardRest(): void;
}

/** The edge's answer to a body over the limit, the same as Fastify's own (413). */
function bodyTooLarge(): Error {
  return Object.assign(new Error('the body exceeds the size limit of this API'), {
    code: 'FST_ERR_CTP_BODY_TOO_LARGE',
    statusCode: 413,
  });
}

/**
 * Wraps a request body for a CSV route: read once, as it arrives, and failing with a 413 error
 * as soon as more than `limitBytes` came in (a body that announces more is refused before it is
 * read at all). Used by the HTTP edge's text/csv parser.
 */
export function csvBody(
  payload: AsyncIterable<Uint8Array | string>,
  limitBytes: number,
  contentLength?: number,
): CsvBody {
  if (contentLength !== undefined && contentLength > limitBytes) throw bodyTooLarge();
  let complete = false;
  const source = payload as Partial<Readable>;
  async function* limited(): AsyncGenerator<Uint8Array> {
    let received = 0;
    // A reader that stops early must not destroy the request: the answer still goes out on it.
    const chunks =
      typeof source.iterator === 'function' ? source.iterator({ destroyOnReturn: false }) : payload;
    for await (const chunk of chunks as AsyncIterable<Uint8Array | string>) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      received += bytes.byteLength;
      if (received > limitBytes) throw bodyTooLarge();
      yield bytes;
    }
    complete = true;
  }
  return {
    [CSV_BODY]: true,
    get complete() {
      return complete;
    },
    discardRest() {
      if (complete || typeof source.resume !== 'function' || source.destroyed) return;
      let more = 0;
      // Flowing mode; a reader's 'readable' listener left behind would keep it paused.
      source.removeAllListeners!('readable');
      source.on!('error', () => undefined); // the client went away: nothing left to read
      source.on!('data', (chunk: Uint8Array | string) => {
        more += chunk.length;
        if (more > limitBytes) source.destroy!(); // and its connection with it
      });
      source.resume();
    },
    [Symbol.asyncIterator]: limited,
  };
}

/** True for a body the edge's text/csv parser made (anything else: not sent as text/csv). */
export function isCsvBody(value: unknown): value is CsvBody {
  return typeof value === 'object' && value !== null && CSV_BODY in value;
}

/** The whole body as text, for files small enough to hold at once (a school's hours). */
export async function csvText(body: CsvBody): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}
