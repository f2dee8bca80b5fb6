import { Kvm, type KV } from '@nats-io/kv';
import { InfrastructureError, type openIdentityStore } from '@ketenhub/kit';

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
  let kv: KV;
  try {
    kv = await new Kvm(nc).create(TRAJECT_BUCKET, {
      history: 1,
      ttl: opts.ttlDays * 24 * 60 * 60 * 1000,
      replicas: opts.replicas ?? 1,
      description: 'ontzorgtraject (gemeente.trajectId) → inburgeraarId, for Kredietbank webhooks',
    });
  } catch (err) {
    throw new InfrastructureError('traject store unavailable', { cause: err });
  }
  const key = (gemeente: string, trajectId: string) => `${gemeente}.${trajectId}`;
  return {
    async get(gemeente, trajectId) {
      try {
        const entry = await kv.get(key(gemeente, trajectId));
        if (!entry || entry.operation !== 'PUT' || entry.length === 0) return undefined;
        return entry.json<TrajectLink>();
      } catch (err) {
        throw new InfrastructureError('traject store unavailable', { cause: err });
      }
    },
    async put({ trajectId, inburgeraarId, gemeente }) {
      try {
        await kv.put(key(gemeente, trajectId), JSON.stringify({ inburgeraarId, gemeente }));
      } catch (err) {
        throw new InfrastructureError('traject store unavailable', { cause: err });
      }
    },
  };
}
