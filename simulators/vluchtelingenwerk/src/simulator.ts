/**
 * A VluchtelingenWerk office as the hub sees it. `POST /begeleidingen` (bearer token, checked
 * against the contract, idempotent by `Idempotency-Key`) takes an aanvraag for maatschappelijke
 * begeleiding and/or the participatieverklaringstraject (PVT); the office then reports on a
 * simulated clock, as offices do:
 *
 * - begeleiding: started 3 to 10 days after the aanvraag (a home visit), contact moments every
 *   2 to 4 weeks for half a year and every 6 to 8 weeks after, ended as `afgerond` about 1.5
 *   years after the start; about one in five ends early (moved, own wish, no contact, no longer
 *   needed);
 * - PVT: four workshop parts of 3 hours (12 in all), a week apart, from 4 to 8 weeks after the
 *   aanvraag, and the signing a week after the last part; about one in four signs late, after
 *   the PVT deadline (`pvtUiterlijk`, or a year after the aanvraag).
 *
 * Nothing happens until the clock is advanced (`POST /_sim/clock {"advanceDays": 7}` or
 * `{"date": "YYYY-MM-DD"}`); every report that falls due is sent to the hub's office API through
 * the simulator kit's notifier, with retries and `Retry-After`. Everything is in memory; `/_sim`
 * has no authentication, hence loopback by default.
 */
import { createHash } from 'node:crypto';
import type {
  VluchtelingenwerkAanvraag,
  VluchtelingenwerkBeeindiging,
  VluchtelingenwerkContactmoment,
  VluchtelingenwerkOndertekening,
  VluchtelingenwerkStart,
  VluchtelingenwerkWorkshop,
} from '@ketenhub/contracts/generated/vluchtelingenwerk';
import {
  addDays,
  startPlannedSimulator,
  type PlannedSimStats,
  type PlannedSimulator,
  type PlannedSimulatorOptions,
  type Scheduled,
} from '@ketenhub/simulator-kit';

const AANVRAAG_SCHEMA = 'https://contracts.ketenhub.nl/vluchtelingenwerk/aanvraag.schema.json';
const DAY = 24 * 60 * 60 * 1000;

/** The hub's office API: one path per kind of report. */
export const REPORT_PATHS = {
  start: '/v1/starts',
  contactmoment: '/v1/contactmomenten',
  beeindiging: '/v1/beeindigingen',
  workshop: '/v1/workshops',
  ondertekening: '/v1/ondertekeningen',
} as const;
export type ReportKind = keyof typeof REPORT_PATHS;

type ReportBody =
  | VluchtelingenwerkStart
  | VluchtelingenwerkContactmoment
  | VluchtelingenwerkBeeindiging
  | VluchtelingenwerkWorkshop
  | VluchtelingenwerkOndertekening;

/** One report planned for a begeleiding, sent on its day. */
export type PlannedReport = Scheduled<ReportKind, ReportBody>;

export interface SimBegeleiding {
  aanvraag: VluchtelingenwerkAanvraag;
  ontvangenOp: string;
  plan: PlannedReport[];
}

export type VluchtelingenwerkSimStats = PlannedSimStats<ReportKind, 'reports'>;

export interface VluchtelingenwerkSimulator extends Omit<
  PlannedSimulator<ReportKind, SimBegeleiding, 'reports'>,
  'requests'
> {
  /** Aanvragen accepted, once per Idempotency-Key, in arrival order (a change replaces). */
  begeleidingen(): SimBegeleiding[];
}

/** Its options; `id`, the office it plays, defaults to `vluchtelingenwerk`. */
export type VluchtelingenwerkSimulatorOptions = PlannedSimulatorOptions;

/** A number from the begeleiding id, so the same begeleiding always gets the same story. */
function seed(begeleidingId: string, salt: string): number {
  return createHash('sha256').update(`${salt}:${begeleidingId}`).digest().readUInt32BE(0);
}

const SOORTEN = ['spreekuur', 'huisbezoek', 'telefonisch', 'video', 'groepsbijeenkomst'] as const;
const DOMEINEN = [
  'gezinshereniging',
  'toeslagen',
  'financien',
  'wonen',
  'zorgverzekering',
  'onderwijs-kinderen',
  'werk-participatie',
  'juridisch',
  'instanties',
  'inburgering',
] as const;
const VROEG_EINDE = ['verhuisd', 'op-eigen-verzoek', 'geen-contact', 'zelfredzaam'] as const;

/** Whether a begeleiding's story has a late signing (one in four) or an early end (one in five). */
export function storyOf(begeleidingId: string): { laat: boolean; vroegEinde: boolean } {
  return {
    laat: seed(begeleidingId, 'pvt') % 4 === 0,
    vroegEinde: seed(begeleidingId, 'einde') % 5 === 0,
  };
}

/** The office's story for one aanvraag, from the day it arrived. */
export function planFor(a: VluchtelingenwerkAanvraag, ontvangenOp: string): PlannedReport[] {
  const id = a.begeleidingId;
  const s = seed(id, 'plan');
  const story = storyOf(id);
  const plan: PlannedReport[] = [];
  const base = { begeleidingId: id };
  const ref = (n: number) => `${id.slice(3, 11)}-${n}`;
  if (a.onderdelen.includes('maatschappelijke-begeleiding')) {
    const start = addDays(ontvangenOp > a.startwens ? ontvangenOp : a.startwens, 3 + (s % 8));
    plan.push({ kind: 'start', datum: start, sent: false, body: { ...base, startdatum: start } });
    const einde = story.vroegEinde
      ? addDays(start, 120 + (seed(id, 'duur') % 180))
      : addDays(start, 540);
    const nareizigers = (a.huishouden?.nareizigers ?? 0) > 0;
    let dag = start;
    for (let n = 1; dag < einde; n++) {
      const r = seed(id, `contact:${n}`);
      const domeinen = new Set<(typeof DOMEINEN)[number]>();
      // Gezinshereniging first where nareizigers are expected; then what comes up.
      if (n === 1) domeinen.add(nareizigers ? 'gezinshereniging' : 'wonen');
      domeinen.add(DOMEINEN[r % DOMEINEN.length]!);
      if (r % 3 === 0) domeinen.add(DOMEINEN[(r >>> 4) % DOMEINEN.length]!);
      plan.push({
        kind: 'contactmoment',
        datum: dag,
        sent: false,
        body: {
          ...base,
          contactmomentId: `CM-${ref(n)}`,
          datum: dag,
          soort: n === 1 ? 'huisbezoek' : SOORTEN[r % SOORTEN.length]!,
          domeinen: [...domeinen] as VluchtelingenwerkContactmoment['domeinen'],
        },
      });
      const half = Date.parse(dag) - Date.parse(start) < 183 * DAY;
      dag = addDays(dag, half ? 14 + (r % 15) : 42 + (r % 15));
    }
    const reden = story.vroegEinde
      ? VROEG_EINDE[seed(id, 'reden') % VROEG_EINDE.length]!
      : 'afgerond';
    plan.push({
      kind: 'beeindiging',
      datum: einde,
      sent: false,
      body: { ...base, einddatum: einde, reden },
    });
  }
  if (a.onderdelen.includes('pvt')) {
    let dag = addDays(ontvangenOp, 28 + (seed(id, 'workshop') % 29));
    for (let deel = 1; deel <= 4; deel++) {
      plan.push({
        kind: 'workshop',
        datum: dag,
        sent: false,
        body: { ...base, sessieId: `WS-${ref(deel)}`, datum: dag, deel, uren: 3 },
      });
      if (deel < 4) dag = addDays(dag, 7);
    }
    const uiterlijk = a.pvtUiterlijk ?? addDays(ontvangenOp, 365);
    const getekend = story.laat
      ? addDays(uiterlijk > dag ? uiterlijk : dag, 10 + (seed(id, 'laat') % 50))
      : addDays(dag, 7);
    plan.push({
      kind: 'ondertekening',
      datum: getekend,
      sent: false,
      body: { ...base, datumOndertekening: getekend },
    });
  }
  return plan;
}

export async function startVluchtelingenwerkSimulator(
  opts: VluchtelingenwerkSimulatorOptions = {},
): Promise<VluchtelingenwerkSimulator> {
  const { requests, ...sim } = await startPlannedSimulator(opts, {
    partner: 'vluchtelingenwerk',
    paths: REPORT_PATHS,
    describe: (body: ReportBody) => ({ begeleidingId: body.begeleidingId }),
    path: '/begeleidingen',
    schemaId: AANVRAAG_SCHEMA,
    what: 'aanvraag',
    idOf: (r: VluchtelingenwerkAanvraag) => r.begeleidingId,
    plan: planFor,
    answer: (r) => ({ begeleidingId: r.begeleidingId }),
    list: {
      path: '/_sim/begeleidingen',
      view: (r): SimBegeleiding => ({
        aanvraag: r.request,
        ontvangenOp: r.ontvangenOp,
        plan: r.plan,
      }),
    },
    statsKey: 'reports',
  });
  return { ...sim, begeleidingen: requests };
}
