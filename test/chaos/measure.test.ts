import { describe, expect, it } from 'vitest';
import { measure, type SentEvent, type StoredView } from './measure.ts';

const sent: SentEvent[] = [
  { eventId: 'e1', key: 'K1', to: 'gm0797' },
  { eventId: 'e2', key: 'K2', to: 'gm0797' },
  { eventId: 'e3', key: 'K3', to: 'gm0796' },
  { eventId: 'e4', key: 'K4', to: 'gm0796' },
];
const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
const stored = (id: string, to: string, s: number, extra: Partial<StoredView> = {}) => ({
  id,
  to,
  deliveries: 1,
  receivedAt: at(s),
  key: `K${id.slice(1)}`,
  ...extra,
});

describe('measure', () => {
  it('counts everything delivered once, redeliveries refused as 409, and the recovery time', () => {
    const r = measure({
      sent,
      stored: [
        stored('e1', 'gm0797', 1),
        stored('e2', 'gm0797', 2, { deliveries: 3 }),
        stored('e3', 'gm0796', 3),
        stored('e4', 'gm0796', 14),
      ],
      deadLetterIds: [],
      faultEndMs: Date.parse(at(10)),
    });
    expect(r).toMatchObject({
      sent: 4,
      delivered: 4,
      lost: 0,
      duplicated: 0,
      redeliveries: 2,
      recoverySeconds: 4,
    });
  });

  it('tells lost from dead-lettered, and flags a dead letter that was delivered anyway', () => {
    const r = measure({
      sent,
      stored: [stored('e1', 'gm0797', 1), stored('e3', 'gm0796', 3)],
      deadLetterIds: ['e2', 'e3'],
      faultEndMs: Date.parse(at(10)),
    });
    expect(r.delivered).toBe(2);
    expect(r.deadLettered).toBe(1);
    expect(r.deadLetteredAndDelivered).toBe(1);
    expect(r.lost).toBe(1);
    expect(r.missingSample).toEqual(['e4']);
    expect(r.recoverySeconds).toBe(0);
  });

  it('counts business duplicates: one id at two gemeenten, one key under two ids', () => {
    const r = measure({
      sent,
      stored: [
        stored('e1', 'gm0797', 1),
        stored('e1', 'gm0796', 1),
        stored('e2', 'gm0797', 2),
        stored('x9', 'gm0797', 2, { key: 'K2' }),
      ],
      deadLetterIds: [],
      faultEndMs: 0,
    });
    expect(r.duplicated).toBe(2);
    expect(r.misrouted).toBe(1);
    expect(r.unexpected).toBe(1);
    expect(r.delivered).toBe(2);
  });

  it('counts one event stored twice at the same place as a duplicate, not as a redelivery', () => {
    // A non-idempotent POST done twice (a PIP registered twice at DUO) is two stored records
    // of one event; a repeat the partner recognised is one record with two deliveries.
    const r = measure({
      sent,
      stored: [
        stored('e1', 'gm0797', 1),
        stored('e1', 'gm0797', 2),
        stored('e2', 'gm0797', 2, { deliveries: 2 }),
      ],
      deadLetterIds: [],
      faultEndMs: 0,
    });
    expect(r.delivered).toBe(2);
    expect(r.duplicated).toBe(1);
    expect(r.redeliveries).toBe(1);
    expect(r.lost).toBe(2);
  });
});
