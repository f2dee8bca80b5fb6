import { createHmac } from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import { openJsonBucket } from '@ketenhub/kit';

/**
 * The pseudonym a VluchtelingenWerk office knows an aanvraag by: a keyed HMAC of the hub's
 * inburgeraarId, the gemeente's aanvraag and the office, in its own namespace ('begeleiding:'),
 * so it differs per office and per aanvraag, cannot be recomputed from a BSN, and cannot be
 * joined with the inburgeraarId of any other chain data. The same aanvraag sent again is the
 * same begeleiding.
 */
export interface BegeleidingPseudonymizer {
  begeleidingId(inburgeraarId: string, aanvraagId: string, vestiging: string): string;
}

export function createBegeleidingPseudonymizer(key: string): BegeleidingPseudonymizer {
  if (key.length < 32) throw new Error('pseudonym key must be at least 32 characters');
  return {
    begeleidingId(inburgeraarId, aanvraagId, vestiging) {
      const input = `begeleiding:${inburgeraarId}:${aanvraagId}:${vestiging}`;
      return `vb-${createHmac('sha256', key).update(input).digest('hex').slice(0, 32)}`;
    },
  };
}

export type Onderdeel = 'maatschappelijke-begeleiding' | 'pvt';

/** What the hub remembers of a begeleiding to map an office's report back to the aanvraag. */
export interface Begeleiding {
  inburgeraarId: string;
  gemeente: string;
  aanvraagId: string;
  /** The office it was sent to (an organisation id of partners.vluchtelingenwerk). */
  vestiging: string;
  /** What the gemeente assigned: the reports the office may send about it. */
  onderdelen: Onderdeel[];
}

export interface BegeleidingStore {
  get(begeleidingId: string): Promise<Begeleiding | undefined>;
  put(begeleidingId: string, begeleiding: Begeleiding): Promise<void>;
}

export const BEGELEIDING_BUCKET = 'VLUCHTELINGENWERK_BEGELEIDINGEN';

/** The begeleiding → aanvraag mapping in a NATS KV bucket; written before the aanvraag is sent. */
export async function openBegeleidingStore(
  nc: NatsConnection,
  opts: { ttlDays: number; replicas?: number },
): Promise<BegeleidingStore> {
  return openJsonBucket<Begeleiding>(nc, {
    bucket: BEGELEIDING_BUCKET,
    what: 'begeleiding store',
    description:
      'begeleiding pseudonym → inburgeraarId, gemeente, aanvraagId, vestiging, onderdelen',
    ...opts,
  });
}

/** In memory, for unit tests. */
export function memoryBegeleidingStore(): BegeleidingStore {
  const map = new Map<string, Begeleiding>();
  return {
    get: async (id) => map.get(id),
    put: async (id, b) => {
      map.set(id, b);
    },
  };
}
