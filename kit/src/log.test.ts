import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, scrubLine, scrubText } from './log.ts';

function capture(): {
  stream: Writable;
  lines: () => Record<string, unknown>[];
  raw: () => string;
} {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  const raw = (): string => chunks.join('');
  return {
    stream,
    raw,
    lines: () =>
      raw()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('createLogger', () => {
  it('redacts personal data by key and by value', () => {
    const out = capture();
    const log = createLogger('test-svc', { destination: out.stream });
    log.info(
      {
        bsn: '111222333',
        persoon: {
          naam: 'Jansen',
          adres: { straat: 'Dorpsstraat 1' },
          contact: { email: 'a.jansen@example.nl', nested: { telefoon: '0612345678' } },
        },
        kinderen: [{ voornamen: 'Piet Klaas' }],
        betaling: { iban: 'NL91ABNA0417164300' },
        omschrijving: 'rekening NL02RABO0123456789 en v-nummer 1234567890',
        url: '/personen/123456789/pip',
        aantal: 987654321,
        req: { headers: { authorization: 'Bearer s3cr3t', 'x-api-key': 'k3y' } },
      },
      'inburgeraar 999888777 via /personen/444555666/pip',
    );
    log.info('argument %s', '222333444');

    const raw = out.raw();
    for (const secret of [
      '111222333',
      'Jansen',
      'Dorpsstraat',
      'a.jansen@example.nl',
      '0612345678',
      'Piet Klaas',
      'NL91ABNA0417164300',
      'NL02RABO0123456789',
      'RABO',
      '1234567890',
      '123456789',
      '987654321',
      '999888777',
      '444555666',
      '222333444',
      's3cr3t',
      'k3y',
    ]) {
      expect(raw).not.toContain(secret);
    }
    const [first, second] = out.lines();
    expect(first).toMatchObject({
      service: 'test-svc',
      bsn: '[redacted]',
      persoon: { naam: '[redacted]', adres: '[redacted]' },
      kinderen: [{ voornamen: '[redacted]' }],
      url: '/personen/[redacted]/pip',
      msg: 'inburgeraar [redacted] via /personen/[redacted]/pip',
      req: { headers: { authorization: '[redacted]', 'x-api-key': '[redacted]' } },
    });
    expect(second?.msg).toBe('argument [redacted]');
  });

  it('leaves ordinary lines and numbers alone', () => {
    const out = capture();
    const log = createLogger('svc', { destination: out.stream, level: 'debug' });
    log.debug({ count: 12345678, code: 'gm0797', duration: 1234 }, 'delivered 3 messages');
    const [line] = out.lines();
    expect(line).toMatchObject({
      level: 20,
      service: 'svc',
      count: 12345678,
      code: 'gm0797',
      msg: 'delivered 3 messages',
    });
    expect(typeof line?.time).toBe('number');
  });

  it('redacts keys up to four levels deep without help from the value scrubber', () => {
    const out = capture();
    const log = createLogger('svc', { destination: out.stream });
    // No digit runs here, so only pino's key redaction is at work.
    log.info({ a: { b: { c: { achternaam: 'de Vries' } } }, lijst: [{ naam: 'Bakker' }] });
    expect(out.raw()).not.toContain('de Vries');
    expect(out.raw()).not.toContain('Bakker');
    expect(out.lines()[0]).toMatchObject({
      a: { b: { c: { achternaam: '[redacted]' } } },
      lijst: [{ naam: '[redacted]' }],
    });
  });

  it('scrubs error messages and stacks', () => {
    const out = capture();
    const log = createLogger('svc', { destination: out.stream });
    log.error({ err: new Error('no person 123456789') }, 'failed');
    expect(out.raw()).not.toContain('123456789');
    expect(out.lines()[0]).toMatchObject({ err: { message: 'no person [redacted]' } });
  });
});

describe('scrubText / scrubLine', () => {
  it('only redacts 9- and 10-digit runs', () => {
    expect(scrubText('a 12345678 b 123456789 c 1234567890 d 12345678901')).toBe(
      'a 12345678 b [redacted] c [redacted] d 12345678901',
    );
    expect(scrubText('NL91 ABNA 0417 1643 00')).toBe('[redacted]');
  });

  it('keeps a line valid JSON', () => {
    const line = scrubLine('{"n":123456789,"s":"x123456789y"}\n');
    expect(line.endsWith('\n')).toBe(true);
    expect(JSON.parse(line)).toEqual({ n: '[redacted]', s: 'x[redacted]y' });
  });
});
