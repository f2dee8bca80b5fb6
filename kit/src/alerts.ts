import type { JetStreamClient } from '@nats-io/jetstream';

/**
 * An alert for operators: something needs a person (a message dead-lettered after its last
 * retry, ...). Alerts live in the KETEN_ALERTS stream on `alert.<kind>.<service>`; they name
 * ids, never personal data, so a dashboard or pager may show them as they are.
 */
export interface Alert {
  kind: 'retries-exhausted';
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
  await js.publish(alertSubject(alert.kind, alert.service), JSON.stringify(full));
}
