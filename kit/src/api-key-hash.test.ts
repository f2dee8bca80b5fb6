import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  MIN_API_KEY_LENGTH,
  generateApiKey,
  hashApiKey,
  parseApiKeyHash,
  verifyApiKey,
} from './api-key-hash.ts';

describe('API key digests', () => {
  it('verifies the key it was made from and nothing else', () => {
    const key = generateApiKey();
    const parsed = parseApiKeyHash(hashApiKey(key));
    expect(verifyApiKey(key, parsed)).toBe(true);
    expect(verifyApiKey(`${key}x`, parsed)).toBe(false);
    expect(verifyApiKey('', parsed)).toBe(false);
  });

  it('is sha256: and the base64url SHA-256 of the key, the same every time', () => {
    const key = generateApiKey();
    const stored = hashApiKey(key);
    expect(stored).toBe(`sha256:${createHash('sha256').update(key).digest('base64url')}`);
    expect(stored).toMatch(/^sha256:[A-Za-z0-9_-]{43}$/);
    // Unsalted on purpose: the edge finds a key by its digest.
    expect(hashApiKey(key)).toBe(stored);
    expect(parseApiKeyHash(stored).digest).toEqual(createHash('sha256').update(key).digest());
    // Nothing a shell, a compose file or the config loader would expand.
    expect(stored).not.toMatch(/[${}]/);
  });

  it('refuses keys too weak for a fast digest, saying what is needed', () => {
    expect(MIN_API_KEY_LENGTH).toBe(32);
    expect(() => hashApiKey('a-key-of-twenty-nine-characters')).toThrow(
      /at least 32 characters.*128 bits.*--generate/,
    );
    expect(() => hashApiKey('x'.repeat(31))).toThrow(/at least 32 characters/);
    expect(() => hashApiKey('x'.repeat(32))).not.toThrow();
    // A header carries visible ASCII only; another key could never be presented as hashed.
    expect(() => hashApiKey(`${'k'.repeat(32)} é`)).toThrow(/visible ASCII/);
    expect(generateApiKey().length).toBeGreaterThanOrEqual(MIN_API_KEY_LENGTH);
  });

  it('refuses a scrypt hash of an earlier version, telling the operator what to do', () => {
    const scrypt = `scrypt:16384:8:1:${'A'.repeat(22)}:${'B'.repeat(43)}`;
    expect(() => parseApiKeyHash(scrypt, 'partners.coa.apiKeyHash')).toThrow(
      /partners.coa.apiKeyHash: a scrypt hash.*npm run -s hash-key/,
    );
    try {
      parseApiKeyHash(scrypt, 'partners.coa.apiKeyHash');
    } catch (err) {
      expect(err).toMatchObject({
        name: 'ConfigError',
        field: 'partners.coa.apiKeyHash',
        rule: 'format',
      });
    }
  });

  it('refuses a malformed digest', () => {
    const good = hashApiKey(generateApiKey());
    for (const bad of [
      'sha256:00',
      `sha256:${good.slice(8, -1)}`,
      `SHA256:${good.slice(7)}`,
      good.slice(7),
    ]) {
      expect(() => parseApiKeyHash(bad, 'partners.coa.apiKeyHash'), bad).toThrow(
        /partners.coa.apiKeyHash: not of the form sha256:/,
      );
    }
  });
});
