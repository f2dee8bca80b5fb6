/**
 * BSN and V-nummer: the one place that knows their rules. Callers get a reason they can put in
 * an error message naming the field; the number itself never goes into that message.
 */

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
 * V-nummers are up to 10 digits (DUO models them as an integer ≤ 9999999999); the hub carries
 * them as exactly 10 digits so the same person always gets the same string.
 */
export function normaliseVnummer(value: string): string {
  if (!/^[0-9]{1,10}$/.test(value)) throw new Error('V-nummer must be 1 to 10 digits');
  if (/^0+$/.test(value)) throw new Error('V-nummer must not be 0');
  return value.padStart(10, '0');
}
