import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OntzorgenAangevraagd } from '@ketenhub/contracts/generated';
import {
  buildEvent,
  connectNats,
  createPseudonymizer,
  nameBasedUuid,
  openIdentityStore,
  type Event,
} from '@ketenhub/kit';
import {
  eventually,
  startKredietbankTestChain,
  type KredietbankTestChain,
} from '../harness/index.ts';

/**
 * Financieel ontzorgen through real NATS: the KVS of gm0796 asks for ontzorgen, the hub
 * registers the traject at the Kredietbank simulator (with the BSN from the identity store and
 * checked IBANs), and as the simulator's clock moves the Kredietbank's webhooks come back to
 * the KVS of gm0796 (and of no other gemeente) as ontzorgen.* chain events.
 */
let chain: KredietbankTestChain;
const GEMEENTE = 'gm0796';
const START = '2026-12-01';

beforeAll(async () => {
  chain = await startKredietbankTestChain({ today: '2026-11-23' });
});
afterAll(async () => {
  await chain?.stop();
});

function testBsn(n: number): string {
  for (let i = n * 1000; ; i++) {
    const digits = `999${String(i).padStart(6, '0')}`.split('').map(Number);
    const sum = digits.slice(0, 8).reduce((a, d, k) => a + d * (9 - k), 0) - digits[8]!;
    if (sum % 11 === 0) return digits.join('');
  }
}

const idOf = (bsn: string) =>
  createPseudonymizer(chain.config.hub.pseudonymKey).inburgeraarId({ bsn, vnummer: '' });

function kvsEvent<D>(type: string, data: D, n: string): Event<D> {
  return buildEvent({
    id: nameBasedUuid(`kb-test:${type}:${n}`),
    type,
    source: 'urn:nld:oin:00000001000796000000:systeem:suite4sd',
    gemeente: GEMEENTE,
    data,
  });
}

function aanvraag(inburgeraarId: string, trajectId: string): OntzorgenAangevraagd {
  return {
    inburgeraarId,
    gemeenteCode: GEMEENTE,
    trajectId,
    client: {
      voornamen: 'Amal',
      geslachtsnaam: 'Haddad',
      adres: {
        straat: 'Markt',
        huisnummer: 12,
        postcode: '5211JV',
        woonplaats: "'s-Hertogenbosch",
      },
      iban: 'NL91ABNA0417164300',
    },
    uitkeringBedragCent: 140_000,
    vasteLasten: [
      {
        soort: 'huur',
        crediteur: 'Zayaz',
        iban: 'NL44RABO0123456789',
        bedragCent: 65_000,
        kenmerk: 'HUUR 2026-0042',
      },
      {
        soort: 'energie',
        crediteur: 'Energie BV',
        iban: 'NL20INGB0001234567',
        bedragCent: 18_000,
        kenmerk: 'KLANT 778899',
      },
      {
        soort: 'water',
        crediteur: 'Brabant Water',
        iban: 'NL02ABNA0123456789',
        bedragCent: 2_500,
        kenmerk: 'W-112233',
      },
      {
        soort: 'zorgverzekering',
        crediteur: 'Zorgverzekeraar',
        iban: 'NL52ASNB0708091011',
        bedragCent: 14_000,
        kenmerk: 'POLIS 123456',
      },
    ],
    startdatum: START,
    einddatum: '2027-06-01',
  };
}

async function vestig(bsn: string) {
  const res = await chain.kvsPost(
    GEMEENTE,
    kvsEvent(
      'nl.inburgering.inburgeraar.gevestigd',
      { inburgeraarId: idOf(bsn), gemeenteCode: GEMEENTE, vestigingsdatum: '2026-11-01', bsn },
      bsn,
    ),
  );
  expect(res.status).toBe(202);
  const nc = await connectNats(chain.nats.url, 'kb-test-identities');
  const identities = await openIdentityStore(nc, { ttlDays: 1 });
  expect(await eventually(async () => (await identities.get(idOf(bsn)))?.bsn === bsn)).toBe(true);
  await nc.drain();
}

const kvsGot = (gemeente: string, inburgeraarId: string, type?: string) =>
  chain.kvs
    .received(gemeente)
    .filter(
      (e) =>
        (type === undefined || e.type === type) &&
        (e.event as { data: { inburgeraarId: string } }).data.inburgeraarId === inburgeraarId,
    )
    .map((e) => e.event as { type: string; data: Record<string, unknown> });

describe('ontzorgen: KVS → hub → Kredietbank', () => {
  it('an aanvraag from the KVS reaches the Kredietbank with the BSN and a valid IBAN set, once', async () => {
    const bsn = testBsn(501);
    await vestig(bsn);
    const event = kvsEvent(
      'nl.inburgering.ontzorgen.aangevraagd',
      aanvraag(idOf(bsn), 'OZ-501'),
      'a501',
    );
    expect((await chain.kvsPost(GEMEENTE, event)).status).toBe(202);
    // The same event again (a KVS retry): stored once, registered once.
    expect((await chain.kvsPost(GEMEENTE, event)).status).toBe(202);

    expect(
      await eventually(() =>
        chain.kbSim.trajecten().some((t) => t.aanvraag.referentie === 'OZ-501'),
      ),
    ).toBe(true);
    const t = chain.kbSim.trajecten().find((x) => x.aanvraag.referentie === 'OZ-501')!;
    expect(t.aanvraag.bsn).toBe(bsn);
    expect(t.aanvraag.gemeentecode).toBe('0796');
    expect(t.aanvraag.client.iban).toBe('NL91ABNA0417164300');
    expect(t.aanvraag.vasteLasten.map((l) => l.crediteur.iban)).toEqual([
      'NL44RABO0123456789',
      'NL20INGB0001234567',
      'NL02ABNA0123456789',
      'NL52ASNB0708091011',
    ]);
    // Nothing but what paying needs: no pseudonym, no other chain data.
    expect(Object.keys(t.aanvraag).sort()).toEqual(
      ['bsn', 'client', 'gemeentecode', 'periode', 'referentie', 'uitkering', 'vasteLasten'].sort(),
    );
    expect(JSON.stringify(t.aanvraag)).not.toContain(idOf(bsn));
    expect(chain.kbSim.stats().registraties).toBe(1);
    expect(chain.kbSim.stats().ibanRejected).toBe(0);
  });

  it('refuses an aanvraag with a mistyped IBAN at the KVS edge, naming the field', async () => {
    const bsn = testBsn(502);
    const data = aanvraag(idOf(bsn), 'OZ-502');
    data.vasteLasten[1]!.iban = 'NL20INGB0001234568';
    const res = await chain.kvsPost(
      GEMEENTE,
      kvsEvent('nl.inburgering.ontzorgen.aangevraagd', data, 'a502'),
    );
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/problem\+json/);
    const body = JSON.stringify(await res.json());
    expect(body).toContain('data.vasteLasten[1].iban');
    expect(body).toMatch(/mod-97/);

    const amount = aanvraag(idOf(bsn), 'OZ-503');
    amount.uitkeringBedragCent = -10;
    const res2 = await chain.kvsPost(
      GEMEENTE,
      kvsEvent('nl.inburgering.ontzorgen.aangevraagd', amount, 'a503'),
    );
    expect(res2.status).toBe(400);
    expect(JSON.stringify(await res2.json())).toContain('data.uitkeringBedragCent');
  });

  it('the clock brings gestart, monthly payments (one failing), the review and the end to the right KVS', async () => {
    const bsn = testBsn(504);
    await vestig(bsn);
    const id = idOf(bsn);
    chain.kbSim.failPayments({ referentie: 'OZ-504', count: 1, reden: 'ONVOLDOENDE_SALDO' });
    expect(
      (
        await chain.kvsPost(
          GEMEENTE,
          kvsEvent('nl.inburgering.ontzorgen.aangevraagd', aanvraag(id, 'OZ-504'), 'a504'),
        )
      ).status,
    ).toBe(202);
    expect(
      await eventually(() =>
        chain.kbSim.trajecten().some((t) => t.aanvraag.referentie === 'OZ-504'),
      ),
    ).toBe(true);

    const res = await fetch(`${chain.kbSim.url}/_sim/clock`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ advanceDays: 200 }),
    });
    expect(res.status).toBe(200);
    await chain.kbSim.idle();

    const types = (t: string) => kvsGot(GEMEENTE, id, `nl.inburgering.ontzorgen.${t}`);
    // 6 months × 4 charges.
    expect(
      await eventually(
        () =>
          types('gestart').length === 1 &&
          types('betaling-uitgevoerd').length + types('betaling-mislukt').length === 24 &&
          types('geevalueerd').length === 1 &&
          types('beeindigd').length === 1,
      ),
    ).toBe(true);
    const mislukt = types('betaling-mislukt');
    expect(mislukt).toHaveLength(1);
    expect(mislukt[0]!.data).toMatchObject({
      trajectId: 'OZ-504',
      soort: 'huur',
      reden: 'onvoldoende-saldo',
      periode: '2026-12',
    });
    expect(types('gestart')[0]!.data).toMatchObject({ startdatum: START, einddatum: '2027-06-01' });
    expect(types('geevalueerd')[0]!.data).toMatchObject({
      evaluatiedatum: '2027-03-01',
      advies: 'verlengen-via-pip',
    });
    expect(types('beeindigd')[0]!.data).toMatchObject({
      einddatum: '2027-06-01',
      reden: 'termijn-verstreken',
      betalingen: { uitgevoerd: 23, mislukt: 1 },
    });
    // Tenant isolation: no other gemeente's KVS saw any of it.
    for (const other of ['gm0797', 'gm0865']) expect(kvsGot(other, id)).toEqual([]);
    // No BSN left the hub towards the KVS.
    expect(JSON.stringify(kvsGot(GEMEENTE, id))).not.toContain(bsn);
  });

  it('refuses a webhook without the Kredietbank credential and for an unknown traject', async () => {
    const hook = {
      id: nameBasedUuid('kb-test:hook'),
      type: 'traject.gestart',
      referentie: 'ONBEKEND-1',
      gemeentecode: '0796',
      dossiernummer: 'KB-999999',
      tijdstip: new Date().toISOString(),
      gegevens: { start: START, eind: '2027-06-01' },
    };
    const post = (key?: string) =>
      fetch(`${chain.kbService.url}/v1/webhooks`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(key ? { authorization: `Bearer ${key}` } : {}),
        },
        body: JSON.stringify(hook),
      });
    expect((await post()).status).toBe(401);
    const unknown = await post(chain.kbApiKey);
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(await unknown.json())).toContain('referentie');
  });
});
