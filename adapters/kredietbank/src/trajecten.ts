import { openJsonBucket } from '@ketenhub/kit';
import type { openIdentityStore } from '@ketenhub/kit/privacy';

type NatsConnection = Parameters<typeof openIdentityStore>[0];

/**
 * Which inburgeraar an ontzorgtraject belongs to. The Kredietbank's webhooks name the traject by
 * the gemeente's referentie only (no BSN, no pseudonym leaves the hub for this), so the hub
 * remembers the link when it registers the traject. Keyed by gemeente and trajectId: two
 * gemeenten may use the same trajectId.
 */
export interface TrajectLink {
  inburgeraarId: string;
  gemeente: string;
}

export interface TrajectStore {
  get(gemeente: string, trajectId: string): Promise<TrajectLink | undefined>;
  put(link: TrajectLink & { trajectId: string }): Promise<void>;
}

export const TRAJECT_BUCKET = 'KREDIETBANK_TRAJECTEN';

export async function openTrajectStore(
  nc: NatsConnection,
  opts: { ttlDays: number; replicas?: number },
): Promise<TrajectStore> {
  const bucket = await openJsonBucket<TrajectLink>(nc, {
    bucket: TRAJECT_BUCKET,
    what: 'traject store',
    description: 'ontzorgtraject (gemeente.trajectId) → inburgeraarId, for Kredietbank webhooks',
    ...opts,
  });
  const key = (gemeente: string, trajectId: string) => `${gemeente}.${trajectId}`;
  return {
    get: (gemeente, trajectId) => bucket.get(key(gemeente, trajectId)),
    put: ({ trajectId, inburgeraarId, gemeente }) =>
      bucket.put(key(gemeente, trajectId), { inburgeraarId, gemeente }),
  };
}
