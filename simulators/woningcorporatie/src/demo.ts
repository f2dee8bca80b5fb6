/**
 * The woningcorporatie's part of `npm run demo` (the module's `simulator.demo`): the gemeente's
 * KVS asks a home for every household of the cohort that arrived (its nareizigers counted, not
 * housed yet), the corporaties' clocks move on 100 days so every offer, refusal, acceptance and
 * signed lease falls due, and the two flows are counted:
 * - `kvs>woningcorporatie`: aanvragen the hub accepted, against the zoektochten the corporaties
 *   received (their DeliveryStats, once per Idempotency-Key);
 * - `woningcorporatie>kvs`: answers the corporaties sent the hub, against the chain events of
 *   this run's aanvragen the gemeente's KVS received.
 */
import {
  flowOf,
  waitFor,
  type DemoContext,
  type DemoFlow,
  type DemoPerson,
} from '@ketenhub/simulator-kit';
import type { WoningcorporatieSimStats } from './simulator.ts';

const AANGEVRAAGD = 'nl.inburgering.woning.aangevraagd';
const ANSWERS = [
  'nl.inburgering.woning.aangeboden',
  'nl.inburgering.woning.geweigerd',
  'nl.inburgering.woning.geaccepteerd',
  'nl.inburgering.huurcontract.getekend',
];

const ageOn = (geboortedatum: string, today: Date) => {
  const born = new Date(`${geboortedatum}T00:00:00Z`);
  let age = today.getUTCFullYear() - born.getUTCFullYear();
  const birthday = new Date(
    Date.UTC(today.getUTCFullYear(), born.getUTCMonth(), born.getUTCDate()),
  );
  if (birthday > today) age--;
  return Math.max(0, Math.min(120, age));
};

/** One aanvraag per household that arrived, by its hoofdpersoon (or its first adult). */
function aanvragen(people: DemoPerson[], runTag: string, today: Date) {
  const households = new Map<string, DemoPerson[]>();
  for (const p of people) {
    const key = `${p.gemeente}/${p.huishouden.huishoudenId}`;
    households.set(key, [...(households.get(key) ?? []), p]);
  }
  return [...households.values()].flatMap((members, i) => {
    const here = members.filter((m) => !m.huishouden.nareiziger);
    const later = members.filter((m) => m.huishouden.nareiziger);
    const lead = here.find((m) => m.huishouden.rol === 'hoofdpersoon') ?? here.find((m) => m.adult);
    if (!lead) return [];
    const lid = (m: DemoPerson) => ({
      rol: m.huishouden.rol,
      leeftijd: ageOn(m.geboortedatum, today),
    });
    const aanvraagId = `WA-${runTag}-${i}`;
    return [
      {
        gemeente: lead.gemeente,
        aanvraagId,
        data: {
          inburgeraarId: lead.inburgeraarId,
          gemeenteCode: lead.gemeente,
          aanvraagId,
          huishouden: { omvang: Math.max(here.length, 1), leden: here.map(lid) },
          nareizigers: {
            aantal: later.length,
            ...(later.length ? { leden: later.map(lid) } : {}),
          },
          contactpersoon: {
            naam: 'Consulent huisvesting',
            email: `huisvesting@${lead.gemeente}.example`,
          },
        },
      },
    ];
  });
}

async function statsOf(sims: string[]): Promise<WoningcorporatieSimStats[]> {
  return Promise.all(
    sims.map(
      async (url) => (await (await fetch(`${url}/_sim/stats`)).json()) as WoningcorporatieSimStats,
    ),
  );
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const answersIn = (
  s: WoningcorporatieSimStats[],
  ...keys: ('delivered' | 'pending' | 'rejected' | 'failed')[]
) => sum(s.flatMap((x) => Object.values(x.answers).flatMap((n) => keys.map((k) => n[k]))));
/** Answers that left the corporatie: taken by the hub, refused by it, or given up on. */
const SENT = ['delivered', 'rejected', 'failed'] as const;

export async function runDemo(ctx: DemoContext): Promise<{ flows: DemoFlow[] }> {
  const sims = Object.values(ctx.simulators);
  const until = Date.now() + ctx.timeoutMs;
  const before = await statsOf(sims);

  const requests = aanvragen(ctx.people, ctx.runTag, new Date());
  const accepted: string[] = [];
  for (const r of requests) {
    const res = await ctx.sendAsKvs(r.gemeente, AANGEVRAAGD, r.aanvraagId, r.data);
    if (res.status === 202) accepted.push(r.aanvraagId);
    else ctx.say(`woningcorporatie: aanvraag ${r.aanvraagId} refused by the hub (${res.status})`);
  }
  const received = async () => sum((await statsOf(sims)).map((s) => s.received));
  const receivedBefore = sum(before.map((s) => s.received));
  await waitFor(async () => (await received()) - receivedBefore >= accepted.length, until);
  // Late duplicates (a redelivery racing the last ack) show up before counting.
  await new Promise((r) => setTimeout(r, 500));
  const afterRequests = await statsOf(sims);
  const delivered = sum(afterRequests.map((s) => s.received)) - receivedBefore;
  const duplicates =
    sum(afterRequests.map((s) => s.duplicates)) - sum(before.map((s) => s.duplicates));
  const toCorporatie: DemoFlow = {
    flow: 'kvs>woningcorporatie',
    sent: accepted.length,
    delivered,
    lost: accepted.length - delivered,
    duplicates,
  };

  // A hundred days on: every offer, refusal, acceptance and signing falls due, and is sent.
  const answeredBefore = answersIn(afterRequests, ...SENT);
  await Promise.all(
    sims.map((url) =>
      fetch(`${url}/_sim/clock`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ advanceDays: 100 }),
      }).then((r) => r.arrayBuffer()),
    ),
  );
  await waitFor(async () => answersIn(await statsOf(sims), 'pending') === 0, until);
  const answered = answersIn(await statsOf(sims), ...SENT) - answeredBefore;

  // What the gemeenten' KVSs received of this run's aanvragen.
  const ours = new Set(accepted);
  const arrived = new Map<string, number>();
  const collect = async () => {
    arrived.clear();
    for (const gemeente of new Set(requests.map((r) => r.gemeente))) {
      for (const type of ANSWERS) {
        for (const e of await ctx.receivedByKvs(gemeente, type)) {
          if (ours.has(String(e.event.data.aanvraagId))) arrived.set(e.id, e.deliveries);
        }
      }
    }
    return arrived.size >= answered;
  };
  await waitFor(collect, until);
  await new Promise((r) => setTimeout(r, 500));
  await collect();
  const toKvs = flowOf('woningcorporatie>kvs', [...arrived.keys()], arrived);
  // Sent is every answer that left a corporatie: one the hub refused, or that never reached the
  // KVS, is lost.
  toKvs.sent = answered;
  toKvs.lost = answered - toKvs.delivered;
  ctx.say(
    `woningcorporatie: ${accepted.length} aanvragen, ${answered} answers (offers, refusals, acceptances, leases)`,
  );
  return { flows: [toCorporatie, toKvs] };
}
