import { describe, expect, it } from 'vitest';
import { deliveryViolations } from './delivery.ts';
import { policies } from './policies.ts';

const KVS = 'gemeente-kvs';
const SCHEMA = 'https://contracts.ketenhub.nl/events/leerroute.voortgang.schema.json';

function voortgang(data: Record<string, unknown> = {}, envelope: Record<string, unknown> = {}) {
  return {
    specversion: '1.0',
    id: '4b3c2a1e-0000-4000-8000-000000000001',
    source: 'urn:nld:oin:00000001234567890000:systeem:taalaanbieder',
    type: 'nl.inburgering.leerroute.voortgang',
    time: '2026-11-02T10:00:00Z',
    datacontenttype: 'application/json',
    dataschema: SCHEMA,
    gemeente: 'gm0797',
    data: {
      inburgeraarId: `ih-${'a'.repeat(32)}`,
      gemeenteCode: 'gm0797',
      taalaanbieder: 'taalschool-noord',
      peildatum: '2026-11-01',
      niveaus: { lezen: 'A2' },
      ...data,
    },
    ...envelope,
  };
}

describe('deliveryViolations: what a partner receives, against its contract and its policy', () => {
  const policy = policies().policy(KVS).ontvangt['nl.inburgering.leerroute.voortgang']!;
  const allowed = Object.keys(policy.velden);

  it('lets out a valid event of a type the policy allows, with only allowed fields', () => {
    expect(Object.keys(voortgang().data).every((f) => allowed.includes(f))).toBe(true);
    expect(deliveryViolations(KVS, voortgang())).toEqual([]);
  });

  it('refuses a type the policy does not let out to the partner', () => {
    expect(deliveryViolations('coa', voortgang())).toContainEqual({
      field: 'type',
      rule: 'policy',
      message: 'nl.inburgering.leerroute.voortgang is not delivered to coa',
    });
  });

  it("checks the partner's own delivery schema: the KVS gets the gemeente with every event", () => {
    const { gemeente: _gone, ...withoutGemeente } = voortgang();
    expect(deliveryViolations(KVS, withoutGemeente)).toContainEqual(
      expect.objectContaining({ field: 'gemeente', rule: 'required' }),
    );
  });
});
