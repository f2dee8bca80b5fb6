import type { JetStreamClient } from '@nats-io/jetstream';
import { deliveryViolations, schemas } from '@ketenhub/contracts';
import { InfrastructureError, ValidationError } from './errors.ts';

/**
 * Processing log in the style of the Logboek Dataverwerkingen standard: a record per
 * disclosure of personal data to a partner, per person, tied to the W3C trace. The hub writes
 * a `gestart` record BEFORE it discloses (fail closed: no record, no disclosure) and an outcome
 * record (`verstrekt`, `mislukt`, `geweigerd`) with the same span id after.
 */
export type DisclosureStatus = 'gestart' | 'verstrekt' | 'mislukt' | 'geweigerd';

export interface ProcessingRecord {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  /** Processing activity id from contracts/verwerkingsactiviteiten.yaml. */
  activiteit: string;
  /** Receiving partner kind and endpoint, e.g. gemeente-kvs / gm0797. */
  ontvanger: { partner: string; endpoint: string };
  /** Pseudonymous subject id (inburgeraarId); never a BSN. */
  betrokkene: string;
  categorieen: string[];
  gemeente: string;
  eventId: string;
  eventType: string;
  status: DisclosureStatus;
  tijdstip: string;
}

export function processingLogSubject(gemeente: string, partner: string): string {
  return `verwerking.${gemeente}.${partner}`;
}

export interface ProcessingLog {
  /** Resolves once the record is stored; throws a retryable InfrastructureError otherwise. */
  record(rec: Omit<ProcessingRecord, 'tijdstip'>): Promise<void>;
}

export function createProcessingLog(js: JetStreamClient): ProcessingLog {
  return {
    async record(rec) {
      const full: ProcessingRecord = { ...rec, tijdstip: new Date().toISOString() };
      try {
        await js.publish(
          processingLogSubject(rec.gemeente, rec.ontvanger.partner),
          JSON.stringify(full),
          {
            msgID: `${rec.spanId}:${rec.status}`,
          },
        );
      } catch (err) {
        throw new InfrastructureError('processing log unavailable', { cause: err });
      }
    },
  };
}

/**
 * One disclosure of personal data to a partner, with the processing log around it: the
 * `gestart` record is stored before `call` runs (fail closed: when it cannot be stored, this
 * throws the log's retryable error and nothing is disclosed), and the outcome after it:
 * `verstrekt`, or `mislukt` / `geweigerd` by whether the failure is retried (the failure is
 * rethrown). A lost outcome record leaves `gestart`, which reads as "possibly disclosed", the
 * safe side for an inzage, so it is logged, not thrown. Every adapter discloses through this.
 */
export async function disclose<T>(
  deps: { processingLog: ProcessingLog; logger: { warn(obj: object, msg: string): void } },
  record: Omit<ProcessingRecord, 'status' | 'tijdstip'>,
  call: () => Promise<T>,
): Promise<T> {
  await deps.processingLog.record({ ...record, status: 'gestart' });
  let result: T;
  try {
    result = await call();
  } catch (err) {
    const status = (err as { retryable?: boolean }).retryable ? 'mislukt' : 'geweigerd';
    await deps.processingLog.record({ ...record, status }).catch(() => undefined);
    throw err;
  }
  await deps.processingLog.record({ ...record, status: 'verstrekt' }).catch((err: Error) => {
    deps.logger.warn({ eventId: record.eventId, err: err.message }, 'outcome record not written');
  });
  return result;
}

/** A partner's view of a stream message, ready to be disclosed (`discloseMessage`). */
export interface OutboundDisclosure {
  /** The message's span (kit `messageSpan`): its trace ids go in the record. */
  span: { traceparent: string; ids: { traceId: string; spanId: string; parentSpanId?: string } };
  event: { id: string; type: string; gemeente: string };
  /** The policy's activity and the categories of the fields projected (kit `Projector`). */
  disclosure: { activity: string; categories: string[] };
  /** Whom it is about (an inburgeraarId); never a BSN. */
  betrokkene: string;
  /** Who gets it: the partner and its endpoint (a gemeente, a school, a DUO API). */
  to: { partner: string; endpoint: string };
  /**
   * Categories disclosed beyond the event's fields: the BSN in a partner's URL
   * (`identificatie`), a traject pseudonym (`pseudoniem`).
   */
  alsoDisclosed?: string[];
}

/**
 * One outbound delivery's disclosure, the record built the same way by every adapter: the
 * message's trace ids, the policy's activity, the categories (with those disclosed beyond the
 * fields), whom and to whom; then `disclose` around `call`, which gets the span's traceparent.
 */
export function discloseMessage<T>(
  deps: { processingLog: ProcessingLog; logger: { warn(obj: object, msg: string): void } },
  out: OutboundDisclosure,
  call: (traceparent: string) => Promise<T>,
): Promise<T> {
  const categorieen = out.alsoDisclosed
    ? [...new Set([...out.disclosure.categories, ...out.alsoDisclosed])].sort()
    : out.disclosure.categories;
  const record = {
    ...out.span.ids,
    activiteit: out.disclosure.activity,
    ontvanger: out.to,
    betrokkene: out.betrokkene,
    categorieen,
    gemeente: out.event.gemeente,
    eventId: out.event.id,
    eventType: out.event.type,
  };
  return disclose(deps, record, () => call(out.span.traceparent));
}

/**
 * A body for a partner against the partner's contract (`what`: e.g. `the Kredietbank
 * contract`): a violation is a ValidationError naming field and rule, so a dead letter.
 */
export function assertContract(schemaId: string, body: unknown, what: string): void {
  const violations = schemas().validate(schemaId, body);
  if (violations.length > 0) throw new ValidationError(`breaks ${what}`, violations);
}

/**
 * A chain event for a partner that receives chain events as they are (a gemeente's KVS), against
 * its delivery contract and its policy (contracts `deliveryViolations`): a violation is a
 * ValidationError naming field and rule, so a dead letter.
 */
export function assertDelivery(partner: string, event: unknown): void {
  const violations = deliveryViolations(partner, event);
  if (violations.length > 0) {
    throw new ValidationError(`breaks the ${partner} delivery contract`, violations);
  }
}
