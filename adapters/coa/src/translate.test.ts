import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { goldenContext } from './golden-context.ts';
import { koppelingToEvent, overdrachtToEvent, type TranslateContext } from './translate.ts';

const GOLDEN = fileURLToPath(new URL('../fixtures/golden/', import.meta.url));

const testContext: TranslateContext = goldenContext;

function read(name: string): unknown {
  return JSON.parse(readFileSync(GOLDEN + name, 'utf8'));
}

// The golden translations themselves are checked by the conformance suite
// (conformance.int.test.ts); the rules below are COA's own.
describe('koppeling rules', () => {
  const base = () => read('koppeling-hoofdpersoon.input.json') as Record<string, any>;

  function violationsOf(fn: () => unknown) {
    try {
      fn();
    } catch (err) {
      return (err as { violations: { field: string; rule: string }[] }).violations;
    }
    throw new Error('expected a ValidationError');
  }

  it('refuses a BSN that fails the elfproef, naming the field', () => {
    const msg = base();
    msg.persoon.bsn = '111222334';
    expect(violationsOf(() => koppelingToEvent(msg as never, testContext))).toContainEqual(
      expect.objectContaining({ field: 'persoon.bsn', rule: 'elfproef' }),
    );
  });
  it('refuses a test-range BSN in production mode only', () => {
    const msg = base();
    msg.persoon.bsn = '999990019';
    expect(() => koppelingToEvent(msg as never, testContext)).not.toThrow();
    expect(
      violationsOf(() => koppelingToEvent(msg as never, { ...testContext, production: true })),
    ).toContainEqual(
      expect.objectContaining({ field: 'persoon.bsn', rule: 'no test BSN in production' }),
    );
  });
  it.each(['0', '0000000000'])(
    'refuses V-nummer %j in a koppeling and an overdracht with every other violation, naming the field',
    (vNummer) => {
      const koppeling = base();
      koppeling.persoon.vNummer = vNummer;
      koppeling.persoon.bsn = '111222334';
      const violations = violationsOf(() => koppelingToEvent(koppeling as never, testContext));
      expect(violations).toContainEqual(
        expect.objectContaining({ field: 'persoon.vNummer', rule: 'vnummer' }),
      );
      expect(violations).toContainEqual(
        expect.objectContaining({ field: 'persoon.bsn', rule: 'elfproef' }),
      );
      const overdracht = read('overdracht-medisch-zonder-toestemming.input.json') as Record<
        string,
        any
      >;
      overdracht.persoon.vNummer = vNummer;
      expect(
        violationsOf(() => overdrachtToEvent(overdracht as never, testContext)),
      ).toContainEqual(expect.objectContaining({ field: 'persoon.vNummer', rule: 'vnummer' }));
    },
  );
  it('refuses a missing gemeente code', () => {
    const msg = base();
    delete msg.gemeenteCode;
    expect(violationsOf(() => koppelingToEvent(msg as never, testContext))).toContainEqual(
      expect.objectContaining({ field: 'gemeenteCode', rule: 'required' }),
    );
  });
  it('refuses a gemeente the hub does not serve', () => {
    const msg = base();
    msg.gemeenteCode = '0363';
    expect(violationsOf(() => koppelingToEvent(msg as never, testContext))).toContainEqual(
      expect.objectContaining({ field: 'gemeenteCode', rule: 'served-gemeente' }),
    );
  });
  it('refuses a permit that starts after the koppeling', () => {
    const msg = base();
    msg.vergunningDatum = '2026-10-01';
    expect(violationsOf(() => koppelingToEvent(msg as never, testContext))).toContainEqual(
      expect.objectContaining({ field: 'vergunningDatum' }),
    );
  });
  it('gives the same event id to a resend of the same koppeling', () => {
    const a = koppelingToEvent(base() as never, testContext);
    const again = base();
    again.berichtId = '11111111-2222-4333-8444-555555555555';
    expect(koppelingToEvent(again as never, testContext).id).toBe(a.id);
  });
  it('drops medical particulars without consent', () => {
    const e = overdrachtToEvent(
      read('overdracht-medisch-zonder-toestemming.input.json') as never,
      testContext,
    );
    expect(e.data).not.toHaveProperty('gezondheid');
    expect(JSON.stringify(e)).not.toContain('Psychische');
  });
});
