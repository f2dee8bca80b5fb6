import type { JsMsg } from '@nats-io/jetstream';
import { schemas } from '@ketenhub/contracts';
import type { InburgeraarGekoppeld, InburgeraarGevestigd } from '@ketenhub/contracts/generated';
import { OutOfOrderError, ValidationError } from './errors.ts';
import type { Event } from './events.ts';
import type { IdentityStore } from './identity-store.ts';
import { tenantMismatch } from './person-register.ts';
import type { Pseudonymizer } from './pseudonym.ts';
import type { Outcome } from './run-service.ts';

const GEKOPPELD = 'nl.inburgering.inburgeraar.gekoppeld';
const GEVESTIGD = 'nl.inburgering.inburgeraar.gevestigd';

function refuse(message: string, field: string, rule: string): ValidationError {
  // The rule is in the message too: a dead letter keeps the message, not the violations.
  return new ValidationError(`${message}: ${field} (${rule})`, [{ field, rule, message }]);
}

/**
 * Koppeling (COA) and vestiging (KVS) → the person register (which gemeente the person belongs
 * to) and the identity store (pseudonym → BSN, V-nummer, vestiging date), for the adapters that
 * address a partner by BSN (DUO, the Kredietbank) and every consumer that acts on a person.
 *
 * The store decides which person a melding to DUO or an ontzorgtraject at the Kredietbank is
 * about, so a BSN is only linked to a pseudonym it belongs to: the koppeling's pseudonym must be
 * the HMAC of its own BSN or V-nummer; a vestiging's BSN must either be the one the pseudonym
 * was made from, or come for a person known by V-nummer who has no BSN yet. A BSN that differs
 * from the one already known is refused (dead letter), never overwritten.
 *
 * The gemeente binding (docs/adr/0012-tenant-binding.md): a koppeling binds the person to its
 * gemeente (COA places statushouders, also again elsewhere). A vestiging is the KVS's own
 * message, so it never moves a person: for a person of another gemeente it is refused
 * (TenantMismatchError: dead letter and alert); for a person the hub does not know it binds
 * them only when it carries the BSN the pseudonym was made from (the KVS proves it knows the
 * person), and otherwise waits (retried) for the koppeling.
 */
export function createIdentityHandler(
  identities: IdentityStore,
  pseudonyms: Pseudonymizer,
): (m: JsMsg) => Promise<Outcome> {
  const { persons, binding } = identities;
  return async (m) => {
    const event = m.json<Event<unknown> & { gemeente: string }>();
    if (event.type !== GEKOPPELD && event.type !== GEVESTIGD) return 'skipped';
    const violations = schemas().validateEvent(event);
    if (violations.length > 0) throw new ValidationError('not a valid chain event', violations);
    const gemeente = event.gemeente;
    if ((event.data as { gemeenteCode?: string }).gemeenteCode !== gemeente) {
      throw refuse('gemeente of event and data differ', 'data.gemeenteCode', 'equals gemeente');
    }

    if (event.type === GEKOPPELD) {
      const d = event.data as InburgeraarGekoppeld;
      const { bsn, vnummer } = d.persoon;
      if (pseudonyms.inburgeraarId({ bsn, vnummer }) !== d.inburgeraarId) {
        throw refuse(
          'the inburgeraarId is not the pseudonym of this persoon',
          'data.inburgeraarId',
          'pseudonym of persoon',
        );
      }
      const known = await binding.get(d.inburgeraarId);
      if (bsn && known?.bsn && known.bsn !== bsn) {
        throw refuse('another BSN is known for this person', 'data.persoon.bsn', 'bsn unchanged');
      }
      await binding.merge(d.inburgeraarId, { ...(bsn ? { bsn } : {}), vnummer });
      await persons.bind(d.inburgeraarId, gemeente, 'coa');
      return 'delivered';
    }

    const d = event.data as InburgeraarGevestigd;
    const placed = await persons.bindingOf(d.inburgeraarId);
    if (placed && placed.gemeente !== gemeente) throw tenantMismatch();
    const known = await binding.get(d.inburgeraarId);
    const ownPseudonym =
      d.bsn !== undefined &&
      pseudonyms.inburgeraarId({ bsn: d.bsn, vnummer: '' }) === d.inburgeraarId;
    if (!placed && !ownPseudonym) {
      throw new OutOfOrderError(
        'vestiging for a person the hub has not seen a koppeling of yet: data.inburgeraarId (koppeling first)',
        { field: 'data.inburgeraarId', rule: 'koppeling first' },
      );
    }
    if (d.bsn) {
      if (known?.bsn && known.bsn !== d.bsn) {
        throw refuse('another BSN is known for this person', 'data.bsn', 'bsn unchanged');
      }
      const knownByVnummer =
        known?.vnummer !== undefined &&
        pseudonyms.inburgeraarId({ vnummer: known.vnummer }) === d.inburgeraarId;
      if (!ownPseudonym && !knownByVnummer && !known?.bsn) {
        throw refuse(
          'the BSN does not belong to this inburgeraarId',
          'data.bsn',
          'bsn of inburgeraar',
        );
      }
    }
    await binding.merge(d.inburgeraarId, {
      ...(d.bsn ? { bsn: d.bsn } : {}),
      ...(d.vestigingsdatum ? { vestigingsdatum: d.vestigingsdatum } : {}),
    });
    if (!placed) await persons.bind(d.inburgeraarId, gemeente, 'gemeente-kvs');
    return 'delivered';
  };
}
