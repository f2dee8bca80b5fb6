import type { JsMsg } from '@nats-io/jetstream';
import type { BegeleidingAangevraagd } from '@ketenhub/contracts/generated';
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
import type { BegeleidingPseudonymizer, BegeleidingStore, Onderdeel } from './begeleiding.ts';
import {
  AANGEVRAAGD,
  SCHEMA,
  VLUCHTELINGENWERK_PARTNER,
  aanvraagToBegeleiding,
  berichtIdFor,
} from './translate.ts';

/** An office as the routing rule sees it: its id and the gemeenten it is contracted by. */
export interface Contracted {
  id: string;
  gemeenten: readonly string[];
}

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
  const office = vestigingen.find((v) => v.gemeenten.includes(gemeente));
  return office
    ? { vestiging: office.id }
    : {
        refused: {
          field: 'gemeente',
          rule: 'a VluchtelingenWerk office contracted for the gemeente',
          message: `no VluchtelingenWerk office is contracted by ${gemeente}`,
        },
      };
}

export interface AanvraagDeps {
  /** The office this consumer serves (its organisation id in partners.vluchtelingenwerk). */
  vestiging: string;
  /** Every configured office, in configuration order: the routing rule. */
  vestigingen: readonly Contracted[];
  client: PartnerClient;
  projector: Projector;
  processingLog: ProcessingLog;
  pseudonyms: BegeleidingPseudonymizer;
  begeleidingen: BegeleidingStore;
  logger: Logger;
}

/** What a dead letter records about a message, without personal data. */
export function describeMessage(m: JsMsg): DeadLetterContext {
  const event = m.json<Partial<Event<unknown>>>();
  return {
    ...(event.gemeente ? { gemeente: event.gemeente } : {}),
    ...(event.id ? { eventId: event.id } : {}),
    ...(event.type ? { eventType: event.type } : {}),
    schemaId: SCHEMA.aanvraag,
  };
}

/**
 * An aanvraag for this office's gemeenten → the office: projected by the vluchtelingenwerk
 * policy, the person replaced by a begeleiding pseudonym that is remembered first so the
 * office's reports can be mapped back, the disclosure logged (fail closed), then POSTed through
 * the breaker with the bericht id as idempotency key. (A person of another gemeente never
 * reaches this handler: the module gives the runner the person register.)
 */
export function createAanvraagHandler(deps: AanvraagDeps): (m: JsMsg) => Promise<Outcome> {
  const { vestiging, client, projector, processingLog, logger } = deps;
  const first = deps.vestigingen[0]?.id;
  return async (m) => {
    const event = parseChainEvent<BegeleidingAangevraagd>(m);
    if (event.type !== AANGEVRAAGD) return 'skipped';
    const route = vestigingFor(deps.vestigingen, event.gemeente);
    if ('refused' in route) {
      if (vestiging !== first) return 'skipped';
      throw new ValidationError('no VluchtelingenWerk office for this aanvraag', [route.refused]);
    }
    if (route.vestiging !== vestiging) return 'skipped';
    const disclosure = projector.project(event);
    if (!disclosure) return 'skipped';
    const begeleidingId = deps.pseudonyms.begeleidingId(
      event.data.inburgeraarId,
      event.data.aanvraagId,
      vestiging,
    );
    const body = aanvraagToBegeleiding(disclosure.event.data, {
      begeleidingId,
      berichtId: berichtIdFor(scopedEventIdOf(m, event), vestiging),
    });
    await deps.begeleidingen.put(begeleidingId, {
      inburgeraarId: event.data.inburgeraarId,
      gemeente: event.gemeente,
      aanvraagId: event.data.aanvraagId,
      vestiging,
      onderdelen: [...event.data.onderdelen] as Onderdeel[],
    });
    await discloseMessage(
      { processingLog, logger },
      {
        span: messageSpan(m),
        event,
        disclosure,
        betrokkene: event.data.inburgeraarId,
        to: { partner: VLUCHTELINGENWERK_PARTNER, endpoint: vestiging },
        // The begeleiding pseudonym is disclosed too, though not a field of the aanvraag.
        alsoDisclosed: ['pseudoniem'],
      },
      (traceparent) =>
        client.request({
          method: 'POST',
          url: '/begeleidingen',
          data: body,
          headers: { traceparent },
          idempotencyKey: body.berichtId,
        }),
    );
    return 'delivered';
  };
}
