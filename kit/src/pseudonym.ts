import { createHmac } from 'node:crypto';

/**
 * The hub's pseudonym for a person: a keyed HMAC-SHA256 of the BSN, or of the V-nummer while
 * no BSN is known. Without the key it cannot be reversed or recomputed from a BSN, so it may
 * appear in chain events, the processing log and KVS case references. The key comes from the
 * environment (KETENHUB_PSEUDONYM_KEY); rotating it changes every pseudonym, which is why
 * rotation goes through a re-keying of the mapping (see docs/privacy.md).
 */
export interface Pseudonymizer {
  inburgeraarId(person: { bsn?: string | undefined; vnummer: string }): string;
}

export function createPseudonymizer(key: string): Pseudonymizer {
  if (key.length < 32) throw new Error('pseudonym key must be at least 32 characters');
  return {
    inburgeraarId({ bsn, vnummer }) {
      const input = bsn ? `bsn:${bsn}` : `vnummer:${vnummer}`;
      return `ih-${createHmac('sha256', key).update(input).digest('hex').slice(0, 32)}`;
    },
  };
}
