/**
 * Logging with pino. Personal data (AVG) must never reach a log line, so two nets are used:
 * redaction by key (cheap, exact, but blind to values) and scrubbing of the finished line
 * (catches a BSN in a message, an URL like `/personen/123456789`, an interpolated argument or an
 * error stack, which no key-based rule can see).
 */

import pino from 'pino';
import type { DestinationStream, Logger } from 'pino';

export type { Logger };

export const REDACTED = '[redacted]';

/** Keys whose values are personal data wherever they occur. */
export const PERSONAL_DATA_KEYS: readonly string[] = [
  'bsn',
  'vnummer',
  'vNummer',
  'v_nummer',
  'voornamen',
  'voorletters',
  'achternaam',
  'geslachtsnaam',
  'naam',
  'iban',
  'email',
  'telefoon',
  'adres',
  'geboortedatum',
];

/** Nesting depth covered by key redaction; deeper values still pass the line scrubber. */
const REDACT_DEPTH = 4;

function redactPaths(): string[] {
  const paths: string[] = ['req.headers.authorization', 'req.headers["x-api-key"]'];
  for (const key of PERSONAL_DATA_KEYS) {
    for (let depth = 0; depth < REDACT_DEPTH; depth++) {
      paths.push(`${'*.'.repeat(depth)}${key}`);
    }
  }
  return paths;
}

// A BSN is 9 digits, an A-nummer / V-nummer 10; bounded by non-digits so timestamps (13 digits)
// and amounts in a longer run stay readable.
const DIGIT_RUN = /(?<!\d)\d{9,10}(?!\d)/g;
// IBANs first: their 10-digit account part would otherwise leave `NL91ABNA[redacted]`, which
// still names the bank. The second form is the printed one with spaces.
const IBAN = /NL\d{2}[A-Z]{4}\d{10}|NL\d{2} [A-Z]{4}(?: \d{4}){2} \d{2}/gi;
const SUSPECT = /(?<!\d)\d{9,10}(?!\d)|NL\d{2} ?[A-Z]{4}/i;
const PERSONAL_KEY_SET = new Set(PERSONAL_DATA_KEYS);

/** Replaces BSN-, V-nummer- and IBAN-looking parts of a text with `[redacted]`. */
export function scrubText(text: string): string {
  return text.replace(IBAN, REDACTED).replace(DIGIT_RUN, REDACTED);
}

function scrubValue(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return scrubText(value);
  // A BSN typed as a number is still a BSN.
  if (typeof value === 'number') {
    return Number.isInteger(value) && /^\d{9,10}$/.test(String(Math.abs(value))) ? REDACTED : value;
  }
  if (value === null || typeof value !== 'object' || depth > 32) return value;
  if (Array.isArray(value)) return value.map((v) => scrubValue(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[scrubText(k)] = PERSONAL_KEY_SET.has(k) ? REDACTED : scrubValue(v, depth + 1);
  }
  return out;
}

/**
 * Scrubs one finished NDJSON line. Most lines hold nothing suspect and pass untouched; the
 * others are parsed and rebuilt so the result stays valid JSON (a plain text replace would turn
 * a numeric value into invalid JSON).
 */
export function scrubLine(line: string): string {
  if (!SUSPECT.test(line)) return line;
  const newline = line.endsWith('\n');
  try {
    const scrubbed = JSON.stringify(scrubValue(JSON.parse(line), 0));
    return newline ? `${scrubbed}\n` : scrubbed;
  } catch {
    return scrubText(line);
  }
}

export interface LoggerOptions {
  /** Default: `LOG_LEVEL` from the environment, else `info`. */
  level?: string;
  /** Where lines go; default stdout. Tests pass a stream to capture them. */
  destination?: DestinationStream;
}

export function createLogger(service: string, opts: LoggerOptions = {}): Logger {
  const options: pino.LoggerOptions = {
    level: opts.level ?? process.env.LOG_LEVEL ?? 'info',
    // pid and hostname say nothing an orchestrator does not already attach.
    base: { service },
    redact: { paths: redactPaths(), censor: REDACTED },
    hooks: { streamWrite: scrubLine },
  };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}
