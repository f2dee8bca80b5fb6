import type { JsMsg } from '@nats-io/jetstream';
import type { BegeleidingAangevraagd } from '@ketenhub/contracts/generated';
import {
  describeChainEventFor,
  organisationFor,
  outboundDelivery,
  routeByGemeente,
  type ContractedOrganisation,
  type OutboundDeps,
  type Outcome,
  type Violation,
} from '@ketenhub/kit';
import type { BegeleidingPseudonymizer, BegeleidingStore, Onderdeel } from './begeleiding.ts';
import {
  AANGEVRAAGD,
  SCHEMA,
  VLUCHTELINGENWERK_PARTNER,
  aanvraagToBegeleiding,
  berichtIdFor,
} from './translate.ts';

/** An office as the routing rule sees it: its id and the gemeenten it is contracted by. */
export type Contracted = ContractedOrganisation;

/** What a refusal calls an office. */
const OFFICE = 'VluchtelingenWerk office';

/**
 * The office an aanvraag goes to (docs/adr/0020-vluchtelingenwerk-pvt-bevestiging.md): the one
 * contracted by the aanvraag's gemeente (the configuration allows one office per gemeente).
 * Without one the aanvraag is refused, naming the field and the rule: dead-lettered (by the
 * first office's consumer only, so once), never sent to an office that does not serve the
 * gemeente.
 */
export function vestigingFor(
  vestigingen: readonly Contracted[],
  gemeente: string,
): { vestiging: string } | { refused: Violation } {
  const route = organisationFor(vestigingen, gemeente, { what: OFFICE });
  return 'refused' in route ? route : { vestiging: route.organisation };
}

export interface AanvraagDeps extends OutboundDeps {
  /** The office this consumer serves (its organisation id in partners.vluchtelingenwerk). */
  vestiging: string;
  /** Every configured office, in configuration order: the routing rule. */
  vestigingen: readonly Contracted[];
  pseudonyms: BegeleidingPseudonymizer;
  begeleidingen: BegeleidingStore;
}

/** What a dead letter records about a message, without personal data. */
export const describeMessage = describeChainEventFor(SCHEMA.aanvraag);

/**
 * An aanvraag for this office's gemeenten → the office (kit `outboundDelivery`): projected by
 * the vluchtelingenwerk policy, the person replaced by a begeleiding pseudonym that is
 * remembered first so the office's reports can be mapped back, the disclosure logged (fail
 * closed), then POSTed through the breaker with the bericht id as idempotency key. (A person of
 * another gemeente never reaches this handler: the module gives the runner the person register.)
 */
export function createAanvraagHandler(deps: AanvraagDeps): (m: JsMsg) => Promise<Outcome> {
  const { vestiging, pseudonyms, begeleidingen } = deps;
  return outboundDelivery<BegeleidingAangevraagd, ReturnType<typeof aanvraagToBegeleiding>>(
    {
      type: AANGEVRAAGD,
      partner: VLUCHTELINGENWERK_PARTNER,
      organisation: vestiging,
      routing: routeByGemeente(deps.vestigingen, { what: OFFICE, of: 'aanvraag' }),
      pseudonym: (event) =>
        pseudonyms.begeleidingId(event.data.inburgeraarId, event.data.aanvraagId, vestiging),
      idFor: berichtIdFor,
      translate: (data, ids) =>
        aanvraagToBegeleiding(data, { begeleidingId: ids.pseudonym, berichtId: ids.id }),
      remember: (begeleidingId, event) =>
        begeleidingen.put(begeleidingId, {
          inburgeraarId: event.data.inburgeraarId,
          gemeente: event.gemeente,
          aanvraagId: event.data.aanvraagId,
          vestiging,
          onderdelen: [...event.data.onderdelen] as Onderdeel[],
        }),
      url: '/begeleidingen',
    },
    deps,
  );
}
