import { schemas } from '@ketenhub/contracts';
import type { ChainEvent } from '@ketenhub/contracts/generated';

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
