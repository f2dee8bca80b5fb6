import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GEBEURTENISSEN } from '@ketenhub/adapter-duo';
import { duoSpecsAvailable } from '@ketenhub/simulator-duo';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { headers } from '@nats-io/transport-node';
import {
  PARTNER_HEADER,
  STREAMS,
  buildEvent,
  connectNats,
  createLogger,
  nameBasedUuid,
  type Event,
} from '@ketenhub/kit';
import { createPseudonymizer, testBsn } from '@ketenhub/kit/privacy';
import { latestAlerts } from '@ketenhub/kit/operations';
import { inzageOf } from '../harness/inzage.ts';
import {
  TEST_DUO_OIN,
  eventually,
  startDuoTestChain,
  type DuoTestChain,
} from '../harness/index.ts';

let chain: DuoTestChain;
const logLines: string[] = [];
const TODAY = '2026-11-23';

beforeAll(async () => {
  chain = await startDuoTestChain({
    logger: createLogger('duo-e2e', {
      level: 'debug',
      destination: { write: (l: string) => void logLines.push(l) },
    }),
    today: () => TODAY,
    admin: true,
  });
});
afterAll(async () => {
  await chain?.stop();
});

const idOf = (bsn: string) =>
  createPseudonymizer(chain.config.hub.pseudonymKey).inburgeraarId({ bsn, vnummer: '' });

async function seed(bsn: string, extra: Record<string, unknown> = {}) {
  const res = await fetch(`${chain.duoSim.url}/_sim/personen`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      bsn,
      vNummer: Number(bsn.slice(1)),
      gemeentecode: '0797',
      vestigingsdatum: '2026-09-01',
      ...extra,
    }),
  });
  expect(res.status).toBe(201);
}

async function notify(bsn: string, gebeurtenisId: string) {
  const res = await fetch(`${chain.duoSim.url}/_sim/notify`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ bsn, gebeurtenisId }),
  });
  expect(res.status).toBe(202);
}

const kvsGot = (type: string, inburgeraarId: string) =>
  chain.kvs
    .received('gm0797')
    .filter(
      (e) =>
        e.type === type &&
        (e.event as { data: { inburgeraarId: string } }).data.inburgeraarId === inburgeraarId,
    );

/** A KVS event (gemeente gm0797) as the KVS would send it. */
function kvsEvent<D>(type: string, data: D, n: string): Event<D> {
  return buildEvent({
    id: nameBasedUuid(`test:${type}:${n}`),
    type,
    source: 'urn:nld:oin:00000001000797000000:systeem:suite4sd',
    gemeente: 'gm0797',
    data,
  });
}

async function kvsSend(event: unknown) {
  const res = await chain.kvsPost('gm0797', event);
  expect(res.status).toBe(202);
}

describe('DUO notifications → chain events at the KVS', () => {
  it.each(Object.entries(GEBEURTENISSEN).map(([code, g]) => [code, g.type, g] as const))(
    '%s → %s',
    async (code, _type, g) => {
      const bsn = testBsn(100 + Object.keys(GEBEURTENISSEN).indexOf(code));
      await seed(bsn, {
        lbt: { examennummer: 'LBT42', resultaten: [{ resultaat: 'B1-route haalbaar' }] },
        pip: { dagtekeningPip: '2026-10-01', leerroute: 'B' },
        inburgeringstermijn: { startdatum: '2026-10-01' },
        examens: [{ onderdeel: 'LE', resultaat: 'Geslaagd', niveau: 'B1' }],
      });
      await notify(bsn, code);
      expect(await eventually(() => kvsGot(g.type, idOf(bsn)).length === 1)).toBe(true);
      const data = (
        kvsGot(g.type, idOf(bsn))[0]!.event as { data: { gebeurtenis: { code: string } } }
      ).data;
      expect(data.gebeurtenis.code).toBe(code);
    },
  );

  it('accepts a repeated berichtId once and does not process it twice', async () => {
    const bsn = testBsn(300);
    await seed(bsn);
    const berichtId = randomUUID();
    const send = () =>
      fetch(`${chain.duoService.url}/v1/notificaties`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${chain.duoApiKey}`,
          bron: TEST_DUO_OIN,
          doel: chain.oinOf('gm0797'),
          berichtid: berichtId,
        },
        body: JSON.stringify({
          registratieDatumTijd: new Date().toISOString(),
          gebeurtenisId: 'SS101',
          bsn,
        }),
      });
    const first = await send();
    expect(first.status).toBe(201);
    expect(first.headers.get('api-version')).toBe('1.8.0');
    expect((await send()).status).toBe(201);
    expect(
      await eventually(
        () => kvsGot('nl.inburgering.inburgeringsplicht.gewijzigd', idOf(bsn)).length === 1,
      ),
    ).toBe(true);
    await new Promise((r) => setTimeout(r, 700));
    expect(kvsGot('nl.inburgering.inburgeringsplicht.gewijzigd', idOf(bsn))).toHaveLength(1);
  });

  it('answers 403 for a doel OIN the hub does not serve, 400 naming a bad header', async () => {
    const headers = {
      'content-type': 'application/json',
      authorization: `Bearer ${chain.duoApiKey}`,
      bron: TEST_DUO_OIN,
      berichtid: randomUUID(),
    };
    const body = JSON.stringify({
      registratieDatumTijd: new Date().toISOString(),
      gebeurtenisId: 'SS101',
      bsn: testBsn(301),
    });
    const wrongDoel = await fetch(`${chain.duoService.url}/v1/notificaties`, {
      method: 'POST',
      headers: { ...headers, doel: '00000001000363000000' },
      body,
    });
    expect(wrongDoel.status).toBe(403);
    const noDoel = await fetch(`${chain.duoService.url}/v1/notificaties`, {
      method: 'POST',
      headers,
      body,
    });
    expect(noDoel.status).toBe(400);
    expect(((await noDoel.json()) as { errors: { field: string }[] }).errors[0]!.field).toBe(
      'header.doel',
    );
  });

  it('keeps and reports an unknown gebeurtenisId instead of dropping it', async () => {
    const bsn = testBsn(302);
    await seed(bsn);
    const dlqBefore = await chain.streamCount(STREAMS.deadLetters);
    const alertsBefore = await chain.streamCount(STREAMS.alerts);
    await notify(bsn, 'SS999');
    expect(
      await eventually(
        async () => (await chain.streamCount(STREAMS.deadLetters)) === dlqBefore + 1,
      ),
    ).toBe(true);
    expect(await chain.streamCount(STREAMS.alerts)).toBeGreaterThan(alertsBefore);
  });
});

const gevestigd = (bsn: string, n: string) =>
  kvsEvent(
    'nl.inburgering.inburgeraar.gevestigd',
    { inburgeraarId: idOf(bsn), gemeenteCode: 'gm0797', vestigingsdatum: '2026-09-01', bsn },
    n,
  );

describe('meldingen to DUO', () => {
  const pip = (bsn: string, n: string, extra: Record<string, unknown> = {}) =>
    kvsEvent(
      'nl.inburgering.pip.vastgesteld',
      {
        inburgeraarId: idOf(bsn),
        gemeenteCode: 'gm0797',
        pipId: `PIP-${n}`,
        dagtekening: '2026-10-15',
        leerroute: 'b1-route',
        niveau: 'B1',
        ...extra,
      },
      n,
    );

  it('registers a PIP at DUO, reports pip.geregistreerd, and DUO starts the termijn (SS102)', async () => {
    const bsn = testBsn(400);
    await seed(bsn);
    await kvsSend(gevestigd(bsn, 'p1'));
    await new Promise((r) => setTimeout(r, 300));
    await kvsSend(pip(bsn, 'p1'));
    expect(
      await eventually(() => kvsGot('nl.inburgering.pip.geregistreerd', idOf(bsn)).length === 1),
    ).toBe(true);
    expect(
      await eventually(
        () => kvsGot('nl.inburgering.inburgeringstermijn.gestart', idOf(bsn)).length === 1,
      ),
    ).toBe(true);
    const state = JSON.stringify(
      await (await fetch(`${chain.duoSim.url}/_sim/personen/${bsn}`)).json(),
    );
    expect(state).toContain('2026-10-15');
    // What DUO's policy does not let out never reaches DUO: not the pseudonym, not the KVS's pipId.
    expect(state).not.toContain(idOf(bsn));
    expect(state).not.toContain('PIP-p1');
  });

  it('waits for a vestiging that arrives just after the PIP, and registers the PIP', async () => {
    const bsn = testBsn(404);
    await seed(bsn);
    // Back to back the other way round: the PIP first, the vestiging with the BSN after it.
    await kvsSend(pip(bsn, 'p5'));
    await new Promise((r) => setTimeout(r, 150));
    await kvsSend(gevestigd(bsn, 'p5'));
    expect(
      await eventually(() => kvsGot('nl.inburgering.pip.geregistreerd', idOf(bsn)).length === 1),
    ).toBe(true);
    expect(kvsGot('nl.inburgering.pip.afgewezen', idOf(bsn))).toEqual([]);
  });

  it('refuses a PIP for a person whose BSN never arrives: pip.afgewezen bsn-onbekend', async () => {
    const bsn = testBsn(405);
    await kvsSend(pip(bsn, 'p6'));
    expect(
      await eventually(() => kvsGot('nl.inburgering.pip.afgewezen', idOf(bsn)).length === 1),
    ).toBe(true);
    const data = (
      kvsGot('nl.inburgering.pip.afgewezen', idOf(bsn))[0]!.event as {
        data: { door: string; regel: { code: string } };
      }
    ).data;
    expect(data).toMatchObject({ door: 'hub', regel: { code: 'bsn-onbekend' } });
  });

  it('a PIP DUO accepts under another API-Version is registered, with an alert for the operator', async () => {
    const bsn = testBsn(406);
    await seed(bsn);
    await kvsSend(gevestigd(bsn, 'p7'));
    await new Promise((r) => setTimeout(r, 300));
    const fault = await fetch(`${chain.duoSim.url}/_sim/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        kind: 'version',
        apiVersion: '1.3.0',
        count: 1,
        scope: { api: 'PIP', method: 'POST' },
      }),
    });
    expect(fault.status).toBe(201);
    await kvsSend(pip(bsn, 'p7'));
    expect(
      await eventually(() => kvsGot('nl.inburgering.pip.geregistreerd', idOf(bsn)).length === 1),
    ).toBe(true);
    expect(kvsGot('nl.inburgering.pip.afgewezen', idOf(bsn))).toEqual([]);
    const nc = await connectNats(chain.nats.url, 'duo-e2e-alerts');
    try {
      const jsm = await jetstreamManager(nc);
      let alerts: Awaited<ReturnType<typeof latestAlerts>> = [];
      expect(
        await eventually(async () => {
          alerts = (await latestAlerts(jsm)).filter((a) => a.kind === 'partner-version');
          return alerts.length === 1;
        }),
      ).toBe(true);
      expect(alerts[0]).toMatchObject({ service: 'duo', partner: 'duo', gemeente: 'gm0797' });
      expect(alerts[0]!.reason).toContain('1.3.0');
    } finally {
      await nc.drain();
    }
  });

  it('does not send a PIP that breaks a DUO rule: pip.afgewezen by the hub, naming the rule', async () => {
    const bsn = testBsn(401);
    await seed(bsn);
    await kvsSend(gevestigd(bsn, 'p2'));
    await new Promise((r) => setTimeout(r, 300));
    const before = (await (
      await fetch(`${chain.duoSim.url}/_sim/requests?method=POST`)
    ).json()) as unknown[];
    await kvsSend(pip(bsn, 'p2', { leerroute: 'z-route', niveau: 'B1' }));
    expect(
      await eventually(() => kvsGot('nl.inburgering.pip.afgewezen', idOf(bsn)).length === 1),
    ).toBe(true);
    const data = (
      kvsGot('nl.inburgering.pip.afgewezen', idOf(bsn))[0]!.event as {
        data: { door: string; regel: { code: string } };
      }
    ).data;
    expect(data).toMatchObject({ door: 'hub', regel: { code: 'b1-bij-z-route' } });
    const after = (await (
      await fetch(`${chain.duoSim.url}/_sim/requests?method=POST`)
    ).json()) as unknown[];
    expect(JSON.stringify(after).split('/PIP').length).toBe(
      JSON.stringify(before).split('/PIP').length,
    );
  });

  it('reports DUO refusing a melding (4xx) as pip.afgewezen by DUO and keeps a dead letter', async () => {
    const bsn = testBsn(402);
    // DUO knows no vestiging in gm0797 for this person; the hub does not know one either, so
    // only DUO can refuse it.
    await seed(bsn, { vestigingsdatum: undefined, gemeentecode: '0797' });
    await kvsSend(
      kvsEvent(
        'nl.inburgering.inburgeraar.gevestigd',
        { inburgeraarId: idOf(bsn), gemeenteCode: 'gm0797', vestigingsdatum: '2026-12-01', bsn },
        'p3',
      ),
    );
    const dlqBefore = await chain.streamCount(STREAMS.deadLetters);
    await new Promise((r) => setTimeout(r, 300));
    await kvsSend(pip(bsn, 'p3', { dagtekening: '2026-12-05' }));
    expect(
      await eventually(() => kvsGot('nl.inburgering.pip.afgewezen', idOf(bsn)).length === 1),
    ).toBe(true);
    const refused = kvsGot('nl.inburgering.pip.afgewezen', idOf(bsn))[0]!.event as {
      data: { door: string; fouttekst?: string };
    };
    expect(refused.data.door).toBe('duo');
    expect(refused.data.fouttekst).toMatch(/vestiging/i);
    expect(
      await eventually(
        async () => (await chain.streamCount(STREAMS.deadLetters)) === dlqBefore + 1,
      ),
    ).toBe(true);
    expect(kvsGot('nl.inburgering.pip.geregistreerd', idOf(bsn))).toHaveLength(0);
  });

  it('registers MAP, PVT and hours (whole resources) once the PIP is there', async () => {
    const bsn = testBsn(403);
    await seed(bsn, {
      pip: { dagtekeningPip: '2026-09-15', leerroute: 'B' },
      inburgeringstermijn: { startdatum: '2026-09-15' },
    });
    await kvsSend(gevestigd(bsn, 'm1'));
    await new Promise((r) => setTimeout(r, 300));
    await kvsSend(
      kvsEvent(
        'nl.inburgering.map.afgerond',
        { inburgeraarId: idOf(bsn), gemeenteCode: 'gm0797', datumEindgesprek: '2026-11-01' },
        'm1',
      ),
    );
    await kvsSend(
      kvsEvent(
        'nl.inburgering.pvt.ondertekend',
        { inburgeraarId: idOf(bsn), gemeenteCode: 'gm0797', datumOndertekening: '2026-10-20' },
        'm1',
      ),
    );
    await kvsSend(
      kvsEvent(
        'nl.inburgering.leerroute.uren',
        {
          inburgeraarId: idOf(bsn),
          gemeenteCode: 'gm0797',
          soort: 'participatie-als-taalles',
          urenTotaal: 42,
        },
        'm1',
      ),
    );
    for (const type of ['map.geregistreerd', 'pvt.geregistreerd', 'leerroute.uren-geregistreerd']) {
      expect(
        await eventually(() => kvsGot(`nl.inburgering.${type}`, idOf(bsn)).length === 1),
        type,
      ).toBe(true);
    }
    const future = kvsEvent(
      'nl.inburgering.map.afgerond',
      { inburgeraarId: idOf(bsn), gemeenteCode: 'gm0797', datumEindgesprek: '2027-01-01' },
      'm2',
    );
    await kvsSend(future);
    expect(
      await eventually(() => kvsGot('nl.inburgering.map.afgewezen', idOf(bsn)).length === 1),
    ).toBe(true);
  });
});

describe('hours: DUO gets the sum of every source (the hours ledger)', () => {
  it("sends DUO the school's and the KVS's totals together, shows them in the inzage, and a replay changes nothing", async () => {
    const bsn = testBsn(461);
    await seed(bsn, {
      pip: { dagtekeningPip: '2026-09-15', leerroute: 'B' },
      inburgeringstermijn: { startdatum: '2026-09-15' },
    });
    await kvsSend(gevestigd(bsn, 'u1'));
    await new Promise((r) => setTimeout(r, 300));
    const uren = (n: string, urenTotaal: number, extra: Record<string, unknown> = {}) =>
      kvsEvent(
        'nl.inburgering.leerroute.uren',
        {
          inburgeraarId: idOf(bsn),
          gemeenteCode: 'gm0797',
          soort: 'participatie-als-taalles',
          urenTotaal,
          ...extra,
        },
        n,
      );
    // A school's total, as the taalaanbieder module publishes it (its partner header).
    const nc = await connectNats(chain.nats.url, 'test-school');
    const school = uren('u-school', 40, { taalaanbieder: 'taalschool-noord' });
    const publish = async () => {
      const h = headers();
      h.set(PARTNER_HEADER, 'taalaanbieder');
      await jetstream(nc).publish('keten.gm0797.leerroute.uren', JSON.stringify(school), {
        headers: h,
        msgID: `taalaanbieder:${school.id}`,
      });
    };
    await publish();
    const registered = () => kvsGot('nl.inburgering.leerroute.uren-geregistreerd', idOf(bsn));
    expect(await eventually(() => registered().length === 1)).toBe(true);
    await kvsSend(uren('u-kvs', 12));
    expect(await eventually(() => registered().length === 2)).toBe(true);
    const atDuo = async () =>
      (
        (await (await fetch(`${chain.duoSim.url}/_sim/personen/${bsn}`)).json()) as {
          uren: { participatietaalles?: number }[];
        }
      ).uren[0]?.participatietaalles;
    expect(await atDuo()).toBe(52);

    // The inzage shows what DUO is told, by source.
    const res = await chain.adminCall(chain.adminKeys!.all, 'POST', '/api/inzage', { bsn });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      uren: { soort: string; totaal: number; bijdragen: Record<string, { uren: number }> }[];
    };
    expect(body.uren).toEqual([
      expect.objectContaining({
        soort: 'participatie-als-taalles',
        totaal: 52,
        bijdragen: {
          'taalaanbieder:taalschool-noord': expect.objectContaining({ uren: 40 }),
          kvs: expect.objectContaining({ uren: 12 }),
        },
      }),
    ]);

    // A privacy officer bound to another gemeente sees none of it.
    const other = await chain.adminCall(chain.adminKeys!.gm0796, 'POST', '/api/inzage', { bsn });
    expect(((await other.json()) as { uren: unknown[] }).uren).toEqual([]);

    // The school's report replayed (a new stream message of the same event): DUO keeps 52.
    const h = headers();
    h.set(PARTNER_HEADER, 'taalaanbieder');
    await jetstream(nc).publish('keten.gm0797.leerroute.uren', JSON.stringify(school), {
      headers: h,
    });
    await new Promise((r) => setTimeout(r, 1000));
    expect(await atDuo()).toBe(52);
    await nc.drain();
  });
});

describe('the completion of the Z-route → DUO (PUT zroute), reconciled with MAP and PVT', () => {
  const zroute = (bsn: string, n: string, datumAfronding?: string) =>
    kvsEvent(
      'nl.inburgering.zroute.afgerond',
      {
        inburgeraarId: idOf(bsn),
        gemeenteCode: 'gm0797',
        ...(datumAfronding ? { datumAfronding } : {}),
      },
      n,
    );
  const zrouteAtDuo = async (bsn: string) =>
    (
      (await (await fetch(`${chain.duoSim.url}/_sim/personen/${bsn}`)).json()) as {
        zroute: { datumAfrondingZroute?: string };
      }
    ).zroute.datumAfrondingZroute;

  it('registers it for a Z-route PIP of the gemeente; refuses it before the MAP DUO holds, or on another route', async () => {
    const z = testBsn(471);
    await seed(z, {
      pip: { dagtekeningPip: '2026-09-15', leerroute: 'Z' },
      inburgeringstermijn: { startdatum: '2026-09-15' },
      map: { datumEindgesprekMap: '2026-10-20' },
    });
    const b1 = testBsn(472);
    await seed(b1, {
      pip: { dagtekeningPip: '2026-09-15', leerroute: 'B' },
      inburgeringstermijn: { startdatum: '2026-09-15' },
    });
    await kvsSend(gevestigd(z, 'z1'));
    await kvsSend(gevestigd(b1, 'z2'));
    await new Promise((r) => setTimeout(r, 300));

    // Before the MAP's eindgesprek: DUO would then hold a MAP dated after the Z-route's end.
    await kvsSend(zroute(z, 'early', '2026-10-01'));
    const refused = () => kvsGot('nl.inburgering.zroute.afgewezen', idOf(z));
    expect(await eventually(() => refused().length === 1)).toBe(true);
    expect((refused()[0]!.event as { data: { regel: { code: string } } }).data.regel.code).toBe(
      'zroute-voor-map-of-pvt',
    );
    expect(await zrouteAtDuo(z)).toBeUndefined();

    await kvsSend(zroute(z, 'ok', '2026-11-10'));
    expect(
      await eventually(() => kvsGot('nl.inburgering.zroute.geregistreerd', idOf(z)).length === 1),
    ).toBe(true);
    expect(await zrouteAtDuo(z)).toBe('2026-11-10');

    await kvsSend(zroute(b1, 'b1', '2026-11-10'));
    expect(
      await eventually(() => kvsGot('nl.inburgering.zroute.afgewezen', idOf(b1)).length === 1),
    ).toBe(true);
    const rule = (
      kvsGot('nl.inburgering.zroute.afgewezen', idOf(b1))[0]!.event as {
        data: { regel: { code: string } };
      }
    ).data.regel.code;
    expect(rule).toBe('zroute-alleen-bij-z-route');

    // Every read of DUO for the rules carried the BSN: each is in the person's inzage.
    const res = await chain.adminCall(chain.adminKeys!.all, 'POST', '/api/inzage', { bsn: z });
    const { disclosures } = (await res.json()) as {
      disclosures: {
        ontvanger: { partner: string; endpoint: string };
        categorieen: { id: string }[];
        eventType: string;
      }[];
    };
    const reads = disclosures.filter(
      (d) =>
        d.ontvanger.partner === 'duo' &&
        d.eventType === 'nl.inburgering.zroute.afgerond' &&
        d.categorieen.map((c) => c.id).join() === 'gemeente,identificatie',
    );
    // Two meldingen, each reading PIP, termijn, MAP and PVT.
    expect(reads.map((d) => d.ontvanger.endpoint).sort()).toEqual([
      'Inburgeringstermijn',
      'Inburgeringstermijn',
      'MAP-PVT-Zroute',
      'MAP-PVT-Zroute',
      'MAP-PVT-Zroute',
      'MAP-PVT-Zroute',
      'PIP',
      'PIP',
    ]);
  });
});

describe('conformance and privacy', () => {
  it.skipIf(!duoSpecsAvailable())(
    "every request the adapter sent is valid against DUO's published OpenAPI specs",
    async () => {
      type Rec = {
        requestViolations: unknown[];
        responseViolations: unknown[];
        path: string;
        faulted?: string;
      };
      const body = (await (await fetch(`${chain.duoSim.url}/_sim/requests`)).json()) as
        Rec[] | { requests: Rec[] };
      const list = Array.isArray(body) ? body : body.requests;
      expect(list.length).toBeGreaterThan(20);
      // An injected fault is off-spec on purpose (another API-Version, a 503 DUO does not document).
      const bad = list.filter(
        (r) => !r.faulted && (r.requestViolations.length > 0 || r.responseViolations.length > 0),
      );
      expect(bad).toEqual([]);
    },
  );

  it('wrote no BSN into any log line or metric', async () => {
    const metrics = await Promise.all(
      [chain.duoService.opsUrl, chain.coa.opsUrl, chain.delivery.opsUrl].map(async (u) =>
        (await fetch(`${u}/metrics`)).text(),
      ),
    );
    const text = logLines.join('') + metrics.join('');
    expect(metrics.join('')).toContain('ketenhub_messages_total');
    for (const n of [100, 300, 400, 401, 403]) expect(text).not.toContain(testBsn(n));
  });
});

describe('ontheffingen, vrijstellingen and DUO’s attention signals → the KVS', () => {
  const simEvent = async (bsn: string, body: Record<string, unknown>) => {
    const res = await fetch(`${chain.duoSim.url}/_sim/personen/${bsn}/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
  };
  const dataOf = <D>(type: string, bsn: string) =>
    kvsGot(type, idOf(bsn)).map((e) => (e.event as { data: D }).data);

  it('SS108: the plicht and every ontheffing DUO holds, the Z-route’s belastbaarheid included', async () => {
    const bsn = testBsn(480);
    await seed(bsn, {
      ontheffingen: [
        {
          GedeeltelijkeOntheffing: {
            oordeel: 'Toekenning',
            datumOordeel: '2026-10-01',
            grond: 'MED',
            examenonderdeel: 'KNM',
            urenBelastbaarheidParticipatieactiviteit: 200,
          },
        },
      ],
    });
    await simEvent(bsn, { type: 'plicht-voldaan', via: 'ontheffing', datum: '2026-11-20' });
    expect(
      await eventually(() => kvsGot('nl.inburgering.ontheffing.verleend', idOf(bsn)).length === 1),
    ).toBe(true);
    const [o] = dataOf<Record<string, unknown>>('nl.inburgering.ontheffing.verleend', bsn);
    expect(o).toEqual({
      inburgeraarId: idOf(bsn),
      gemeenteCode: 'gm0797',
      gebeurtenis: expect.objectContaining({ code: 'SS108' }),
      ontheffingen: [
        {
          soort: 'gedeeltelijk',
          oordeel: 'toekenning',
          datumOordeel: '2026-10-01',
          grond: 'medisch',
          examenonderdeel: 'knm',
          urenBelastbaarheidParticipatieactiviteit: 200,
        },
        { soort: 'geheel', oordeel: 'toekenning', datumOordeel: '2026-11-20', grond: 'medisch' },
      ],
    });
    // The existing flow stands: the plicht event comes too, once.
    expect(
      await eventually(
        () => kvsGot('nl.inburgering.inburgeringsplicht.gewijzigd', idOf(bsn)).length === 1,
      ),
    ).toBe(true);
    const [p] = dataOf<{ inburgeringsplicht: { redenGeenPlicht?: string } }>(
      'nl.inburgering.inburgeringsplicht.gewijzigd',
      bsn,
    );
    expect(p!.inburgeringsplicht.redenGeenPlicht).toBe('volledige-ontheffing');
  });

  it('SS107 and SS109: the vrijstellingen, a temporary one with its period', async () => {
    const full = testBsn(481);
    const temp = testBsn(482);
    await seed(full);
    await seed(temp);
    await simEvent(full, { type: 'plicht-voldaan', via: 'vrijstelling', datum: '2026-11-20' });
    await simEvent(temp, {
      type: 'tijdelijke-vrijstelling',
      datum: '2026-11-01',
      reden: 'INS',
      startdatum: '2026-11-01',
      einddatum: '2027-10-31',
    });
    const type = 'nl.inburgering.vrijstelling.verleend';
    expect(await eventually(() => kvsGot(type, idOf(full)).length === 1)).toBe(true);
    expect(await eventually(() => kvsGot(type, idOf(temp)).length === 1)).toBe(true);
    const [f] = dataOf<{ gebeurtenis: { code: string }; vrijstellingen: unknown }>(type, full);
    expect(f!.gebeurtenis.code).toBe('SS107');
    expect(f!.vrijstellingen).toEqual([
      { soort: 'geheel', oordeel: 'toekenning', reden: 'diploma', datumOordeel: '2026-11-20' },
    ]);
    const [t] = dataOf<{ gebeurtenis: { code: string }; vrijstellingen: unknown }>(type, temp);
    expect(t!.gebeurtenis.code).toBe('SS109');
    expect(t!.vrijstellingen).toEqual([
      {
        soort: 'tijdelijk',
        oordeel: 'toekenning',
        reden: 'inschrijving-opleiding',
        datumOordeel: '2026-11-01',
        startdatum: '2026-11-01',
        einddatum: '2027-10-31',
      },
    ]);
    // No ontheffing event for a vrijstelling.
    expect(kvsGot('nl.inburgering.ontheffing.verleend', idOf(full))).toEqual([]);
  });

  it('SS126 and SS127: duo.signaal with what the signal means, nothing dead-lettered', async () => {
    const bsn = testBsn(483);
    await seed(bsn);
    const dlqBefore = await chain.streamCount(STREAMS.deadLetters);
    await notify(bsn, 'SS126');
    await notify(bsn, 'SS127');
    const type = 'nl.inburgering.duo.signaal';
    expect(await eventually(() => kvsGot(type, idOf(bsn)).length === 2)).toBe(true);
    const signals = dataOf<{ gebeurtenis: { code: string }; signaal: string }>(type, bsn)
      .map((d) => [d.gebeurtenis.code, d.signaal])
      .sort();
    expect(signals).toEqual([
      ['SS126', 'geen-leerroute-na-10-weken'],
      ['SS127', 'nog-geen-aanbod'],
    ]);
    expect(await chain.streamCount(STREAMS.deadLetters)).toBe(dlqBefore);
  });

  it('an ontheffingen answer the hub cannot read publishes nothing for the notification and is kept as a dead letter', async () => {
    const bsn = testBsn(484);
    await seed(bsn, {
      ontheffingen: [
        { GeheleOntheffing: { oordeel: 'Toekenning', datumOordeel: '2026-11-20', grond: 'BIO' } },
      ],
    });
    const fault = await fetch(`${chain.duoSim.url}/_sim/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        kind: 'version',
        apiVersion: '1.1.0',
        count: 1,
        scope: { api: 'Ontheffing' },
      }),
    });
    expect(fault.status).toBe(201);
    const dlqBefore = await chain.streamCount(STREAMS.deadLetters);
    await notify(bsn, 'SS108');
    expect(
      await eventually(
        async () => (await chain.streamCount(STREAMS.deadLetters)) === dlqBefore + 1,
      ),
    ).toBe(true);
    // All or nothing: the plicht event, pulled before the ontheffingen, was not published either
    // (given the KVS consumer a moment to deliver what might have been).
    await new Promise((r) => setTimeout(r, 1000));
    expect(kvsGot('nl.inburgering.inburgeringsplicht.gewijzigd', idOf(bsn))).toEqual([]);
    expect(kvsGot('nl.inburgering.ontheffing.verleend', idOf(bsn))).toEqual([]);
  });
});

describe('ontheffingen on request: ontheffingen.opgevraagd from the KVS', () => {
  const opgevraagd = (bsn: string, n: string) =>
    kvsEvent(
      'nl.inburgering.ontheffingen.opgevraagd',
      { inburgeraarId: idOf(bsn), gemeenteCode: 'gm0797' },
      n,
    );

  it('reads both at DUO and answers with ontheffing.verleend and vrijstelling.verleend, logged in the inzage', async () => {
    const bsn = testBsn(485);
    await seed(bsn, {
      ontheffingen: [
        {
          GedeeltelijkeOntheffing: {
            oordeel: 'Toekenning',
            datumOordeel: '2026-10-01',
            grond: 'MED',
            urenBelastbaarheidParticipatieactiviteit: 0,
          },
        },
      ],
    });
    await kvsSend(gevestigd(bsn, 'o1'));
    await new Promise((r) => setTimeout(r, 300));
    const ask = opgevraagd(bsn, 'o1');
    await kvsSend(ask);
    const o = 'nl.inburgering.ontheffing.verleend';
    const v = 'nl.inburgering.vrijstelling.verleend';
    expect(await eventually(() => kvsGot(o, idOf(bsn)).length === 1)).toBe(true);
    expect(await eventually(() => kvsGot(v, idOf(bsn)).length === 1)).toBe(true);
    expect((kvsGot(o, idOf(bsn))[0]!.event as { data: unknown }).data).toEqual({
      inburgeraarId: idOf(bsn),
      gemeenteCode: 'gm0797',
      bronEventId: ask.id,
      ontheffingen: [
        {
          soort: 'gedeeltelijk',
          oordeel: 'toekenning',
          datumOordeel: '2026-10-01',
          grond: 'medisch',
          urenBelastbaarheidParticipatieactiviteit: 0,
        },
      ],
    });
    // Nothing at DUO is an empty list, so the KVS knows it was read.
    expect((kvsGot(v, idOf(bsn))[0]!.event as { data: unknown }).data).toEqual({
      inburgeraarId: idOf(bsn),
      gemeenteCode: 'gm0797',
      bronEventId: ask.id,
      vrijstellingen: [],
    });

    // The inzage: the BSN to DUO in each GET, a record each (va-009); the ontheffingen to the
    // KVS as special data under va-008.
    let toDuo: Awaited<ReturnType<typeof inzageOf>> = [];
    expect(
      await eventually(async () => {
        toDuo = await inzageOf(chain.nats.url, idOf(bsn), { partner: 'duo' });
        return toDuo.length === 2 && toDuo.every((d) => d.status === 'verstrekt');
      }),
    ).toBe(true);
    expect(toDuo.map((d) => d.ontvanger.endpoint).sort()).toEqual(['Ontheffing', 'Vrijstelling']);
    for (const d of toDuo) {
      expect(d).toMatchObject({
        eventType: 'nl.inburgering.ontheffingen.opgevraagd',
        eventId: ask.id,
        activiteit: { id: 'va-009' },
      });
      expect(d.categorieen.map((c) => c.id).sort()).toEqual(['gemeente', 'identificatie']);
    }
    let toKvs: Awaited<ReturnType<typeof inzageOf>> = [];
    expect(
      await eventually(async () => {
        toKvs = (await inzageOf(chain.nats.url, idOf(bsn), { partner: 'gemeente-kvs' })).filter(
          (d) => d.eventType === o,
        );
        return toKvs.length === 1;
      }),
    ).toBe(true);
    expect(toKvs[0]!.activiteit.id).toBe('va-008');
    expect(toKvs[0]!.categorieen.find((c) => c.id === 'ontheffing')).toMatchObject({
      bijzonder: true,
    });
  });

  it('refuses a request without the person (400 naming the field) and dead-letters one for a person without a BSN', async () => {
    const bad = await chain.kvsPost(
      'gm0797',
      kvsEvent('nl.inburgering.ontheffingen.opgevraagd', { gemeenteCode: 'gm0797' }, 'o-bad'),
    );
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toContain('inburgeraarId');

    const bsn = testBsn(486);
    const dlqBefore = await chain.streamCount(STREAMS.deadLetters);
    await kvsSend(opgevraagd(bsn, 'o2'));
    expect(
      await eventually(
        async () => (await chain.streamCount(STREAMS.deadLetters)) === dlqBefore + 1,
        30_000,
      ),
    ).toBe(true);
    expect(kvsGot('nl.inburgering.ontheffing.verleend', idOf(bsn))).toEqual([]);
    expect(await inzageOf(chain.nats.url, idOf(bsn), { partner: 'duo' })).toEqual([]);
  });
});
