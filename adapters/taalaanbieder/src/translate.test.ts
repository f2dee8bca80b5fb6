import { describe, expect, it } from 'vitest';
import { schemas } from '@ketenhub/contracts';
import type { PipVastgesteld } from '@ketenhub/contracts/generated';
import { buildEvent, type Event } from '@ketenhub/kit';
import { createProjector } from '@ketenhub/kit/privacy';
import { createTrajectPseudonymizer } from './traject.ts';
import {
  PIP_VASTGESTELD,
  aangemeldEvent,
  aanmeldingIdFor,
  pipToAanmelding,
  urenToEvent,
  verzuimToEvent,
  voortgangToEvent,
} from './translate.ts';

const KEY = 'k'.repeat(40);
const ID = `ih-${'a'.repeat(32)}`;
const ctx = { source: 'urn:nld:oin:00000001234567890000:systeem:taalaanbieder' };

export function pipEvent(data: Partial<PipVastgesteld> = {}): Event<PipVastgesteld> {
  return buildEvent<PipVastgesteld>({
    id: '4b3c2a1e-0000-4000-8000-000000000001',
    type: PIP_VASTGESTELD,
    source: 'urn:nld:oin:00000001234567890000:systeem:gemeente-kvs',
    gemeente: 'gm0797',
    data: {
      inburgeraarId: ID,
      gemeenteCode: 'gm0797',
      pipId: 'PIP-1',
      dagtekening: '2026-10-01',
      leerroute: 'b1-route',
      niveau: 'B1',
      geschatteIntensiteitB1Route: 600,
      alfabetisering: 'niet-van-toepassing',
      taalaanbieder: 'taalschool-noord',
      startdatumLeerroute: '2026-11-02',
      urenPerWeek: 12,
      deelnemer: {
        voornamen: 'Amal',
        geslachtsnaam: 'Haddad',
        telefoon: '+31 6 12345678',
        email: 'amal@example.org',
      },
      ...data,
    },
  });
}

describe('PIP → aanmelding', () => {
  const projector = createProjector('taalaanbieder');
  const pseudonyms = createTrajectPseudonymizer(KEY);

  it('the PIP with a school is a valid chain event', () => {
    expect(schemas().validateEvent(pipEvent())).toEqual([]);
  });

  it('sends the aanmelding subset under a traject pseudonym, never the inburgeraarId', () => {
    const pip = pipEvent();
    const d = projector.project(pip)!;
    expect(d.activity).toBe('va-020');
    expect(d.event.data).not.toHaveProperty('inburgeraarId');
    expect(d.event.data).not.toHaveProperty('geschatteIntensiteitB1Route');
    const trajectId = pseudonyms.trajectId(ID, 'taalschool-noord');
    const a = pipToAanmelding(d.event.data, {
      trajectId,
      aanmeldingId: aanmeldingIdFor(pip.id, 'taalschool-noord'),
    });
    expect(a).toEqual({
      aanmeldingId: aanmeldingIdFor(pip.id, 'taalschool-noord'),
      trajectId,
      gemeenteCode: 'gm0797',
      deelnemer: {
        voornamen: 'Amal',
        geslachtsnaam: 'Haddad',
        telefoon: '+31 6 12345678',
        email: 'amal@example.org',
      },
      leerroute: 'b1-route',
      niveau: 'B1',
      startdatum: '2026-11-02',
      urenPerWeek: 12,
      alfabetisering: 'niet-van-toepassing',
    });
    expect(JSON.stringify(a)).not.toContain(ID.slice(3));
  });

  it('a traject pseudonym differs per school and from the person pseudonym', () => {
    const a = pseudonyms.trajectId(ID, 'taalschool-noord');
    const b = pseudonyms.trajectId(ID, 'taalschool-zuid');
    expect(a).toMatch(/^tr-[0-9a-f]{32}$/);
    expect(a).not.toBe(b);
    expect(a.slice(3)).not.toBe(ID.slice(3));
    expect(createTrajectPseudonymizer('x'.repeat(40)).trajectId(ID, 'taalschool-noord')).not.toBe(
      a,
    );
  });

  it('refuses a PIP without deelnemer: the school could not invite anyone', () => {
    const d = projector.project(pipEvent({ deelnemer: undefined }))!;
    expect(() =>
      pipToAanmelding(d.event.data, {
        trajectId: `tr-${'1'.repeat(32)}`,
        aanmeldingId: aanmeldingIdFor('x', 'y'),
      }),
    ).toThrow(/deelnemer/);
  });

  it('aangemeld tells the KVS where the learner is registered', () => {
    const e = aangemeldEvent(pipEvent(), 'taalschool-noord', {
      ...ctx,
      now: () => new Date('2026-11-01T10:00:00Z'),
    });
    expect(schemas().validateEvent(e)).toEqual([]);
    expect(e.data).toMatchObject({
      inburgeraarId: ID,
      taalaanbieder: 'taalschool-noord',
      pipId: 'PIP-1',
    });
  });
});

describe('school messages → chain events', () => {
  const traject = { inburgeraarId: ID, gemeente: 'gm0796', taalaanbieder: 'taalschool-noord' };
  const trajectId = `tr-${'b'.repeat(32)}`;

  it('voortgang, uren and verzuim map back to the person and the gemeente', () => {
    const v = voortgangToEvent(
      { trajectId, peildatum: '2026-12-01', niveaus: { lezen: 'A2', knm: 'A1' } },
      traject,
      ctx,
    );
    const u = urenToEvent({ trajectId, peildatum: '2026-12-01', urenTotaal: 48 }, traject, ctx);
    const z = verzuimToEvent(
      { trajectId, datum: '2026-12-02', urenGemist: 2.5, reden: 'ongeoorloofd' },
      traject,
      ctx,
    );
    for (const e of [v, u, z]) {
      expect(schemas().validateEvent(e)).toEqual([]);
      expect(e.gemeente).toBe('gm0796');
      expect((e.data as { inburgeraarId: string }).inburgeraarId).toBe(ID);
    }
    expect(u.data).toEqual({
      inburgeraarId: ID,
      gemeenteCode: 'gm0796',
      soort: 'participatie-als-taalles',
      urenTotaal: 48,
      peildatum: '2026-12-01',
      taalaanbieder: 'taalschool-noord',
    });
    // DUO gets the hours, not which school reported them.
    expect(createProjector('duo').project(u)!.event.data).not.toHaveProperty('taalaanbieder');
    // The same report twice is the same event (deduplicated in JetStream), also with the skills
    // listed in another order; another level is another event.
    expect(
      urenToEvent({ trajectId, peildatum: '2026-12-01', urenTotaal: 48 }, traject, ctx).id,
    ).toBe(u.id);
    const again = (niveaus: Record<string, string>) =>
      voortgangToEvent({ trajectId, peildatum: '2026-12-01', niveaus }, traject, ctx).id;
    expect(again({ knm: 'A1', lezen: 'A2' })).toBe(v.id);
    expect(again({ lezen: 'B1', knm: 'A1' })).not.toBe(v.id);
  });

  it('refuses a level outside A0..B2 and a skill that does not exist', () => {
    expect(() =>
      voortgangToEvent(
        { trajectId, peildatum: '2026-12-01', niveaus: { lezen: 'C1' as 'B2' } },
        traject,
        ctx,
      ),
    ).toThrow(/voortgang/);
    expect(() =>
      voortgangToEvent(
        { trajectId, peildatum: '2026-12-01', niveaus: { rekenen: 'A1' } as never },
        traject,
        ctx,
      ),
    ).toThrow(/voortgang/);
  });
});
