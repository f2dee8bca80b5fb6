import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { schemas } from '../src/registry.ts';
import { drift, fileOf, generate } from './gen-types.ts';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('contracts:gen', () => {
  it('puts the shared contracts in types.ts and each other folder in a file of its own', () => {
    expect(fileOf('events/pip.vastgesteld.schema.json')).toBe('types.ts');
    expect(fileOf('config/hub-config.schema.json')).toBe('types.ts');
    expect(fileOf('envelope/cloudevent.schema.json')).toBe('types.ts');
    expect(fileOf('policy.schema.json')).toBe('types.ts');
    expect(fileOf('coa/koppeling.schema.json')).toBe('coa.ts');
    expect(fileOf('woning-corporatie/verzoek.schema.json')).toBe('woning-corporatie.ts');
    for (const bad of ['types/x.schema.json', 'index/x.schema.json', 'Coa/x.schema.json']) {
      expect(() => fileOf(bad), bad).toThrow(/lower case words joined by '-', not index or types/);
    }
  });

  it('declares the type of every schema in the file its folder gives', async () => {
    const files = await generate();
    const entries = schemas().entries();
    expect([...files.keys()].sort()).toEqual(
      [...new Set(entries.map((e) => fileOf(e.file)))].sort(),
    );
    for (const e of entries.filter((e) => !e.file.endsWith('common.schema.json'))) {
      expect(files.get(fileOf(e.file)), e.file).toMatch(
        new RegExp(`^export (type|interface) ${e.title}\\b`, 'm'),
      );
    }
    // A partner's types are not in the shared barrel.
    expect(files.get('types.ts')).not.toMatch(/^export (type|interface) CoaKoppeling\b/m);
  });

  it('reports a drifted, a missing and a left-over file; the barrel is no generated file', () => {
    dir = mkdtempSync(join(tmpdir(), 'ketenhub-gen-'));
    writeFileSync(join(dir, 'index.ts'), "export type * from './types.ts';\n");
    writeFileSync(join(dir, 'types.ts'), 'same');
    writeFileSync(join(dir, 'coa.ts'), 'old');
    writeFileSync(join(dir, 'gone.ts'), 'from a folder that no longer exists');
    const expected = new Map([
      ['types.ts', 'same'],
      ['coa.ts', 'new'],
      ['duo.ts', 'new'],
    ]);
    expect(drift(expected, dir)).toEqual({
      changed: ['coa.ts'],
      missing: ['duo.ts'],
      stale: ['gone.ts'],
    });
    expect(drift(new Map([['types.ts', 'same']]), dir).stale).toEqual(['coa.ts', 'gone.ts']);
  });
});
