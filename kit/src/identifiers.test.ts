import { describe, expect, it } from 'vitest';
import { bsnProblem, isTestBsn, isValidBsn, normaliseVnummer } from './identifiers.ts';

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
