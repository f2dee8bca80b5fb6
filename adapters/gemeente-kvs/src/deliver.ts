import type { JsMsg } from '@nats-io/jetstream';
import { schemas } from '@ketenhub/contracts';
import {
  PARTNER_HEADER,
  ValidationError,
  messageSpan,
  type DeadLetterContext,
  type Logger,
  type Outcome,
  type PartnerClient,
} from '@ketenhub/kit';
import {
  assertDelivery,
  discloseMessage,
  type ProcessingLog,
  type Projector,
} from '@ketenhub/kit/privacy';

export const KVS_PARTNER = 'gemeente-kvs';
export const KVS_DELIVERY_SCHEMA = 'https://contracts.ketenhub.nl/kvs/delivery.schema.json';
export const CLOUDEVENTS_JSON = 'application/cloudevents+json';

/** The KVS answers 409 with this problem type for an event id it already has. */
export const DUPLICATE_PROBLEM = 'https://ketenhub.nl/problems/duplicate-event';

export function isDuplicateAnswer(status: number, body: unknown): boolean {
  return status === 409 && (body as { type?: unknown } | null)?.type === DUPLICATE_PROBLEM;
}

export interface KvsDeliveryDeps {
  /** The gemeente this delivery serves; events of any other gemeente are refused. */
  gemeente: string;
  client: PartnerClient;
  projector: Projector;
  processingLog: ProcessingLog;
  logger: Logger;
}

interface ChainEventShape {
  id: string;
  type: string;
  gemeente: string;
  data: { inburgeraarId?: string };
}

function parse(m: JsMsg): ChainEventShape {
  let event: unknown;
  try {
    event = m.json();
  } catch {
    throw new ValidationError('message is not JSON', [
      { field: '(body)', rule: 'json', message: 'not JSON' },
    ]);
  }
  const violations = schemas().validateEvent(event);
  if (violations.length > 0)
    throw new ValidationError('message is not a valid chain event', violations);
  return event as ChainEventShape;
}

/** What a dead letter records about a message, without personal data. */
export function describeMessage(m: JsMsg): DeadLetterContext {
  const event = m.json<Partial<ChainEventShape>>();
  const entry = event.type ? schemas().byEventType(event.type) : undefined;
  return {
    ...(event.gemeente ? { gemeente: event.gemeente } : {}),
    ...(event.id ? { eventId: event.id } : {}),
    ...(event.type ? { eventType: event.type } : {}),
    schemaId: entry ? KVS_DELIVERY_SCHEMA : undefined,
  };
}

/**
 * One chain event → the gemeente's KVS: check tenant, project to the fields the gemeente-kvs
 * policy allows, check the result against the delivery contract, log the disclosure (fail
 * closed), then POST it as a structured CloudEvent with the event id as idempotency key. A 409
 * "duplicate-event" means the KVS already has it: done, not an error.
 */
export function createKvsDelivery(deps: KvsDeliveryDeps): (m: JsMsg) => Promise<Outcome> {
  const { gemeente, client, projector, processingLog, logger } = deps;
  return async (m) => {
    const event = parse(m);
    if (event.gemeente !== gemeente || !m.subject.startsWith(`keten.${gemeente}.`)) {
      // Tenant isolation: never deliver another gemeente's inburgeraar, whatever the subject.
      throw new ValidationError('event belongs to another gemeente', [
        { field: 'gemeente', rule: 'tenant', message: `this delivery serves ${gemeente} only` },
      ]);
    }
    // A KVS never gets its own events back (it both sends and receives leerroute.uren).
    if (m.headers?.get(PARTNER_HEADER) === KVS_PARTNER) return 'skipped';
    const disclosure = projector.project(event);
    if (!disclosure) return 'skipped';
    assertDelivery(KVS_PARTNER, disclosure.event);
    const res = await discloseMessage(
      { processingLog, logger },
      {
        span: messageSpan(m),
        event,
        disclosure,
        betrokkene: event.data.inburgeraarId ?? 'onbekend',
        to: { partner: KVS_PARTNER, endpoint: gemeente },
      },
      (traceparent) =>
        client.request({
          method: 'POST',
          url: '',
          data: { ...disclosure.event, traceparent },
          headers: { 'content-type': CLOUDEVENTS_JSON, traceparent },
          idempotencyKey: event.id,
        }),
    );
    return isDuplicateAnswer(res.status, res.data) ? 'duplicate' : 'delivered';
  };
}
