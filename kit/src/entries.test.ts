import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The kit's entries (docs/adr/0014-kit-entries.md) are only worth having while the runtime
// entry does not load the operator side, the launcher or the test helpers through an internal
// import. These checks read the relative imports of kit/src, so a file added to the wrong place
// or imported across the line fails here instead of growing every service's memory unnoticed.

const SRC = dirname(fileURLToPath(import.meta.url));
const PACKAGE = JSON.parse(readFileSync(join(SRC, '../package.json'), 'utf8')) as {
  exports: Record<string, string>;
};

const ENTRIES: Record<string, string> = Object.fromEntries(
  Object.entries(PACKAGE.exports).map(([key, path]) => [key, relative(SRC, join(SRC, '..', path))]),
);

/**
 * The kit's own files a file loads: its relative imports and re-exports, as paths below src.
 * `import type` is left out, since type stripping erases it.
 */
function localImports(file: string): string[] {
  const text = readFileSync(join(SRC, file), 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(
    /^(?:import|export)(?! type )\b[^;]*?from\s+'(\.{1,2}\/[^']+)'/gms,
  )) {
    out.push(relative(SRC, join(SRC, dirname(file), m[1]!)));
  }
  return out;
}

function reachable(entry: string): Set<string> {
  const seen = new Set<string>();
  const todo = [entry];
  while (todo.length > 0) {
    const file = todo.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    todo.push(...localImports(file));
  }
  return seen;
}

/** Files an entry re-exports with `export * from`. */
function exportedBy(entry: string): string[] {
  const text = readFileSync(join(SRC, entry), 'utf8');
  return [...text.matchAll(/^export \* from '(\.{1,2}\/[^']+)';/gm)].map((m) =>
    relative(SRC, join(SRC, dirname(entry), m[1]!)),
  );
}

const SOURCE_FILES = readdirSync(SRC, { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
  .sort();

describe('kit entries', () => {
  it('names the six entries in package.json', () => {
    expect(ENTRIES).toEqual({
      '.': 'index.ts',
      './privacy': 'privacy.ts',
      './operations': 'operations.ts',
      './processes': 'processes.ts',
      './testing': 'testing/index.ts',
      './deploy': 'deploy.ts',
    });
  });

  it('gives every source file one entry that exports it', () => {
    const owners = new Map<string, string[]>();
    for (const [key, entry] of Object.entries(ENTRIES)) {
      owners.set(entry, [...(owners.get(entry) ?? []), key]);
      for (const file of exportedBy(entry)) owners.set(file, [...(owners.get(file) ?? []), key]);
    }
    // Spawned by the launcher as a child's --import, never imported.
    owners.set('exit-with-launcher.ts', ['./processes']);
    const unowned = SOURCE_FILES.filter((f) => (owners.get(f) ?? []).length !== 1);
    expect(unowned.map((f) => `${f}: ${(owners.get(f) ?? []).join(', ') || 'none'}`)).toEqual([]);
  });

  it.each(['.', './privacy'])(
    '%s loads nothing of operations, processes, testing or deploy',
    (key) => {
      const loaded = reachable(ENTRIES[key]!);
      const foreign = ['./operations', './processes', './testing', './deploy'].flatMap((other) => {
        const entry = ENTRIES[other]!;
        return [entry, ...exportedBy(entry)].filter((f) => loaded.has(f));
      });
      expect(foreign).toEqual([]);
    },
  );
});
