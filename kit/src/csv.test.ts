import { describe, expect, it } from 'vitest';
import { csvBody, csvText, isCsvBody, readCsv, streamCsv, type CsvInput } from './csv.ts';

const rowsOf = (text: string) => readCsv(text).map((r) => [r.row, r.cells]);
async function streamed(input: CsvInput) {
  const out: [number, string[]][] = [];
  for await (const r of streamCsv(input)) out.push([r.row, r.cells]);
  return out;
}

/** The text as a request body arrives: UTF-8 bytes in chunks of `size`, split anywhere. */
async function* bytesOf(text: string, size: number): AsyncGenerator<Uint8Array> {
  const bytes = Buffer.from(text, 'utf8');
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

/** Whatever `fn` throws (or rejects with). */
async function thrown(fn: () => unknown): Promise<any> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error');
}

describe('CSV rows with the row number a spreadsheet shows', () => {
  const cases: [string, string, [number, string[]][]][] = [
    [
      'plain',
      'a;b\n1;2\n3;4\n',
      [
        [1, ['a', 'b']],
        [2, ['1', '2']],
        [3, ['3', '4']],
      ],
    ],
    [
      'empty lines skipped but counted',
      'a;b\n1;2\n\n\n3;4\n',
      [
        [1, ['a', 'b']],
        [2, ['1', '2']],
        [5, ['3', '4']],
      ],
    ],
    [
      'a quoted cell spanning lines, then the next row',
      'a;b\n1;"x\ny"\n3;4',
      [
        [1, ['a', 'b']],
        [2, ['1', 'x\ny']],
        [4, ['3', '4']],
      ],
    ],
    [
      'BOM, CRLF and padded cells, as a spreadsheet saves them',
      '\ufeffa ; b\r\n 1;2 \r\n\r\n3;"x\r\ny"\r\n4;5',
      [
        [1, ['a', 'b']],
        [2, ['1', '2']],
        [4, ['3', 'x\ny']],
        [6, ['4', '5']],
      ],
    ],
  ];

  it.each(cases)('%s', async (_name, text, expected) => {
    expect(rowsOf(text)).toEqual(expected);
    expect(await streamed(text)).toEqual(expected);
    // The same from a request body, whatever the chunks: a CRLF or a multi-byte character
    // split between two chunks must not move a row.
    for (const size of [1, 2, 3, 7, 1024]) {
      expect(await streamed(bytesOf(text, size))).toEqual(expected);
    }
  });

  it('decodes UTF-8 split between chunks', async () => {
    const text = 'naam;plaats\r\nÖzlem;’s-Hertogenbosch\r\nZoë;Tilburg\r\n';
    expect(await streamed(bytesOf(text, 1))).toEqual([
      [1, ['naam', 'plaats']],
      [2, ['Özlem', '’s-Hertogenbosch']],
      [3, ['Zoë', 'Tilburg']],
    ]);
  });

  it('streams a file larger than one chunk with the same numbers', async () => {
    const lines = ['a;b'];
    for (let i = 0; i < 30_000; i++) lines.push(i % 1000 === 0 ? '' : `${i};"v ${i}"`);
    const text = lines.join('\r\n');
    const whole = readCsv(text);
    const one = await streamed(text);
    expect(one).toHaveLength(whole.length);
    expect(one.at(-1)).toEqual([whole.at(-1)!.row, whole.at(-1)!.cells]);
    expect(whole.at(-1)!.row).toBe(30_001); // the header is line 1
  });

  it('refuses a file that does not parse, naming the row and the column, never the cell', async () => {
    const bsn = '123456782';
    const files: [string, number, string][] = [
      // A quote in the middle of a cell: csv-parse's own message quotes the cell.
      [`a;b\n1;2\n${bsn};${bsn}"x"\n`, 3, 'b'],
      [`a;b\n1;2\n"${bsn}"${bsn};x\n`, 3, 'a'],
      [`a;b\n1;2\n\n3;"${bsn}\n\n4;5\n`, 4, 'b'],
    ];
    for (const [text, row, column] of files) {
      for (const err of [
        await thrown(() => readCsv(text)),
        await thrown(() => streamed(text)),
        await thrown(() => streamed(bytesOf(text, 3))),
      ]) {
        expect(err).toMatchObject({
          name: 'ValidationError',
          violations: [
            { field: column, rule: 'csv', message: expect.stringMatching(`^row ${row}: `) },
          ],
        });
        expect(JSON.stringify({ message: err.message, violations: err.violations })).not.toContain(
          bsn,
        );
      }
    }
  });

  it('gives the rows before a syntax error, then the error', async () => {
    const rows: number[] = [];
    const err = await thrown(async () => {
      for await (const r of streamCsv('a;b\n1;2\n3;4\n5;x"y"\n7;8\n')) rows.push(r.row);
    });
    expect(rows).toEqual([1, 2, 3]);
    expect(err).toMatchObject({ violations: [{ rule: 'csv', message: /^row 4: / }] });
  });
});

describe('a CSV request body', () => {
  it('is read as it arrives, up to its limit', async () => {
    const body = csvBody(bytesOf('a;b\n1;2\n', 3), 100);
    expect(isCsvBody(body)).toBe(true);
    expect(isCsvBody('a;b\n')).toBe(false);
    expect(isCsvBody({ a: 1 })).toBe(false);
    expect(await streamed(body)).toEqual([
      [1, ['a', 'b']],
      [2, ['1', '2']],
    ]);
    expect(await csvText(csvBody(bytesOf('a;é\n', 1), 100))).toBe('a;é\n');
  });

  it('fails with 413 once more than the limit came in, after the rows before it', async () => {
    const text = `a;b\n${'1;2\n'.repeat(100)}`;
    const rows: number[] = [];
    const err = await thrown(async () => {
      for await (const r of streamCsv(csvBody(bytesOf(text, 16), 200))) rows.push(r.row);
    });
    expect(err).toMatchObject({ statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE' });
    expect(rows.length).toBeGreaterThan(1);
    expect(rows.length).toBeLessThan(101);
  });

  it('is refused before reading when it announces more than the limit', () => {
    expect(() => csvBody(bytesOf('', 1), 100, 101)).toThrow(
      expect.objectContaining({ statusCode: 413 }),
    );
  });
});
