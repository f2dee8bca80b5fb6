import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTaalaanbiederFlows } from '@ketenhub/simulator-taalaanbieder';
import { buildEvent, connectNats, nameBasedUuid } from '@ketenhub/kit';
import { createPseudonymizer, openPersonRegister } from '@ketenhub/kit/privacy';
import {
  eventually,
  startTaalaanbiederTestChain,
  type TaalaanbiederTestChain,
} from '../harness/index.ts';

let chain: TaalaanbiederTestChain;
const NOORD = 'taalschool-noord';
const ZUID = 'taalschool-zuid';

/** Each learner's gemeente: the KVS's vestiging (with BSN) makes them a person of it. */
const GEMEENTE_OF: Record<string, string> = {
  '999990019': 'gm0797',
  '999990020': 'gm0796',
  '999990032': 'gm0865',
  '999990044': 'gm0865',
  '999990056': 'gm0797',
};

beforeAll(async () => {
  chain = await startTaalaanbiederTestChain();
  for (const [bsn, gemeente] of Object.entries(GEMEENTE_OF)) {
    expect((await chain.kvsPost(gemeente, vestiging(bsn, gemeente))).status).toBe(202);
  }
  const nc = await connectNats(chain.nats.url, 'test-personen');
  const persons = await openPersonRegister(nc, { ttlDays: 1 });
  for (const [bsn, gemeente] of Object.entries(GEMEENTE_OF)) {
    expect(
      await eventually(async () => (await persons.bindingOf(idOf(bsn)))?.gemeente === gemeente),
    ).toBe(true);
  }
  await nc.drain();
});
afterAll(async () => {
  await chain?.stop();
});

const BSN = {
  p1: '999990019',
  p2: '999990020',
  p3: '999990032',
  p4: '999990044',
  p5: '999990056',
};
const idOf = (bsn: string) =>
  createPseudonymizer(chain.config.hub.pseudonymKey).inburgeraarId({ bsn, vnummer: '' });

function vestiging(bsn: string, gemeente: string) {
  return buildEvent({
    id: nameBasedUuid(`test:vestiging:${bsn}`),
    type: 'nl.inburgering.inburgeraar.gevestigd',
    source: `urn:nld:oin:00000001234567890000:systeem:kvs-${gemeente}`,
    gemeente,
    data: { inburgeraarId: idOf(bsn), gemeenteCode: gemeente, vestigingsdatum: '2026-09-15', bsn },
  });
}

function pip(bsn: string, gemeente: string, school?: string) {
  const inburgeraarId = idOf(bsn);
  return buildEvent({
    id: nameBasedUuid(`test:pip:${bsn}`),
    type: 'nl.inburgering.pip.vastgesteld',
    source: `urn:nld:oin:00000001234567890000:systeem:kvs-${gemeente}`,
    gemeente,
    data: {
      inburgeraarId,
      gemeenteCode: gemeente,
      pipId: `PIP-${bsn}`,
      dagtekening: '2026-10-01',
      leerroute: 'b1-route',
      niveau: 'B1',
      ...(school ? { taalaanbieder: school } : {}),
      startdatumLeerroute: '2026-11-02',
      urenPerWeek: 12,
      deelnemer: { voornamen: 'Amal', geslachtsnaam: `Haddad-${bsn.slice(-3)}` },
    },
  });
}

const kvsGot = (gemeente: string, type: string, inburgeraarId: string) =>
  chain.kvs
    .received(gemeente)
    .filter(
      (e) =>
        e.type === type &&
        (e.event as { data: { inburgeraarId: string } }).data.inburgeraarId === inburgeraarId,
    );

describe('taalaanbieders through real NATS', () => {
  it('a PIP from the KVS naming school A reaches simulator A only, under a traject pseudonym', async () => {
    expect((await chain.kvsPost('gm0797', pip(BSN.p1, 'gm0797', NOORD))).status).toBe(202);
    expect((await chain.kvsPost('gm0796', pip(BSN.p2, 'gm0796', ZUID))).status).toBe(202);
    expect((await chain.kvsPost('gm0865', pip(BSN.p3, 'gm0865'))).status).toBe(202);
    const noord = chain.schools.get(NOORD)!;
    const zuid = chain.schools.get(ZUID)!;
    expect(
      await eventually(() => noord.aanmeldingen().length === 1 && zuid.aanmeldingen().length === 1),
    ).toBe(true);
    const a = noord.aanmeldingen()[0]!;
    expect(a.trajectId).toMatch(/^tr-[0-9a-f]{32}$/);
    expect(a.gemeenteCode).toBe('gm0797');
    expect(a.deelnemer.geslachtsnaam).toBe('Haddad-019');
    const text = JSON.stringify(a);
    expect(text).not.toContain(BSN.p1);
    expect(text).not.toContain(idOf(BSN.p1));
    expect(text).not.toContain(idOf(BSN.p1).slice(3));
    expect(zuid.aanmeldingen()[0]!.gemeenteCode).toBe('gm0796');
    // Settle: the PIP without a school and the other school's PIP never reach NOORD.
    await new Promise((r) => setTimeout(r, 300));
    expect(noord.aanmeldingen()).toHaveLength(1);
    expect(zuid.aanmeldingen()).toHaveLength(1);
    expect(
      await eventually(
        () => kvsGot('gm0797', 'nl.inburgering.leerroute.aangemeld', idOf(BSN.p1)).length === 1,
      ),
    ).toBe(true);
    // The disclosure is in the processing log: va-020, to this school, no identificatie.
    expect(await chain.lastRecord('verwerking.gm0797.taalaanbieder')).toMatchObject({
      activiteit: 'va-020',
      ontvanger: { partner: 'taalaanbieder', endpoint: NOORD },
      betrokkene: idOf(BSN.p1),
      // No telefoon or e-mail in this PIP: 'contact' is not claimed.
      categorieen: ['gemeente', 'leerroute', 'naam', 'pip', 'pseudoniem'],
      status: 'verstrekt',
    });
  });

  it("the school's progress, hours and absence reach the KVS of the right gemeente, hours also DUO's subject", async () => {
    const report = await chain.schools.get(NOORD)!.tick({ verzuimAll: true });
    expect(report).toMatchObject({
      learners: 1,
      voortgang: { accepted: 1 },
      uren: { accepted: 1 },
      verzuim: { accepted: 1 },
    });
    const id = idOf(BSN.p1);
    for (const type of ['voortgang', 'uren', 'verzuim']) {
      expect(
        await eventually(() => kvsGot('gm0797', `nl.inburgering.leerroute.${type}`, id).length > 0),
        type,
      ).toBe(true);
    }
    const voortgang = kvsGot('gm0797', 'nl.inburgering.leerroute.voortgang', id)[0]!.event as {
      data: Record<string, unknown>;
    };
    expect(voortgang.data).toMatchObject({ taalaanbieder: NOORD, gemeenteCode: 'gm0797' });
    for (const g of ['gm0796', 'gm0865']) {
      expect(chain.kvs.received(g).filter((e) => e.type.includes('leerroute'))).toHaveLength(
        g === 'gm0796' ? 1 : 0, // gm0796 has only its own aangemeld (school ZUID)
      );
    }
    // The DUO adapter consumes keten.*.leerroute.uren: the hours are there for it.
    expect(await chain.lastOnSubject('keten.gm0797.leerroute.uren')).toMatchObject({
      inburgeraarId: id,
      soort: 'participatie-als-taalles',
      urenTotaal: 12,
    });
  });

  it('hours as CSV: good rows become events, 2 bad rows are reported with row and field', async () => {
    const report = await chain.schools.get(NOORD)!.tick({ csv: true, csvBadRows: 2 });
    expect(report.csv?.accepted).toHaveLength(1);
    expect(report.csv?.rejected.map((r) => [r.row, r.field])).toEqual([
      [3, 'peildatum'],
      [4, 'uren_totaal'],
    ]);
    const id = idOf(BSN.p1);
    expect(
      await eventually(() =>
        kvsGot('gm0797', 'nl.inburgering.leerroute.uren', id).some(
          (e) => (e.event as { data: { urenTotaal: number } }).data.urenTotaal === 24,
        ),
      ),
    ).toBe(true);
    expect(await chain.lastOnSubject('keten.gm0797.leerroute.uren')).toMatchObject({
      urenTotaal: 24,
    });
  });

  it("a school's key is bound to that school: another school's traject is unknown to it", async () => {
    const trajectId = chain.schools.get(NOORD)!.aanmeldingen()[0]!.trajectId;
    const body = { trajectId, peildatum: '2026-12-01', urenTotaal: 99 };
    const res = await chain.schoolPost(ZUID, '/v1/uren', body);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(JSON.stringify(await res.json())).toContain('known traject');
    expect((await chain.schoolPost(undefined, '/v1/uren', body)).status).toBe(401);
    const csv = `traject_id;peildatum;uren_totaal\n${trajectId};01-12-2026;99\n`;
    const r = (await (await chain.schoolPost(ZUID, '/v1/uren.csv', csv, 'text/csv')).json()) as {
      accepted: unknown[];
      rejected: { row: number; field: string }[];
    };
    expect(r.accepted).toHaveLength(0);
    expect(r.rejected).toMatchObject([{ row: 2, field: 'traject_id' }]);
  });

  it('a bad message is answered with a problem naming the field', async () => {
    const trajectId = chain.schools.get(NOORD)!.aanmeldingen()[0]!.trajectId;
    const res = await chain.schoolPost(NOORD, '/v1/verzuim', {
      trajectId,
      datum: '2026-12-01',
      urenGemist: 2,
      reden: 'vakantie',
    });
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toContain('reden');
  });
});

describe('the demo report for the taalaanbieders', () => {
  it('counts kvs>taalaanbieder and taalaanbieder>kvs without loss or duplicates', async () => {
    const learners = [
      { bsn: BSN.p4, gemeente: 'gm0865', taalaanbieder: ZUID },
      { bsn: BSN.p5, gemeente: 'gm0797', taalaanbieder: NOORD },
    ].map((l) => {
      const event = pip(l.bsn, l.gemeente, l.taalaanbieder);
      return { ...l, event, inburgeraarId: idOf(l.bsn), pipEventId: event.id };
    });
    for (const l of learners) expect((await chain.kvsPost(l.gemeente, l.event)).status).toBe(202);
    const result = await runTaalaanbiederFlows({
      kvsSimulator: chain.kvs.url,
      schools: Object.fromEntries([...chain.schools].map(([id, sim]) => [id, sim.url])),
      learners,
      timeoutMs: 20_000,
      csvSchool: NOORD,
    });
    expect(result.flows).toEqual([
      { flow: 'kvs>taalaanbieder', sent: 2, delivered: 2, lost: 0, duplicates: 0 },
      { flow: 'taalaanbieder>kvs', sent: 8, delivered: 8, lost: 0, duplicates: 0 },
    ]);
    expect(result.csvRejected).toBe(2);
  });
});
