/**
 * Gemeenten cannot touch each other's people. Person P is koppeld (COA) to gm0797 and vestigd
 * there, with a traject at the Kredietbank. gm0796's KVS, with its own valid key, then sends
 * every event a KVS may send about P's pseudonym: each is accepted at the edge (the event is
 * gm0796's own), then refused by every consumer that would act on P (dead letter on
 * `dlq.<service>.gm0796`, alert `tenant-mismatch`), and nothing reaches DUO, the Kredietbank or a
 * school; P stays bound to gm0797 with its vestigingsdatum. The same events from gm0797's KVS
 * still reach the partners (so these tests can fail). Ids: an id chosen by one partner cannot
 * suppress another's event, and an id resent with other content is a 409.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STREAMS, nameBasedUuid, type Alert, type DeadLetter } from '@ketenhub/kit';
import { testBsn } from '@ketenhub/kit/privacy';
import {
  eventually,
  ketenLastSeq,
  kvValue,
  messagesOn,
  partnerCounts,
  settle,
  startSecurityChain,
  expectServicesHealthy,
  type PartnerCounts,
  type SecurityChain,
} from './chain.ts';
import {
  ACHTERNAAM,
  DEELNEMER,
  aanvraag,
  gevestigd,
  koppeling,
  kvsEvent,
  personalData,
  pip,
  testBsns,
} from './fixtures.ts';
import { call, expectProblem } from './problem.ts';

let chain: SecurityChain;
const P = testBsns.p;
/** P's pseudonym: any KVS could learn or guess it; it must grant nothing outside gm0797. */
let idP: string;
const VESTIGING = '2026-09-01';
const ATTACKER_IBAN = 'NL02ABNA0123456789';

function kvsPost(as: 'gm0797' | 'gm0796', event: unknown) {
  return call({
    url: `${chain.edges.kvs}/v1/events`,
    headers: {
      'content-type': 'application/cloudevents+json',
      authorization: `Bearer ${chain.keys.kvs[as]}`,
    },
    body: JSON.stringify(event),
  });
}

function coaPost(body: unknown) {
  return call({
    url: `${chain.edges.coa}/v1/koppelingen`,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${chain.keys.coa}` },
    body: JSON.stringify(body),
  });
}

/** Which gemeente the hub binds a person to: the person register, as the consumers read it. */
async function gemeenteOf(inburgeraarId: string): Promise<string | undefined> {
  return (await kvValue<{ gemeente: string }>(chain, 'PERSONEN', inburgeraarId))?.gemeente;
}

async function identityOf(inburgeraarId: string) {
  return kvValue<{ bsn?: string; vestigingsdatum?: string }>(chain, 'IDENTITEITEN', inburgeraarId);
}

const kbTraject = (referentie: string, gemeentecode = '0797') =>
  chain.sims.kredietbank
    .trajecten()
    .find((t) => t.aanvraag.referentie === referentie && t.aanvraag.gemeentecode === gemeentecode);

/** DUO requests since `afterSeq` made on behalf of a gemeente (its `bron`). */
const duoRequests = (gemeentecode: string, afterSeq = 0) =>
  chain.sims.duo.requests().filter((r) => r.seq > afterSeq && r.gemeentecode === gemeentecode);

beforeAll(async () => {
  // All modules in one process: the tenant guarantees hold there too (hostile-input runs them
  // one process each, as deployed).
  chain = await startSecurityChain({ oneProcess: true });
  idP = chain.idOf(P);
  const res = await coaPost(koppeling({ koppelingId: 'KOP-P', bsn: P }));
  expect(res.status, res.text).toBe(202);
  chain.sims.duo.seed({
    bsn: P,
    vNummer: Number(P.slice(1)),
    gemeentecode: '0797',
    vestigingsdatum: VESTIGING,
  });
  expect((await kvsPost('gm0797', gevestigd('gm0797', idP, { bsn: P }))).status).toBe(202);
  expect(
    await eventually(
      async () =>
        (await gemeenteOf(idP)) === 'gm0797' &&
        (await identityOf(idP))?.vestigingsdatum === VESTIGING,
    ),
    'P is bound to gm0797 with its vestigingsdatum',
  ).toBe(true);
  expect((await kvsPost('gm0797', aanvraag('gm0797', idP, 'OZ-P'))).status).toBe(202);
  expect(await eventually(() => kbTraject('OZ-P') !== undefined)).toBe(true);
  await settle(chain);
});
afterAll(async () => {
  await chain?.stop();
});

interface Attack {
  name: string;
  event: () => { id: string; type: string };
  /** The services whose consumers act on this event for P, each of which must refuse it. */
  services: ('duo' | 'kredietbank' | 'taalaanbieder')[];
}

const attacks: Attack[] = [
  {
    name: 'pip.ingetrokken (withdraw P’s PIP at DUO)',
    event: () =>
      kvsEvent('gm0796', 'pip.ingetrokken', { inburgeraarId: idP, pipId: 'PIP-X1' }, 'x1'),
    services: ['duo'],
  },
  {
    name: 'pip.vastgesteld naming a school, with an ontzorgen part (P’s traject)',
    event: () =>
      pip('gm0796', idP, 'X2', {
        dagtekening: '2026-10-20',
        taalaanbieder: 'taalschool-noord',
        startdatumLeerroute: '2026-11-02',
        urenPerWeek: 12,
        deelnemer: DEELNEMER,
        ontzorgen: { trajectId: 'OZ-P', einddatum: '2027-12-31' },
      }),
    services: ['duo', 'taalaanbieder', 'kredietbank'],
  },
  {
    name: 'map.afgerond',
    event: () =>
      kvsEvent(
        'gm0796',
        'map.afgerond',
        { inburgeraarId: idP, datumEindgesprek: '2026-11-01' },
        'x3',
      ),
    services: ['duo'],
  },
  {
    name: 'pvt.ondertekend',
    event: () =>
      kvsEvent(
        'gm0796',
        'pvt.ondertekend',
        { inburgeraarId: idP, datumOndertekening: '2026-10-20' },
        'x4',
      ),
    services: ['duo'],
  },
  {
    name: 'leerroute.uren',
    event: () =>
      kvsEvent(
        'gm0796',
        'leerroute.uren',
        { inburgeraarId: idP, soort: 'participatie-als-taalles', urenTotaal: 99 },
        'x5',
      ),
    services: ['duo'],
  },
  {
    name: 'zroute.afgerond',
    event: () =>
      kvsEvent(
        'gm0796',
        'zroute.afgerond',
        { inburgeraarId: idP, datumAfronding: '2026-10-20' },
        'x11',
      ),
    services: ['duo'],
  },
  {
    name: 'ontheffingen.opgevraagd',
    event: () => kvsEvent('gm0796', 'ontheffingen.opgevraagd', { inburgeraarId: idP }, 'x12'),
    services: ['duo'],
  },
  {
    name: 'ontzorgen.aangevraagd for P’s traject, paying to another IBAN',
    event: () => aanvraag('gm0796', idP, 'OZ-P', { iban: ATTACKER_IBAN, name: 'x6' }),
    services: ['kredietbank'],
  },
  {
    name: 'ontzorgen.aangevraagd for a new traject (with P’s BSN at the Kredietbank)',
    event: () => aanvraag('gm0796', idP, 'OZ-X7', { iban: ATTACKER_IBAN, name: 'x7' }),
    services: ['kredietbank'],
  },
  {
    name: 'ontzorgen.beeindiging-aangevraagd for P’s traject',
    event: () =>
      kvsEvent(
        'gm0796',
        'ontzorgen.beeindiging-aangevraagd',
        { inburgeraarId: idP, trajectId: 'OZ-P', datum: '2026-12-31', reden: 'verhuisd' },
        'x8',
      ),
    services: ['kredietbank'],
  },
  {
    name: 'inburgeraar.gevestigd with P’s BSN (move P to gm0796)',
    event: () => gevestigd('gm0796', idP, { bsn: P, vestigingsdatum: '2026-11-11', name: 'x9' }),
    services: ['duo', 'kredietbank'],
  },
  {
    name: 'inburgeraar.gevestigd without BSN (move P to gm0796)',
    event: () => gevestigd('gm0796', idP, { vestigingsdatum: '2026-11-12', name: 'x10' }),
    services: ['duo', 'kredietbank'],
  },
];

/** Dead letters on `dlq.<service>.<gemeente>` of the event with this id. */
async function deadLetters(service: string, gemeente: string, eventId: string) {
  const all = await messagesOn<DeadLetter>(
    chain,
    STREAMS.deadLetters,
    `dlq.${service}.${gemeente}`,
  );
  return all.filter((l) => (JSON.parse(l.data.original.body) as { id?: string }).id === eventId);
}

/** Alerts on `alert.tenant-mismatch.<service>` about the event with this id. */
async function tenantAlerts(service: string, eventId: string) {
  const all = await messagesOn<Alert>(chain, STREAMS.alerts, `alert.tenant-mismatch.${service}`);
  return all.filter((a) => a.data.eventId?.includes(eventId));
}

describe("gm0796's KVS acting on gm0797's person P", () => {
  let before: { counts: PartnerCounts; duoSeq: number; traject: string; schools: number };

  beforeAll(() => {
    before = {
      counts: partnerCounts(chain),
      duoSeq: Math.max(0, ...chain.sims.duo.requests().map((r) => r.seq)),
      traject: JSON.stringify(kbTraject('OZ-P')),
      schools: Object.values(chain.sims.schools).reduce((n, s) => n + s.aanmeldingen().length, 0),
    };
  });

  it.each(attacks.map((a) => [a.name, a] as const))(
    '%s: dead-lettered with a tenant-mismatch alert, nothing reaches a partner',
    async (_name, attack) => {
      const event = attack.event();
      // The edge takes it: the event is gm0796's own. The consumers know P is not.
      const res = await kvsPost('gm0796', event);
      expect(res.status, res.text).toBe(202);

      for (const service of attack.services) {
        let letters: Awaited<ReturnType<typeof deadLetters>> = [];
        expect(
          await eventually(async () => {
            letters = await deadLetters(service, 'gm0796', event.id);
            return letters.length > 0;
          }, 10_000),
          `a dead letter on dlq.${service}.gm0796`,
        ).toBe(true);
        expect(letters[0]!.data).toMatchObject({
          service,
          gemeente: 'gm0796',
          errorName: 'TenantMismatchError',
        });
        let alerts: Awaited<ReturnType<typeof tenantAlerts>> = [];
        expect(
          await eventually(async () => {
            alerts = await tenantAlerts(service, event.id);
            return alerts.length > 0;
          }, 5_000),
          `an alert on alert.tenant-mismatch.${service}`,
        ).toBe(true);
        expect(alerts[0]!.data).toMatchObject({
          kind: 'tenant-mismatch',
          service,
          gemeente: 'gm0796',
        });
        // Alerts are for a pager or a dashboard: ids and reasons, never personal data.
        for (const value of personalData(P)) {
          expect(JSON.stringify(alerts[0]!.data)).not.toContain(value);
        }
      }

      expect(duoRequests('0796'), 'a DUO call on behalf of gm0796').toEqual([]);
      expect(partnerCounts(chain).duo, 'calls to DUO').toBe(before.counts.duo);
      expect(partnerCounts(chain).kredietbank, 'calls to the Kredietbank').toBe(
        before.counts.kredietbank,
      );
      expect(partnerCounts(chain).schools, 'aanmeldingen at a school').toBe(before.counts.schools);
      expect(
        chain.sims.kredietbank.trajecten().filter((t) => t.aanvraag.gemeentecode === '0796'),
      ).toEqual([]);
      expect(JSON.stringify(kbTraject('OZ-P')), "P's traject at the Kredietbank").toBe(
        before.traject,
      );
      for (const school of Object.values(chain.sims.schools)) {
        expect(school.aanmeldingen().filter((a) => a.gemeenteCode === 'gm0796')).toEqual([]);
      }
    },
  );

  it('leaves P bound to gm0797 with the original vestigingsdatum and BSN', async () => {
    await settle(chain);
    expect(await gemeenteOf(idP)).toBe('gm0797');
    expect(await identityOf(idP)).toMatchObject({ bsn: P, vestigingsdatum: VESTIGING });
    expect(duoRequests('0796', before.duoSeq)).toEqual([]);
    const aanmeldingen = Object.values(chain.sims.schools).reduce(
      (n, s) => n + s.aanmeldingen().length,
      0,
    );
    expect(aanmeldingen).toBe(before.schools);
  });
});

describe("the same events from gm0797's KVS about P still work", () => {
  let duoSeq: number;
  const reachedDuo = (method: string, path: RegExp) =>
    eventually(() =>
      duoRequests('0797', duoSeq).some((r) => r.method === method && path.test(r.path)),
    );
  const send = async (event: unknown) => {
    duoSeq = Math.max(0, ...chain.sims.duo.requests().map((r) => r.seq));
    const res = await kvsPost('gm0797', event);
    expect(res.status, res.text).toBe(202);
  };

  it('inburgeraar.gevestigd: a new vestigingsdatum is stored', async () => {
    await send(gevestigd('gm0797', idP, { bsn: P, vestigingsdatum: '2026-09-02', name: 'p1' }));
    expect(
      await eventually(async () => (await identityOf(idP))?.vestigingsdatum === '2026-09-02'),
    ).toBe(true);
    expect(await gemeenteOf(idP)).toBe('gm0797');
  });

  it('pip.ingetrokken reaches DUO', async () => {
    await send(
      kvsEvent('gm0797', 'pip.ingetrokken', { inburgeraarId: idP, pipId: 'PIP-P0' }, 'p2'),
    );
    expect(await reachedDuo('DELETE', /\/PIP$/)).toBe(true);
  });

  it('pip.vastgesteld reaches DUO, the school it names and the Kredietbank', async () => {
    await send(
      pip('gm0797', idP, 'P1', {
        taalaanbieder: 'taalschool-noord',
        startdatumLeerroute: '2026-11-02',
        urenPerWeek: 12,
        deelnemer: DEELNEMER,
        ontzorgen: { trajectId: 'OZ-P', einddatum: '2027-09-01' },
      }),
    );
    expect(await reachedDuo('POST', /\/PIP$/)).toBe(true);
    const noord = chain.sims.schools['taalschool-noord'];
    expect(
      await eventually(() => noord.aanmeldingen().some((a) => a.gemeenteCode === 'gm0797')),
    ).toBe(true);
    expect(await eventually(() => kbTraject('OZ-P')?.looptijd?.eind === '2027-09-01')).toBe(true);
    // DUO registered it: the melding consumers below need P's current PIP at DUO.
    expect(
      await eventually(() =>
        chain.sims.kvs
          .received('gm0797')
          .some(
            (e) =>
              e.type === 'nl.inburgering.pip.geregistreerd' &&
              (e.event as { data: { inburgeraarId: string } }).data.inburgeraarId === idP,
          ),
      ),
    ).toBe(true);
  });

  it('map.afgerond, pvt.ondertekend and leerroute.uren reach DUO', async () => {
    await send(
      kvsEvent(
        'gm0797',
        'map.afgerond',
        { inburgeraarId: idP, datumEindgesprek: '2026-11-01' },
        'p3',
      ),
    );
    expect(await reachedDuo('PUT', /\/map$/)).toBe(true);
    await send(
      kvsEvent(
        'gm0797',
        'pvt.ondertekend',
        { inburgeraarId: idP, datumOndertekening: '2026-10-20' },
        'p4',
      ),
    );
    expect(await reachedDuo('PUT', /\/pvt$/)).toBe(true);
    await send(
      kvsEvent(
        'gm0797',
        'leerroute.uren',
        { inburgeraarId: idP, soort: 'participatie-als-taalles', urenTotaal: 12 },
        'p5',
      ),
    );
    expect(await reachedDuo('PUT', /\/uren\//)).toBe(true);
  });

  it('ontzorgen.aangevraagd changes P’s traject, ontzorgen.beeindiging-aangevraagd ends it', async () => {
    await send(aanvraag('gm0797', idP, 'OZ-P', { uitkeringBedragCent: 150_000, name: 'p6' }));
    expect(await eventually(() => kbTraject('OZ-P')?.aanvraag.uitkering.bedrag === 150_000)).toBe(
      true,
    );
    expect(kbTraject('OZ-P')?.aanvraag.client.iban).not.toBe(ATTACKER_IBAN);
    await send(
      kvsEvent(
        'gm0797',
        'ontzorgen.beeindiging-aangevraagd',
        {
          inburgeraarId: idP,
          trajectId: 'OZ-P',
          datum: '2027-01-31',
          reden: 'op-verzoek-gemeente',
        },
        'p7',
      ),
    );
    expect(await eventually(() => kbTraject('OZ-P')?.status === 'beeindigd')).toBe(true);
  });

  it('raised no tenant-mismatch for gm0797', async () => {
    const letters = await messagesOn<DeadLetter>(chain, STREAMS.deadLetters, 'dlq.*.gm0797');
    expect(letters.filter((l) => l.data.errorName === 'TenantMismatchError')).toEqual([]);
  });
});

describe('event ids', () => {
  it("an id posted first by gm0796's KVS does not suppress COA's koppeling for gm0797", async () => {
    // COA's event id is predictable: UUID v5 of its koppelingId.
    const predicted = nameBasedUuid('coa:koppeling:KOP-Q');
    const other = testBsn(720);
    const squat = { ...gevestigd('gm0796', chain.idOf(other), { bsn: other }), id: predicted };
    expect((await kvsPost('gm0796', squat)).status).toBe(202);

    const res = await coaPost(koppeling({ koppelingId: 'KOP-Q', bsn: testBsns.q }));
    expect(res.status, res.text).toBe(202);
    expect(res.json).toMatchObject({ eventId: predicted });
    expect(
      await eventually(() =>
        chain.sims.kvs
          .received('gm0797')
          .some((e) => e.id === predicted && e.type === 'nl.inburgering.inburgeraar.gekoppeld'),
      ),
      "COA's koppeling reached gm0797's KVS",
    ).toBe(true);
  });

  it('COA resending a koppelingId with other content gets a 409 naming the id; the same content stays 202', async () => {
    const R = testBsns.r;
    const first = koppeling({ koppelingId: 'KOP-R', bsn: R });
    const a = await coaPost(first);
    expect(a.status, a.text).toBe(202);
    // The same koppeling again (a retry, with a new berichtId): the same answer.
    const again = await coaPost({ ...first, berichtId: randomUUID() });
    expect(again.status, again.text).toBe(202);
    expect(again.json).toEqual(a.json);

    const seq = await ketenLastSeq(chain);
    const changedName = 'Tesfamariam';
    const changed = await coaPost(
      koppeling({ koppelingId: 'KOP-R', bsn: R, achternaam: changedName }),
    );
    expectProblem(changed, {
      status: 409,
      error: { field: 'koppelingId' },
      personalData: [...personalData(R), changedName],
    });
    expect(changed.text).toContain('KOP-R');
    expect(changed.text).toMatch(/content/i);
    expect(await ketenLastSeq(chain), 'the changed koppeling was stored').toBe(seq);

    const id = nameBasedUuid('coa:koppeling:KOP-R');
    expect(await eventually(() => chain.sims.kvs.received('gm0797').some((e) => e.id === id))).toBe(
      true,
    );
    await settle(chain);
    const delivered = chain.sims.kvs.received('gm0797').filter((e) => e.id === id);
    expect(delivered).toHaveLength(1);
    expect(JSON.stringify(delivered[0]!.event)).toContain(ACHTERNAAM);
    expect(JSON.stringify(delivered[0]!.event)).not.toContain(changedName);
  });
});

it('every service is healthy afterwards', async () => {
  await expectServicesHealthy(chain);
});
