import { describe, expect, it } from 'vitest';
import { csvHeader, readCsv, streamCsv } from './csv.ts';

const rowsOf = (text: string) => readCsv(text).map((r) => [r.row, r.cells]);
async function streamed(text: string) {
  const out: [number, string[]][] = [];
  for await (const r of streamCsv(text)) out.push([r.row, r.cells]);
  return out;
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

  it('gives the header without keeping the rows, and refuses a file that does not parse', () => {
    expect(csvHeader('\ufeffa;b\n1;2\n')).toEqual(['a', 'b']);
    expect(csvHeader('')).toBeUndefined();
    expect(() => readCsv('a;b\n1;"open\n')).toThrow(
      expect.objectContaining({ name: 'ValidationError', rule: 'csv' }),
    );
    expect(() => csvHeader('a;b\n1;"open\n')).toThrow(expect.objectContaining({ rule: 'csv' }));
  });
});
