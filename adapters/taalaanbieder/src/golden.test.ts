import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { schemas } from '@ketenhub/contracts';
import type { PipVastgesteld } from '@ketenhub/contracts/generated';
import { sourceUrn, type Event } from '@ketenhub/kit';
import { createProjector } from '@ketenhub/kit/privacy';
import { createTrajectPseudonymizer, type Traject } from './traject.ts';
import {
  SCHEMA,
  aangemeldEvent,
  aanmeldingIdFor,
  pipToAanmelding,
  urenToEvent,
  verzuimToEvent,
  voortgangToEvent,
  type InboundContext,
} from './translate.ts';
import { parseUrenCsv } from './uren-csv.ts';

// Golden mapping tests: each input under fixtures/golden/ and the exact output the
// adapter must make of it. UPDATE_GOLDEN=1 rewrites the expected files; review that diff by hand.
const GOLDEN = fileURLToPath(new URL('../fixtures/golden/', import.meta.url));
const update = process.env.UPDATE_GOLDEN === '1';

const text = (name: string) => readFileSync(GOLDEN + name, 'utf8');
const read = <T>(name: string) => JSON.parse(text(name)) as T;

function expectGolden(name: string, actual: unknown): void {
  if (update) writeFileSync(GOLDEN + name, `${JSON.stringify(actual, null, 2)}\n`);
  expect(actual).toEqual(read(name));
}

const SCHOOL = 'taalschool-noord';
const pseudonyms = createTrajectPseudonymizer('golden-test-key-not-a-secret-000000');
const at = (iso: string): InboundContext => ({
  source: sourceUrn('00000001234567890000', 'taalaanbieder'),
  now: () => new Date(iso),
});
/** The school reports at a fixed moment; the event time is the only thing not derived. */
const reportCtx = at('2026-12-08T15:30:00.000Z');
/** The hub's TAALAANBIEDER_TRAJECTEN bucket: traject pseudonym → person, gemeente, school. */
const trajecten = read<Record<string, Traject>>('trajecten.json');

describe('PIP → aanmelding at the school (golden)', () => {
  const pip = read<Event<PipVastgesteld>>('pip-vastgesteld.event.json');

  it('the golden PIP is a valid chain event that names the school and has what it must not get', () => {
    expect(schemas().validateEvent(pip)).toEqual([]);
    expect(pip.data.taalaanbieder).toBe(SCHOOL);
    // Kept in the fixture on purpose: the golden aanmelding shows none of it reaches the school.
    expect(pip.data).toHaveProperty('geschatteIntensiteitB1Route');
    expect(pip.data).toHaveProperty('magOpleidingAfmaken');
    expect(pip.data).toHaveProperty('ontzorgen');
    expect(pip.data.deelnemer).toHaveProperty('telefoon');
    expect(pip.data.deelnemer).toHaveProperty('email');
  });

  it('translates to exactly the golden aanmelding, which the school contract accepts', () => {
    const disclosure = createProjector('taalaanbieder').project(pip)!;
    expect(disclosure.activity).toBe('va-020');
    const aanmelding = pipToAanmelding(disclosure.event.data, {
      trajectId: pseudonyms.trajectId(pip.data.inburgeraarId, SCHOOL),
      aanmeldingId: aanmeldingIdFor(pip.id, SCHOOL),
    });
    expectGolden('pip-vastgesteld.aanmelding.json', aanmelding);
    expect(schemas().validate(SCHEMA.aanmelding, aanmelding)).toEqual([]);
    const body = JSON.stringify(aanmelding);
    for (const never of [
      pip.data.inburgeraarId.slice(3),
      pip.data.pipId,
      pip.data.ontzorgen!.trajectId,
      'geschatteIntensiteitB1Route',
      'magOpleidingAfmaken',
    ]) {
      expect(body).not.toContain(never);
    }
    // What the handler stores before sending, so the school's reports can be mapped back.
    expect(trajecten[aanmelding.trajectId]).toEqual({
      inburgeraarId: pip.data.inburgeraarId,
      gemeente: pip.gemeente,
      taalaanbieder: SCHOOL,
    });
  });

  it('the accepted aanmelding becomes exactly the golden aangemeld event for the KVS', () => {
    const event = aangemeldEvent(pip, SCHOOL, at('2026-10-01T09:00:05.000Z'));
    expect(schemas().validateEvent(event)).toEqual([]);
    expectGolden('pip-vastgesteld.aangemeld.event.json', event);
  });
});

describe("the school's reports → chain events (golden)", () => {
  const cases: [
    string,
    string,
    (msg: never, traject: Traject, ctx: InboundContext) => Event<unknown>,
  ][] = [
    ['voortgang', SCHEMA.voortgang, voortgangToEvent],
    ['uren', SCHEMA.uren, urenToEvent],
    ['verzuim', SCHEMA.verzuim, verzuimToEvent],
  ];

  it.each(cases)('%s: translates to exactly the golden chain event', (name, schemaId, toEvent) => {
    const msg = read<{ trajectId: string }>(`${name}.taalaanbieder.json`);
    expect(schemas().validate(schemaId, msg)).toEqual([]);
    const traject = trajecten[msg.trajectId]!;
    expect(traject).toBeDefined();
    const event = toEvent(msg as never, traject, reportCtx);
    expect(schemas().validateEvent(event)).toEqual([]);
    expectGolden(`${name}.event.json`, event);
  });
});

describe('the hours spreadsheet → per-row report and chain events (golden)', () => {
  const csv = text('uren.csv');
  const report = parseUrenCsv(csv);

  it('the fixture looks like a school export: BOM, semicolons, CRLF, dd-mm-jjjj', () => {
    expect(csv.startsWith('\uFEFFtraject_id;peildatum;uren_totaal;soort\r\n')).toBe(true);
    expect(csv).toMatch(/;\d{2}-\d{2}-\d{4};/);
    // Every row fits the row contract; the one bad row has a date the pattern allows and the
    // calendar does not, which only the adapter can find.
    const [header, ...rows] = csv.slice(1).trimEnd().split('\r\n');
    const columns = header!.split(';');
    for (const line of rows) {
      const row = Object.fromEntries(
        line
          .split(';')
          .map((cell, i) => [columns[i]!, cell] as const)
          .filter(([, cell]) => cell !== ''),
      );
      expect(schemas().validate(SCHEMA.urenCsvRow, row), line).toEqual([]);
    }
  });

  it('reads to exactly the golden per-row report', () => {
    expectGolden('uren-csv.report.json', report);
    expect(report.rejected).toHaveLength(1);
    for (const { uren } of report.accepted) {
      expect(schemas().validate(SCHEMA.uren, uren)).toEqual([]);
    }
  });

  it('every accepted row becomes exactly the golden chain event', () => {
    const events = report.accepted.map(({ uren }) =>
      urenToEvent(uren, trajecten[uren.trajectId]!, reportCtx),
    );
    for (const event of events) expect(schemas().validateEvent(event)).toEqual([]);
    expectGolden('uren-csv.events.json', events);
    // A row and the same hours sent as JSON are one event: JetStream deduplicates the resend.
    expect(events[0]).toEqual(read('uren.event.json'));
  });
});

describe('the contracts catch what a golden file alone would not', () => {
  const rename = (o: Record<string, unknown>, from: string, to: string) =>
    Object.fromEntries(Object.entries(o).map(([k, v]) => [k === from ? to : k, v]));

  it('a renamed field in the aanmelding breaks the school contract', () => {
    const aanmelding = read<Record<string, unknown>>('pip-vastgesteld.aanmelding.json');
    expect(
      schemas()
        .validate(SCHEMA.aanmelding, rename(aanmelding, 'startdatum', 'startDatum'))
        .map((v) => `${v.field} ${v.rule}`),
    ).toContain('startDatum additionalProperties');
  });

  it.each([
    'pip-vastgesteld.aangemeld.event.json',
    'voortgang.event.json',
    'uren.event.json',
    'verzuim.event.json',
  ])('a renamed data field in %s breaks the chain contract', (name) => {
    const event = read<Event<Record<string, unknown>>>(name);
    const renamed = { ...event, data: rename(event.data, 'inburgeraarId', 'inburgeraarID') };
    expect(
      schemas()
        .validateEvent(renamed)
        .map((v) => `${v.field} ${v.rule}`),
    ).toEqual(
      expect.arrayContaining([
        'data.inburgeraarId required',
        'data.inburgeraarID additionalProperties',
      ]),
    );
  });
});
