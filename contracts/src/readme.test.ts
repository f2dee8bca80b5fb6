import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SCHEMA_DIR, schemas } from './registry.ts';

// The chain event catalogue in contracts/README.md is documentation people read instead of the
// schemas; this keeps it from going stale when a type is added, renamed or moves schema. Who
// sends and receives a type is not in the table: the policies say it, and
// `npm run contracts:catalogue` prints it (contracts/scripts/catalogue.test.ts).
const README = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');

/** The table's rows (event type → data schema), and what is wrong with the table's form. */
function catalogue(): { rows: Map<string, string>; problems: string[] } {
  const rows = new Map<string, string>();
  const problems: string[] = [];
  for (const line of README.split('\n')) {
    if (!line.startsWith('| `nl.inburgering.')) continue;
    const cells = line
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim());
    const name = cells[0]!.replaceAll('`', '');
    if (rows.has(name)) problems.push(`${name} is in the table twice`);
    // type | data schema | meaning: partner columns would be a second, hand-kept copy of the policies.
    if (cells.length !== 3)
      problems.push(`${name}: ${cells.length} columns, not type, schema, meaning`);
    rows.set(name, (cells[1] ?? '').replaceAll('`', ''));
  }
  return { rows, problems };
}

describe('contracts/README.md chain event catalogue', () => {
  const { rows, problems } = catalogue();
  const registered = schemas()
    .entries()
    .flatMap((e) =>
      (e.eventTypes ?? []).map((type) => ({ type, file: e.file.split('\\').join('/') })),
    );

  it('lists every registered event type once, and nothing else', () => {
    expect(problems).toEqual([]);
    expect([...rows.keys()].sort()).toEqual(registered.map((r) => r.type).sort());
  });

  it('names only schemas that exist', () => {
    for (const [type, schema] of rows) {
      expect(existsSync(SCHEMA_DIR + schema), `${type}: ${schema}`).toBe(true);
    }
  });

  it.each(registered.map((r) => [r.type, r.file] as const))(
    '%s: the data schema the registry has for it',
    (type, file) => {
      expect(rows.get(type), `${type} is missing from the README catalogue`).toBe(file);
    },
  );
});
