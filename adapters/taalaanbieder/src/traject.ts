import { createHmac } from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import { openJsonBucket } from '@ketenhub/kit';

/**
 * The pseudonym a taalaanbieder knows a learner by: a keyed HMAC of the hub's inburgeraarId and
 * the school, in its own namespace ('traject:'), so it is different per school, cannot be
 * recomputed from a BSN, and cannot be joined with the inburgeraarId of any other chain data.
 */
export interface TrajectPseudonymizer {
  trajectId(inburgeraarId: string, taalaanbieder: string): string;
}

export function createTrajectPseudonymizer(key: string): TrajectPseudonymizer {
  if (key.length < 32) throw new Error('pseudonym key must be at least 32 characters');
  return {
    trajectId(inburgeraarId, taalaanbieder) {
      const input = `traject:${inburgeraarId}:${taalaanbieder}`;
      return `tr-${createHmac('sha256', key).update(input).digest('hex').slice(0, 32)}`;
    },
  };
}

/** What the hub remembers of a traject to map a school's message back to the person. */
export interface Traject {
  inburgeraarId: string;
  gemeente: string;
  taalaanbieder: string;
}

export interface TrajectStore {
  get(trajectId: string): Promise<Traject | undefined>;
  put(trajectId: string, traject: Traject): Promise<void>;
}

export const TRAJECT_BUCKET = 'TAALAANBIEDER_TRAJECTEN';

/** The traject → person mapping in a NATS KV bucket of the hub; written before the aanmelding. */
export async function openTrajectStore(
  nc: NatsConnection,
  opts: { ttlDays: number; replicas?: number },
): Promise<TrajectStore> {
  return openJsonBucket<Traject>(nc, {
    bucket: TRAJECT_BUCKET,
    what: 'traject store',
    description: 'traject pseudonym → inburgeraarId, gemeente, taalaanbieder',
    ...opts,
  });
}

/** In memory, for unit tests. */
export function memoryTrajectStore(): TrajectStore {
  const map = new Map<string, Traject>();
  return {
    get: async (id) => map.get(id),
    put: async (id, t) => {
      map.set(id, t);
    },
  };
}
