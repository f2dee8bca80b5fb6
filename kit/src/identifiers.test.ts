import { describe, expect, it } from 'vitest';
import {
  bsnProblem,
  bsnViolations,
  isTestBsn,
  isValidBsn,
  normaliseVnummer,
  testBsn,
  vnummerProblem,
} from './identifiers.ts';

describe('BSN', () => {
  it('accepts numbers that pass the elfproef', () => {
    expect(isValidBsn('999990019')).toBe(true);
    expect(isValidBsn('111222333')).toBe(true);
  });
  it('says which rule a bad number breaks', () => {
    expect(bsnProblem('12345678')).toBe('must be exactly 9 digits');
    expect(bsnProblem('12345678a')).toBe('must be exactly 9 digits');
    expect(bsnProblem('000000000')).toBe('must not be 000000000');
    expect(bsnProblem('111222334')).toBe('fails the elfproef');
  });
  it('flags the 999-range as test numbers', () => {
    expect(isTestBsn('999990019')).toBe(true);
    expect(isTestBsn('111222333')).toBe(false);
  });
});

describe('bsnViolations', () => {
  it('checks every field named bsn wherever it sits, naming it, never echoing it', () => {
    const data = {
      bsn: '111222334',
      persoon: { bsn: '111222333' },
      kinderen: [{ bsn: '123456789' }, { bsn: '999990019' }],
    };
    const violations = bsnViolations(data, 'data');
    expect(violations).toEqual([
      { field: 'data.bsn', rule: 'elfproef', message: 'fails the elfproef' },
      { field: 'data.kinderen[0].bsn', rule: 'elfproef', message: 'fails the elfproef' },
    ]);
    expect(JSON.stringify(violations)).not.toMatch(/111222334|123456789/);
  });

  it('takes any value, also one nested past any sense, without a stack overflow', () => {
    for (const value of [null, undefined, 'bsn', 7, [], { bsn: 7 }]) {
      expect(bsnViolations(value, 'data')).toEqual([]);
    }
    let deep: unknown = { bsn: '111222334' };
    for (let i = 0; i < 100_000; i++) deep = { a: deep };
    expect(bsnViolations(deep, 'data')).toEqual([expect.objectContaining({ rule: 'max depth' })]);
  });
});

describe('V-nummer', () => {
  it('pads to 10 digits and rejects junk', () => {
    expect(normaliseVnummer('12345')).toBe('0000012345');
    expect(normaliseVnummer('1234567890')).toBe('1234567890');
    expect(normaliseVnummer(12345)).toBe('0000012345');
    expect(() => normaliseVnummer('12345678901')).toThrow(/1 to 10 digits/);
    expect(() => normaliseVnummer('0')).toThrow(/must not be 0/);
  });

  it.each([
    ['0', 'must not be 0'],
    ['0000000000', 'must not be 0'],
    [0, 'must not be 0'],
    [-0, 'must not be 0'],
    ['-12', 'must be 1 to 10 digits'],
    [-12, 'must be 1 to 10 digits'],
    ['12345678901', 'must be 1 to 10 digits'],
    [12345678901, 'must be 1 to 10 digits'],
    ['1e3', 'must be 1 to 10 digits'],
    [1.5, 'must be 1 to 10 digits'],
    [Number.NaN, 'must be 1 to 10 digits'],
    [1e21, 'must be 1 to 10 digits'],
    ['', 'must be 1 to 10 digits'],
    [' 12', 'must be 1 to 10 digits'],
  ])('refuses %j as a ValidationError naming the field and the rule', (value, message) => {
    expect(vnummerProblem(value)).toBe(message);
    let thrown: unknown;
    try {
      normaliseVnummer(value, 'persoon.vNummer');
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toMatchObject({
      name: 'ValidationError',
      status: 400,
      violations: [{ field: 'persoon.vNummer', rule: 'vnummer', message }],
    });
    // The number itself never goes into the message.
    expect(JSON.stringify((thrown as { violations: unknown }).violations)).not.toContain(
      `"${String(value)}"`,
    );
  });

  it("accepts 1 to 10 digits that are not all zero, as text or as DUO's integer", () => {
    expect(vnummerProblem('1')).toBeUndefined();
    expect(vnummerProblem('0000000001')).toBeUndefined();
    expect(vnummerProblem(9_999_999_999)).toBeUndefined();
    expect(normaliseVnummer('0000000001')).toBe('0000000001');
    expect(normaliseVnummer(1e3)).toBe('0000001000');
  });
});

describe('testBsn', () => {
  it('gives a distinct valid test BSN per scenario number', () => {
    const all = Array.from({ length: 1000 }, (_, n) => testBsn(n));
    for (const bsn of all) {
      expect(isValidBsn(bsn)).toBe(true);
      expect(isTestBsn(bsn)).toBe(true);
    }
    expect(new Set(all).size).toBe(1000);
    expect(testBsn(501)).toBe(testBsn(501));
  });

  it('refuses a scenario number outside 0..999', () => {
    expect(() => testBsn(1000)).toThrow(/0 to 999/);
    expect(() => testBsn(-1)).toThrow(/0 to 999/);
  });
});
