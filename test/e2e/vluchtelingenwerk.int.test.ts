/**
 * VluchtelingenWerk through real JetStream: the gemeente's KVS assigns maatschappelijke
 * begeleiding and the PVT (begeleiding.aangevraagd), the hub sends the office contracted for the
 * gemeente an aanvraag with only what begeleiding and the PVT need, and the office (simulated,
 * on a simulated clock) starts the begeleiding, reports contact moments, workshop parts and the
 * signing, and ends the begeleiding; the KVS simulator receives each report, checked against
 * the gemeente-kvs policy (deliveryViolations). The signing follows the gemeente's rule: in
 * gm0797 and gm0865 (`direct`) it is pvt.ondertekend, which also reaches the DUO simulator as a
 * registered PVT; in gm0796 (`kvs`) only the KVS gets pvt.ondertekening-gemeld, and DUO nothing
 * until the KVS sends its own pvt.ondertekend. Each aanvraag is in its person's inzage, under
 * the office it went to, and in no one else's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEvent, nameBasedUuid } from '@ketenhub/kit';
import { eventually } from '../harness/index.ts';
import { inzageOf } from '../harness/inzage.ts';
import {
  startVluchtelingenwerkTestChain,
  type VluchtelingenwerkTestChain,
} from '../harness/vluchtelingenwerk-chain.ts';

let chain: VluchtelingenwerkTestChain;

/** Each person's gemeente, and what the gemeente assigns (gm0865's is a gezinsmigrant: PVT only). */
const PERSONS: Record<string, { gemeente: string; onderdelen: string[] }> = {
  '999990019': { gemeente: 'gm0797', onderdelen: ['maatschappelijke-begeleiding', 'pvt'] },
  '999990020': { gemeente: 'gm0796', onderdelen: ['maatschappelijke-begeleiding', 'pvt'] },
  '999990032': { gemeente: 'gm0865', onderdelen: ['pvt'] },
};

const kvsSource = (gemeente: string) => `urn:nld:oin:00000001234567890000:systeem:kvs-${gemeente}`;

function kvsEvent(type: string, bsn: string, data: Record<string, unknown>, n = '1') {
  const { gemeente } = PERSONS[bsn]!;
  return buildEvent({
    id: nameBasedUuid(`test:vwn:${type}:${bsn}:${n}`),
    type,
    source: kvsSource(gemeente),
    gemeente,
    data: { inburgeraarId: chain.idOf(bsn), gemeenteCode: gemeente, ...data },
  });
}

const aanvraag = (bsn: string) =>
  kvsEvent('nl.inburgering.begeleiding.aangevraagd', bsn, {
    aanvraagId: `MB-${bsn}`,
    onderdelen: PERSONS[bsn]!.onderdelen,
    startwens: '2025-01-10',
    pvtUiterlijk: '2025-12-01',
    huishouden: {
      leden: [
        { rol: 'hoofdpersoon', leeftijd: 31 },
        { rol: 'kind', leeftijd: 4 },
      ],
      nareizigers: 1,
    },
    contactpersoon: { naam: 'consulent', email: 'consulent@gemeente.example' },
  });

const received = (gemeente: string, type: string, bsn?: string) =>
  chain.kvs
    .received(gemeente)
    .filter(
      (e) =>
        e.type === type &&
        (!bsn ||
          (e.event as { data: { inburgeraarId: string } }).data.inburgeraarId === chain.idOf(bsn)),
    );

async function duoPvt(bsn: string): Promise<string | undefined> {
  const person = (await (await fetch(`${chain.duoSim.url}/_sim/personen/${bsn}`)).json()) as {
    pvt?: { datumOndertekeningPvt?: string };
  };
  return person.pvt?.datumOndertekeningPvt;
}

beforeAll(async () => {
  chain = await startVluchtelingenwerkTestChain();
  for (const [bsn, { gemeente }] of Object.entries(PERSONS)) {
    // DUO knows the person, with the gemeente's PIP and a termijn that started before the PVT.
    const seeded = await fetch(`${chain.duoSim.url}/_sim/personen`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        bsn,
        vNummer: Number(bsn.slice(1)),
        gemeentecode: gemeente.slice(2),
        vestigingsdatum: '2024-11-01',
        pip: { dagtekeningPip: '2024-12-01', leerroute: 'B' },
        inburgeringstermijn: { startdatum: '2024-12-01' },
      }),
    });
    expect(seeded.status).toBe(201);
    const vestiging = kvsEvent('nl.inburgering.inburgeraar.gevestigd', bsn, {
      vestigingsdatum: '2024-11-01',
      bsn,
    });
    expect((await chain.kvsPost(gemeente, vestiging)).status).toBe(202);
  }
  // The KVS never gets its own vestiging back; DUO's identity consumer binds the persons, and the
  // module waits for a person it does not know yet (the runner's tenant check retries).
}, 90_000);
afterAll(async () => {
  await chain?.stop();
});

describe('begeleiding and PVT from aanvraag to signing', () => {
  it('sends each aanvraag to the office contracted for its gemeente, with only what begeleiding and the PVT need', async () => {
    for (const [bsn, { gemeente }] of Object.entries(PERSONS)) {
      expect((await chain.kvsPost(gemeente, aanvraag(bsn))).status).toBe(202);
    }
    const denBosch = chain.offices.get('vwn-den-bosch')!;
    const langstraat = chain.offices.get('vwn-langstraat')!;
    expect(
      await eventually(
        () => denBosch.begeleidingen().length === 2 && langstraat.begeleidingen().length === 1,
      ),
    ).toBe(true);
    expect(langstraat.begeleidingen()[0]!.aanvraag.gemeenteCode).toBe('gm0797');
    const sent = JSON.stringify(
      [...denBosch.begeleidingen(), ...langstraat.begeleidingen()].map((b) => b.aanvraag),
    );
    for (const bsn of Object.keys(PERSONS)) {
      expect(sent).not.toContain(bsn);
      expect(sent).not.toContain(chain.idOf(bsn));
      expect(sent).not.toContain(`MB-${bsn}`);
    }
  });

  it("lists the aanvraag sent to the person's office in their inzage, and no other person's", async () => {
    const inzage = (bsn: string) =>
      inzageOf(chain.nats.url, chain.idOf(bsn), { partner: 'vluchtelingenwerk' });
    const own = await inzage('999990020');
    expect(own).toEqual([
      expect.objectContaining({
        ontvanger: { partner: 'vluchtelingenwerk', endpoint: 'vwn-den-bosch' },
        gemeente: 'gm0796',
        status: 'verstrekt',
        eventType: 'nl.inburgering.begeleiding.aangevraagd',
        eventId: aanvraag('999990020').id,
      }),
    ]);
    const [d] = own;
    expect(d!.activiteit).toMatchObject({
      id: 'va-032',
      grondslag: { avg: 'art. 6 lid 1 sub c en e' },
    });
    expect(d!.activiteit.grondslag.wet).toMatch(/Wi 2021/);
    // What the aanvraag held, and the begeleiding pseudonym; no identification, nothing special.
    expect(d!.categorieen.map((c) => c.id).sort()).toEqual([
      'begeleiding',
      'contact-gemeente',
      'gemeente',
      'huishouden',
      'participatie',
      'pseudoniem',
    ]);
    expect(d!.categorieen.every((c) => !c.bijzonder)).toBe(true);
    // Another person's inzage has their own aanvraag, to their own office, and not this one.
    const other = await inzage('999990019');
    expect(other.map((o) => [o.eventId, o.ontvanger.endpoint])).toEqual([
      [aanvraag('999990019').id, 'vwn-langstraat'],
    ]);
    expect(other.map((o) => o.spanId)).not.toContain(d!.spanId);
  });

  it("brings every report to the gemeente as the clock moves, and the signing by the gemeente's rule", async () => {
    // Twenty months: every story ends (begeleiding about 1.5 years; a late signing a year on).
    for (const sim of chain.offices.values()) sim.advance(600);
    for (const sim of chain.offices.values()) expect(await sim.idle(30_000)).toBe(true);
    for (const [bsn, { gemeente, onderdelen }] of Object.entries(PERSONS)) {
      const begeleiding = onderdelen.includes('maatschappelijke-begeleiding');
      const plan = [...chain.offices.values()]
        .flatMap((s) => s.begeleidingen())
        .find((b) => b.aanvraag.gemeenteCode === gemeente)!.plan;
      const count = (kind: string) => plan.filter((r) => r.kind === kind).length;
      const expected: [string, number][] = [
        ['nl.inburgering.begeleiding.gestart', begeleiding ? 1 : 0],
        ['nl.inburgering.begeleiding.voortgang', count('contactmoment')],
        ['nl.inburgering.begeleiding.beeindigd', begeleiding ? 1 : 0],
        ['nl.inburgering.pvt.workshop-gevolgd', 4],
      ];
      for (const [type, n] of expected) {
        expect(
          await eventually(() => received(gemeente, type, bsn).length === n),
          `${n} ${type} reach ${gemeente}`,
        ).toBe(true);
      }
    }
    // direct (gm0797, gm0865): pvt.ondertekend to the KVS, and registered at DUO.
    for (const bsn of ['999990019', '999990032']) {
      const { gemeente } = PERSONS[bsn]!;
      expect(
        await eventually(
          () => received(gemeente, 'nl.inburgering.pvt.ondertekend', bsn).length === 1,
        ),
      ).toBe(true);
      const [signed] = received(gemeente, 'nl.inburgering.pvt.ondertekend', bsn);
      const datum = (signed!.event as { data: { datumOndertekening: string } }).data
        .datumOndertekening;
      expect(await eventually(async () => (await duoPvt(bsn)) === datum), `DUO has ${bsn}`).toBe(
        true,
      );
      expect(
        await eventually(
          () => received(gemeente, 'nl.inburgering.pvt.geregistreerd', bsn).length === 1,
        ),
      ).toBe(true);
      expect(received(gemeente, 'nl.inburgering.pvt.ondertekening-gemeld', bsn)).toHaveLength(0);
    }
    // kvs (gm0796): only the KVS hears of it; DUO nothing until the KVS confirms.
    const bsn = '999990020';
    expect(
      await eventually(
        () => received('gm0796', 'nl.inburgering.pvt.ondertekening-gemeld', bsn).length === 1,
      ),
    ).toBe(true);
    const [gemeld] = received('gm0796', 'nl.inburgering.pvt.ondertekening-gemeld', bsn);
    const datum = (gemeld!.event as { data: { datumOndertekening: string } }).data
      .datumOndertekening;
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await duoPvt(bsn)).toBeUndefined();
    expect(received('gm0796', 'nl.inburgering.pvt.ondertekend', bsn)).toHaveLength(0);
    expect(received('gm0796', 'nl.inburgering.pvt.geregistreerd', bsn)).toHaveLength(0);
    // The gemeente confirms through the existing PVT flow.
    const bevestigd = kvsEvent('nl.inburgering.pvt.ondertekend', bsn, {
      datumOndertekening: datum,
    });
    expect((await chain.kvsPost('gm0796', bevestigd)).status).toBe(202);
    expect(await eventually(async () => (await duoPvt(bsn)) === datum)).toBe(true);
    expect(
      await eventually(
        () => received('gm0796', 'nl.inburgering.pvt.geregistreerd', bsn).length === 1,
      ),
    ).toBe(true);
    // The KVS never got its own pvt.ondertekend back; nothing delivered twice.
    expect(received('gm0796', 'nl.inburgering.pvt.ondertekend', bsn)).toHaveLength(0);
    expect(chain.kvs.stats().duplicates).toBe(0);
  });
});
