/**
 * The outbound recipe of a partner with organisations that each get their own requests under a
 * pseudonym (the schools, the corporaties, the VluchtelingenWerk offices), once: the chain event
 * parsed, other types skipped, the organisation picked (another's skipped, a refusal
 * dead-lettered once), the policy's projection, the pseudonym derived and remembered before the
 * partner has it, the partner's body, the disclosure logged (fail closed) and the POST through
 * the breaker with the body's id as idempotency key, in that order.
 */
import type { JsMsg } from '@nats-io/jetstream';
import type { Violation } from '@ketenhub/contracts';
import { ValidationError } from './errors.ts';
import { parseChainEvent, type Event } from './events.ts';
import type { Logger } from './log.ts';
import { PARTNER_HEADER, flowName, scopedEventIdOf } from './nats.ts';
import type { PartnerClient } from './partner-client.ts';
import type { Projector } from './policy.ts';
import { discloseMessage, type ProcessingLog } from './processing-log.ts';
import type { ConsumerDecl } from './module.ts';
import type { ConsumerSpec, DeadLetterContext, Outcome } from './run-service.ts';
import { messageSpan } from './trace.ts';

/** A chain event as a consumer has it (kit `parseChainEvent`). */
export type ChainEvent<D> = Event<D> & { gemeente: string };

/** An organisation as routing sees it: its id and the gemeenten it is contracted by. */
export interface ContractedOrganisation {
  id: string;
  gemeenten: readonly string[];
}

/** Where an event goes: one organisation, or a refusal naming the field and the rule. */
export type OrganisationRoute = { organisation: string } | { refused: Violation };

/**
 * The organisation an event of `gemeente` goes to: the one it names (`named.id`, in the field
 * `named.field`) when that one is contracted by the gemeente; without a name, the first one (in
 * configuration order) contracted by it. Otherwise a refusal, `what` naming the kind of
 * organisation in its rule and message ("woningcorporatie").
 */
export function organisationFor(
  organisations: readonly ContractedOrganisation[],
  gemeente: string,
  rule: { what: string; named?: { field: string; id: string | undefined } },
): OrganisationRoute {
  const serves = (o: ContractedOrganisation) => o.gemeenten.includes(gemeente);
  const named = rule.named?.id;
  if (rule.named && named) {
    const o = organisations.find((x) => x.id === named);
    return o && serves(o)
      ? { organisation: o.id }
      : {
          refused: {
            field: rule.named.field,
            rule: 'contracted for the gemeente',
            message: `${named} is not a ${rule.what} contracted by ${gemeente}`,
          },
        };
  }
  const first = organisations.find(serves);
  return first
    ? { organisation: first.id }
    : {
        refused: {
          field: 'gemeente',
          rule: `a ${rule.what} contracted for the gemeente`,
          message: `no ${rule.what} is contracted by ${gemeente}`,
        },
      };
}

/** How an outbound delivery picks the organisation of an event. */
export interface OrganisationRouting<D> {
  route(event: ChainEvent<D>): OrganisationRoute;
  /**
   * A refusal is dead-lettered as a ValidationError with `message`, by the consumer of `by`
   * only (the first organisation's, so once); the other consumers skip it. Without `refusal`
   * every consumer dead-letters it.
   */
  refusal?: { message: string; by: string | undefined };
}

/**
 * Routing by gemeente (`organisationFor`): every consumer sees every event, the organisation it
 * names or else the first contracted by its gemeente gets it, and a refusal is dead-lettered by
 * the first organisation's consumer as "no <what> for this <of>".
 */
export function routeByGemeente<D>(
  organisations: readonly ContractedOrganisation[],
  rule: {
    what: string;
    /** What an event is called in the refusal ("aanvraag"). */
    of: string;
    named?: { field: string; id(event: ChainEvent<D>): string | undefined };
  },
): OrganisationRouting<D> {
  return {
    route: (event) =>
      organisationFor(organisations, event.gemeente, {
        what: rule.what,
        ...(rule.named ? { named: { field: rule.named.field, id: rule.named.id(event) } } : {}),
      }),
    refusal: { message: `no ${rule.what} for this ${rule.of}`, by: organisations[0]?.id },
  };
}

/** The data of an event about a person (never a BSN). */
interface Person {
  inburgeraarId: string;
}

/** What an outbound delivery needs at run time (the module's runtime gives each). */
export interface OutboundDeps {
  /** The organisation's partner client: its breaker, timeouts and answer classification. */
  client: PartnerClient;
  projector: Projector;
  processingLog: ProcessingLog;
  logger: Logger;
}

/** A partner's own part of the recipe: its type, routing, pseudonym, store and translation. */
export interface OutboundDelivery<D extends Person, B> {
  /** The chain event type it delivers; every other type is skipped. */
  type: string;
  /** The partner (the processing log's recipient) and the organisation this consumer serves. */
  partner: string;
  organisation: string;
  routing: OrganisationRouting<D>;
  /**
   * After the projection, before anything is derived or remembered: may throw (a person the
   * hub does not know yet, or of another gemeente).
   */
  check?(event: ChainEvent<D>, m: JsMsg): Promise<void>;
  /** The pseudonym the partner knows the person by (per organisation). */
  pseudonym(event: ChainEvent<D>): string;
  /** The partner's body from the projected data, with the pseudonym and the body's `id`. */
  translate(data: Partial<D>, ids: { pseudonym: string; id: string }): B;
  /** The body's id (the idempotency key) from the message's scoped event id and the organisation. */
  idFor(scopedEventId: string, organisation: string): string;
  /** Pseudonym → person, remembered before the partner has it, so its answers map back. */
  remember(pseudonym: string, event: ChainEvent<D>): Promise<void>;
  /** The partner API's path the body is POSTed to. */
  url: string;
  /** Categories disclosed beyond the event's fields; default `pseudoniem`. */
  alsoDisclosed?: string[];
  /** After the partner took it (the hub's report that it did), with the message's traceparent. */
  delivered?(event: ChainEvent<D>, traceparent: string): Promise<void>;
}

/**
 * The handler of one organisation's consumer (`ConsumerSpec.handler`): `spec` is the partner's
 * part, `deps` what the runtime gives; both are closed over, so the handler is the recipe alone.
 */
export function outboundDelivery<D extends Person, B>(
  spec: OutboundDelivery<D, B>,
  deps: OutboundDeps,
): (m: JsMsg) => Promise<Outcome> {
  const { client, projector, processingLog, logger } = deps;
  const { organisation, routing } = spec;
  return async (m) => {
    const event = parseChainEvent<D>(m);
    if (event.type !== spec.type) return 'skipped';
    const route = routing.route(event);
    if ('refused' in route) {
      if (routing.refusal && organisation !== routing.refusal.by) return 'skipped';
      throw new ValidationError(routing.refusal?.message ?? 'no organisation for this event', [
        route.refused,
      ]);
    }
    if (route.organisation !== organisation) return 'skipped';
    // The policy's projection; nothing the partner may receive, nothing sent.
    const disclosure = projector.project(event);
    if (!disclosure) return 'skipped';
    await spec.check?.(event, m);
    const pseudonym = spec.pseudonym(event);
    const id = spec.idFor(scopedEventIdOf(m, event), organisation);
    const body = spec.translate(disclosure.event.data as Partial<D>, { pseudonym, id });
    await spec.remember(pseudonym, event);
    const span = messageSpan(m);
    await discloseMessage(
      { processingLog, logger },
      {
        span,
        event,
        disclosure,
        betrokkene: event.data.inburgeraarId,
        to: { partner: spec.partner, endpoint: organisation },
        // The pseudonym is disclosed too, though not a field of the event.
        alsoDisclosed: spec.alsoDisclosed ?? ['pseudoniem'],
      },
      (traceparent) =>
        client.request({
          method: 'POST',
          url: spec.url,
          data: body,
          headers: { traceparent },
          idempotencyKey: id,
        }),
    );
    await spec.delivered?.(event, span.traceparent);
    return 'delivered';
  };
}

/** An organisation with its own endpoint (kit `organisationsWith`). */
export interface EndpointOrganisation {
  id: string;
  endpoint: { url: string; token?: string; timeoutMs?: number };
}

/**
 * One consumer per organisation, in the order of `declared` (the module's consumer declaration,
 * one per organisation): each with a partner client of its own, whose breaker gates it (while
 * it is open, that organisation's messages wait in the stream), the flow named by the partner
 * that published the message, and `describe` for its dead letters. `handler` builds the
 * organisation's handler from its client.
 */
export function organisationConsumers<O extends EndpointOrganisation>(
  rt: { partnerClient(endpoint: O['endpoint'] & { id: string }): PartnerClient },
  opts: {
    partner: string;
    organisations: readonly O[];
    declared: readonly ConsumerDecl[];
    describe: (m: JsMsg) => DeadLetterContext;
    handler(organisation: O, client: PartnerClient): (m: JsMsg) => Promise<Outcome>;
  },
): ConsumerSpec[] {
  return opts.organisations.map((o, i) => {
    const client = rt.partnerClient({ ...o.endpoint, id: o.id });
    return {
      ...opts.declared[i]!,
      handler: opts.handler(o, client),
      flow: (m: JsMsg) => flowName(m.headers?.get(PARTNER_HEADER), opts.partner),
      describe: opts.describe,
      gate: client.gate,
    };
  });
}
