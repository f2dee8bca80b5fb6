/**
 * Partner API keys as stored in configuration: `sha256:<digest>`, the base64url SHA-256 of the
 * key, made by `npm run hash-key`. A leaked config file does not hand out working keys: the
 * hub's keys are 256-bit random values, and no one inverts SHA-256 of those. The digest is
 * unsalted on purpose, so the edge finds the credential of a presented key with one hash and a
 * lookup, whatever the number of partners and however many made-up keys arrive
 * (docs/adr/0011-api-key-digests.md). That is safe only for random keys, hence the floor on
 * their length.
 */

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { ConfigError } from './errors.ts';

const PREFIX = 'sha256:';
const DIGEST_BYTES = 32;
/**
 * Shortest key `hashApiKey` accepts: 32 characters, 128 bits when they are random hex (the hub's
 * own keys are 43 base64url characters, 256 bits). A fast digest of a shorter or chosen key could
 * be guessed from a leaked config.
 */
export const MIN_API_KEY_LENGTH = 32;

// No `$` (shells, compose files and .env files expand it) and no `{` (the config loader's
// `${VAR}` syntax): the string survives being pasted anywhere.
const FORMAT = /^sha256:([A-Za-z0-9_-]{43})$/;

export interface ApiKeyHash {
  /** SHA-256 of the key's bytes. */
  digest: Buffer;
}

/** Parses a stored digest; a malformed one is a ConfigError naming `where` (a config path). */
export function parseApiKeyHash(encoded: string, where = 'apiKeyHash'): ApiKeyHash {
  if (encoded.startsWith('scrypt:')) {
    // Each such key cost a scrypt to check, so made-up keys could crowd out real ones.
    throw new ConfigError(
      `${where}: a scrypt hash is no longer accepted; run \`npm run -s hash-key\` with the same key and set the sha256: digest it prints (docs/adr/0011-api-key-digests.md)`,
      { field: where, rule: 'format' },
    );
  }
  const m = FORMAT.exec(encoded);
  const digest = m ? Buffer.from(m[1]!, 'base64url') : undefined;
  if (!digest || digest.length !== DIGEST_BYTES) {
    throw new ConfigError(
      `${where}: not of the form sha256:<43 base64url characters>; make it with \`npm run -s hash-key\``,
      { field: where, rule: 'format' },
    );
  }
  return { digest };
}

/** SHA-256 of a key as the edge computes it for a presented one. */
export function apiKeyDigest(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

/** The stored form of `key`. */
export function hashApiKey(key: string): string {
  if (key.length < MIN_API_KEY_LENGTH) {
    throw new ConfigError(
      `an API key must have at least ${MIN_API_KEY_LENGTH} characters (128 bits when random; the hub keeps only a fast digest of it); make one with \`npm run -s hash-key -- --generate\``,
      { rule: 'minLength' },
    );
  }
  // Headers carry visible ASCII: a key with anything else would never match when presented.
  if (!/^[\x21-\x7e]+$/.test(key)) {
    throw new ConfigError('an API key must be visible ASCII characters only, no spaces', {
      rule: 'pattern',
    });
  }
  return `${PREFIX}${apiKeyDigest(key).toString('base64url')}`;
}

/** True when `key` is the key of the stored digest; the compare is constant-time. */
export function verifyApiKey(key: string, stored: ApiKeyHash): boolean {
  return timingSafeEqual(apiKeyDigest(key), stored.digest);
}

/** A new random API key: 32 bytes, base64url (43 characters). */
export function generateApiKey(): string {
  return randomBytes(32).toString('base64url');
}
