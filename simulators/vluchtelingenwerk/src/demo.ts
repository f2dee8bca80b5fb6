/**
 * VluchtelingenWerk's part of `npm run demo` (the module's `simulator.demo`): the gemeente's KVS
 * assigns every adult of the cohort who arrived maatschappelijke begeleiding and the PVT, the
 * offices' clocks move on 600 days so every start, contact moment, workshop part, signing and end
 * falls due, and the two flows are counted:
 * - `kvs>vluchtelingenwerk`: aanvragen the hub accepted, against those the offices received
 *   (their DeliveryStats, once per Idempotency-Key);
 * - `vluchtelingenwerk>kvs`: reports the offices sent the hub, against the chain events about
 *   this run's aanvragen the gemeente's KVS received (a signing as `pvt.ondertekend` or
 *   `pvt.ondertekening-gemeld`, by the gemeente's rule);
 * - `vluchtelingenwerk>duo`: every signing on its way to DUO (under the rule `direct` VWN's own
 *   `pvt.ondertekend`; under `kvs` the one the KVS sends when it confirms the reported signing,
 *   as this driver does), against DUO's answers the KVS received (`pvt.geregistreerd`, or
 *   `pvt.afgewezen` naming the rule). A signing dated after today is refused by DUO's rules
 *   (the hub checks them first), so the offices take this run's aanvragen 91 days before today
 *   (their calendar rewound, which they allow once everything planned is sent) and reach today
 *   before anything later than the signings falls due.
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
/** The signing under the rule `kvs`: reported to the KVS only, which confirms it. */
const GEMELD = 'nl.inburgering.pvt.ondertekening-gemeld';
/** DUO's answers to a PVT melding, each naming the chain event it answers (`bronEventId`). */
const DUO_ANSWERS = ['nl.inburgering.pvt.geregistreerd', 'nl.inburgering.pvt.afgewezen'];
/** How far the demo moves the offices' clocks: the PVT within weeks, the begeleiding's end after 1.5 years. */
const DAYS = 600;
/**
 * How long before today the offices take the aanvragen: the workshop starts 4 to 8 weeks after
 * the aanvraag and the signing follows its four weekly parts by a week, so within 85 days.
 */
const LEAD = 91;

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

const postJson = (url: string, body: unknown) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  }).then((r) => r.arrayBuffer());

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

  // The offices' calendar back to LEAD days before today (refused while an earlier run's story
  // is still being told: its signings may then be dated after today, and DUO refuses them).
  const intake = addDays(new Date().toISOString().slice(0, 10), -LEAD);
  for (const url of sims) {
    const res = await fetch(`${url}/_sim/clock`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ date: intake, rewind: true }),
    });
    await res.arrayBuffer();
    if (res.status !== 200) ctx.say(`vluchtelingenwerk: ${url} did not rewind (${res.status})`);
  }
  const requests = aanvragen(ctx.people, ctx.runTag, new Date(`${intake}T12:00:00Z`));
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
  // about 1.5 years; to yesterday first, so the signings are sent while they are in the past.
  const sentBefore = sent(afterRequests);
  const advance = (advanceDays: number) =>
    Promise.all(sims.map((url) => postJson(`${url}/_sim/clock`, { advanceDays })));
  await advance(LEAD - 1);
  await waitFor(async () => pending(await statsOf(sims)) === 0, until);
  await advance(DAYS - LEAD + 1);
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
  return { flows: [toOffice, toKvs, await signingsToDuo(ctx, accepted, until)] };
}

/**
 * `vluchtelingenwerk>duo`: the KVS confirms every signing reported to it only (rule `kvs`) with
 * its own pvt.ondertekend, then every signing (VWN's direct ones and these) is matched to DUO's
 * answer at the KVS by `bronEventId`. A refusal by one of DUO's rules (a person whose PIP DUO
 * refused has no current PIP) is an answer, reported by rule; no answer is lost.
 */
async function signingsToDuo(
  ctx: DemoContext,
  accepted: { aanvraagId: string; person: DemoPerson }[],
  until: number,
): Promise<DemoFlow> {
  const aanvraagIds = new Set(accepted.map((r) => r.aanvraagId));
  const persons = new Set(accepted.map((r) => r.person.inburgeraarId));
  const gemeenten = [...new Set(accepted.map((r) => r.person.gemeente))];
  const signings = new Set<string>();
  for (const gemeente of gemeenten) {
    for (const e of await ctx.receivedByKvs(gemeente, ONDERTEKEND)) {
      if (
        persons.has(String(e.event.data.inburgeraarId)) &&
        e.event.source.endsWith(':vluchtelingenwerk')
      ) {
        signings.add(e.id);
      }
    }
    for (const e of await ctx.receivedByKvs(gemeente, GEMELD)) {
      const d = e.event.data;
      if (!aanvraagIds.has(String(d.aanvraagId))) continue;
      const res = await ctx.sendAsKvs(
        gemeente,
        ONDERTEKEND,
        `pvt-bevestiging:${String(d.aanvraagId)}`,
        {
          inburgeraarId: d.inburgeraarId,
          gemeenteCode: d.gemeenteCode,
          datumOndertekening: d.datumOndertekening,
        },
      );
      if (res.status === 202) signings.add(res.id);
      else
        ctx.say(
          `vluchtelingenwerk: the KVS's confirmation of ${String(d.aanvraagId)} refused (${res.status})`,
        );
    }
  }
  const answered = new Map<string, number>();
  const byRule = new Map<string, number>();
  const collect = async () => {
    answered.clear();
    byRule.clear();
    for (const gemeente of gemeenten) {
      for (const type of DUO_ANSWERS) {
        for (const e of await ctx.receivedByKvs(gemeente, type)) {
          const bron = String(e.event.data.bronEventId);
          if (!signings.has(bron)) continue;
          answered.set(bron, (answered.get(bron) ?? 0) + e.deliveries);
          if (type.endsWith('afgewezen')) {
            const rule = `${String(e.event.data.door)}:${(e.event.data.regel as { code: string }).code}`;
            byRule.set(rule, (byRule.get(rule) ?? 0) + 1);
          }
        }
      }
    }
    return answered.size >= signings.size;
  };
  await waitFor(collect, until);
  await new Promise((r) => setTimeout(r, 500));
  await collect();
  const refused = [...byRule.values()].reduce((a, b) => a + b, 0);
  ctx.say(
    `vluchtelingenwerk: ${signings.size} PVT signings to DUO, ${answered.size - refused} registered` +
      (refused ? `, refused by rule: ${[...byRule].map(([r, n]) => `${r} ${n}`).join(', ')}` : ''),
  );
  return flowOf('vluchtelingenwerk>duo', [...signings], answered);
}
