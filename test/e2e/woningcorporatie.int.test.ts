/**
 * Housing through real JetStream: the gemeente's KVS asks for a home (woning.aangevraagd), the
 * hub sends the corporatie it names (or the first contracted for the gemeente) a woningzoektocht
 * with only what matching needs, the corporatie (simulated, on a simulated clock) offers a home
 * after weeks, sometimes a refused one first, and the household accepts and signs; the KVS
 * simulator receives woning.aangeboden, (woning.geweigerd,) woning.geaccepteerd and
 * huurcontract.getekend, each checked against the gemeente-kvs policy (deliveryViolations).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEvent, connectNats, nameBasedUuid } from '@ketenhub/kit';
import { openPersonRegister } from '@ketenhub/kit/privacy';
import { eventually } from '../harness/index.ts';
import { inzageOf } from '../harness/inzage.ts';
import {
  startWoningcorporatieTestChain,
  type WoningcorporatieTestChain,
} from '../harness/woningcorporatie-chain.ts';

let chain: WoningcorporatieTestChain;

/** Each household's gemeente: the KVS's vestiging (with BSN) makes them a person of it. */
const GEMEENTE_OF: Record<string, string> = {
  '999990019': 'gm0797',
  '999990020': 'gm0796',
  '999990032': 'gm0865',
};

const kvsSource = (gemeente: string) => `urn:nld:oin:00000001234567890000:systeem:kvs-${gemeente}`;

function vestiging(bsn: string, gemeente: string) {
  return buildEvent({
    id: nameBasedUuid(`test:woning:vestiging:${bsn}`),
    type: 'nl.inburgering.inburgeraar.gevestigd',
    source: kvsSource(gemeente),
    gemeente,
    data: {
      inburgeraarId: chain.idOf(bsn),
      gemeenteCode: gemeente,
      vestigingsdatum: '2026-09-15',
      bsn,
    },
  });
}

function aanvraag(bsn: string, gemeente: string, extra: Record<string, unknown> = {}) {
  return buildEvent({
    id: nameBasedUuid(`test:woning:aanvraag:${bsn}:${JSON.stringify(extra)}`),
    type: 'nl.inburgering.woning.aangevraagd',
    source: kvsSource(gemeente),
    gemeente,
    data: {
      inburgeraarId: chain.idOf(bsn),
      gemeenteCode: gemeente,
      aanvraagId: `WA-${bsn}`,
      huishouden: {
        omvang: 3,
        leden: [
          { rol: 'hoofdpersoon', leeftijd: 36 },
          { rol: 'kind', leeftijd: 9 },
          { rol: 'kind', leeftijd: 5 },
        ],
      },
      nareizigers: { aantal: 1, leden: [{ rol: 'partner', leeftijd: 35 }] },
      voorkeurKern: 'Centrum',
      streefdatum: '2026-12-10',
      contactpersoon: { naam: 'consulent', email: 'consulent@gemeente.example' },
      ...extra,
    },
  });
}

const received = (gemeente: string, type: string) =>
  chain.kvs.received(gemeente).filter((e) => e.type === type);

beforeAll(async () => {
  chain = await startWoningcorporatieTestChain();
  for (const [bsn, gemeente] of Object.entries(GEMEENTE_OF)) {
    expect((await chain.kvsPost(gemeente, vestiging(bsn, gemeente))).status).toBe(202);
  }
  // Bound to its gemeente by the identity consumer: only then does the runner let an aanvraag
  // about the person through.
  const nc = await connectNats(chain.nats.url, 'test-personen');
  const persons = await openPersonRegister(nc, { ttlDays: 1 });
  for (const [bsn, gemeente] of Object.entries(GEMEENTE_OF)) {
    expect(
      await eventually(
        async () => (await persons.bindingOf(chain.idOf(bsn)))?.gemeente === gemeente,
      ),
    ).toBe(true);
  }
  await nc.drain();
}, 60_000);
afterAll(async () => {
  await chain?.stop();
});

describe('a household from aanvraag to signed lease', () => {
  it('routes each aanvraag to the named or the first contracted corporatie, with only what matching needs', async () => {
    const woonpoort = chain.corporaties.get('woonpoort')!;
    const stadswonen = chain.corporaties.get('stadswonen')!;
    // gm0797 names none: Woonpoort (first). gm0796: Stadswonen (the only one). gm0865 names
    // Woonpoort, with the accessibility need and consent.
    expect((await chain.kvsPost('gm0797', aanvraag('999990019', 'gm0797'))).status).toBe(202);
    expect((await chain.kvsPost('gm0796', aanvraag('999990020', 'gm0796'))).status).toBe(202);
    const metToestemming = aanvraag('999990032', 'gm0865', {
      corporatie: 'woonpoort',
      toegankelijkheid: { toestemming: true, behoeften: ['gelijkvloers'] },
    });
    expect((await chain.kvsPost('gm0865', metToestemming)).status).toBe(202);
    expect(
      await eventually(
        () => woonpoort.zoektochten().length === 2 && stadswonen.zoektochten().length === 1,
      ),
    ).toBe(true);
    const sent = [...woonpoort.zoektochten(), ...stadswonen.zoektochten()].map((z) => z.zoektocht);
    const text = JSON.stringify(sent);
    for (const bsn of Object.keys(GEMEENTE_OF)) {
      expect(text).not.toContain(bsn);
      expect(text).not.toContain(chain.idOf(bsn));
      expect(text).not.toContain(`WA-${bsn}`);
    }
    expect(sent.filter((z) => z.toegankelijkheid)).toEqual([
      expect.objectContaining({ gemeenteCode: 'gm0865' }),
    ]);
    expect(stadswonen.zoektochten()[0]!.zoektocht.gemeenteCode).toBe('gm0796');
  });

  it('brings every answer to the gemeente as the clock moves: offer, refusal, acceptance, signed lease', async () => {
    // Twenty weeks: every story ends (an offer within 9 weeks, a refused one adds about 3).
    for (const sim of chain.corporaties.values()) sim.advance(140);
    const types = [
      'nl.inburgering.woning.aangeboden',
      'nl.inburgering.woning.geaccepteerd',
      'nl.inburgering.huurcontract.getekend',
    ];
    for (const gemeente of Object.values(GEMEENTE_OF)) {
      expect(
        await eventually(() => types.every((t) => received(gemeente, t).length >= 1)),
        `all answers reach ${gemeente}`,
      ).toBe(true);
    }
    for (const sim of chain.corporaties.values()) expect(await sim.idle()).toBe(true);
    const all = [...chain.corporaties.values()].flatMap((s) => s.zoektochten());
    const refusals = all.filter((z) => z.plan.some((a) => a.kind === 'weigering')).length;
    // A refused offer is followed by a new one; each household accepts and signs once. The
    // corporaties are idle once the hub stored every answer: its delivery to the KVS may still
    // be under way, so wait for the counts (not just their first event) before comparing.
    const count = (t: string) =>
      Object.values(GEMEENTE_OF).reduce((n, g) => n + received(g, t).length, 0);
    await eventually(
      () =>
        count('nl.inburgering.woning.aangeboden') === all.length + refusals &&
        count('nl.inburgering.woning.geweigerd') === refusals,
    );
    expect(count('nl.inburgering.woning.geweigerd')).toBe(refusals);
    expect(count('nl.inburgering.woning.aangeboden')).toBe(all.length + refusals);
    expect(count('nl.inburgering.woning.geaccepteerd')).toBe(all.length);
    expect(count('nl.inburgering.huurcontract.getekend')).toBe(all.length);
    for (const [bsn, gemeente] of Object.entries(GEMEENTE_OF)) {
      const [lease] = received(gemeente, 'nl.inburgering.huurcontract.getekend');
      const data = (lease!.event as { data: Record<string, unknown> }).data;
      expect(data).toMatchObject({
        inburgeraarId: chain.idOf(bsn),
        gemeenteCode: gemeente,
        aanvraagId: `WA-${bsn}`,
      });
      // The keys about two weeks after the acceptance.
      const [accepted] = received(gemeente, 'nl.inburgering.woning.geaccepteerd');
      const acceptedOn = (accepted!.event as { data: { geaccepteerdOp: string } }).data
        .geaccepteerdOp;
      const days =
        (Date.parse(data.sleuteloverdracht as string) - Date.parse(acceptedOn)) / 86_400_000;
      expect(days).toBe(14);
    }
    // Nothing delivered twice, nothing the KVS contract refused.
    const stats = chain.kvs.stats();
    expect(stats.duplicates).toBe(0);
  });

  it('lists each zoektocht sent to a corporatie in the inzage, with its purpose and legal basis', async () => {
    const bsn = '999990020';
    const toCorporatie = await inzageOf(chain.nats.url, chain.idOf(bsn), {
      partner: 'woningcorporatie',
    });
    expect(toCorporatie.length).toBeGreaterThan(0);
    for (const d of toCorporatie) {
      expect(d).toMatchObject({
        gemeente: GEMEENTE_OF[bsn],
        status: 'verstrekt',
        eventType: 'nl.inburgering.woning.aangevraagd',
      });
      expect(d.activiteit.grondslag.wet).toMatch(/Huisvestingswet/);
      // Never a BSN or a name among what the corporatie got.
      expect(d.categorieen.map((c) => c.id)).not.toEqual(expect.arrayContaining(['identificatie']));
    }
  });
});
