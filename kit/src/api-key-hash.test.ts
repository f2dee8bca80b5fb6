import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SCRYPT,
  generateApiKey,
  hashApiKey,
  parseApiKeyHash,
  verifyApiKey,
} from './api-key-hash.ts';

describe('API key hashes', () => {
  it('verifies the key it was made from and nothing else', async () => {
    const key = generateApiKey();
    const stored = hashApiKey(key);
    const parsed = parseApiKeyHash(stored);
    expect(parsed.params).toEqual(DEFAULT_SCRYPT);
    expect(await verifyApiKey(key, parsed)).toBe(true);
    expect(await verifyApiKey(`${key}x`, parsed)).toBe(false);
    expect(await verifyApiKey('', parsed)).toBe(false);
  });

  it('salts every hash, and keeps its parameters in the string', () => {
    const key = 'the-same-key-0123456789';
    const a = hashApiKey(key, { N: 2 ** 10, r: 8, p: 1 });
    const b = hashApiKey(key, { N: 2 ** 10, r: 8, p: 1 });
    expect(a).not.toBe(b);
    expect(a).toMatch(/^scrypt:1024:8:1:[A-Za-z0-9_-]{22}:[A-Za-z0-9_-]{43}$/);
    // Nothing a shell, a compose file or the config loader would expand.
    expect(a).not.toMatch(/[${}]/);
  });

  it('refuses short keys, malformed hashes and parameters out of bounds', () => {
    expect(() => hashApiKey('short')).toThrow(/at least 16/);
    expect(() => parseApiKeyHash('sha256:00', 'partners.coa.apiKeyHash')).toThrow(
      /partners.coa.apiKeyHash: not of the form/,
    );
    const good = hashApiKey('a-key-of-enough-length', { N: 2 ** 10, r: 8, p: 1 });
    const [, , , , salt, hash] = good.split(':');
    expect(() => parseApiKeyHash(`scrypt:1000:8:1:${salt}:${hash}`)).toThrow(/out of range/);
    expect(() => parseApiKeyHash(`scrypt:${2 ** 20}:32:1:${salt}:${hash}`)).toThrow(/256 MiB/);
    expect(() => parseApiKeyHash(`scrypt:1024:8:1:${salt}:${hash!.slice(4)}`)).toThrow(
      /wrong length/,
    );
  });
});
