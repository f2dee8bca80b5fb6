import type { JsMsg } from '@nats-io/jetstream';
import type { WoningAangevraagd } from '@ketenhub/contracts/generated';
import {
  ValidationError,
  messageSpan,
  parseChainEvent,
  scopedEventIdOf,
  type DeadLetterContext,
  type Event,
  type Logger,
  type Outcome,
  type PartnerClient,
  type Violation,
} from '@ketenhub/kit';
import { discloseMessage, type ProcessingLog, type Projector } from '@ketenhub/kit/privacy';
import {
  AANGEVRAAGD,
  SCHEMA,
  WONINGCORPORATIE_PARTNER,
  aanvraagToZoektocht,
  berichtIdFor,
} from './translate.ts';
import type { ZoektochtPseudonymizer, ZoektochtStore } from './zoektocht.ts';

/** A corporatie as the routing rule sees it: its id and the gemeenten it is contracted by. */
export interface Contracted {
  id: string;
  gemeenten: readonly string[];
}

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
  const serves = (c: Contracted) => c.gemeenten.includes(event.gemeente);
  const named = event.data.corporatie;
  if (named) {
    const c = corporaties.find((x) => x.id === named);
    return c && serves(c)
      ? { corporatie: c.id }
      : {
          refused: {
            field: 'data.corporatie',
            rule: 'contracted for the gemeente',
            message: `${named} is not a woningcorporatie contracted by ${event.gemeente}`,
          },
        };
  }
  const first = corporaties.find(serves);
  return first
    ? { corporatie: first.id }
    : {
        refused: {
          field: 'gemeente',
          rule: 'a woningcorporatie contracted for the gemeente',
          message: `no woningcorporatie is contracted by ${event.gemeente}`,
        },
      };
}

export interface AanvraagDeps {
  /** The corporatie this consumer serves (its organisation id in partners.woningcorporatie). */
  corporatie: string;
  /** Every configured corporatie, in configuration order: the routing rule. */
  corporaties: readonly Contracted[];
  client: PartnerClient;
  projector: Projector;
  processingLog: ProcessingLog;
  pseudonyms: ZoektochtPseudonymizer;
  zoektochten: ZoektochtStore;
  logger: Logger;
}

/** What a dead letter records about a message, without personal data. */
export function describeMessage(m: JsMsg): DeadLetterContext {
  const event = m.json<Partial<Event<unknown>>>();
  return {
    ...(event.gemeente ? { gemeente: event.gemeente } : {}),
    ...(event.id ? { eventId: event.id } : {}),
    ...(event.type ? { eventType: event.type } : {}),
    schemaId: SCHEMA.zoektocht,
  };
}

/**
 * An aanvraag routed to this corporatie → the woningzoektocht: projected by the woningcorporatie
 * policy, the person replaced by a zoektocht pseudonym that is remembered first so the
 * corporatie's answers can be mapped back, the disclosure logged (fail closed), then POSTed
 * through the breaker with the bericht id as idempotency key. (A person of another gemeente
 * never reaches this handler: the module gives the runner the person register.)
 */
export function createAanvraagHandler(deps: AanvraagDeps): (m: JsMsg) => Promise<Outcome> {
  const { corporatie, client, projector, processingLog, logger } = deps;
  const first = deps.corporaties[0]?.id;
  return async (m) => {
    const event = parseChainEvent<WoningAangevraagd>(m);
    if (event.type !== AANGEVRAAGD) return 'skipped';
    const route = corporatieFor(deps.corporaties, event);
    if ('refused' in route) {
      if (corporatie !== first) return 'skipped';
      throw new ValidationError('no woningcorporatie for this aanvraag', [route.refused]);
    }
    if (route.corporatie !== corporatie) return 'skipped';
    const disclosure = projector.project(event);
    if (!disclosure) return 'skipped';
    const zoektochtId = deps.pseudonyms.zoektochtId(
      event.data.inburgeraarId,
      event.data.aanvraagId,
      corporatie,
    );
    const zoektocht = aanvraagToZoektocht(disclosure.event.data, {
      zoektochtId,
      berichtId: berichtIdFor(scopedEventIdOf(m, event), corporatie),
    });
    await deps.zoektochten.put(zoektochtId, {
      inburgeraarId: event.data.inburgeraarId,
      gemeente: event.gemeente,
      aanvraagId: event.data.aanvraagId,
      corporatie,
    });
    await discloseMessage(
      { processingLog, logger },
      {
        span: messageSpan(m),
        event,
        disclosure,
        betrokkene: event.data.inburgeraarId,
        to: { partner: WONINGCORPORATIE_PARTNER, endpoint: corporatie },
        // The zoektocht pseudonym is disclosed too, though not a field of the aanvraag.
        alsoDisclosed: ['pseudoniem'],
      },
      (traceparent) =>
        client.request({
          method: 'POST',
          url: '/zoektochten',
          data: zoektocht,
          headers: { traceparent },
          idempotencyKey: zoektocht.berichtId,
        }),
    );
    return 'delivered';
  };
}
