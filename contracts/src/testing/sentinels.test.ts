import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createAjv } from '../ajv.ts';
import { schemas } from '../registry.ts';
import { privacyPlan, sentinelFor } from './sentinels.ts';

describe('sentinelFor', () => {
  const cases: [object, unknown][] = [
    [{ type: 'string', pattern: '^[0-9]{9}$' }, '999990019'],
    [{ type: 'string', pattern: '^[0-9]{10}$' }, '0999990019'],
    [{ type: 'string', pattern: '^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$' }, 'NL91ABNA0417164300'],
    [{ type: 'string', pattern: '^ih-[0-9a-f]{32}$' }, `ih-${'5e'.repeat(16)}`],
    [{ type: 'string', pattern: '^[0-9A-Z]{1,6}$' }, 'SNTNL9'],
    [{ type: 'string', pattern: '^[A-Za-z0-9-]{1,40}$' }, 'SENTINEL-VERBODEN'],
    [{ type: 'string', format: 'date' }, '1888-08-08'],
    [{ type: 'string', format: 'email', maxLength: 200 }, 'sentinel@verboden.example'],
    [{ type: 'string', maxLength: 8 }, 'SENTINEL'],
    [{ type: 'string', minLength: 20 }, 'SENTINEL-VERBODEN---'],
    [{ type: 'integer', minimum: 1, maximum: 1000000 }, 987654],
    [{ type: 'number', minimum: 0, maximum: 999.99 }, 987.65],
    // No distinctive value: such a field is checked by its key only.
    [{ type: 'string', maxLength: 3 }, undefined],
    [{ type: 'integer', minimum: 1, maximum: 40 }, undefined],
    [{ type: 'number', minimum: 0.25, maximum: 40, multipleOf: 0.25 }, undefined],
    [{ enum: ['ziek', 'overig'] }, undefined],
    [{ type: 'boolean' }, undefined],
    [{ type: 'string', pattern: '^x$' }, undefined],
  ];
  const ajv = createAjv();

  it.each(cases)('%j → %j, valid for the schema', (schema, expected) => {
    const value = sentinelFor(schema as Record<string, unknown>);
    expect(value).toEqual(expected);
    if (value !== undefined) expect(ajv.validate(schema, value)).toBe(true);
  });
});

describe('privacyPlan', () => {
  const plan = privacyPlan({ partner: 'taalaanbieder', forbiddenFields: ['inburgeraarId'] });
  const GEKOPPELD = 'nl.inburgering.inburgeraar.gekoppeld';

  it('forbids the register categories no activity towards the partner processes', () => {
    expect(plan.forbiddenCategories).toContain('identificatie');
    expect(plan.forbiddenCategories).not.toContain('naam');
    expect(plan.forbiddenKeys.has('bsn')).toBe(true);
    expect(plan.forbiddenKeys.has('voornamen')).toBe(false);
    expect(plan.forbiddenDefs).toContain(
      'https://contracts.ketenhub.nl/events/common.schema.json#/$defs/Bsn',
    );
  });

  it('plants valid sentinels, finds them back and reports what leaks where', () => {
    const sites = plan.sites(GEKOPPELD);
    expect(sites.find((s) => s.path === 'persoon.vnummer')).toMatchObject({
      sentinel: '0999990019',
      why: expect.stringMatching(/category identificatie/),
    });
    const entry = schemas().byEventType(GEKOPPELD)!;
    for (const data of fc.sample(plan.arbitrary(GEKOPPELD), 50)) {
      expect(schemas().validate(entry.id, data)).toEqual([]);
      const planted = plan.planted(GEKOPPELD, data);
      expect(planted.map((p) => p.path)).toContain('persoon.vnummer');
      const persoon = data.persoon as Record<string, unknown>;
      const leaked = { naam: persoon.voornamen, nummer: `V${persoon.vnummer}`, bsn: 1 };
      const leaks = plan.leaks(leaked, planted);
      expect(leaks).toContain('forbidden key bsn at bsn');
      expect(leaks).toContain('sentinel "0999990019" of persoon.vnummer at nummer');
      expect(leaks.filter((l) => l.includes('naam'))).toEqual([]);
    }
  });
});
