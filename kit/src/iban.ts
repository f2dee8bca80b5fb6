import type { Violation } from '@ketenhub/contracts';
import { walkJson } from './json-walk.ts';

/**
 * IBAN (ISO 13616) and money checks for the financial flows (Kredietbank, later others).
 * The JSON Schemas can only check an IBAN's shape; a typo in one digit still matches the
 * pattern, and a payment to a wrong account is hard to undo, so every edge that accepts or
 * sends an IBAN also checks the mod-97 check digits here.
 */

/** Length of the IBAN per country (SWIFT IBAN registry), for the countries a Dutch hub meets. */
const IBAN_LENGTHS: Readonly<Record<string, number>> = {
  NL: 18,
  BE: 16,
  DE: 22,
  FR: 27,
  LU: 20,
  ES: 24,
  IT: 27,
  PT: 25,
  AT: 20,
  GB: 22,
  IE: 22,
  PL: 28,
  DK: 18,
  SE: 24,
  FI: 18,
  NO: 15,
  CH: 21,
};

/** Removes spaces and makes capitals: `nl91 abna 0417 1643 00` → `NL91ABNA0417164300`. */
export function normaliseIban(value: string): string {
  return value.replace(/\s+/g, '').toUpperCase();
}

/** ISO 7064 mod 97-10 over the rearranged IBAN, in chunks so no big integers are needed. */
function mod97(iban: string): number {
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let rest = 0;
  for (const ch of rearranged) {
    const code = ch.charCodeAt(0);
    const digits = code >= 65 ? String(code - 55) : ch;
    for (const d of digits) rest = (rest * 10 + Number(d)) % 97;
  }
  return rest;
}

/**
 * Why `value` is not a valid IBAN in electronic form, or undefined when it is. Spaces and
 * lower case are refused: the contracts carry the electronic form, normalise before.
 */
export function ibanProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'must be a string';
  if (!/^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$/.test(value)) {
    return 'must be an IBAN in electronic form: country code, 2 check digits, account (capitals and digits, no spaces)';
  }
  const expected = IBAN_LENGTHS[value.slice(0, 2)];
  if (expected !== undefined && value.length !== expected) {
    return `a ${value.slice(0, 2)} IBAN has ${expected} characters, this one ${value.length}`;
  }
  if (value.startsWith('NL') && !/^NL[0-9]{2}[A-Z]{4}[0-9]{10}$/.test(value)) {
    return 'a NL IBAN is NL, 2 check digits, a 4-letter bank code and 10 digits';
  }
  if (mod97(value) !== 1) return 'check digits do not match (ISO 13616 mod-97)';
  return undefined;
}

/**
 * The IBAN with the right check digits for a country and BBAN, e.g. `ibanFor('NL', 'ABNA',
 * '0417164300')` → `NL91ABNA0417164300`. For simulators and demos that need many valid
 * accounts; never for "repairing" an IBAN someone typed.
 */
export function ibanFor(country: string, bban: string): string {
  const check = 98 - mod97(`${country}00${bban}`);
  return `${country}${String(check).padStart(2, '0')}${bban}`;
}

export function isValidIban(value: unknown): boolean {
  return ibanProblem(value) === undefined;
}

/** A sane ceiling for one amount in the chain: EUR 10 000 (a monthly benefit or fixed charge). */
export const MAX_BEDRAG_CENT = 1_000_000;

/** Why `value` is not an amount in euro cents (positive integer ≤ max), or undefined. */
export function bedragCentProblem(
  value: unknown,
  max: number = MAX_BEDRAG_CENT,
): string | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value)) return 'must be a number of euro cents';
  if (!Number.isInteger(value)) return 'must be a whole number of euro cents (no fractions)';
  if (value <= 0) return 'must be positive';
  if (value > max) return `must be at most ${max} cents (EUR ${max / 100})`;
  return undefined;
}

/**
 * Checks every IBAN and every amount in a JSON value, wherever it sits: a property named
 * `iban` (any case) must pass mod-97, a property whose name ends in `BedragCent`/`bedragCent`
 * must be a positive whole number of cents. Generic on purpose, so an edge can run it over any
 * event without knowing its schema; the field is named as the schema violations name it
 * (`data.vasteLasten[1].iban`). Safe for any value (null, a string, nesting of any depth: a
 * `max depth` violation past MAX_WALK_DEPTH levels), though an edge validates the schema first.
 */
export function moneyViolations(value: unknown, base = ''): Violation[] {
  const out: Violation[] = [];
  const tooDeep = walkJson(value, base, (key, child, field) => {
    if (/^iban$/i.test(key)) {
      const problem = ibanProblem(child);
      if (problem) out.push({ field: field(), rule: 'iban', message: problem });
      return false;
    }
    if (/bedragCent$/i.test(key)) {
      const problem = bedragCentProblem(child);
      if (problem) out.push({ field: field(), rule: 'bedrag-cent', message: problem });
      return false;
    }
    return true;
  });
  if (tooDeep) out.push(tooDeep);
  return out;
}
