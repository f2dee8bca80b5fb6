import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_BEDRAG_CENT,
  bedragCentProblem,
  ibanFor,
  ibanProblem,
  isValidIban,
  moneyViolations,
  normaliseIban,
} from './iban.ts';

// Published example IBANs (valid check digits).
const VALID = [
  'NL91ABNA0417164300',
  'NL44RABO0123456789',
  'NL20INGB0001234567',
  'BE68539007547034',
  'DE89370400440532013000',
  'GB29NWBK60161331926819',
];

describe('ibanProblem (ISO 13616 mod-97)', () => {
  it.each(VALID)('accepts %s', (iban) => {
    expect(ibanProblem(iban)).toBeUndefined();
    expect(isValidIban(iban)).toBe(true);
  });

  it('refuses wrong check digits, naming the rule', () => {
    expect(ibanProblem('NL91ABNA0417164301')).toMatch(/mod-97/);
    expect(ibanProblem('NL92ABNA0417164300')).toMatch(/mod-97/);
  });

  it('refuses wrong shapes and lengths with a reason a partner can act on', () => {
    expect(ibanProblem('nl91abna0417164300')).toMatch(/electronic form/);
    expect(ibanProblem('NL91 ABNA 0417 1643 00')).toMatch(/electronic form/);
    expect(ibanProblem('NL91ABNA041716430')).toMatch(/18 characters/);
    expect(ibanProblem('NL911BNA0417164300')).toMatch(/4-letter bank code/);
    expect(ibanProblem(12345)).toMatch(/string/);
  });

  it('normalises the printed form', () => {
    expect(normaliseIban(' nl91 abna 0417 1643 00 ')).toBe('NL91ABNA0417164300');
  });

  it('catches every single-digit typo in a NL IBAN (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...VALID.filter((v) => v.startsWith('NL'))),
        fc.integer({ min: 8, max: 17 }),
        fc.integer({ min: 1, max: 9 }),
        (iban, pos, delta) => {
          const d = (Number(iban[pos]) + delta) % 10;
          const typo = iban.slice(0, pos) + String(d) + iban.slice(pos + 1);
          expect(isValidIban(typo)).toBe(false);
        },
      ),
    );
  });
});

describe('ibanFor', () => {
  it.each(VALID)('computes the published check digits of %s', (iban) => {
    expect(ibanFor(iban.slice(0, 2), iban.slice(4))).toBe(iban);
  });

  it('makes a valid IBAN of any NL bank code and account number (property)', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Z]{4}$/),
        fc.stringMatching(/^[0-9]{10}$/),
        (bank, account) => {
          expect(ibanProblem(ibanFor('NL', `${bank}${account}`))).toBeUndefined();
        },
      ),
    );
  });
});

describe('bedragCentProblem', () => {
  it('accepts positive whole cents up to the ceiling', () => {
    expect(bedragCentProblem(1)).toBeUndefined();
    expect(bedragCentProblem(MAX_BEDRAG_CENT)).toBeUndefined();
  });
  it('refuses zero, negatives, fractions, non-numbers and absurd amounts', () => {
    expect(bedragCentProblem(0)).toMatch(/positive/);
    expect(bedragCentProblem(-5)).toMatch(/positive/);
    expect(bedragCentProblem(12.5)).toMatch(/whole number/);
    expect(bedragCentProblem('100')).toMatch(/number/);
    expect(bedragCentProblem(Number.NaN)).toMatch(/number/);
    expect(bedragCentProblem(MAX_BEDRAG_CENT + 1)).toMatch(/at most/);
  });
});

describe('moneyViolations', () => {
  it('names each bad IBAN and amount by its path', () => {
    const data = {
      client: { iban: 'NL91ABNA0417164300' },
      uitkeringBedragCent: 0,
      vasteLasten: [
        { iban: 'NL44RABO0123456789', bedragCent: 65_000 },
        { iban: 'NL44RABO0123456780', bedragCent: 1.5 },
      ],
    };
    expect(moneyViolations(data, 'data')).toEqual([
      { field: 'data.uitkeringBedragCent', rule: 'bedrag-cent', message: 'must be positive' },
      {
        field: 'data.vasteLasten[1].iban',
        rule: 'iban',
        message: 'check digits do not match (ISO 13616 mod-97)',
      },
      {
        field: 'data.vasteLasten[1].bedragCent',
        rule: 'bedrag-cent',
        message: 'must be a whole number of euro cents (no fractions)',
      },
    ]);
  });
  it('is empty for data without money', () => {
    expect(moneyViolations({ a: [{ b: 'x' }], c: null })).toEqual([]);
  });
  it('takes any value, however deep, without a stack overflow, and names where it gave up', () => {
    for (const value of [null, undefined, '', 'x', 42, [], [null], true]) {
      expect(moneyViolations(value, 'gegevens')).toEqual([]);
    }
    let deep: unknown = { iban: 'NL00XXXX0000000000' };
    for (let i = 0; i < 200_000; i++) deep = i % 2 ? { a: deep } : [deep];
    const violations = moneyViolations(deep, 'gegevens');
    expect(violations).toHaveLength(1);
    expect(violations[0]).toMatchObject({ rule: 'max depth' });
    expect(violations[0]!.field.startsWith('gegevens')).toBe(true);
    // Within the depth limit everything is still found.
    let nested: unknown = { iban: 'NL91ABNA0417164301' };
    for (let i = 0; i < 30; i++) nested = { a: nested };
    expect(moneyViolations(nested, 'data')).toEqual([
      expect.objectContaining({ field: `data${'.a'.repeat(30)}.iban`, rule: 'iban' }),
    ]);
  });
});
