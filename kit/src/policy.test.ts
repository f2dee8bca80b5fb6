import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { policies } from '@ketenhub/contracts';
import { createProjector, projectFields } from './policy.ts';

describe('projectFields', () => {
  it('keeps allowed paths with their subtrees and drops the rest', () => {
    const data = { a: 1, b: { c: 2, d: 3 }, e: { f: { g: 4 } }, list: [{ x: 1, y: 2 }, { x: 3 }] };
    expect(projectFields(data, ['a', 'b.c', 'e', 'list.x'])).toEqual({
      a: 1,
      b: { c: 2 },
      e: { f: { g: 4 } },
      list: [{ x: 1 }, { x: 3 }],
    });
  });
  it('copies, so the partner view cannot change the original', () => {
    const data = { b: { c: [1] } };
    const out = projectFields(data, ['b']) as { b: { c: number[] } };
    out.b.c.push(2);
    expect(data.b.c).toEqual([1]);
  });
});

describe('createProjector (gemeente-kvs)', () => {
  const kvs = createProjector('gemeente-kvs');
  const rule = policies().policy('gemeente-kvs').ontvangt['nl.inburgering.inburgeraar.gekoppeld']!;

  it('refuses event types the policy does not list', () => {
    expect(kvs.project({ type: 'nl.inburgering.pip.vastgesteld', data: {} })).toBeUndefined();
  });

  it('never lets out a top-level field the policy does not allow (property)', () => {
    const allowedTop = new Set(Object.keys(rule.velden).map((f) => f.split('.')[0]));
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }), fc.jsonValue()),
        (data) => {
          const d = kvs.project({ type: 'nl.inburgering.inburgeraar.gekoppeld', data });
          for (const key of Object.keys(d!.event.data as object))
            expect(allowedTop.has(key)).toBe(true);
        },
      ),
    );
  });

  it('names the activity and only the categories present', () => {
    const d = kvs.project({
      type: 'nl.inburgering.inburgeraar.gekoppeld',
      data: { inburgeraarId: 'ih-x', persoon: { bsn: '999990019' }, bron: { kanaal: 'coa-json' } },
    });
    expect(d?.activity).toBe('va-001');
    expect(d?.categories).toEqual(['identificatie', 'pseudoniem']);
    expect(d?.event.data).toEqual({ inburgeraarId: 'ih-x', persoon: { bsn: '999990019' } });
  });
});

describe('projectFields copies like structuredClone', () => {
  it('keeps a parsed __proto__ key as data, not as the prototype', () => {
    const data = JSON.parse('{"b":{"__proto__":{"x":1},"y":2}}') as { b: object };
    const out = projectFields(data, ['b']) as { b: Record<string, unknown> };
    expect(Object.getPrototypeOf(out.b)).toBe(Object.prototype);
    expect(Object.keys(out.b)).toEqual(['__proto__', 'y']);
    expect(JSON.stringify(out)).toBe(JSON.stringify(data));
  });

  it('gives the same result as structuredClone for any JSON value (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const out = projectFields({ v }, ['v']) as { v: unknown };
        expect(out.v).toStrictEqual(structuredClone(v));
      }),
    );
  });

  it('still copies a Date as a Date', () => {
    const when = new Date('2026-09-01T00:00:00Z');
    const out = projectFields({ when }, ['when']) as { when: Date };
    expect(out.when).toBeInstanceOf(Date);
    expect(out.when).not.toBe(when);
    expect(out.when.getTime()).toBe(when.getTime());
  });
});
