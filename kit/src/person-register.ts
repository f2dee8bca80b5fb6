import type { NatsConnection } from '@nats-io/transport-node';
import { OutOfOrderError, PersonUnknownError, TenantMismatchError } from './errors.ts';
import { openJsonBucket } from './json-bucket.ts';

/**
 * Which gemeente each person (pseudonym) belongs to: the hub's tenant binding
 * (docs/adr/0012-tenant-binding.md). Every consumer that acts on a person for a gemeente (a
 * melding to DUO, an ontzorgtraject at the Kredietbank, an aanmelding at a school, the identity
 * store) asks this register first, so an event of one gemeente about another gemeente's person
 * is refused in one place, whatever the handler does. Holds no personal data beyond the
 * pseudonym, so services that may not read BSNs (the taalaanbieder service) can use it too.
 *
 * Only the flows that legitimately place a person bind or move them: COA's koppeling, DUO's
 * notifications (DUO addresses the gemeente responsible, also after a move) and a KVS's
 * vestiging of a person the hub does not know yet, carrying the BSN the pseudonym was made of.
 */
export interface PersonBinding {
  gemeente: string;
  /** The partner whose message bound (or last moved) the person: coa, duo, gemeente-kvs. */
  door: string;
  /** When the binding was written. */
  sinds: string;
}

export interface PersonRegister {
  /** The binding, or undefined when the hub does not know the person. */
  bindingOf(inburgeraarId: string): Promise<PersonBinding | undefined>;
  /** Binds the person to the gemeente (or moves them); only for the flows named above. */
  bind(inburgeraarId: string, gemeente: string, door: string): Promise<void>;
  /**
   * The tenant check: `known` when the person belongs to `gemeente`, `unknown` when the hub does
   * not know them; throws TenantMismatchError (dead letter and alert `tenant-mismatch`) when
   * they belong to another gemeente.
   */
  check(gemeente: string, inburgeraarId: string): Promise<'known' | 'unknown'>;
  /**
   * `check`, and a person the hub does not know is waited for (OutOfOrderError, retried) during
   * the first `PERSON_WAIT_ATTEMPTS` deliveries of the message, then refused
   * (PersonUnknownError, dead letter): the koppeling or vestiging travels on another consumer
   * and may be a moment behind.
   */
  require(gemeente: string, inburgeraarId: string, deliveryCount: number): Promise<void>;
}

export const PERSON_BUCKET = 'PERSONEN';
/** Deliveries of a message that wait for its person to become known before it is refused. */
export const PERSON_WAIT_ATTEMPTS = 4;

export function tenantMismatch(field = 'data.inburgeraarId'): TenantMismatchError {
  // The rule is in the message too: a dead letter keeps the message, not the field and rule.
  return new TenantMismatchError(
    `the hub knows this person for another gemeente: ${field} (person of gemeente)`,
    { field, rule: 'person of gemeente' },
  );
}

/** What `require` throws while (and after) waiting for a person the hub does not know. */
export function personUnknown(
  deliveryCount: number,
  field = 'data.inburgeraarId',
): OutOfOrderError | PersonUnknownError {
  if (deliveryCount < PERSON_WAIT_ATTEMPTS) {
    return new OutOfOrderError(
      `person not known for this gemeente yet: ${field} (koppeling, vestiging or DUO notification first)`,
      { field, rule: 'koppeling, vestiging or DUO notification first' },
    );
  }
  return new PersonUnknownError(
    `the hub knows no such person for this gemeente: ${field} (person known for gemeente)`,
    { field, rule: 'person known for gemeente' },
  );
}

export async function openPersonRegister(
  nc: NatsConnection,
  opts: { ttlDays: number; replicas?: number },
): Promise<PersonRegister> {
  const bucket = await openJsonBucket<PersonBinding>(nc, {
    bucket: PERSON_BUCKET,
    what: 'person register',
    description: 'pseudonym → gemeente: which gemeente may act on the person (no BSN)',
    ...opts,
  });

  async function check(gemeente: string, id: string): Promise<'known' | 'unknown'> {
    const binding = await bucket.get(id);
    if (!binding) return 'unknown';
    if (binding.gemeente !== gemeente) throw tenantMismatch();
    return 'known';
  }

  return {
    bindingOf: (id) => bucket.get(id),
    check,
    async bind(id, gemeente, door) {
      if ((await bucket.get(id))?.gemeente === gemeente) return;
      await bucket.put(id, { gemeente, door, sinds: new Date().toISOString() });
    },
    async require(gemeente, id, deliveryCount) {
      if ((await check(gemeente, id)) === 'unknown') throw personUnknown(deliveryCount);
    },
  };
}
