import { createHash } from 'node:crypto';

/** Namespace of the hub's name-based UUIDs (RFC 9562 v5); fixed forever. */
const NAMESPACE = Buffer.from('6f1c5f3e9b2d4c7a8e0f1a2b3c4d5e6f', 'hex');

/**
 * A UUID v5 derived from a name: the same source message always gets the same event id, so a
 * partner's resend, or the same koppeling arriving by JSON push and by the nightly CSV, is one
 * event to JetStream (Nats-Msg-Id) and to every partner (idempotency key).
 */
export function nameBasedUuid(name: string): string {
  const hash = createHash('sha1').update(NAMESPACE).update(name, 'utf8').digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
