/**
 * The DUO part of `npm run demo`: the demo plays DUO's side through the DUO simulator and the
 * gemeente's KVS through the KVS inbound API, for the adults of the cohort whose koppeling
 * reached their KVS:
 *   DUO: plicht ontstaan (SS101), leerbaarheidstoets (SS131), some exam results (SS199);
 *   KVS: vestiging, PIP (some deliberately breaking a DUO rule), then PVT and hours;
 *   DUO: registers the PIP and starts the termijn (SS102).
 * It reports the flows duo>kvs and kvs>duo like the COA flow, and the rejections by rule.
 */
import { buildEvent, nameBasedUuid, type Event } from '@ketenhub/kit';
import type { ChainInfo } from './chain.ts';

export interface DuoPerson {
  bsn: string;
  vNummer: string;
  gemeente: string;
  inburgeraarId: string;
  /** Name for the taalaanbieder's aanmelding. */
  voornamen: string;
  geslachtsnaam: string;
}

/** A PIP that named a taalaanbieder: the school must get exactly one aanmelding for it. */
export interface PipWithSchool {
  inburgeraarId: string;
  gemeente: string;
  taalaanbieder: string;
  pipEventId: string;
}

export interface FlowResult {
  flow: string;
  sent: number;
  delivered: number;
  lost: number;
  duplicates: number;
}

interface Expect {
  type: string;
  inburgeraarId: string;
  gemeente: string;
}

const TYPE = (t: string) => `nl.inburgering.${t}`;

async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

async function must(res: Promise<Response>, what: string): Promise<void> {
  const r = await res;
  if (r.status >= 300) throw new Error(`${what}: HTTP ${r.status} ${await r.text()}`);
}

interface KvsEvent {
  id: string;
  type: string;
  deliveries: number;
  event: { data: { inburgeraarId?: string; regel?: { code: string }; door?: string } };
}

async function kvsEvents(info: ChainInfo, gemeente: string): Promise<KvsEvent[]> {
  const res = await fetch(`${info.kvsSimulator}/_sim/gemeenten/${gemeente}/events`);
  return ((await res.json()) as { events: KvsEvent[] }).events;
}

/** Which PIP each person gets: most are sound, every 7th and 11th break a DUO rule. */
function pipFor(i: number): { leerroute: string; niveau?: string; breaks?: string } {
  if (i % 7 === 3) return { leerroute: 'z-route', niveau: 'B1', breaks: 'b1-bij-z-route' };
  if (i % 11 === 5)
    return { leerroute: 'onderwijsroute', niveau: 'A2', breaks: 'a2-bij-onderwijsroute' };
  if (i % 10 < 3) return { leerroute: 'b1-route', niveau: 'B1' };
  if (i % 10 === 3) return { leerroute: 'onderwijsroute' };
  return { leerroute: 'z-route' };
}

export async function runDuoFlows(
  info: ChainInfo,
  people: DuoPerson[],
  opts: {
    runTag: string;
    timeoutMs: number;
    say: (line: string) => void;
    /** The taalaanbieder a sound PIP with this leerroute names (none: no aanmelding). */
    schoolFor?: (leerroute: string) => string | undefined;
  },
): Promise<{
  flows: FlowResult[];
  rejections: Record<string, number>;
  expectedRejections: Record<string, number>;
  pipsWithSchool: PipWithSchool[];
}> {
  const kvsEvent = <D>(gemeente: string, type: string, data: D, n: string): Event<D> =>
    buildEvent({
      id: nameBasedUuid(`demo:${opts.runTag}:${type}:${n}`),
      type: TYPE(type),
      source: `urn:nld:oin:0000000100${gemeente.slice(2)}000000:systeem:kvs-simulator`,
      gemeente,
      data,
    });
  const sendAsKvs = (gemeente: string, event: unknown) =>
    must(
      post(`${info.kvsInbound}/v1/events`, event, {
        'content-type': 'application/cloudevents+json',
        authorization: `Bearer ${info.kvsApiKeys[gemeente]}`,
      }),
      'KVS inbound',
    );
  const sim = (path: string, body: unknown) =>
    must(post(`${info.duoSimulator}${path}`, body), `DUO simulator ${path}`);

  const expected: Expect[] = [];
  const meldingen: { type: string; inburgeraarId: string; gemeente: string }[] = [];
  const expectedRejections: Record<string, number> = {};
  const exp = (p: DuoPerson, t: string) =>
    expected.push({ type: TYPE(t), inburgeraarId: p.inburgeraarId, gemeente: p.gemeente });

  // DUO's side: the person, the plicht, the leerbaarheidstoets, an exam for some.
  for (const [i, p] of people.entries()) {
    await sim('/_sim/personen', {
      bsn: p.bsn,
      vNummer: Number(p.vNummer),
      gemeentecode: p.gemeente.slice(2),
      vestigingsdatum: '2026-06-01',
      doelgroep: { indeling: 'Asielstatushouder', begindatum: '2026-05-15' },
      inburgeringsplicht: { indicatorInburgeringsplicht: true, begindatum: '2026-06-01' },
      lbt: {
        examennummer: `LBT${String(i).padStart(6, '0')}`,
        resultaten: [
          {
            resultaat: i % 3 === 0 ? 'B1-route niet haalbaar' : 'B1-route haalbaar',
            datumAfname: '2026-07-01',
          },
        ],
      },
      ...(i % 3 === 1
        ? { examens: [{ onderdeel: 'KNM', resultaat: 'Geslaagd', examendatum: '2026-11-02' }] }
        : {}),
      replace: true,
    });
    await sim('/_sim/notify', { bsn: p.bsn, gebeurtenisId: 'SS101' });
    await sim('/_sim/notify', { bsn: p.bsn, gebeurtenisId: 'SS131' });
    exp(p, 'inburgeringsplicht.gewijzigd');
    exp(p, 'leerbaarheidstoets.afgerond');
    if (i % 3 === 1) {
      await sim('/_sim/notify', { bsn: p.bsn, gebeurtenisId: 'SS199' });
      exp(p, 'examen.resultaat');
    }
  }

  // The gemeente's side: vestiging, then the PIP.
  for (const p of people) {
    const base = { inburgeraarId: p.inburgeraarId, gemeenteCode: p.gemeente };
    await sendAsKvs(
      p.gemeente,
      kvsEvent(
        p.gemeente,
        'inburgeraar.gevestigd',
        { ...base, vestigingsdatum: '2026-06-01', bsn: p.bsn },
        p.bsn,
      ),
    );
  }
  await new Promise((r) => setTimeout(r, 500));
  const pipsWithSchool: PipWithSchool[] = [];
  for (const [i, p] of people.entries()) {
    const plan = pipFor(i);
    const { breaks, ...pip } = plan;
    // A sound PIP names the school of its leerroute, with what the school needs to invite.
    const school = breaks ? undefined : opts.schoolFor?.(pip.leerroute);
    const event = kvsEvent(
      p.gemeente,
      'pip.vastgesteld',
      {
        inburgeraarId: p.inburgeraarId,
        gemeenteCode: p.gemeente,
        pipId: `PIP-${opts.runTag}-${i}`,
        dagtekening: '2026-08-01',
        ...pip,
        ...(school
          ? {
              taalaanbieder: school,
              startdatumLeerroute: '2026-09-07',
              urenPerWeek: pip.leerroute === 'z-route' ? 6 : 12,
              deelnemer: { voornamen: p.voornamen, geslachtsnaam: p.geslachtsnaam },
            }
          : {}),
      },
      p.bsn,
    );
    await sendAsKvs(p.gemeente, event);
    if (school) {
      pipsWithSchool.push({
        inburgeraarId: p.inburgeraarId,
        gemeente: p.gemeente,
        taalaanbieder: school,
        pipEventId: event.id,
      });
    }
    if (breaks) {
      expectedRejections[breaks] = (expectedRejections[breaks] ?? 0) + 1;
      exp(p, 'pip.afgewezen');
    } else {
      meldingen.push({
        type: TYPE('pip.vastgesteld'),
        inburgeraarId: p.inburgeraarId,
        gemeente: p.gemeente,
      });
      exp(p, 'pip.geregistreerd');
      exp(p, 'inburgeringstermijn.gestart');
    }
  }

  const seen = async () => {
    const all = new Map<string, KvsEvent[]>();
    for (const g of new Set(people.map((p) => p.gemeente))) {
      for (const e of await kvsEvents(info, g)) {
        const key = `${e.type}|${e.event.data.inburgeraarId}`;
        all.set(key, [...(all.get(key) ?? []), e]);
      }
    }
    return all;
  };
  const waitFor = async (list: Expect[]) => {
    const until = Date.now() + opts.timeoutMs;
    while (Date.now() < until) {
      const s = await seen();
      if (list.every((x) => s.has(`${x.type}|${x.inburgeraarId}`))) return;
      await new Promise((r) => setTimeout(r, 250));
    }
  };
  await waitFor(expected);

  // With the PIP registered: the PVT and hours for those with a sound PIP.
  const withPip = people.filter((_, i) => !pipFor(i).breaks);
  for (const p of withPip) {
    const base = { inburgeraarId: p.inburgeraarId, gemeenteCode: p.gemeente };
    await sendAsKvs(
      p.gemeente,
      kvsEvent(p.gemeente, 'pvt.ondertekend', { ...base, datumOndertekening: '2026-10-01' }, p.bsn),
    );
    await sendAsKvs(
      p.gemeente,
      kvsEvent(
        p.gemeente,
        'leerroute.uren',
        { ...base, soort: 'participatie-als-taalles', urenTotaal: 24 },
        p.bsn,
      ),
    );
    meldingen.push({
      type: TYPE('pvt.ondertekend'),
      inburgeraarId: p.inburgeraarId,
      gemeente: p.gemeente,
    });
    meldingen.push({
      type: TYPE('leerroute.uren'),
      inburgeraarId: p.inburgeraarId,
      gemeente: p.gemeente,
    });
    exp(p, 'pvt.geregistreerd');
    exp(p, 'leerroute.uren-geregistreerd');
  }
  await waitFor(expected);
  await new Promise((r) => setTimeout(r, 1000));
  const s = await seen();

  const count = (list: Expect[]) => {
    let delivered = 0;
    let duplicates = 0;
    for (const x of list) {
      const got = s.get(`${x.type}|${x.inburgeraarId}`) ?? [];
      if (got.length > 0) delivered++;
      duplicates += Math.max(0, got.length - 1) + got.reduce((a, e) => a + e.deliveries - 1, 0);
    }
    return { sent: list.length, delivered, lost: list.length - delivered, duplicates };
  };
  // kvs>duo: a melding counts as delivered when DUO registered it (its *.geregistreerd came back);
  // a duplicate when DUO received the same berichtId twice.
  const registered: Record<string, string> = {
    [TYPE('pip.vastgesteld')]: TYPE('pip.geregistreerd'),
    [TYPE('pvt.ondertekend')]: TYPE('pvt.geregistreerd'),
    [TYPE('leerroute.uren')]: TYPE('leerroute.uren-geregistreerd'),
  };
  const kvsToDuo = count(meldingen.map((m) => ({ ...m, type: registered[m.type]! })));
  const requests = (await (await fetch(`${info.duoSimulator}/_sim/requests`)).json()) as
    | { berichtId?: string; method: string; status: number }[]
    | { requests: { berichtId?: string; method: string; status: number }[] };
  const list = Array.isArray(requests) ? requests : requests.requests;
  const accepted = list.filter((r) => r.method !== 'GET' && r.status < 300 && r.berichtId);
  const byBericht = new Map<string, number>();
  for (const r of accepted) byBericht.set(r.berichtId!, (byBericht.get(r.berichtId!) ?? 0) + 1);
  const duoDuplicates = [...byBericht.values()].reduce((a, n) => a + n - 1, 0);

  const rejections: Record<string, number> = {};
  for (const [key, events] of s) {
    if (!key.startsWith(TYPE('pip.afgewezen'))) continue;
    if (!people.some((p) => key.endsWith(p.inburgeraarId))) continue;
    for (const e of events) {
      const code = `${e.event.data.door}:${e.event.data.regel?.code}`;
      rejections[code] = (rejections[code] ?? 0) + 1;
    }
  }
  opts.say(`DUO: ${people.length} inburgeraars through DUO, ${meldingen.length} meldingen to DUO`);
  return {
    flows: [
      { flow: 'duo>kvs', ...count(expected) },
      { flow: 'kvs>duo', ...kvsToDuo, duplicates: kvsToDuo.duplicates + duoDuplicates },
    ],
    rejections,
    expectedRejections: Object.fromEntries(
      Object.entries(expectedRejections).map(([k, v]) => [`hub:${k}`, v]),
    ),
    pipsWithSchool,
  };
}
