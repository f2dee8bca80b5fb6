/**
 * VluchtelingenWerk's part of `npm run demo` (the module's `simulator.demo`): the gemeente's KVS
 * assigns every adult of the cohort who arrived maatschappelijke begeleiding and the PVT, the
 * offices' clocks move on 600 days so every start, contact moment, workshop part, signing and end
 * falls due, and the two flows are counted:
 * - `kvs>vluchtelingenwerk`: aanvragen the hub accepted, against those the offices received
 *   (their DeliveryStats, once per Idempotency-Key);
 * - `vluchtelingenwerk>kvs`: reports the offices sent the hub, against the chain events about
 *   this run's aanvragen the gemeente's KVS received (a signing as `pvt.ondertekend` or
 *   `pvt.ondertekening-gemeld`, by the gemeente's rule).
 */
import {
  addDays,
  flowOf,
  waitFor,
  type DemoContext,
  type DemoFlow,
  type DemoPerson,
} from '@ketenhub/simulator-kit';
import type { VluchtelingenwerkSimStats } from './simulator.ts';

const AANGEVRAAGD = 'nl.inburgering.begeleiding.aangevraagd';
/** Reports that name the aanvraag. */
const REPORTS = [
  'nl.inburgering.begeleiding.gestart',
  'nl.inburgering.begeleiding.voortgang',
  'nl.inburgering.begeleiding.beeindigd',
  'nl.inburgering.pvt.workshop-gevolgd',
  'nl.inburgering.pvt.ondertekening-gemeld',
];
/** The signing under the rule `direct`: the chain's own PVT event, about the person. */
const ONDERTEKEND = 'nl.inburgering.pvt.ondertekend';

const ageOn = (geboortedatum: string, today: Date) => {
  const born = new Date(`${geboortedatum}T00:00:00Z`);
  let age = today.getUTCFullYear() - born.getUTCFullYear();
  if (new Date(Date.UTC(today.getUTCFullYear(), born.getUTCMonth(), born.getUTCDate())) > today) {
    age--;
  }
  return Math.max(0, Math.min(120, age));
};

/** One aanvraag per adult who arrived, with their household by role and age. */
function aanvragen(people: DemoPerson[], runTag: string, today: Date) {
  const households = new Map<string, DemoPerson[]>();
  for (const p of people) {
    const key = `${p.gemeente}/${p.huishouden.huishoudenId}`;
    households.set(key, [...(households.get(key) ?? []), p]);
  }
  const start = today.toISOString().slice(0, 10);
  return people
    .filter((p) => p.adult && !p.huishouden.nareiziger)
    .map((p, i) => {
      const members = households.get(`${p.gemeente}/${p.huishouden.huishoudenId}`) ?? [p];
      const here = members.filter((m) => !m.huishouden.nareiziger);
      const aanvraagId = `VW-${runTag}-${i}`;
      return {
        person: p,
        aanvraagId,
        data: {
          inburgeraarId: p.inburgeraarId,
          gemeenteCode: p.gemeente,
          aanvraagId,
          onderdelen: ['maatschappelijke-begeleiding', 'pvt'],
          startwens: start,
          pvtUiterlijk: addDays(start, 365),
          huishouden: {
            leden: here.map((m) => ({
              rol: m.huishouden.rol,
              leeftijd: ageOn(m.geboortedatum, today),
            })),
            nareizigers: members.length - here.length,
          },
          contactpersoon: {
            naam: 'Consulent inburgering',
            email: `inburgering@${p.gemeente}.example`,
          },
        },
      };
    });
}

async function statsOf(sims: string[]): Promise<VluchtelingenwerkSimStats[]> {
  return Promise.all(
    sims.map(
      async (url) => (await (await fetch(`${url}/_sim/stats`)).json()) as VluchtelingenwerkSimStats,
    ),
  );
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
/** Reports that left an office: taken by the hub, refused by it, or given up on. */
const sent = (s: VluchtelingenwerkSimStats[]) =>
  sum(s.flatMap((x) => Object.values(x.reports).map((n) => n.delivered + n.rejected + n.failed)));
const pending = (s: VluchtelingenwerkSimStats[]) =>
  sum(s.flatMap((x) => Object.values(x.reports).map((n) => n.pending)));

export async function runDemo(ctx: DemoContext): Promise<{ flows: DemoFlow[] }> {
  const sims = Object.values(ctx.simulators);
  const until = Date.now() + ctx.timeoutMs;
  const before = await statsOf(sims);

  const requests = aanvragen(ctx.people, ctx.runTag, new Date());
  const accepted: typeof requests = [];
  for (const r of requests) {
    const res = await ctx.sendAsKvs(r.person.gemeente, AANGEVRAAGD, r.aanvraagId, r.data);
    if (res.status === 202) accepted.push(r);
    else ctx.say(`vluchtelingenwerk: aanvraag ${r.aanvraagId} refused by the hub (${res.status})`);
  }
  const receivedBefore = sum(before.map((s) => s.received));
  await waitFor(
    async () =>
      sum((await statsOf(sims)).map((s) => s.received)) - receivedBefore >= accepted.length,
    until,
  );
  // Late duplicates (a redelivery racing the last ack) show up before counting.
  await new Promise((r) => setTimeout(r, 500));
  const afterRequests = await statsOf(sims);
  const delivered = sum(afterRequests.map((s) => s.received)) - receivedBefore;
  const toOffice: DemoFlow = {
    flow: 'kvs>vluchtelingenwerk',
    sent: accepted.length,
    delivered,
    lost: accepted.length - delivered,
    duplicates: sum(afterRequests.map((s) => s.duplicates)) - sum(before.map((s) => s.duplicates)),
  };

  // 600 days on: the PVT within weeks, the begeleiding's contact moments and its end after
  // about 1.5 years.
  const sentBefore = sent(afterRequests);
  await Promise.all(
    sims.map((url) =>
      fetch(`${url}/_sim/clock`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ advanceDays: 600 }),
      }).then((r) => r.arrayBuffer()),
    ),
  );
  await waitFor(async () => pending(await statsOf(sims)) === 0, until);
  const reported = sent(await statsOf(sims)) - sentBefore;

  const aanvraagIds = new Set(accepted.map((r) => r.aanvraagId));
  const persons = new Set(accepted.map((r) => r.person.inburgeraarId));
  const arrived = new Map<string, number>();
  const collect = async () => {
    arrived.clear();
    for (const gemeente of new Set(accepted.map((r) => r.person.gemeente))) {
      for (const type of REPORTS) {
        for (const e of await ctx.receivedByKvs(gemeente, type)) {
          if (aanvraagIds.has(String(e.event.data.aanvraagId))) arrived.set(e.id, e.deliveries);
        }
      }
      for (const e of await ctx.receivedByKvs(gemeente, ONDERTEKEND)) {
        if (
          persons.has(String(e.event.data.inburgeraarId)) &&
          e.event.source.endsWith(':vluchtelingenwerk')
        ) {
          arrived.set(e.id, e.deliveries);
        }
      }
    }
    return arrived.size >= reported;
  };
  await waitFor(collect, until);
  await new Promise((r) => setTimeout(r, 500));
  await collect();
  const toKvs = flowOf('vluchtelingenwerk>kvs', [...arrived.keys()], arrived);
  // Sent is every report that left an office: one the hub refused, or that never reached the
  // KVS, is lost.
  toKvs.sent = reported;
  toKvs.lost = reported - toKvs.delivered;
  ctx.say(`vluchtelingenwerk: ${accepted.length} aanvragen, ${reported} reports from the offices`);
  return { flows: [toOffice, toKvs] };
}
