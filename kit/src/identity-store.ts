import type { NatsConnection } from '@nats-io/transport-node';
import { Kvm, type KV } from '@nats-io/kv';
import { InfrastructureError } from './errors.ts';

/**
 * The one place where a pseudonym (inburgeraarId) leads back to a BSN. Only adapters that must
 * address a partner by BSN (DUO, later the Kredietbank) open it; everything else in the hub
 * knows people by pseudonym only. Kept in a NATS KV bucket, written from the koppeling (COA) and
 * the vestiging (KVS), and holding what the DUO rules need to remember (vestiging, PIP dates).
 */
export interface Identity {
  bsn?: string;
  vnummer?: string;
  gemeente?: string;
  vestigingsdatum?: string;
  /** Dagtekening of the first PIP the hub registered at DUO, and of the latest. */
  pip?: { initieel: string; huidig: string };
}

export interface IdentityStore {
  get(inburgeraarId: string): Promise<Identity | undefined>;
  /** Merges `patch` into what is stored (optimistic concurrency: retried on a conflict). */
  merge(inburgeraarId: string, patch: Partial<Identity>): Promise<Identity>;
}

export const IDENTITY_BUCKET = 'IDENTITEITEN';

export async function openIdentityStore(
  nc: NatsConnection,
  opts: { ttlDays: number; replicas?: number },
): Promise<IdentityStore> {
  let kv: KV;
  try {
    kv = await new Kvm(nc).create(IDENTITY_BUCKET, {
      history: 1,
      ttl: opts.ttlDays * 24 * 60 * 60 * 1000,
      replicas: opts.replicas ?? 1,
      description: 'pseudonym → BSN/V-nummer; read only by adapters that address partners by BSN',
    });
  } catch (err) {
    throw new InfrastructureError('identity store unavailable', { cause: err });
  }

  async function read(id: string): Promise<{ value?: Identity; revision: number }> {
    const entry = await kv.get(id);
    if (!entry || entry.operation !== 'PUT' || entry.length === 0)
      return { revision: entry?.revision ?? 0 };
    return { value: entry.json<Identity>(), revision: entry.revision };
  }

  return {
    async get(id) {
      try {
        return (await read(id)).value;
      } catch (err) {
        throw new InfrastructureError('identity store unavailable', { cause: err });
      }
    },
    async merge(id, patch) {
      for (let attempt = 0; attempt < 10; attempt++) {
        try {
          const { value, revision } = await read(id);
          const next: Identity = { ...value, ...patch };
          const body = JSON.stringify(next);
          if (revision === 0) await kv.create(id, body);
          else await kv.update(id, body, revision);
          return next;
        } catch (err) {
          // Someone else wrote in between: read again and merge on top of theirs.
          if (!/wrong last sequence|key exists/i.test((err as Error).message)) {
            throw new InfrastructureError('identity store unavailable', { cause: err });
          }
        }
      }
      throw new InfrastructureError('identity store: too many concurrent updates');
    },
  };
}
