/**
 * A signed lease reaches the Kredietbank through real JetStream
 * (docs/adr/0021-huurcontract-naar-kredietbank.md): the KVS of gm0797 has one household in
 * financieel ontzorgen and one not; both get a home from Woonpoort (simulated, on a simulated
 * clock). The lease of the one in a traject moves that traject to the new address and pays the
 * rent to Woonpoort's account from the month the lease starts, which the KVS then sees as
 * payments; the other's lease reaches only the KVS. The disclosure is in the inzage.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { policies } from '@ketenhub/contracts';
import { buildEvent, connectNats, createLogger, nameBasedUuid } from '@ketenhub/kit';
import { disclosuresFor } from '@ketenhub/kit/operations';
import { rekeningOf } from '@ketenhub/simulator-woningcorporatie';
import { addKredietbank, eventually, type KredietbankPart } from '../harness/index.ts';
import {
  startWoningcorporatieTestChain,
  type WoningcorporatieTestChain,
} from '../harness/woningcorporatie-chain.ts';

const GEMEENTE = 'gm0797';
const IN_TRAJECT = '999990019';
const ZONDER = '999990020';
const TRAJECT = 'OZ-H-1';

let chain: WoningcorporatieTestChain;
let kb: KredietbankPart;

const source = `urn:nld:oin:00000001234567890000:systeem:kvs-${GEMEENTE}`;
const kvsEvent = (type: string, key: string, data: Record<string, unknown>) =>
  buildEvent({ id: nameBasedUuid(`test:huur-kb:${key}`), type, source, gemeente: GEMEENTE, data });

const received = (type: string, bsn: string) =>
  chain.kvs
    .received(GEMEENTE)
    .filter(
      (e) =>
        e.type === type &&
        (e.event as { data: { inburgeraarId: string } }).data.inburgeraarId === chain.idOf(bsn),
    )
    .map((e) => (e.event as { data: Record<string, unknown> }).data);

beforeAll(async () => {
  const logger = createLogger('test', { level: process.env.LOG_LEVEL ?? 'error' });
  chain = await startWoningcorporatieTestChain({ logger, today: '2026-10-01' });
  kb = await addKredietbank(chain, { logger, today: '2026-10-01' });
  for (const bsn of [IN_TRAJECT, ZONDER]) {
    const vestiging = kvsEvent('nl.inburgering.inburgeraar.gevestigd', `vestiging:${bsn}`, {
      inburgeraarId: chain.idOf(bsn),
      gemeenteCode: GEMEENTE,
      vestigingsdatum: '2026-09-15',
      bsn,
    });
    expect((await chain.kvsPost(GEMEENTE, vestiging)).status).toBe(202);
  }
  // Ontzorgen from November, while the household still lives in its first, temporary address.
  const aanvraag = kvsEvent('nl.inburgering.ontzorgen.aangevraagd', 'ontzorgen', {
    inburgeraarId: chain.idOf(IN_TRAJECT),
    gemeenteCode: GEMEENTE,
    trajectId: TRAJECT,
    client: {
      voornamen: 'Amal',
      geslachtsnaam: 'Haddad',
      adres: { straat: 'Markt', huisnummer: 12, postcode: '5251AA', woonplaats: 'Vlijmen' },
      iban: 'NL91ABNA0417164300',
    },
    uitkeringBedragCent: 160_000,
    vasteLasten: [
      {
        soort: 'huur',
        crediteur: 'Tijdelijke huisvesting',
        iban: 'NL44RABO0123456789',
        bedragCent: 45_000,
        kenmerk: 'TIJDELIJK 12',
      },
      {
        soort: 'zorgverzekering',
        crediteur: 'Zorgverzekeraar',
        iban: 'NL52ASNB0708091011',
        bedragCent: 14_000,
        kenmerk: 'POLIS 123456',
      },
    ],
    startdatum: '2026-11-01',
    einddatum: '2027-05-01',
  });
  expect((await chain.kvsPost(GEMEENTE, aanvraag)).status).toBe(202);
  expect(
    await eventually(() => kb.kbSim.trajecten().some((t) => t.aanvraag.referentie === TRAJECT)),
  ).toBe(true);
}, 60_000);
afterAll(async () => {
  await kb?.stop();
  await chain?.stop();
});

describe('a signed lease and financieel ontzorgen', () => {
  it('moves the traject of the household in ontzorgen to its new home; the other lease stays with the KVS', async () => {
    for (const bsn of [IN_TRAJECT, ZONDER]) {
      const aanvraag = kvsEvent('nl.inburgering.woning.aangevraagd', `woning:${bsn}`, {
        inburgeraarId: chain.idOf(bsn),
        gemeenteCode: GEMEENTE,
        aanvraagId: `WA-${bsn}`,
        corporatie: 'woonpoort',
        huishouden: { omvang: 1, leden: [{ rol: 'hoofdpersoon', leeftijd: 30 }] },
        nareizigers: { aantal: 0 },
        contactpersoon: { naam: 'consulent', email: 'consulent@gemeente.example' },
      });
      expect((await chain.kvsPost(GEMEENTE, aanvraag)).status).toBe(202);
    }
    const woonpoort = chain.corporaties.get('woonpoort')!;
    expect(await eventually(() => woonpoort.zoektochten().length === 2)).toBe(true);
    woonpoort.advance(140);
    expect(
      await eventually(() =>
        [IN_TRAJECT, ZONDER].every(
          (bsn) => received('nl.inburgering.huurcontract.getekend', bsn).length === 1,
        ),
      ),
    ).toBe(true);
    const [lease] = received('nl.inburgering.huurcontract.getekend', IN_TRAJECT);
    const rekening = rekeningOf('woonpoort');
    expect(lease!.betaling).toMatchObject(rekening);

    const traject = () => kb.kbSim.trajecten().find((t) => t.aanvraag.referentie === TRAJECT)!;
    expect(await eventually(() => traject().woning !== undefined)).toBe(true);
    const adres = lease!.adres as { straat: string; huisnummer: number; postcode: string };
    expect(traject().aanvraag.client.adres).toMatchObject({
      straat: adres.straat,
      huisnummer: adres.huisnummer,
      postcode: adres.postcode,
    });
    expect(traject().woning!.huur).toEqual({
      crediteur: { naam: rekening.tenaamstelling, iban: rekening.iban },
      bedrag: lease!.huurprijsCent,
      betalingskenmerk: (lease!.betaling as { kenmerk: string }).kenmerk,
      vanaf: lease!.ingangsdatum,
    });
    // The household without a traject: its lease did not reach the Kredietbank.
    await new Promise((r) => setTimeout(r, 500));
    expect(kb.kbSim.stats().woningWijzigingen).toBe(1);
    expect(kb.kbSim.stats().rejected).toBe(0);
  });

  it('pays the rent to the corporatie from the month the lease starts, as the KVS sees it', async () => {
    kb.kbSim.advance(200); // past the end of the traject (2027-05-01)
    const [lease] = received('nl.inburgering.huurcontract.getekend', IN_TRAJECT);
    const vanaf = (lease!.ingangsdatum as string).slice(0, 7);
    const huur = () =>
      received('nl.inburgering.ontzorgen.betaling-uitgevoerd', IN_TRAJECT)
        .filter((d) => d.soort === 'huur')
        .map((d) => `${String(d.periode)} ${String(d.crediteur)}`)
        .sort();
    // Six months, November to April.
    expect(await eventually(() => huur().length === 6)).toBe(true);
    const expected = ['2026-11', '2026-12', '2027-01', '2027-02', '2027-03', '2027-04'].map(
      (p) => `${p} ${p < vanaf ? 'Tijdelijke huisvesting' : 'Woonpoort'}`,
    );
    expect(huur()).toEqual(expected);
    expect(expected.some((p) => p.endsWith('Woonpoort'))).toBe(true);
  });

  it('lists the lease given to the Kredietbank in the inzage, only for the household in ontzorgen', async () => {
    const nc = await connectNats(chain.nats.url, 'test-inzage-huur');
    try {
      const toBank = async (bsn: string) =>
        (
          await disclosuresFor(jetstream(nc), await jetstreamManager(nc), policies(), {
            betrokkenen: [chain.idOf(bsn)],
          })
        ).filter(
          (d) =>
            d.ontvanger.partner === 'kredietbank' &&
            d.eventType === 'nl.inburgering.huurcontract.getekend',
        );
      const list = await toBank(IN_TRAJECT);
      expect(list).toHaveLength(1);
      expect(list[0]).toMatchObject({ gemeente: GEMEENTE, status: 'verstrekt' });
      expect(list[0]!.activiteit.id).toBe('va-010');
      expect(list[0]!.categorieen.map((c) => c.id).sort()).toEqual([
        'adres',
        'financieel',
        'gemeente',
        'ontzorgen',
        'pseudoniem',
      ]);
      expect(await toBank(ZONDER)).toEqual([]);
    } finally {
      await nc.drain();
    }
  });
});
