import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type {
  OntzorgenAangevraagd,
  OntzorgenBeeindigingAangevraagd,
  PipVastgesteld,
} from '@ketenhub/contracts/generated';
import { STREAMS, buildEvent, connectNats, nameBasedUuid, type Event } from '@ketenhub/kit';
import { createPseudonymizer, openIdentityStore, testBsn } from '@ketenhub/kit/privacy';
import { listDeadLetters } from '@ketenhub/kit/operations';
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

function aanvraag(
  inburgeraarId: string,
  trajectId: string,
  periode = { startdatum: START, einddatum: '2027-06-01' },
): OntzorgenAangevraagd {
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
    ...periode,
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
  expect(
    await eventually(async () => (await identities.personOf(GEMEENTE, idOf(bsn)))?.bsn === bsn),
  ).toBe(true);
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

  it('an aanvraag sent just before the vestiging waits for the BSN and is registered', async () => {
    const bsn = testBsn(509);
    const event = kvsEvent(
      'nl.inburgering.ontzorgen.aangevraagd',
      aanvraag(idOf(bsn), 'OZ-509'),
      'a509',
    );
    expect((await chain.kvsPost(GEMEENTE, event)).status).toBe(202);
    await new Promise((r) => setTimeout(r, 150));
    const gevestigd = kvsEvent(
      'nl.inburgering.inburgeraar.gevestigd',
      { inburgeraarId: idOf(bsn), gemeenteCode: GEMEENTE, vestigingsdatum: '2026-11-01', bsn },
      `v${bsn}`,
    );
    expect((await chain.kvsPost(GEMEENTE, gevestigd)).status).toBe(202);
    expect(
      await eventually(() =>
        chain.kbSim.trajecten().some((t) => t.aanvraag.referentie === 'OZ-509'),
      ),
    ).toBe(true);
    expect(
      chain.kbSim.trajecten().find((t) => t.aanvraag.referentie === 'OZ-509')!.aanvraag.bsn,
    ).toBe(bsn);
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

  let deep = '{"iban":"NL00"}';
  for (let i = 0; i < 20_000; i++) deep = `{"a":${deep}}`;
  it.each([
    ['JSON null', 'null'],
    ['an empty body', ''],
    ['a JSON string', '"webhook"'],
    ['a JSON array', '[{"id":"x"}]'],
    [
      'gegevens nested 20,000 levels deep',
      `{"id":"${nameBasedUuid('kb-test:deep')}","type":"traject.gestart","referentie":"ONBEKEND-2",` +
        `"gemeentecode":"0796","dossiernummer":"KB-1","tijdstip":"2026-11-23T10:00:00Z","gegevens":${deep}}`,
    ],
  ])('answers %s with 400 naming the field and the rule, never 500', async (_what, body) => {
    const res = await fetch(`${chain.kbService.url}/v1/webhooks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${chain.kbApiKey}` },
      body,
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const problem = (await res.json()) as { errors: { field: string; rule: string }[] };
    expect(problem.errors.length).toBeGreaterThan(0);
    for (const e of problem.errors) {
      expect(e.field.length).toBeGreaterThan(0);
      expect(e.rule.length).toBeGreaterThan(0);
    }
  });
});

/** Registers a traject for a new person and waits until the Kredietbank has it. */
async function registered(n: number, trajectId: string, startdatum: string, einddatum: string) {
  const bsn = testBsn(n);
  await vestig(bsn);
  const id = idOf(bsn);
  const res = await chain.kvsPost(
    GEMEENTE,
    kvsEvent(
      'nl.inburgering.ontzorgen.aangevraagd',
      aanvraag(id, trajectId, { startdatum, einddatum }),
      `a${n}`,
    ),
  );
  expect(res.status).toBe(202);
  expect(
    await eventually(() =>
      chain.kbSim.trajecten().some((t) => t.aanvraag.referentie === trajectId),
    ),
  ).toBe(true);
  return { bsn, id };
}

const simTraject = (referentie: string) =>
  chain.kbSim.trajecten().find((t) => t.aanvraag.referentie === referentie)!;

/** Moves the simulator's clock to `date` (never back) and waits for its webhooks. */
async function clockTo(date: string) {
  const res = await fetch(`${chain.kbSim.url}/_sim/clock`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ date }),
  });
  expect(res.status).toBe(200);
  await chain.kbSim.idle();
}

function pip(inburgeraarId: string, pipId: string, ontzorgen?: PipVastgesteld['ontzorgen']) {
  const data: PipVastgesteld = {
    inburgeraarId,
    gemeenteCode: GEMEENTE,
    pipId,
    dagtekening: '2027-08-20',
    leerroute: 'b1-route',
    niveau: 'B1',
    ...(ontzorgen ? { ontzorgen } : {}),
  };
  return kvsEvent('nl.inburgering.pip.vastgesteld', data, pipId);
}

/** Everything the Kredietbank was asked to do, as counted by the simulator. */
const kbCalls = () => {
  const s = chain.kbSim.stats();
  return {
    registraties: s.registraties,
    wijzigingen: s.wijzigingen,
    looptijdWijzigingen: s.looptijdWijzigingen,
    beeindigingen: s.beeindigingen,
    rejected: s.rejected,
    duplicates: s.duplicates,
  };
};

async function consumerIdle(durable: string, delivered: number) {
  const nc = await connectNats(chain.nats.url, 'kb-test-consumer');
  const jsm = await jetstreamManager(nc);
  try {
    return await eventually(async () => {
      const info = await jsm.consumers.info(STREAMS.keten, durable);
      return (
        info.delivered.consumer_seq >= delivered &&
        info.num_pending === 0 &&
        info.num_ack_pending === 0
      );
    });
  } finally {
    await nc.drain();
  }
}

async function consumerDelivered(durable: string): Promise<number> {
  const nc = await connectNats(chain.nats.url, 'kb-test-consumer');
  try {
    return (await (await jetstreamManager(nc)).consumers.info(STREAMS.keten, durable)).delivered
      .consumer_seq;
  } finally {
    await nc.drain();
  }
}

/**
 * The gemeente's own decisions about a running traject: an early end (ontzorgen.beeindiging-
 * aangevraagd) and an extension through the PIP (pip.vastgesteld with ontzorgen). The
 * simulator's clock only moves forward: these tests run after the ones above, each on its own
 * traject with dates after the clock.
 */
describe('ontzorgen: the gemeente ends or extends a traject', () => {
  it('an early end from the KVS ends the traject at the Kredietbank; ontzorgen.beeindigd reaches that KVS only', async () => {
    const { id } = await registered(505, 'OZ-505', '2027-07-01', '2028-01-01');
    await clockTo('2027-08-10');
    expect(simTraject('OZ-505').status).toBe('actief');
    const before = chain.kbSim.stats().beeindigingen;

    const data: OntzorgenBeeindigingAangevraagd = {
      inburgeraarId: id,
      gemeenteCode: GEMEENTE,
      trajectId: 'OZ-505',
      datum: '2027-08-15',
      reden: 'op-verzoek-gemeente',
    };
    const event = kvsEvent('nl.inburgering.ontzorgen.beeindiging-aangevraagd', data, 'b505');
    expect((await chain.kvsPost(GEMEENTE, event)).status).toBe(202);
    // Another gemeente's KVS may not end this gemeente's traject.
    expect((await chain.kvsPost('gm0797', event)).status).toBe(403);

    expect(await eventually(() => simTraject('OZ-505').status === 'beeindigd')).toBe(true);
    expect(simTraject('OZ-505').beeindiging).toEqual({
      datum: '2027-08-15',
      reden: 'OP_VERZOEK_GEMEENTE',
    });
    expect(chain.kbSim.stats().beeindigingen).toBe(before + 1);

    const beeindigd = () => kvsGot(GEMEENTE, id, 'nl.inburgering.ontzorgen.beeindigd');
    expect(await eventually(() => beeindigd().length === 1)).toBe(true);
    expect(beeindigd()[0]!.data).toMatchObject({
      trajectId: 'OZ-505',
      einddatum: '2027-08-15',
      reden: 'op-verzoek-gemeente',
      // July and August, four charges each, before the end.
      betalingen: { uitgevoerd: 8, mislukt: 0 },
    });
    for (const other of ['gm0797', 'gm0865']) expect(kvsGot(other, id)).toEqual([]);

    // Ended means ended: the clock brings no more payments and no second end.
    await clockTo('2027-10-05');
    expect(simTraject('OZ-505').periodes).toEqual(['2027-07', '2027-08']);
    expect(beeindigd()).toHaveLength(1);
  });

  it('a PIP with ontzorgen extends a registered traject: it pays on past the old end and ends at the new one', async () => {
    const { id } = await registered(506, 'OZ-506', '2027-11-01', '2028-05-01');
    const before = chain.kbSim.stats().looptijdWijzigingen;
    const res = await chain.kvsPost(
      GEMEENTE,
      pip(id, 'PIP-506-2', { trajectId: 'OZ-506', einddatum: '2028-08-01' }),
    );
    expect(res.status).toBe(202);
    expect(
      await eventually(() => simTraject('OZ-506').aanvraag.periode.eind === '2028-08-01'),
    ).toBe(true);
    expect(simTraject('OZ-506').aanvraag.periode.start).toBe('2027-11-01');
    expect(simTraject('OZ-506').looptijd?.grondslag).toEqual({
      pip: 'PIP-506-2',
      dagtekening: '2027-08-20',
    });
    expect(chain.kbSim.stats().looptijdWijzigingen).toBe(before + 1);

    const beeindigd = () => kvsGot(GEMEENTE, id, 'nl.inburgering.ontzorgen.beeindigd');
    // Past the old end: still running, and May's charges were paid.
    await clockTo('2028-05-10');
    expect(simTraject('OZ-506').status).toBe('actief');
    expect(simTraject('OZ-506').periodes).toContain('2028-05');
    expect(
      chain.kbSim
        .webhooks()
        .filter((w) => w.webhook.referentie === 'OZ-506' && w.webhook.type === 'traject.beeindigd'),
    ).toEqual([]);
    // Past the new end: ended on it.
    await clockTo('2028-08-05');
    expect(simTraject('OZ-506').status).toBe('beeindigd');
    expect(await eventually(() => beeindigd().length === 1)).toBe(true);
    expect(beeindigd()[0]!.data).toMatchObject({
      trajectId: 'OZ-506',
      einddatum: '2028-08-01',
      reden: 'termijn-verstreken',
      // November to July: 9 months × 4 charges.
      betalingen: { uitgevoerd: 36, mislukt: 0 },
    });
  });

  it('a PIP without ontzorgen, and one for a traject the hub does not know, send nothing to the Kredietbank', async () => {
    const bsn = testBsn(507);
    const id = idOf(bsn);
    const nc = await connectNats(chain.nats.url, 'kb-test-log');
    const jsm = await jetstreamManager(nc);
    const logCount = async () =>
      (
        await jsm.streams.info(STREAMS.processingLog, {
          subjects_filter: `verwerking.${GEMEENTE}.kredietbank`,
        })
      ).state.messages;
    const logBefore = await logCount();
    const dlqBefore = await chain.streamCount(STREAMS.deadLetters);
    const callsBefore = kbCalls();
    const delivered = await consumerDelivered('kredietbank-pips');

    expect((await chain.kvsPost(GEMEENTE, pip(id, 'PIP-507-1'))).status).toBe(202);
    expect(
      (
        await chain.kvsPost(
          GEMEENTE,
          pip(id, 'PIP-507-2', { trajectId: 'OZ-ONBEKEND-507', einddatum: '2028-12-01' }),
        )
      ).status,
    ).toBe(202);
    // Both handled (acked) by the Kredietbank's PIP consumer...
    expect(await consumerIdle('kredietbank-pips', delivered + 2)).toBe(true);
    // ...and skipped: no call, no processing-log record, no dead letter.
    expect(kbCalls()).toEqual(callsBefore);
    expect(await logCount()).toBe(logBefore);
    expect(await chain.streamCount(STREAMS.deadLetters)).toBe(dlqBefore);
    await nc.drain();
  });

  it('a beeindiging for a traject the hub does not know is dead-lettered with rule traject known', async () => {
    const bsn = testBsn(508);
    const id = idOf(bsn);
    const callsBefore = kbCalls();
    const event = kvsEvent(
      'nl.inburgering.ontzorgen.beeindiging-aangevraagd',
      {
        inburgeraarId: id,
        gemeenteCode: GEMEENTE,
        trajectId: 'OZ-ONBEKEND-508',
        datum: '2028-09-01',
        reden: 'overig',
      } satisfies OntzorgenBeeindigingAangevraagd,
      'b508',
    );
    expect((await chain.kvsPost(GEMEENTE, event)).status).toBe(202);

    const nc = await connectNats(chain.nats.url, 'kb-test-dlq');
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    const letter = async () =>
      (await listDeadLetters(js, jsm, { service: 'kredietbank', gemeente: GEMEENTE })).find(
        (l) => l.eventId === event.id,
      );
    expect(await eventually(async () => (await letter()) !== undefined)).toBe(true);
    const found = (await letter())!;
    expect(found).toMatchObject({
      partner: 'kredietbank',
      errorName: 'ValidationError',
      eventType: 'nl.inburgering.ontzorgen.beeindiging-aangevraagd',
      gemeente: GEMEENTE,
      attempts: 1,
    });
    expect(found.reason).toContain('traject known');
    expect(found.original.subject).toBe(`keten.${GEMEENTE}.ontzorgen.beeindiging-aangevraagd`);
    await nc.drain();
    // Never sent.
    expect(kbCalls()).toEqual(callsBefore);
  });
});
