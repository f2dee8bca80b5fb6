import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REPO_ROOT } from '@ketenhub/kit';
import { fileOf } from '../contracts/scripts/gen-types.ts';
import { NewPartnerError, namesOf, nextActivity, plan, register } from './new-partner.ts';

/**
 * What `npm run new:partner` writes, planned against this checkout without writing. That the
 * written module passes `npm test` is checked by running it in a clean clone (the closing notes
 * of the partner-module issue give the run).
 */
describe('new:partner', () => {
  it('names a module from its id', () => {
    expect(namesOf('woning-corporatie', 'va-901')).toEqual({
      id: 'woning-corporatie',
      Name: 'WoningCorporatie',
      camel: 'woningCorporatie',
      CONST: 'WONING_CORPORATIE',
      activity: 'va-901',
    });
    for (const bad of ['Voorbeeld', 'voor_beeld', '9voorbeeld', 'voorbeeld-', '']) {
      expect(() => namesOf(bad, 'va-901'), bad).toThrow(NewPartnerError);
    }
  });

  it('refuses an id that is taken', () => {
    expect(() => plan(REPO_ROOT, 'duo')).toThrow(/adapters\/duo exists already/);
  });

  it('writes only new files, and changes only the two registration points', () => {
    const p = plan(REPO_ROOT, 'voorbeeld-test');
    expect(p.names.activity).toBe(nextActivity(REPO_ROOT));
    expect([...p.changes.keys(), ...p.then.changes].sort()).toEqual([
      'package-lock.json',
      'scripts/modules.ts',
    ]);
    for (const [file, text] of p.files) {
      expect(file).toMatch(/^(adapters|simulators|services|contracts\/(policies|schemas))\//);
      expect(file).toContain('voorbeeld-test');
      expect(text, file).not.toMatch(/\{\{|\}\}|__id__/);
    }
    for (const file of [...p.files.keys(), ...p.then.files]) {
      expect(existsSync(path.join(REPO_ROOT, file)), `${file} is new`).toBe(false);
    }
    // contracts:gen puts the types of its schemas in a file of their own, not in the shared one.
    for (const file of [...p.files.keys()].filter((f) => f.startsWith('contracts/schemas/'))) {
      const generated = `contracts/src/generated/${fileOf(path.relative('contracts/schemas', file))}`;
      expect(p.then.files).toContain(generated);
    }
    expect([...p.files.keys()]).toEqual(
      expect.arrayContaining([
        'adapters/voorbeeld-test/src/module.ts',
        'adapters/voorbeeld-test/src/conformance.int.test.ts',
        'simulators/voorbeeld-test/src/simulator.ts',
        'services/voorbeeld-test/main.ts',
        'contracts/policies/voorbeeld-test.yaml',
      ]),
    );
    const policy = parse(p.files.get('contracts/policies/voorbeeld-test.yaml')!) as {
      partner: string;
      activiteiten: { id: string; ontvangers: string[] }[];
    };
    expect(policy.partner).toBe('voorbeeld-test');
    expect(policy.activiteiten[0]).toMatchObject({
      id: p.names.activity,
      ontvangers: ['voorbeeld-test'],
    });
  });

  it('adds one import and one entry to the registration', () => {
    const before = "import { a } from 'a';\n\nexport const MODULES = [\n  aModule,\n];\n";
    const after = register(before, namesOf('voorbeeld', 'va-901'));
    expect(after).toBe(
      "import { a } from 'a';\nimport { voorbeeldModule } from '../adapters/voorbeeld/src/module.ts';\n\nexport const MODULES = [\n  aModule,\n  voorbeeldModule,\n];\n",
    );
  });
});
