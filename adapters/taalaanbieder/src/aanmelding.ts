import type { JsMsg } from '@nats-io/jetstream';
import type { PipVastgesteld } from '@ketenhub/contracts/generated';
import {
  describeChainEventFor,
  outboundDelivery,
  type Event,
  type OutboundDeps,
  type Outcome,
} from '@ketenhub/kit';
import type { PersonRegister } from '@ketenhub/kit/privacy';
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

export interface AanmeldingDeps extends OutboundDeps {
  /** The school this consumer serves (its organisation id in partners.taalaanbieder). */
  taalaanbieder: string;
  pseudonyms: TrajectPseudonymizer;
  trajecten: TrajectStore;
  /** Which gemeente each person belongs to (kit): no aanmelding for another gemeente's person. */
  persons: PersonRegister;
  publish(event: Event<unknown>, traceparent: string): Promise<void>;
  ctx: InboundContext;
}

/** What a dead letter records about a message, without personal data. */
export const describeMessage = describeChainEventFor(SCHEMA.aanmelding);

/**
 * A PIP naming this school → the aanmelding (kit `outboundDelivery`): only PIPs that name it
 * (every school's consumer sees every PIP and skips the others'), projected by the taalaanbieder
 * policy, the person replaced by a traject pseudonym that is remembered first so the school's
 * reports can be mapped back, the disclosure logged (fail closed), then POSTed through the
 * breaker with the aanmelding id as idempotency key. Accepted → `leerroute.aangemeld` to the KVS.
 */
export function createAanmeldingHandler(deps: AanmeldingDeps): (m: JsMsg) => Promise<Outcome> {
  const { taalaanbieder, pseudonyms, trajecten } = deps;
  return outboundDelivery<PipVastgesteld, ReturnType<typeof pipToAanmelding>>(
    {
      type: PIP_VASTGESTELD,
      partner: TAALAANBIEDER_PARTNER,
      organisation: taalaanbieder,
      // The school the PIP names; a PIP naming none, or no school of the hub, is skipped by all.
      routing: { route: (event) => ({ organisation: event.data.taalaanbieder ?? '' }) },
      // Only a person of this gemeente gets an aanmelding: another gemeente's person is refused
      // (TenantMismatchError: dead letter, alert), one the hub does not know is waited for and
      // then refused.
      check: (event, m) =>
        deps.persons.require(event.gemeente, event.data.inburgeraarId, m.info.deliveryCount),
      pseudonym: (event) => pseudonyms.trajectId(event.data.inburgeraarId, taalaanbieder),
      idFor: aanmeldingIdFor,
      translate: (data, ids) =>
        pipToAanmelding(data, { trajectId: ids.pseudonym, aanmeldingId: ids.id }),
      remember: (trajectId, event) =>
        trajecten.put(trajectId, {
          inburgeraarId: event.data.inburgeraarId,
          gemeente: event.gemeente,
          taalaanbieder,
        }),
      url: '/aanmeldingen',
      delivered: (event, traceparent) =>
        deps.publish(aangemeldEvent(event, taalaanbieder, deps.ctx), traceparent),
    },
    deps,
  );
}
