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
  /**
   * The traject the hub last registered for this person in this gemeente (for a signed lease,
   * which names the person, not the traject); undefined when it registered none.
   */
  ofPerson(gemeente: string, inburgeraarId: string): Promise<string | undefined>;
  /** Remembers the link both ways: traject → person, and person → this (latest) traject. */
  put(link: TrajectLink & { trajectId: string }): Promise<void>;
}

export const TRAJECT_BUCKET = 'KREDIETBANK_TRAJECTEN';

export async function openTrajectStore(
  nc: NatsConnection,
  opts: { ttlDays: number; replicas?: number },
): Promise<TrajectStore> {
  const bucket = await openJsonBucket<TrajectLink & { trajectId?: string }>(nc, {
    bucket: TRAJECT_BUCKET,
    what: 'traject store',
    description:
      'ontzorgtraject (gemeente.trajectId) → inburgeraarId, for Kredietbank webhooks; gemeente.persoon.inburgeraarId → its latest traject',
    ...opts,
  });
  // A trajectId has no dots (its pattern), so `gemeente.persoon.<id>` never meets a traject key.
  const key = (gemeente: string, trajectId: string) => `${gemeente}.${trajectId}`;
  const personKey = (gemeente: string, inburgeraarId: string) =>
    `${gemeente}.persoon.${inburgeraarId}`;
  return {
    async get(gemeente, trajectId) {
      const link = await bucket.get(key(gemeente, trajectId));
      return link && { inburgeraarId: link.inburgeraarId, gemeente: link.gemeente };
    },
    async ofPerson(gemeente, inburgeraarId) {
      return (await bucket.get(personKey(gemeente, inburgeraarId)))?.trajectId;
    },
    async put({ trajectId, inburgeraarId, gemeente }) {
      await bucket.put(key(gemeente, trajectId), { inburgeraarId, gemeente });
      await bucket.put(personKey(gemeente, inburgeraarId), { inburgeraarId, gemeente, trajectId });
    },
  };
}
