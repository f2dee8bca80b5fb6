import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { policies } from './policies.ts';
import { schemas } from './registry.ts';

// The chain event catalogue in contracts/README.md is documentation people read instead of the
// schemas and policies; this keeps it from going stale when a type or a policy changes.
const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

interface CatalogueRow {
  schema: string;
  producers: string[];
  receivers: string[];
}

/** The table's rows by event type, and what is wrong with the table's form. */
function catalogue(): { rows: Map<string, CatalogueRow>; problems: string[] } {
  const rows = new Map<string, CatalogueRow>();
  const problems: string[] = [];
  for (const line of README.split('\n')) {
    if (!line.startsWith('| `nl.inburgering.')) continue;
    const [type, schema = '', produced = '', received = ''] = line
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim());
    const name = type!.replaceAll('`', '');
    if (rows.has(name)) problems.push(`${name} is in the table twice`);
    // Each receiver as `partner` (va-NNN); notes after the activity are free text.
    const receivers = [...received.matchAll(/`([a-z-]+)` \((va-\d{3})\b/g)];
    if ([...received.matchAll(/`[a-z-]+`/g)].length !== receivers.length) {
      problems.push(`${name}: a receiver without its activity`);
    }
    rows.set(name, {
      schema: schema.replaceAll('`', ''),
      producers: [...produced.matchAll(/`([a-z-]+)`/g)].map((m) => m[1]!).sort(),
      receivers: receivers.map((m) => `${m[1]} ${m[2]}`).sort(),
    });
  }
  return { rows, problems };
}

describe('contracts/README.md chain event catalogue', () => {
  const { rows, problems } = catalogue();
  const registered = schemas()
    .entries()
    .flatMap((e) => (e.eventTypes ?? []).map((type) => ({ type, file: e.file })));
  const all = [...policies().policies.values()];

  it('lists every registered event type once, and nothing else', () => {
    expect(problems).toEqual([]);
    expect([...rows.keys()].sort()).toEqual(registered.map((r) => r.type).sort());
  });

  it.each(registered.map((r) => [r.type, r.file] as const))(
    '%s: data schema, producers and receivers as the schemas and policies say',
    (type, file) => {
      const row = rows.get(type);
      expect(row, `${type} is missing from the README catalogue`).toBeDefined();
      expect(row!.schema).toBe(file.split('\\').join('/'));
      expect(row!.producers).toEqual(
        all
          .filter((p) => p.levert.includes(type))
          .map((p) => p.partner)
          .sort(),
      );
      expect(row!.receivers).toEqual(
        all
          .filter((p) => p.ontvangt[type])
          .map((p) => `${p.partner} ${p.ontvangt[type]!.activiteit}`)
          .sort(),
      );
    },
  );
});
