import type { JsMsg } from '@nats-io/jetstream';
import { schemas } from '@ketenhub/contracts';
import type { InburgeraarGekoppeld, InburgeraarGevestigd } from '@ketenhub/contracts/generated';
import { OutOfOrderError, ValidationError } from './errors.ts';
import type { Event } from './events.ts';
import type { IdentityStore } from './identity-store.ts';
import type { Pseudonymizer } from './pseudonym.ts';
import type { Outcome } from './run-service.ts';

const GEKOPPELD = 'nl.inburgering.inburgeraar.gekoppeld';
const GEVESTIGD = 'nl.inburgering.inburgeraar.gevestigd';

function refuse(message: string, field: string, rule: string): ValidationError {
  // The rule is in the message too: a dead letter keeps the message, not the violations.
  return new ValidationError(`${message}: ${field} (${rule})`, [{ field, rule, message }]);
}

/**
 * Koppeling (COA) and vestiging (KVS) → the identity store (pseudonym → BSN, V-nummer,
 * vestiging date), for the adapters that address a partner by BSN (DUO, the Kredietbank).
 *
 * The store decides which person a melding to DUO or an ontzorgtraject at the Kredietbank is
 * about, so a BSN is only linked to a pseudonym it belongs to: the koppeling's pseudonym must be
 * the HMAC of its own BSN or V-nummer; a vestiging's BSN must either be the one the pseudonym
 * was made from, or come for a person known by V-nummer who has no BSN yet. A BSN that differs
 * from the one already known is refused (dead letter), never overwritten. A vestiging for a
 * pseudonym the store has not seen yet waits (retried) for its koppeling.
 */
export function createIdentityHandler(
  identities: IdentityStore,
  pseudonyms: Pseudonymizer,
): (m: JsMsg) => Promise<Outcome> {
  return async (m) => {
    const event = m.json<Event<unknown> & { gemeente: string }>();
    if (event.type !== GEKOPPELD && event.type !== GEVESTIGD) return 'skipped';
    const violations = schemas().validateEvent(event);
    if (violations.length > 0) throw new ValidationError('not a valid chain event', violations);

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
      const known = await identities.get(d.inburgeraarId);
      if (bsn && known?.bsn && known.bsn !== bsn) {
        throw refuse('another BSN is known for this person', 'data.persoon.bsn', 'bsn unchanged');
      }
      await identities.merge(d.inburgeraarId, {
        ...(bsn ? { bsn } : {}),
        vnummer,
        gemeente: event.gemeente,
      });
      return 'delivered';
    }

    const d = event.data as InburgeraarGevestigd;
    if (d.bsn) {
      const known = await identities.get(d.inburgeraarId);
      if (known?.bsn && known.bsn !== d.bsn) {
        throw refuse('another BSN is known for this person', 'data.bsn', 'bsn unchanged');
      }
      const ownPseudonym =
        pseudonyms.inburgeraarId({ bsn: d.bsn, vnummer: '' }) === d.inburgeraarId;
      const knownByVnummer =
        known?.vnummer !== undefined &&
        pseudonyms.inburgeraarId({ vnummer: known.vnummer }) === d.inburgeraarId;
      if (!ownPseudonym && !knownByVnummer && !known?.bsn) {
        if (!known) {
          throw new OutOfOrderError(
            'vestiging for a person the hub has not seen a koppeling of yet: data.inburgeraarId (koppeling first)',
            { field: 'data.inburgeraarId', rule: 'koppeling first' },
          );
        }
        throw refuse(
          'the BSN does not belong to this inburgeraarId',
          'data.bsn',
          'bsn of inburgeraar',
        );
      }
    }
    await identities.merge(d.inburgeraarId, {
      ...(d.bsn ? { bsn: d.bsn } : {}),
      gemeente: event.gemeente,
      ...(d.vestigingsdatum ? { vestigingsdatum: d.vestigingsdatum } : {}),
    });
    return 'delivered';
  };
}
