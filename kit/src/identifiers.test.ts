import { describe, expect, it } from 'vitest';
import { bsnProblem, isTestBsn, isValidBsn, normaliseVnummer, testBsn } from './identifiers.ts';

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

describe('V-nummer', () => {
  it('pads to 10 digits and rejects junk', () => {
    expect(normaliseVnummer('12345')).toBe('0000012345');
    expect(normaliseVnummer('1234567890')).toBe('1234567890');
    expect(() => normaliseVnummer('12345678901')).toThrow(/1 to 10 digits/);
    expect(() => normaliseVnummer('0')).toThrow(/must not be 0/);
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
