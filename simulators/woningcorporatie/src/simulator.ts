/**
 * A woningcorporatie as the hub sees it. `POST /zoektochten` (bearer token, checked against the
 * contract, idempotent by `Idempotency-Key`) takes a woningzoektocht; the corporatie then
 * answers on a simulated clock, as corporaties do: an offer after 3 to 9 weeks (direct
 * bemiddeling), for about a third of the households first an offer that does not fit (too few
 * rooms for the household and its nareizigers) which is refused and followed by a new one two
 * weeks later, the acceptance 3 days after a fitting offer, the lease signed a week after the
 * acceptance with the sleuteloverdracht two weeks after it. Nothing happens until the clock is
 * advanced (`POST /_sim/clock {"advanceDays": 7}` or `{"date": "YYYY-MM-DD"}`); every answer that
 * falls due is sent to the hub's corporatie API through the simulator kit's notifier, with
 * retries and `Retry-After`. Everything is in memory; `/_sim` has no authentication, hence
 * loopback by default.
 */
import { createHash } from 'node:crypto';
import { ibanFor } from '@ketenhub/kit/privacy';
import type {
  WoningcorporatieAanbod,
  WoningcorporatieAcceptatie,
  WoningcorporatieHuurcontract,
  WoningcorporatieWeigering,
  WoningcorporatieZoektocht,
} from '@ketenhub/contracts/generated/woningcorporatie';
import {
  addDays,
  startPlannedSimulator,
  type PlannedSimStats,
  type PlannedSimulator,
  type PlannedSimulatorOptions,
  type Scheduled,
} from '@ketenhub/simulator-kit';

const ZOEKTOCHT_SCHEMA = 'https://contracts.ketenhub.nl/woningcorporatie/zoektocht.schema.json';

/** The hub's corporatie API: one path per kind of answer. */
export const ANSWER_PATHS = {
  aanbod: '/v1/aanbiedingen',
  acceptatie: '/v1/acceptaties',
  weigering: '/v1/weigeringen',
  huurcontract: '/v1/huurcontracten',
} as const;
export type AnswerKind = keyof typeof ANSWER_PATHS;

type AnswerBody =
  | WoningcorporatieAanbod
  | WoningcorporatieAcceptatie
  | WoningcorporatieWeigering
  | WoningcorporatieHuurcontract;

/** One answer planned for a zoektocht, sent on its day. */
export type PlannedAnswer = Scheduled<AnswerKind, AnswerBody>;

export interface SimZoektocht {
  zoektocht: WoningcorporatieZoektocht;
  ontvangenOp: string;
  plan: PlannedAnswer[];
}

export type WoningcorporatieSimStats = PlannedSimStats<AnswerKind, 'answers'>;

export interface WoningcorporatieSimulator extends Omit<
  PlannedSimulator<AnswerKind, SimZoektocht, 'answers'>,
  'requests'
> {
  /** Zoektochten accepted, once per Idempotency-Key, in arrival order (a change replaces). */
  zoektochten(): SimZoektocht[];
}

/** Its options; `id`, the corporatie it plays, defaults to `woningcorporatie`. */
export type WoningcorporatieSimulatorOptions = PlannedSimulatorOptions;

/** A number from the zoektocht id, so the same zoektocht always gets the same story. */
function seed(zoektochtId: string, salt: string): number {
  return createHash('sha256').update(`${salt}:${zoektochtId}`).digest().readUInt32BE(0);
}

const STRATEN = [
  'Kerkstraat',
  'Molenweg',
  'Schoolstraat',
  'Dorpsstraat',
  'Beukenlaan',
  'Julianastraat',
];

/** Rooms a household needs: a living room, one bedroom for the adults, one per two children. */
export function kamersNodig(z: WoningcorporatieZoektocht): number {
  const leden = [...z.huishouden.leden, ...(z.nareizigers.leden ?? [])];
  const kinderen = leden.filter((l) => l.rol === 'kind').length;
  const personen = Math.max(z.huishouden.omvang + z.nareizigers.aantal, leden.length);
  const volwassenen = Math.max(1, personen - kinderen);
  return Math.min(15, 1 + Math.ceil(volwassenen / 2) + Math.ceil(kinderen / 2));
}

/** Where a corporatie's tenants pay the rent: its account and the name it is held in. */
export interface Rekening {
  tenaamstelling: string;
  iban: string;
}

/** The account of the corporatie a simulator plays: the same for the same id, a valid NL IBAN. */
export function rekeningOf(id: string): Rekening {
  const n = createHash('sha256').update(`rekening:${id}`).digest().readBigUInt64BE(0);
  return {
    tenaamstelling: id.charAt(0).toUpperCase() + id.slice(1),
    iban: ibanFor('NL', `RABO${String(n % 10_000_000_000n).padStart(10, '0')}`),
  };
}

/** The corporatie's story for one zoektocht, from the day it arrived. */
export function planFor(
  z: WoningcorporatieZoektocht,
  ontvangenOp: string,
  rekening: Rekening = rekeningOf('woningcorporatie'),
): PlannedAnswer[] {
  const s = seed(z.zoektochtId, 'plan');
  const nodig = kamersNodig(z);
  const woning = (n: number, kamers: number) => ({
    adres: {
      straat: STRATEN[(s + n) % STRATEN.length]!,
      huisnummer: 1 + ((s >>> 3) % 180) + n,
      postcode: `${7400 + ((s >>> 5) % 500)}${'ABCDEFGH'[(s + n) % 8]}K`,
      woonplaats: z.voorkeurKern ?? 'Centrum',
    },
    huurprijsCent: 52_000 + kamers * 6_500 + ((s >>> 7) % 40) * 100,
    aantalKamers: kamers,
  });
  const plan: PlannedAnswer[] = [];
  const base = { zoektochtId: z.zoektochtId };
  let dag = ontvangenOp;
  let offer = 1;
  // An offer after 3 to 9 weeks.
  dag = addDays(dag, 21 + (s % 43));
  if (s % 3 === 0 && nodig > 2) {
    // A home that does not fit the household with its nareizigers: refused, a new offer later.
    const aanbodId = `AB-${z.zoektochtId.slice(3, 11)}-${offer++}`;
    const te = woning(0, nodig - 1);
    plan.push({
      kind: 'aanbod',
      datum: dag,
      sent: false,
      body: { ...base, aanbodId, ...te, ingangsdatum: addDays(dag, 21), aangebodenOp: dag },
    });
    dag = addDays(dag, 5);
    plan.push({
      kind: 'weigering',
      datum: dag,
      sent: false,
      body: {
        ...base,
        aanbodId,
        geweigerdOp: dag,
        reden: 'te-klein',
        toelichting: 'te weinig slaapkamers voor het huishouden met nareizigers',
      },
    });
    dag = addDays(dag, 14);
  }
  const aanbodId = `AB-${z.zoektochtId.slice(3, 11)}-${offer}`;
  const past = woning(1, nodig);
  const geaccepteerd = addDays(dag, 3);
  const sleutel = addDays(geaccepteerd, 14);
  plan.push({
    kind: 'aanbod',
    datum: dag,
    sent: false,
    body: { ...base, aanbodId, ...past, ingangsdatum: sleutel, aangebodenOp: dag },
  });
  plan.push({
    kind: 'acceptatie',
    datum: geaccepteerd,
    sent: false,
    body: { ...base, aanbodId, geaccepteerdOp: geaccepteerd },
  });
  const getekend = addDays(geaccepteerd, 7);
  plan.push({
    kind: 'huurcontract',
    datum: getekend,
    sent: false,
    body: {
      ...base,
      aanbodId,
      adres: past.adres,
      huurprijsCent: past.huurprijsCent,
      betaling: { ...rekening, kenmerk: `HUUR ${aanbodId}` },
      ingangsdatum: sleutel,
      sleuteloverdracht: sleutel,
      getekendOp: getekend,
    },
  });
  return plan;
}

export async function startWoningcorporatieSimulator(
  opts: WoningcorporatieSimulatorOptions = {},
): Promise<WoningcorporatieSimulator> {
  const rekening = rekeningOf(opts.id ?? 'woningcorporatie');
  const { requests, ...sim } = await startPlannedSimulator(opts, {
    partner: 'woningcorporatie',
    paths: ANSWER_PATHS,
    describe: (body: AnswerBody) => ({ zoektochtId: body.zoektochtId }),
    path: '/zoektochten',
    schemaId: ZOEKTOCHT_SCHEMA,
    what: 'zoektocht',
    idOf: (r: WoningcorporatieZoektocht) => r.zoektochtId,
    plan: (z, ontvangenOp) => planFor(z, ontvangenOp, rekening),
    answer: (r) => ({ zoektochtId: r.zoektochtId }),
    list: {
      path: '/_sim/zoektochten',
      view: (r): SimZoektocht => ({
        zoektocht: r.request,
        ontvangenOp: r.ontvangenOp,
        plan: r.plan,
      }),
    },
    statsKey: 'answers',
  });
  return { ...sim, zoektochten: requests };
}
