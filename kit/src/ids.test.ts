import { describe, expect, it } from 'vitest';
import { nameBasedUuid } from './ids.ts';

describe('nameBasedUuid', () => {
  it('is a stable v5 UUID per name', () => {
    const a = nameBasedUuid('coa:koppeling:KOP-1');
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(nameBasedUuid('coa:koppeling:KOP-1')).toBe(a);
    expect(nameBasedUuid('coa:koppeling:KOP-2')).not.toBe(a);
  });
});
