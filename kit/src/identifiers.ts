/**
 * BSN and V-nummer: the one place that knows their rules. Callers get a reason they can put in
 * an error message naming the field; the number itself never goes into that message.
 */

import type { Violation } from '@ketenhub/contracts';
import { ValidationError } from './errors.ts';
import { walkJson } from './json-walk.ts';

/** Why a BSN is not acceptable, or undefined when it is. */
export function bsnProblem(value: string): string | undefined {
  if (!/^[0-9]{9}$/.test(value)) return 'must be exactly 9 digits';
  if (value === '000000000') return 'must not be 000000000';
  let sum = 0;
  for (let i = 0; i < 8; i++) sum += Number(value[i]) * (9 - i);
  sum -= Number(value[8]);
  return sum % 11 === 0 ? undefined : 'fails the elfproef';
}

export function isValidBsn(value: string): boolean {
  return bsnProblem(value) === undefined;
}

/**
 * Checks every property named `bsn` in a JSON value (a chain event's data), wherever it sits, so
 * an edge refuses a mistyped BSN in any event a partner may send, including types added later.
 * A non-string `bsn` is left to the schema. Fields are named as schema violations name them.
 */
export function bsnViolations(value: unknown, base = ''): Violation[] {
  const out: Violation[] = [];
  const tooDeep = walkJson(value, base, (key, child, field) => {
    if (key !== 'bsn') return true;
    const problem = typeof child === 'string' ? bsnProblem(child) : undefined;
    if (problem) out.push({ field: field(), rule: 'elfproef', message: problem });
    return false;
  });
  if (tooDeep) out.push(tooDeep);
  return out;
}

/**
 * The n-th test BSN (0 ≤ n ≤ 999): the first number of the 999 range from 999n000 on that passes
 * the elfproef, so each test scenario gets its own valid BSN that can never be a real person's.
 */
export function testBsn(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > 999) throw new Error('testBsn: n must be 0 to 999');
  for (let i = n * 1000; ; i++) {
    const candidate = `999${String(i).padStart(6, '0')}`;
    if (isValidBsn(candidate)) return candidate;
  }
}

/** BSNs in the 999-range are test numbers (RvIG); production must not see them. */
export function isTestBsn(value: string): boolean {
  return value.startsWith('999');
}

/**
 * Why a V-nummer is not acceptable, or undefined when it is (ADR 0007): 1 to 10 digits, as text
 * or as DUO's integer, and not all zeros (no person has V-nummer 0). Signs, exponents, fractions
 * and spaces are refused, not read as a number.
 */
export function vnummerProblem(value: string | number): string | undefined {
  const text =
    typeof value === 'number' ? (Number.isSafeInteger(value) ? String(value) : '') : value;
  if (typeof text !== 'string' || !/^[0-9]{1,10}$/.test(text)) return 'must be 1 to 10 digits';
  if (/^0+$/.test(text)) return 'must not be 0';
  return undefined;
}

/**
 * V-nummers are up to 10 digits (DUO models them as an integer ≤ 9999999999); the hub carries
 * them as exactly 10 digits so the same person always gets the same string. Partner input that
 * breaks the rule is a ValidationError naming `field` and the rule `vnummer`, so an edge answers
 * 400; the number itself is not in the message.
 */
export function normaliseVnummer(value: string | number, field = 'vnummer'): string {
  const problem = vnummerProblem(value);
  if (problem) {
    throw new ValidationError(`${field} ${problem}`, [
      { field, rule: 'vnummer', message: problem },
    ]);
  }
  return String(value).padStart(10, '0');
}
