/**
 * Realistic messages for the bench: a cohort from the COA simulator (households, names,
 * test BSNs), and for the hop the chain events the COA adapter makes of it, so every message
 * has the size and shape of production traffic.
 */
import { koppelingToEvent, type TranslateContext } from '@ketenhub/adapter-coa';
import { generateCohort, type Cohort } from '@ketenhub/simulator-coa';
import { sourceUrn, type Event } from '@ketenhub/kit';
import { createPseudonymizer } from '@ketenhub/kit/privacy';
import { randomBytes } from 'node:crypto';

/** Same OIN as config/ketenhub.yaml: the source URN has its real length. */
const OIN = '00000001234567890000';

export function cohortFor(gemeenten: string[], size: number, idPrefix: string): Cohort {
  return generateCohort({
    size,
    // Fixed seed: two runs of the bench send the same people.
    seed: 20_260_901,
    gemeenten: gemeenten.map((code) => ({ code: code.slice(2), naam: code })),
    idPrefix,
  });
}

/** `inburgeraar.gekoppeld` events for a cohort, as the COA adapter would have published them. */
export function gekoppeldEvents(
  gemeenten: string[],
  size: number,
  idPrefix: string,
): Event<unknown>[] {
  const ctx: TranslateContext = {
    pseudonymizer: createPseudonymizer(randomBytes(32).toString('hex')),
    servedGemeenten: new Set(gemeenten),
    source: sourceUrn(OIN, 'coa'),
  };
  return cohortFor(gemeenten, size, idPrefix).koppelingen.map((k) => koppelingToEvent(k, ctx));
}

export function meanBytes(bodies: readonly string[]): number {
  if (bodies.length === 0) return 0;
  let total = 0;
  for (const b of bodies) total += Buffer.byteLength(b);
  return Math.round(total / bodies.length);
}
