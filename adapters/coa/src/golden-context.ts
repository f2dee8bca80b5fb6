import { sourceUrn } from '@ketenhub/kit';
import { createPseudonymizer } from '@ketenhub/kit/privacy';
import type { TranslateContext } from './translate.ts';

/**
 * The fixed context of the golden translations in fixtures/golden/ (a key that is no secret, a
 * fixed clock): the same input gives the same event, byte for byte. For tests only.
 */
export const goldenContext: TranslateContext = {
  pseudonymizer: createPseudonymizer('golden-test-key-not-a-secret-000000'),
  servedGemeenten: new Set(['gm0797', 'gm0796', 'gm0865']),
  source: sourceUrn('00000001234567890000', 'coa'),
  now: () => new Date('2026-11-23T09:00:00.000Z'),
};
