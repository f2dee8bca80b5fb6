import { scopedEventId } from '@ketenhub/kit';
import { aanmeldingIdFor } from '@ketenhub/adapter-taalaanbieder';
import type { TickReport } from './taalaanbieder-simulator.ts';

/**
 * What a demo reports for the taalaanbieders, in the shape of the other flows: `kvs>taalaanbieder`
 * (each PIP naming a school became one aanmelding at that school), `taalaanbieder>kvs` (per
 * learner: aangemeld, voortgang, uren and verzuim reached the KVS of its gemeente) and
 * `taalaanbieder>duo` (each school's hours reached DUO: the KVS got the DUO adapter's
 * leerroute.uren-geregistreerd naming the hours' event as `bronEventId`). The caller has already
 * sent the PIPs (through the KVS inbound API); this waits for the aanmeldingen, lets every school
 * report one week, and counts. Matching is exact: the aanmelding id follows from the PIP's event
 * id and the school.
 */
export interface DemoLearner {
  inburgeraarId: string;
  gemeente: string;
  taalaanbieder: string;
  /** The event id of the pip.vastgesteld the KVS sent. */
  pipEventId: string;
}

export interface FlowCount {
  flow: string;
  sent: number;
  delivered: number;
  lost: number;
  duplicates: number;
}

const TYPES = ['aangemeld', 'voortgang', 'uren', 'verzuim'].map(
  (t) => `nl.inburgering.leerroute.${t}`,
);
const UREN = 'nl.inburgering.leerroute.uren';
const UREN_GEREGISTREERD = 'nl.inburgering.leerroute.uren-geregistreerd';
const UREN_AFGEWEZEN = 'nl.inburgering.leerroute.uren-afgewezen';

async function json<T>(url: string, init?: RequestInit): Promise<T> {
  const res = await fetch(url, init);
  if (!res.ok) throw new Error(`${init?.method ?? 'GET'} ${url}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

export async function runTaalaanbiederFlows(opts: {
  /** Base URL of the KVS simulator. */
  kvsSimulator: string;
  /** School id → base URL of its simulator. */
  schools: Record<string, string>;
  learners: DemoLearner[];
  timeoutMs: number;
  /** This school sends its hours as a CSV with two bad rows (reported back per row). */
  csvSchool?: string;
  /** The chain runs the DUO adapter: count `taalaanbieder>duo` as well. */
  hoursToDuo?: boolean;
  say?: (line: string) => void;
}): Promise<{ flows: FlowCount[]; csvRejected: number; ticks: Record<string, TickReport> }> {
  const say = opts.say ?? (() => undefined);
  // The KVS sent each PIP: its aanmelding id comes from the PIP's id scoped to the KVS.
  const expectedId = (l: DemoLearner) =>
    aanmeldingIdFor(scopedEventId('gemeente-kvs', l.gemeente, l.pipEventId), l.taalaanbieder);
  const received = async () => {
    const all = new Map<string, number>();
    for (const url of Object.values(opts.schools)) {
      const list = await json<{ aanmeldingId: string; deliveries: number }[]>(
        `${url}/_sim/ontvangen`,
      );
      for (const r of list) all.set(r.aanmeldingId, r.deliveries);
    }
    return all;
  };
  const until = Date.now() + opts.timeoutMs;
  let got = await received();
  while (Date.now() < until && !opts.learners.every((l) => got.has(expectedId(l)))) {
    await new Promise((r) => setTimeout(r, 200));
    got = await received();
  }
  const delivered = opts.learners.filter((l) => got.has(expectedId(l))).length;
  const repeats = opts.learners.reduce(
    (a, l) => a + Math.max(0, (got.get(expectedId(l)) ?? 1) - 1),
    0,
  );
  const kvsToSchool: FlowCount = {
    flow: 'kvs>taalaanbieder',
    sent: opts.learners.length,
    delivered,
    lost: opts.learners.length - delivered,
    duplicates: repeats,
  };

  const ticks: Record<string, TickReport> = {};
  let csvRejected = 0;
  for (const [id, url] of Object.entries(opts.schools)) {
    const csv = id === opts.csvSchool;
    ticks[id] = await json<TickReport>(`${url}/_sim/tick`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ verzuimAll: true, ...(csv ? { csv: true, csvBadRows: 2 } : {}) }),
    });
    csvRejected += ticks[id].csv?.rejected.length ?? 0;
  }
  say(
    `taalaanbieders: ${delivered} aanmeldingen; one week reported by ${Object.keys(opts.schools).length} schools` +
      (opts.csvSchool ? ` (${opts.csvSchool} as CSV, ${csvRejected} bad rows reported)` : ''),
  );

  type KvsEvent = {
    id: string;
    type: string;
    deliveries: number;
    event: { data: { inburgeraarId?: string; bronEventId?: string } };
  };
  const expected = opts.learners
    .filter((l) => got.has(expectedId(l)))
    .flatMap((l) => TYPES.map((type) => ({ type, ...l })));
  const seen = async () => {
    const all = new Map<string, KvsEvent[]>();
    for (const g of new Set(opts.learners.map((l) => l.gemeente))) {
      const { events } = await json<{ events: KvsEvent[] }>(
        `${opts.kvsSimulator}/_sim/gemeenten/${g}/events`,
      );
      for (const e of events) {
        const key = `${e.type}|${e.event.data.inburgeraarId}`;
        all.set(key, [...(all.get(key) ?? []), e]);
      }
    }
    return all;
  };
  let s = await seen();
  while (Date.now() < until && !expected.every((x) => s.has(`${x.type}|${x.inburgeraarId}`))) {
    await new Promise((r) => setTimeout(r, 200));
    s = await seen();
  }
  let schoolToKvsDelivered = 0;
  let duplicates = 0;
  for (const x of expected) {
    const list = s.get(`${x.type}|${x.inburgeraarId}`) ?? [];
    if (list.length > 0) schoolToKvsDelivered++;
    duplicates += Math.max(0, list.length - 1) + list.reduce((a, e) => a + e.deliveries - 1, 0);
  }

  // The schools' hours at the KVS, and DUO's answer to each (registered or refused by a rule).
  const learnerIds = new Set(opts.learners.map((l) => l.inburgeraarId));
  const urenIds = !opts.hoursToDuo
    ? []
    : [...s.entries()]
        .filter(([k]) => k.startsWith(`${UREN}|`) && learnerIds.has(k.slice(UREN.length + 1)))
        .flatMap(([, list]) => list.map((e) => e.id));
  const answers = async () => {
    const byBron = new Map<string, KvsEvent[]>();
    for (const g of new Set(opts.learners.map((l) => l.gemeente))) {
      for (const type of [UREN_GEREGISTREERD, UREN_AFGEWEZEN]) {
        const { events } = await json<{ events: KvsEvent[] }>(
          `${opts.kvsSimulator}/_sim/gemeenten/${g}/events?type=${type}`,
        );
        for (const e of events) {
          const bron = e.event.data.bronEventId;
          if (bron) byBron.set(bron, [...(byBron.get(bron) ?? []), e]);
        }
      }
    }
    return byBron;
  };
  let duo = await answers();
  while (Date.now() < until && !urenIds.every((id) => duo.has(id))) {
    await new Promise((r) => setTimeout(r, 200));
    duo = await answers();
  }
  const registered = urenIds.filter((id) =>
    duo.get(id)?.some((e) => e.type === UREN_GEREGISTREERD),
  ).length;
  const duoDuplicates = urenIds.reduce((a, id) => {
    const list = duo.get(id) ?? [];
    return a + Math.max(0, list.length - 1) + list.reduce((b, e) => b + e.deliveries - 1, 0);
  }, 0);

  return {
    flows: [
      kvsToSchool,
      {
        flow: 'taalaanbieder>kvs',
        sent: expected.length,
        delivered: schoolToKvsDelivered,
        lost: expected.length - schoolToKvsDelivered,
        duplicates,
      },
      ...(opts.hoursToDuo
        ? [
            {
              flow: 'taalaanbieder>duo',
              sent: urenIds.length,
              delivered: registered,
              lost: urenIds.length - registered,
              duplicates: duoDuplicates,
            },
          ]
        : []),
    ],
    csvRejected,
    ticks,
  };
}
