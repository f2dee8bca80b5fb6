import { createHmac } from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import { openJsonBucket } from '@ketenhub/kit';

/**
 * The pseudonym a woningcorporatie knows a search by: a keyed HMAC of the hub's inburgeraarId,
 * the gemeente's aanvraag and the corporatie, in its own namespace ('zoektocht:'), so it differs
 * per corporatie and per aanvraag, cannot be recomputed from a BSN, and cannot be joined with
 * the inburgeraarId of any other chain data. The same aanvraag sent again is the same zoektocht.
 */
export interface ZoektochtPseudonymizer {
  zoektochtId(inburgeraarId: string, aanvraagId: string, corporatie: string): string;
}

export function createZoektochtPseudonymizer(key: string): ZoektochtPseudonymizer {
  if (key.length < 32) throw new Error('pseudonym key must be at least 32 characters');
  return {
    zoektochtId(inburgeraarId, aanvraagId, corporatie) {
      const input = `zoektocht:${inburgeraarId}:${aanvraagId}:${corporatie}`;
      return `wz-${createHmac('sha256', key).update(input).digest('hex').slice(0, 32)}`;
    },
  };
}

/** What the hub remembers of a zoektocht to map a corporatie's answer back to the aanvraag. */
export interface Zoektocht {
  inburgeraarId: string;
  gemeente: string;
  aanvraagId: string;
  corporatie: string;
}

export interface ZoektochtStore {
  get(zoektochtId: string): Promise<Zoektocht | undefined>;
  put(zoektochtId: string, zoektocht: Zoektocht): Promise<void>;
}

export const ZOEKTOCHT_BUCKET = 'WONINGCORPORATIE_ZOEKTOCHTEN';

/** The zoektocht → aanvraag mapping in a NATS KV bucket; written before the zoektocht is sent. */
export async function openZoektochtStore(
  nc: NatsConnection,
  opts: { ttlDays: number; replicas?: number },
): Promise<ZoektochtStore> {
  return openJsonBucket<Zoektocht>(nc, {
    bucket: ZOEKTOCHT_BUCKET,
    what: 'zoektocht store',
    description: 'zoektocht pseudonym → inburgeraarId, gemeente, aanvraagId, corporatie',
    ...opts,
  });
}

/** In memory, for unit tests. */
export function memoryZoektochtStore(): ZoektochtStore {
  const map = new Map<string, Zoektocht>();
  return {
    get: async (id) => map.get(id),
    put: async (id, z) => {
      map.set(id, z);
    },
  };
}
