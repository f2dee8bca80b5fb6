import type { JetStreamClient } from '@nats-io/jetstream';
import type { AlertKind } from './errors.ts';

/**
 * An alert for operators: something needs a person (a message dead-lettered after its last
 * retry, ...). Alerts live in the KETEN_ALERTS stream on `alert.<kind>.<service>`; they name
 * ids, never personal data, so a dashboard or pager may show them as they are.
 */
export interface Alert {
  /**
   * retries-exhausted: dead-lettered after the last retry; unknown-notification: a DUO
   * gebeurtenisId the hub does not know; partner-version: a partner accepted a message under
   * another API version than the hub pins (re-pin after checking the new version);
   * tenant-mismatch: a partner acted on a person the hub knows for another gemeente (refused).
   */
  kind: AlertKind;
  service: string;
  partner: string;
  gemeente?: string;
  eventId?: string;
  eventType?: string;
  attempts: number;
  reason: string;
  at: string;
}

export function alertSubject(kind: Alert['kind'], service: string): string {
  return `alert.${kind}.${service}`;
}

export async function raiseAlert(js: JetStreamClient, alert: Omit<Alert, 'at'>): Promise<void> {
  const full: Alert = { ...alert, at: new Date().toISOString() };
  // One alert per cause, even when the message that raised it is handled again (retried,
  // redelivered after a crash) within the stream's duplicate window.
  // The gemeente is part of it: event ids are chosen by partners and not unique across gemeenten.
  const msgID = [
    alert.kind,
    alert.service,
    alert.gemeente ?? '',
    alert.eventId ?? full.at,
    alert.attempts,
  ].join(':');
  await js.publish(alertSubject(alert.kind, alert.service), JSON.stringify(full), { msgID });
}
