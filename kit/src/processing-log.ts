import type { JetStreamClient } from '@nats-io/jetstream';
import { InfrastructureError } from './errors.ts';

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
