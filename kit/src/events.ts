import { schemas } from '@ketenhub/contracts';
import type { ChainEvent } from '@ketenhub/contracts/generated';
import { ValidationError } from './errors.ts';

/** A chain event with typed data; the envelope attributes are those of the generated type. */
export type Event<D> = Pick<
  ChainEvent,
  'specversion' | 'id' | 'source' | 'type' | 'time' | 'datacontenttype' | 'dataschema'
> & { gemeente: string; data: D };

/**
 * `urn:nld:oin:<OIN>:systeem:<name>`, the NL GOV CloudEvents source of a hub system; `name` is
 * the adapter folder (coa, duo, ...), which also names flows (`coa>kvs`).
 */
export function sourceUrn(oin: string, system: string): string {
  return `urn:nld:oin:${oin}:systeem:${system}`;
}

/** Builds a chain event; `dataschema` comes from the catalogue so it can never be wrong. */
export function buildEvent<D>(args: {
  id: string;
  type: string;
  source: string;
  gemeente: string;
  data: D;
  time?: Date;
}): Event<D> {
  const entry = schemas().byEventType(args.type);
  if (!entry) throw new Error(`event type ${args.type} is not in the catalogue`);
  return {
    specversion: '1.0',
    id: args.id,
    source: args.source,
    type: args.type,
    time: (args.time ?? new Date()).toISOString(),
    datacontenttype: 'application/json',
    dataschema: entry.id,
    gemeente: args.gemeente,
    data: args.data,
  };
}

/**
 * A chain event taken from a KETEN message, for a consumer that acts on it: valid against its
 * schema, and naming one gemeente everywhere: the subject (`keten.<gemeente>.…`), the `gemeente`
 * extension and `data.gemeenteCode` (where the type has it). What the consumer then does for
 * that gemeente rests on this, so a message that disagrees with itself is refused (dead letter).
 */
export function parseChainEvent<D>(m: {
  subject: string;
  json<T>(): T;
}): Event<D> & { gemeente: string } {
  let event: Event<D> & { gemeente: string };
  try {
    event = m.json();
  } catch {
    throw new ValidationError('message is not JSON: (body) (json)', [
      { field: '(body)', rule: 'json', message: 'not JSON' },
    ]);
  }
  const violations = schemas().validateEvent(event);
  if (violations.length > 0) throw new ValidationError('not a valid chain event', violations);
  assertOneGemeente(event, m.subject.split('.')[1] ?? '');
  return event;
}

/**
 * Refuses an event that names more than one gemeente: the `gemeente` extension, its
 * `data.gemeenteCode` (where the type has it) and, for a stream message, its subject.
 */
export function assertOneGemeente(
  event: { gemeente?: unknown; data?: unknown },
  subjectGemeente: string | undefined = undefined,
): void {
  const code = (event.data as { gemeenteCode?: unknown } | null)?.gemeenteCode;
  const wrongSubject = subjectGemeente !== undefined && subjectGemeente !== event.gemeente;
  if (
    typeof event.gemeente !== 'string' ||
    wrongSubject ||
    (code !== undefined && code !== event.gemeente)
  ) {
    throw new ValidationError(
      'gemeente of subject, event and data differ: data.gemeenteCode (equals gemeente)',
      [
        {
          field: 'data.gemeenteCode',
          rule: 'equals gemeente',
          message: 'must equal the gemeente extension and the subject',
        },
      ],
    );
  }
}
