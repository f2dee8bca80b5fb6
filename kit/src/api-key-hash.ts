/**
 * Partner API keys as stored in configuration: a salted scrypt hash with its parameters in the
 * string, `scrypt:<N>:<r>:<p>:<salt>:<hash>` (salt and hash base64url), made by
 * `npm run hash-key`. A leaked config file then does not hand out working keys, and the
 * parameters can be raised later without breaking the hashes already issued. See
 * docs/adr/0008-partner-credentials.md for why scrypt and why these parameters.
 */

import { randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';
import { ConfigError } from './errors.ts';

export interface ScryptParams {
  /** CPU/memory cost, a power of two. */
  N: number;
  /** Block size. */
  r: number;
  /** Parallelisation. */
  p: number;
}

/**
 * 16 MiB and about 30-60 ms per hash on a current server core: slow enough that a leaked hash of
 * a weak key is expensive to brute-force, cheap enough that verifying it (once per key per cache
 * period, see http-edge.ts) costs nothing noticeable.
 */
export const DEFAULT_SCRYPT: ScryptParams = { N: 2 ** 14, r: 8, p: 1 };

const PREFIX = 'scrypt';
const SALT_BYTES = 16;
const HASH_BYTES = 32;
/** Shortest key `hashApiKey` accepts: the hub's keys are random, 16 characters is the floor. */
export const MIN_API_KEY_LENGTH = 16;
/** Parameters from a config file are bounded, so a typo cannot make every request take 1 GiB. */
const MAX_MEMORY = 256 * 1024 * 1024;

// No `$` (shells, compose files and .env files expand it) and no `{` (the config loader's
// `${VAR}` syntax): the string survives being pasted anywhere.
const FORMAT = /^scrypt:([0-9]+):([0-9]+):([0-9]+):([A-Za-z0-9_-]+):([A-Za-z0-9_-]+)$/;

export interface ApiKeyHash {
  params: ScryptParams;
  salt: Buffer;
  hash: Buffer;
}

function memoryOf({ N, r }: ScryptParams): number {
  return 128 * N * r;
}

function checkParams(params: ScryptParams, where: string): void {
  const { N, r, p } = params;
  const powerOfTwo = Number.isInteger(N) && N >= 2 ** 10 && (N & (N - 1)) === 0;
  if (!powerOfTwo || !(r >= 1 && r <= 32) || !(p >= 1 && p <= 16)) {
    throw new ConfigError(`${where}: scrypt parameters N=${N} r=${r} p=${p} are out of range`, {
      rule: 'scrypt-params',
    });
  }
  if (memoryOf(params) > MAX_MEMORY) {
    throw new ConfigError(`${where}: scrypt parameters need more than 256 MiB per hash`, {
      rule: 'scrypt-params',
    });
  }
}

function scryptOptions(params: ScryptParams) {
  // Node's default maxmem (32 MiB) is at the edge for N=2^15, r=8; give room above the need.
  return { ...params, maxmem: memoryOf(params) * 2 };
}

/** Parses a stored hash; a malformed one is a ConfigError naming `where` (a config path). */
export function parseApiKeyHash(encoded: string, where = 'apiKeyHash'): ApiKeyHash {
  const m = FORMAT.exec(encoded);
  if (!m) {
    throw new ConfigError(`${where}: not of the form scrypt:<N>:<r>:<p>:<salt>:<hash>`, {
      field: where,
      rule: 'format',
    });
  }
  const params = { N: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  checkParams(params, where);
  const salt = Buffer.from(m[4]!, 'base64url');
  const hash = Buffer.from(m[5]!, 'base64url');
  if (salt.length < SALT_BYTES || hash.length !== HASH_BYTES) {
    throw new ConfigError(`${where}: salt or hash has the wrong length`, {
      field: where,
      rule: 'format',
    });
  }
  return { params, salt, hash };
}

/** The stored form of `key`, with a fresh random salt. */
export function hashApiKey(key: string, params: ScryptParams = DEFAULT_SCRYPT): string {
  if (key.length < MIN_API_KEY_LENGTH) {
    throw new ConfigError(`an API key must have at least ${MIN_API_KEY_LENGTH} characters`, {
      rule: 'minLength',
    });
  }
  checkParams(params, 'hashApiKey');
  const salt = randomBytes(SALT_BYTES);
  const hash = scryptSync(key, salt, HASH_BYTES, scryptOptions(params));
  const { N, r, p } = params;
  return `${PREFIX}:${N}:${r}:${p}:${salt.toString('base64url')}:${hash.toString('base64url')}`;
}

/**
 * True when `key` hashes to the stored hash. Runs on the libuv thread pool, so the event loop
 * keeps serving other requests meanwhile; the compare is constant-time.
 */
export async function verifyApiKey(key: string, stored: ApiKeyHash): Promise<boolean> {
  const derived = await new Promise<Buffer>((resolve, reject) => {
    scrypt(key, stored.salt, HASH_BYTES, scryptOptions(stored.params), (err, out) =>
      err ? reject(err) : resolve(out),
    );
  });
  return timingSafeEqual(derived, stored.hash);
}

/** A new random API key: 32 bytes, base64url (43 characters). */
export function generateApiKey(): string {
  return randomBytes(32).toString('base64url');
}
