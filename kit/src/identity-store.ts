import type { NatsConnection } from '@nats-io/transport-node';
import { Kvm, type KV } from '@nats-io/kv';
import { InfrastructureError } from './errors.ts';
import { openPersonRegister, personUnknown, type PersonRegister } from './person-register.ts';

/**
 * The one place where a pseudonym (inburgeraarId) leads back to a BSN. Only adapters that must
 * address a partner by BSN (DUO, the Kredietbank) open it; everything else in the hub knows
 * people by pseudonym only. Kept in a NATS KV bucket, written from the koppeling (COA), the
 * vestiging (KVS) and DUO's notifications, and holding what the DUO rules need to remember
 * (vestiging, PIP dates). Which gemeente a person belongs to is kept by the person register
 * (person-register.ts), and every read here goes through it: a handler can only get the BSN of
 * a person of the gemeente it acts for.
 */
export interface Identity {
  bsn?: string;
  vnummer?: string;
  vestigingsdatum?: string;
  /** Dagtekening of the first PIP the hub registered at DUO, and of the latest. */
  pip?: { initieel: string; huidig: string };
}

export interface IdentityStore {
  /** The gemeente binding of every person (also for the identity handler's own rules). */
  readonly persons: PersonRegister;
  /**
   * What the hub knows of a person of `gemeente`; undefined when it does not know the person.
   * Throws TenantMismatchError when the person belongs to another gemeente.
   */
  personOf(gemeente: string, inburgeraarId: string): Promise<Identity | undefined>;
  /**
   * Merges `patch` into what is stored for a known person of `gemeente` (optimistic
   * concurrency: retried on a conflict); throws TenantMismatchError like `personOf`, and
   * PersonUnknownError for a person the hub does not know. Binding a person to a gemeente is
   * the person register's, not this.
   */
  merge(gemeente: string, inburgeraarId: string, patch: Partial<Identity>): Promise<Identity>;
  /**
   * Reads and merges without the tenant check: only for the flows that bind the person to a
   * gemeente in the same step and check the register themselves (the identity handler, DUO's
   * notifications).
   */
  readonly binding: {
    get(inburgeraarId: string): Promise<Identity | undefined>;
    merge(inburgeraarId: string, patch: Partial<Identity>): Promise<Identity>;
  };
}

export const IDENTITY_BUCKET = 'IDENTITEITEN';

export async function openIdentityStore(
  nc: NatsConnection,
  opts: { ttlDays: number; replicas?: number },
): Promise<IdentityStore> {
  const persons = await openPersonRegister(nc, opts);
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

  async function get(id: string): Promise<Identity | undefined> {
    try {
      return (await read(id)).value;
    } catch (err) {
      throw new InfrastructureError('identity store unavailable', { cause: err });
    }
  }

  async function merge(id: string, patch: Partial<Identity>): Promise<Identity> {
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
  }

  return {
    persons,
    binding: { get, merge },
    async personOf(gemeente, id) {
      return (await persons.check(gemeente, id)) === 'known' ? get(id) : undefined;
    },
    async merge(gemeente, id, patch) {
      if ((await persons.check(gemeente, id)) === 'unknown') throw personUnknown(Infinity);
      return merge(id, patch);
    },
  };
}
