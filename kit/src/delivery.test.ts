import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deliveryViolations, policies } from '@ketenhub/contracts';
import { eventDataArbitrary } from '@ketenhub/contracts/testing';
import { buildEvent } from './events.ts';
import { createProjector } from './policy.ts';

const KVS = 'gemeente-kvs';
const projector = createProjector(KVS);
const types = Object.keys(policies().policy(KVS).ontvangt);

function eventOf(type: string, data: Record<string, unknown>) {
  return buildEvent({
    id: '4b3c2a1e-0000-4000-8000-000000000001',
    type,
    source: 'urn:nld:oin:00000001234567890000:systeem:test',
    gemeente: 'gm0797',
    data: { ...data, gemeenteCode: 'gm0797' },
  });
}

/** The top-level data fields of a chain event that the KVS policy does not let out. */
function withheld(type: string, data: Record<string, unknown>): string[] {
  const velden = Object.keys(policies().policy(KVS).ontvangt[type]!.velden);
  return Object.keys(data).filter((f) => !velden.some((v) => v === f || v.startsWith(`${f}.`)));
}

describe('the KVS delivery contract, over schema-valid generated events of every type it receives', () => {
  it.each(types)(
    '%s: the projection passes; what the policy withholds is refused by name',
    (type) => {
      fc.assert(
        fc.property(eventDataArbitrary<Record<string, unknown>>(type), (data) => {
          const event = eventOf(type, data);
          const disclosure = projector.project(event)!;
          expect(deliveryViolations(KVS, disclosure.event)).toEqual([]);
          for (const field of withheld(type, event.data)) {
            expect(deliveryViolations(KVS, event)).toContainEqual(
              expect.objectContaining({ field: `data.${field}`, rule: 'policy' }),
            );
          }
        }),
        { numRuns: 15 },
      );
    },
  );

  it('withholds something of at least one type, so the refusal above is exercised', () => {
    const exercised = types.some((type) =>
      fc
        .sample(eventDataArbitrary<Record<string, unknown>>(type), 20)
        .some((d) => withheld(type, d).length > 0),
    );
    expect(exercised).toBe(true);
  });
});
