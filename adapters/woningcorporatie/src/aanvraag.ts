import type { JsMsg } from '@nats-io/jetstream';
import type { WoningAangevraagd } from '@ketenhub/contracts/generated';
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
import {
  AANGEVRAAGD,
  SCHEMA,
  WONINGCORPORATIE_PARTNER,
  aanvraagToZoektocht,
  berichtIdFor,
} from './translate.ts';
import type { ZoektochtPseudonymizer, ZoektochtStore } from './zoektocht.ts';

/** A corporatie as the routing rule sees it: its id and the gemeenten it is contracted by. */
export type Contracted = ContractedOrganisation;

/** The routing rule's words: a refusal names a woningcorporatie, and the field that names one. */
const RULE = { what: 'woningcorporatie', of: 'aanvraag', field: 'data.corporatie' } as const;

/**
 * Which corporatie an aanvraag goes to (docs/adr/0019-woningcorporatie-routing.md): the one it
 * names, when that one is contracted for the aanvraag's gemeente; without a name, the first
 * corporatie of `partners.woningcorporatie.organisations` contracted for it. Otherwise the
 * aanvraag is refused, naming the field and the rule: it is dead-lettered (by the first
 * corporatie's consumer only, so once), never sent to a corporatie that does not serve the gemeente.
 */
export function corporatieFor(
  corporaties: readonly Contracted[],
  event: { gemeente: string; data: { corporatie?: string } },
): { corporatie: string } | { refused: Violation } {
  const route = organisationFor(corporaties, event.gemeente, {
    what: RULE.what,
    named: { field: RULE.field, id: event.data.corporatie },
  });
  return 'refused' in route ? route : { corporatie: route.organisation };
}

export interface AanvraagDeps extends OutboundDeps {
  /** The corporatie this consumer serves (its organisation id in partners.woningcorporatie). */
  corporatie: string;
  /** Every configured corporatie, in configuration order: the routing rule. */
  corporaties: readonly Contracted[];
  pseudonyms: ZoektochtPseudonymizer;
  zoektochten: ZoektochtStore;
}

/** What a dead letter records about a message, without personal data. */
export const describeMessage = describeChainEventFor(SCHEMA.zoektocht);

/**
 * An aanvraag routed to this corporatie → the woningzoektocht (kit `outboundDelivery`):
 * projected by the woningcorporatie policy, the person replaced by a zoektocht pseudonym that is
 * remembered first so the corporatie's answers can be mapped back, the disclosure logged (fail
 * closed), then POSTed through the breaker with the bericht id as idempotency key. (A person of
 * another gemeente never reaches this handler: the module gives the runner the person register.)
 */
export function createAanvraagHandler(deps: AanvraagDeps): (m: JsMsg) => Promise<Outcome> {
  const { corporatie, pseudonyms, zoektochten } = deps;
  return outboundDelivery<WoningAangevraagd, ReturnType<typeof aanvraagToZoektocht>>(
    {
      type: AANGEVRAAGD,
      partner: WONINGCORPORATIE_PARTNER,
      organisation: corporatie,
      routing: routeByGemeente(deps.corporaties, {
        what: RULE.what,
        of: RULE.of,
        named: { field: RULE.field, id: (event) => event.data.corporatie },
      }),
      pseudonym: (event) =>
        pseudonyms.zoektochtId(event.data.inburgeraarId, event.data.aanvraagId, corporatie),
      idFor: berichtIdFor,
      translate: (data, ids) =>
        aanvraagToZoektocht(data, { zoektochtId: ids.pseudonym, berichtId: ids.id }),
      remember: (zoektochtId, event) =>
        zoektochten.put(zoektochtId, {
          inburgeraarId: event.data.inburgeraarId,
          gemeente: event.gemeente,
          aanvraagId: event.data.aanvraagId,
          corporatie,
        }),
      url: '/zoektochten',
    },
    deps,
  );
}
