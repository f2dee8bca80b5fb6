import type { JsMsg } from '@nats-io/jetstream';
import type { PipVastgesteld } from '@ketenhub/contracts/generated';
import {
  messageSpan,
  parseChainEvent,
  scopedEventIdOf,
  type DeadLetterContext,
  type Event,
  type Logger,
  type Outcome,
  type PartnerClient,
} from '@ketenhub/kit';
import {
  discloseMessage,
  type PersonRegister,
  type ProcessingLog,
  type Projector,
} from '@ketenhub/kit/privacy';
import type { TrajectPseudonymizer, TrajectStore } from './traject.ts';
import {
  PIP_VASTGESTELD,
  SCHEMA,
  TAALAANBIEDER_PARTNER,
  aangemeldEvent,
  aanmeldingIdFor,
  pipToAanmelding,
  type InboundContext,
} from './translate.ts';

export interface AanmeldingDeps {
  /** The school this consumer serves (its organisation id in partners.taalaanbieder). */
  taalaanbieder: string;
  client: PartnerClient;
  projector: Projector;
  processingLog: ProcessingLog;
  pseudonyms: TrajectPseudonymizer;
  trajecten: TrajectStore;
  /** Which gemeente each person belongs to (kit): no aanmelding for another gemeente's person. */
  persons: PersonRegister;
  publish(event: Event<unknown>, traceparent: string): Promise<void>;
  ctx: InboundContext;
  logger: Logger;
}

/** What a dead letter records about a message, without personal data. */
export function describeMessage(m: JsMsg): DeadLetterContext {
  const event = m.json<Partial<Event<unknown>>>();
  return {
    ...(event.gemeente ? { gemeente: event.gemeente } : {}),
    ...(event.id ? { eventId: event.id } : {}),
    ...(event.type ? { eventType: event.type } : {}),
    schemaId: SCHEMA.aanmelding,
  };
}

/**
 * A PIP naming this school → the aanmelding: only PIPs that name it (every school's consumer
 * sees every PIP and skips the others'), projected by the taalaanbieder policy, the person
 * replaced by a traject pseudonym that is remembered first so the school's reports can be
 * mapped back, the disclosure logged (fail closed), then POSTed through the breaker with the
 * aanmelding id as idempotency key. Accepted → `leerroute.aangemeld` to the KVS.
 */
export function createAanmeldingHandler(deps: AanmeldingDeps): (m: JsMsg) => Promise<Outcome> {
  const { taalaanbieder, client, projector, processingLog, logger } = deps;
  return async (m) => {
    const event = parseChainEvent<PipVastgesteld>(m);
    if (event.type !== PIP_VASTGESTELD || event.data.taalaanbieder !== taalaanbieder) {
      return 'skipped';
    }
    const disclosure = projector.project(event);
    if (!disclosure) return 'skipped';
    // Only a person of this gemeente gets an aanmelding: another gemeente's person is refused
    // (TenantMismatchError: dead letter, alert), one the hub does not know is waited for and
    // then refused.
    await deps.persons.require(event.gemeente, event.data.inburgeraarId, m.info.deliveryCount);
    const trajectId = deps.pseudonyms.trajectId(event.data.inburgeraarId, taalaanbieder);
    const aanmelding = pipToAanmelding(disclosure.event.data, {
      trajectId,
      aanmeldingId: aanmeldingIdFor(scopedEventIdOf(m, event), taalaanbieder),
    });
    await deps.trajecten.put(trajectId, {
      inburgeraarId: event.data.inburgeraarId,
      gemeente: event.gemeente,
      taalaanbieder,
    });

    const span = messageSpan(m);
    await discloseMessage(
      { processingLog, logger },
      {
        span,
        event,
        disclosure,
        betrokkene: event.data.inburgeraarId,
        to: { partner: TAALAANBIEDER_PARTNER, endpoint: taalaanbieder },
        // The traject pseudonym is disclosed too, though not a field of the PIP.
        alsoDisclosed: ['pseudoniem'],
      },
      (traceparent) =>
        client.request({
          method: 'POST',
          url: '/aanmeldingen',
          data: aanmelding,
          headers: { traceparent },
          idempotencyKey: aanmelding.aanmeldingId,
        }),
    );
    await deps.publish(aangemeldEvent(event, taalaanbieder, deps.ctx), span.traceparent);
    return 'delivered';
  };
}
