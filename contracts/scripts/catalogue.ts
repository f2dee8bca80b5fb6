/**
 * Prints the chain event catalogue from the schemas and the policies: per event type its data
 * schema, the partner kinds that may cause it (their policy `levert` it) and those that receive
 * it (their policy `ontvangt` it), with the processing activity and the fields they get. The
 * policies are the only place that says who sends and receives what, so contracts/README.md lists
 * the types and their schemas and leaves the partners to this; a new partner's policy shows up
 * here without any other file changing.
 *
 *   npm run contracts:catalogue              # a markdown table
 *   npm run contracts:catalogue -- --json    # the same with each receiver's fields
 */
import { parseArgs } from 'node:util';
import { policies, type PolicySet } from '../src/policies.ts';
import { schemas, type SchemaRegistry } from '../src/registry.ts';

export interface Receiver {
  partner: string;
  activiteit: string;
  /** The data fields its policy lets out to it (dotted paths), sorted. */
  velden: string[];
}

export interface CatalogueRow {
  type: string;
  /** The data schema, as a path below contracts/schemas. */
  schema: string;
  /** The partner kinds whose policy `levert` the type; empty when only the hub makes it. */
  producers: string[];
  receivers: Receiver[];
}

/** Every registered event type, sorted, with its schema, producers and receivers. */
export function catalogue(
  registry: SchemaRegistry = schemas(),
  set: PolicySet = policies(),
): CatalogueRow[] {
  const all = [...set.policies.values()].sort((a, b) => (a.partner < b.partner ? -1 : 1));
  return registry.eventTypes().map((type) => ({
    type,
    schema: registry.byEventType(type)!.file.split('\\').join('/'),
    producers: all.filter((p) => p.levert.includes(type)).map((p) => p.partner),
    receivers: all.flatMap((p) => {
      const rule = p.ontvangt[type];
      return rule
        ? [
            {
              partner: p.partner,
              activiteit: rule.activiteit,
              velden: Object.keys(rule.velden).sort(),
            },
          ]
        : [];
    }),
  }));
}

/** The catalogue as a markdown table, its columns padded. */
export function markdown(rows: CatalogueRow[]): string {
  const code = (s: string) => `\`${s}\``;
  const table = [
    ['event type', 'data schema', 'produced by (`levert`)', 'received by (`ontvangt`, activity)'],
    ...rows.map((r) => [
      code(r.type),
      code(r.schema),
      r.producers.length > 0 ? r.producers.map(code).join(', ') : 'no partner',
      r.receivers.length > 0
        ? r.receivers.map((x) => `${code(x.partner)} (${x.activiteit})`).join(', ')
        : 'no partner',
    ]),
  ];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [
    line(table[0]!),
    `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`,
    ...table.slice(1).map(line),
  ].join('\n');
}

if (import.meta.main) {
  const usage = 'usage: npm run contracts:catalogue [-- --json]';
  let json: boolean | undefined;
  try {
    json = parseArgs({ options: { json: { type: 'boolean' } } }).values.json;
  } catch (err) {
    console.error(`contracts:catalogue: ${(err as Error).message}\n${usage}`);
    process.exit(2);
  }
  const rows = catalogue();
  console.log(json ? JSON.stringify(rows, null, 2) : markdown(rows));
}
