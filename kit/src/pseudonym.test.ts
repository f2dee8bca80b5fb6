import { describe, expect, it } from 'vitest';
import { createPseudonymizer } from './pseudonym.ts';

const key = 'k'.repeat(32);

describe('pseudonym', () => {
  it('is stable for one person and key, and differs across keys and persons', () => {
    const p = createPseudonymizer(key);
    const a = p.inburgeraarId({ bsn: '999990019', vnummer: '0000012345' });
    expect(a).toMatch(/^ih-[0-9a-f]{32}$/);
    expect(p.inburgeraarId({ bsn: '999990019', vnummer: '0000099999' })).toBe(a);
    expect(p.inburgeraarId({ bsn: '111222333', vnummer: '0000012345' })).not.toBe(a);
    expect(
      createPseudonymizer('x'.repeat(32)).inburgeraarId({ bsn: '999990019', vnummer: '1' }),
    ).not.toBe(a);
  });
  it('falls back to the V-nummer and never contains the number', () => {
    const id = createPseudonymizer(key).inburgeraarId({ vnummer: '0000012345' });
    expect(id).not.toContain('12345');
  });
  it('refuses a short key', () => {
    expect(() => createPseudonymizer('short')).toThrow(/at least 32/);
  });
});
