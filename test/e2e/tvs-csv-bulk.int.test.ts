import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCohort, toTvsCsv, TVS_COLUMNS } from '@ketenhub/simulator-coa';
import { DiscardPolicy, jetstreamManager } from '@nats-io/jetstream';
import { STREAMS, connectNats, createLogger } from '@ketenhub/kit';
import { eventually, startTestChain, type TestChain } from '../harness/index.ts';

let chain: TestChain;
/** Every log line the services wrote during this file's tests. */
const logLines: string[] = [];

beforeAll(async () => {
  const logger = createLogger('e2e', {
    level: 'debug',
    destination: { write: (line: string) => void logLines.push(line) },
  });
  chain = await startTestChain({ logger });
});
afterAll(async () => {
  await chain?.stop();
});

describe('TVS CSV bulk path', () => {
  it('delivers the 997 good rows of 1,000 and reports the 3 bad ones with row, field and reason', async () => {
    const cohort = generateCohort({
      size: 1000,
      seed: 42,
      idPrefix: 'CSV',
      gemeenten: [
        { code: '0797', naam: 'Heusden' },
        { code: '0796', naam: "'s-Hertogenbosch" },
        { code: '0865', naam: 'Vught' },
      ],
    });
    const lines = toTvsCsv(cohort.koppelingen).split('\r\n');
    const col = (name: string) => (TVS_COLUMNS as readonly string[]).indexOf(name);
    const spoil = (row: number, column: string, value: string) => {
      const cells = lines[row - 1]!.split(';');
      cells[col(column)] = value;
      lines[row - 1] = cells.join(';');
    };
    // Spreadsheet row numbers: the header is row 1.
    spoil(17, 'bsn', '111222334'); // fails the elfproef
    spoil(402, 'koppel_datum', '31-02-2026'); // not a calendar date
    spoil(999, 'gemeente_code', '0363'); // a gemeente this hub does not serve

    const res = await chain.coaPost(
      '/v1/tvs-export',
      lines.join('\r\n'),
      'text/csv; charset=utf-8',
    );
    expect(res.status).toBe(200);
    const report = (await res.json()) as {
      rows: number;
      accepted: { row: number; eventId: string }[];
      rejected: { row: number; field: string; rule: string; reason: string }[];
    };
    expect(report.rows).toBe(1000);
    expect(report.accepted).toHaveLength(997);
    expect(report.rejected).toEqual([
      { row: 17, field: 'bsn', rule: 'elfproef', reason: 'fails the elfproef' },
      {
        row: 402,
        field: 'koppel_datum',
        rule: 'date',
        reason: 'is not a calendar date',
      },
      {
        row: 999,
        field: 'gemeente_code',
        rule: 'served-gemeente',
        reason: 'is not a gemeente this hub serves',
      },
    ]);

    const expected = new Map(
      report.accepted.map((a) => [a.eventId, `gm${cohort.koppelingen[a.row - 2]!.gemeenteCode}`]),
    );
    const deliveredOnce = () => {
      const all = chain.kvs.received();
      const here = all.filter((e) => expected.get(e.id) === e.gemeente);
      return here.length === expected.size;
    };
    expect(await eventually(deliveredOnce, 45_000)).toBe(true);
    await new Promise((r) => setTimeout(r, 500));
    const stats = chain.kvs.stats().total;
    expect(stats.received).toBe(997);
    expect(stats.duplicates).toBe(0);
    expect(stats.misrouted).toBe(0);

    // Nothing personal in any log line: no BSN, V-nummer or name of the cohort.
    expect(logLines.length).toBeGreaterThan(0);
    const logs = logLines.join('');
    const personal = cohort.koppelingen.flatMap((k) => [
      k.persoon.vNummer,
      ...(k.persoon.bsn ? [k.persoon.bsn] : []),
      k.persoon.achternaam,
      k.persoon.voornamen,
    ]);
    expect(personal.filter((value) => logs.includes(value))).toEqual([]);
  });

  it('refuses a file with an unknown column as a whole, publishing nothing', async () => {
    const before = await chain.streamCount();
    const res = await chain.coaPost(
      '/v1/tvs-export',
      'koppeling_id;kleur\r\nKOP-1;rood\r\n',
      'text/csv',
    );
    expect(res.status).toBe(400);
    const problem = (await res.json()) as { errors: { field: string; rule: string }[] };
    expect(problem.errors).toContainEqual({
      field: 'kleur',
      rule: 'known column',
      message: 'unknown column kleur',
    });
    expect(await chain.streamCount()).toBe(before);
  });
});

/** A TVS export of `size` generated koppelingen, split into lines (the header is line 1). */
function exportLines(size: number, seed: number, idPrefix: string) {
  const cohort = generateCohort({
    size,
    seed,
    idPrefix,
    gemeenten: [
      { code: '0797', naam: 'Heusden' },
      { code: '0796', naam: "'s-Hertogenbosch" },
      { code: '0865', naam: 'Vught' },
    ],
  });
  const lines = toTvsCsv(cohort.koppelingen).trimEnd().split('\r\n');
  const col = (name: string) => (TVS_COLUMNS as readonly string[]).indexOf(name);
  const set = (row: number, column: string, value: string) => {
    const cells = lines[row - 1]!.split(';');
    cells[col(column)] = value;
    lines[row - 1] = cells.join(';');
  };
  return { cohort, lines, set };
}

interface Stored {
  row: number;
  koppelingId: string;
  eventId: string;
}

/** The 200 report, or the problem of an upload that stopped part way (adapters/coa/openapi.yaml). */
interface TvsAnswer {
  status?: number;
  rows: number;
  accepted: Stored[];
  rejected: { row: number; field: string; rule: string; reason: string }[];
  notStored?: Stored[];
  readUpTo?: number;
  errors?: { field: string; rule: string; message: string }[];
}

/** The ids of every chain event in KETEN now, read back from the stream itself. */
async function storedEventIds(): Promise<Set<string>> {
  const nc = await connectNats(chain.nats.url, 'tvs-test-reader');
  try {
    const jsm = await jetstreamManager(nc);
    const { state } = await jsm.streams.info(STREAMS.keten);
    const ids = new Set<string>();
    for (let seq = state.first_seq; seq <= state.last_seq && state.messages > 0; seq++) {
      const m = await jsm.streams.getMessage(STREAMS.keten, { seq }).catch(() => null);
      if (m) ids.add((m.json() as { id: string }).id);
    }
    return ids;
  } finally {
    await nc.drain();
  }
}

describe('TVS CSV: every row gets a verdict, also when the upload stops part way', () => {
  it('rejects a row with V-nummer 0 as a bad row and stores the others (no 500)', async () => {
    const { lines, set } = exportLines(5, 7, 'VNUM');
    set(3, 'v_nummer', '0');
    set(5, 'v_nummer', '0000000000');
    const res = await chain.coaPost('/v1/tvs-export', lines.join('\r\n'), 'text/csv');
    expect(res.status).toBe(200);
    const report = (await res.json()) as TvsAnswer;
    expect(report.rows).toBe(5);
    expect(report.accepted.map((a) => a.row)).toEqual([2, 4, 6]);
    expect(report.rejected).toEqual([
      { row: 3, field: 'v_nummer', rule: 'vnummer', reason: 'must not be 0' },
      { row: 5, field: 'v_nummer', rule: 'vnummer', reason: 'must not be 0' },
    ]);
  });

  it('stores the rows before a row that breaks CSV, says so, and never echoes the cell', async () => {
    const { cohort, lines, set } = exportLines(40, 8, 'BROKEN');
    const bsn = cohort.koppelingen.find((k) => k.persoon.bsn)!.persoon.bsn!;
    set(31, 'bsn', `${bsn}"x"`); // a quote in the middle of a cell: not CSV
    const res = await chain.coaPost('/v1/tvs-export', lines.join('\r\n'), 'text/csv');
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const text = await res.text();
    expect(text).not.toContain(bsn);
    const problem = JSON.parse(text) as TvsAnswer;
    expect(problem.errors).toEqual([
      expect.objectContaining({
        field: 'bsn',
        rule: 'csv',
        message: expect.stringMatching(/^row 31: /),
      }),
    ]);
    expect(problem.rows).toBe(29);
    expect(problem.readUpTo).toBe(30);
    expect(problem.notStored).toEqual([]);
    const said = [...problem.accepted.map((a) => a.row), ...problem.rejected.map((r) => r.row)];
    expect(said.sort((a, b) => a - b)).toEqual(Array.from({ length: 29 }, (_, i) => i + 2));
    const stored = await storedEventIds();
    for (const a of problem.accepted) expect(stored.has(a.eventId)).toBe(true);
  });

  it('answers 503 naming exactly the rows stored when the stream refuses part way, and a resend stores the rest', async () => {
    const nc = await connectNats(chain.nats.url, 'tvs-test-admin');
    const jsm = await jetstreamManager(nc);
    const original = (await jsm.streams.info(STREAMS.keten)).config;
    const room = 300;
    const { lines } = exportLines(700, 9, 'NOSTORE');
    let answer: TvsAnswer;
    let status: number;
    try {
      // The stream takes `room` more events, then refuses every publish (discard new).
      await jsm.streams.update(STREAMS.keten, {
        ...original,
        max_msgs: (await chain.streamCount()) + room,
        discard: DiscardPolicy.New,
      });
      const res = await chain.coaPost('/v1/tvs-export', lines.join('\r\n'), 'text/csv');
      status = res.status;
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      answer = (await res.json()) as TvsAnswer;
    } finally {
      await jsm.streams.update(STREAMS.keten, original);
      await nc.drain();
    }
    expect(status).toBe(503);
    expect(answer.status).toBe(503);
    // The whole file was read: every row is accepted (stored), rejected or not stored.
    expect(answer.rows).toBe(700);
    expect(answer.readUpTo).toBeUndefined();
    const notStored = answer.notStored!;
    const rows = [answer.accepted, answer.rejected, notStored].flatMap((l) => l.map((x) => x.row));
    expect(rows.sort((a, b) => a - b)).toEqual(Array.from({ length: 700 }, (_, i) => i + 2));
    expect(answer.accepted.length).toBe(room);
    expect(notStored.length).toBe(700 - room - answer.rejected.length);

    // Exactly what the answer says is in the stream: nothing accepted is missing, nothing said
    // to be missing is there.
    const stored = await storedEventIds();
    for (const a of answer.accepted) expect(stored.has(a.eventId)).toBe(true);
    for (const n of notStored) expect(stored.has(n.eventId)).toBe(false);

    // Sending the rows that were not stored again stores them, under the same event ids.
    const again = [lines[0]!, ...notStored.map((n) => lines[n.row - 1]!)].join('\r\n');
    const retry = await chain.coaPost('/v1/tvs-export', again, 'text/csv');
    expect(retry.status).toBe(200);
    const report = (await retry.json()) as TvsAnswer;
    expect(report.accepted.map((a) => a.eventId).sort()).toEqual(
      notStored.map((n) => n.eventId).sort(),
    );
    const after = await storedEventIds();
    for (const n of notStored) expect(after.has(n.eventId)).toBe(true);
  });
});

describe('TVS CSV: the body limit, as the bytes arrive', () => {
  it('answers 413 for a body without Content-Length that grows past the limit, listing the rows stored before', async () => {
    const { lines } = exportLines(10, 11, 'LIMIT');
    // Ten good rows, then lines of 10 KB (one cell, a bad row each) until well past 50 MiB.
    const junk = `${'x'.repeat(10 * 1024 - 1)}\n`;
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(`${lines.join('\r\n')}\r\n`));
      },
      pull(controller) {
        if (sent > 60 * 1024 * 1024) return controller.close();
        const chunk = new TextEncoder().encode(junk.repeat(64));
        sent += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    const res = await fetch(`${chain.coa.url}/v1/tvs-export`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv', authorization: `Bearer ${chain.coaApiKey}` },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    const problem = (await res.json()) as TvsAnswer;
    expect(problem.accepted.map((a) => a.row)).toEqual(Array.from({ length: 10 }, (_, i) => i + 2));
    expect(problem.notStored).toEqual([]);
    expect(problem.readUpTo).toBeGreaterThan(11);
    expect(problem.rows).toBe(problem.accepted.length + problem.rejected.length);
    const stored = await storedEventIds();
    for (const a of problem.accepted) expect(stored.has(a.eventId)).toBe(true);
  });
});

describe('TVS CSV: a row the store refuses on its own', () => {
  it('rejects a koppeling_id accepted before with other content as that row, and stores the rest', async () => {
    const { lines } = exportLines(3, 10, 'CONFLICT');
    const first = await chain.coaPost(
      '/v1/tvs-export',
      [lines[0], lines[1]].join('\r\n'),
      'text/csv',
    );
    expect(first.status).toBe(200);
    // The same koppeling_id with another name, then two new rows.
    const cells = lines[1]!.split(';');
    cells[(TVS_COLUMNS as readonly string[]).indexOf('achternaam')] = 'Anders';
    const res = await chain.coaPost(
      '/v1/tvs-export',
      [lines[0], cells.join(';'), lines[2], lines[3]].join('\r\n'),
      'text/csv',
    );
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toContain('Anders');
    const report = JSON.parse(text) as TvsAnswer;
    expect(report.accepted.map((a) => a.row)).toEqual([3, 4]);
    expect(report.rejected).toEqual([
      expect.objectContaining({
        row: 2,
        field: 'koppeling_id',
        rule: 'same content for the same id',
      }),
    ]);
  });
});
