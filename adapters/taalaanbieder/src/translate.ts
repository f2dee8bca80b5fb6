import { schemas } from '@ketenhub/contracts';
import type {
  LeerrouteAangemeld,
  LeerrouteUren,
  LeerrouteVerzuim,
  LeerrouteVoortgang,
  PipVastgesteld,
} from '@ketenhub/contracts/generated';
import type {
  TaalaanbiederAanmelding,
  TaalaanbiederUren,
  TaalaanbiederVerzuim,
  TaalaanbiederVoortgang,
} from '@ketenhub/contracts/generated/taalaanbieder';
import { ValidationError, buildEvent, nameBasedUuid, type Event } from '@ketenhub/kit';
import { assertContract } from '@ketenhub/kit/privacy';
import type { Traject } from './traject.ts';

export const TAALAANBIEDER_PARTNER = 'taalaanbieder';

export const PIP_VASTGESTELD = 'nl.inburgering.pip.vastgesteld';
export const AANGEMELD = 'nl.inburgering.leerroute.aangemeld';
export const VOORTGANG = 'nl.inburgering.leerroute.voortgang';
export const UREN = 'nl.inburgering.leerroute.uren';
export const VERZUIM = 'nl.inburgering.leerroute.verzuim';

export const SCHEMA = {
  aanmelding: 'https://contracts.ketenhub.nl/taalaanbieder/aanmelding.schema.json',
  voortgang: 'https://contracts.ketenhub.nl/taalaanbieder/voortgang.schema.json',
  uren: 'https://contracts.ketenhub.nl/taalaanbieder/uren.schema.json',
  verzuim: 'https://contracts.ketenhub.nl/taalaanbieder/verzuim.schema.json',
  urenCsvRow: 'https://contracts.ketenhub.nl/taalaanbieder/uren-csv-row.schema.json',
} as const;

/** The hours a school reports are lessons unless it says otherwise (DUO: participatietaalles). */
export const DEFAULT_UREN_SOORT = 'participatie-als-taalles';

/**
 * The PIP as the taalaanbieder policy lets it out → the aanmelding. `pip` is the projection
 * (no inburgeraarId, no BSN); the traject pseudonym replaces the person. A PIP without name
 * cannot be an aanmelding: the school could not invite anyone.
 */
export function pipToAanmelding(
  pip: Partial<PipVastgesteld>,
  ids: { trajectId: string; aanmeldingId: string },
): TaalaanbiederAanmelding {
  if (!pip.deelnemer) {
    throw new ValidationError('a PIP for a taalaanbieder needs the deelnemer', [
      { field: 'data.deelnemer', rule: 'required', message: 'name of the learner is missing' },
    ]);
  }
  const aanmelding: TaalaanbiederAanmelding = {
    aanmeldingId: ids.aanmeldingId,
    trajectId: ids.trajectId,
    gemeenteCode: pip.gemeenteCode!,
    deelnemer: { ...pip.deelnemer },
    leerroute: pip.leerroute!,
    ...(pip.niveau ? { niveau: pip.niveau } : {}),
    ...(pip.startdatumLeerroute ? { startdatum: pip.startdatumLeerroute } : {}),
    ...(pip.urenPerWeek ? { urenPerWeek: pip.urenPerWeek } : {}),
    ...(pip.alfabetisering ? { alfabetisering: pip.alfabetisering } : {}),
  };
  assertContract(SCHEMA.aanmelding, aanmelding, 'the aanmelding contract');
  return aanmelding;
}

/**
 * The id of the aanmelding for one PIP version at one school; also the Idempotency-Key. From the
 * PIP event's scoped id (kit `scopedEventIdOf`), so no KVS can choose another gemeente's.
 */
export function aanmeldingIdFor(scopedPipId: string, taalaanbieder: string): string {
  return nameBasedUuid(`taalaanbieder:${taalaanbieder}:aanmelding:${scopedPipId}`);
}

export interface InboundContext {
  /** `urn:nld:oin:<hub OIN>:systeem:taalaanbieder`. */
  source: string;
  now?: () => Date;
}

/** The school accepted the aanmelding: the KVS learns where the learner is registered. */
export function aangemeldEvent(
  pip: Event<PipVastgesteld>,
  taalaanbieder: string,
  ctx: InboundContext,
): Event<LeerrouteAangemeld> {
  const now = ctx.now?.() ?? new Date();
  const d = pip.data;
  return buildEvent<LeerrouteAangemeld>({
    id: nameBasedUuid(`taalaanbieder:${taalaanbieder}:aangemeld:${pip.id}`),
    type: AANGEMELD,
    source: ctx.source,
    gemeente: pip.gemeente,
    time: now,
    data: {
      inburgeraarId: d.inburgeraarId,
      gemeenteCode: d.gemeenteCode,
      taalaanbieder,
      pipId: d.pipId,
      leerroute: d.leerroute,
      ...(d.niveau ? { niveau: d.niveau } : {}),
      ...(d.startdatumLeerroute ? { startdatum: d.startdatumLeerroute } : {}),
      aangemeldOp: now.toISOString(),
    },
  });
}

function chainEvent<D>(type: string, key: string, traject: Traject, data: D, ctx: InboundContext) {
  const event = buildEvent<D>({
    // The same report sent twice is the same event (Nats-Msg-Id dedup and the KVS's 409).
    id: nameBasedUuid(`taalaanbieder:${traject.taalaanbieder}:${key}`),
    type,
    source: ctx.source,
    gemeente: traject.gemeente,
    data,
    ...(ctx.now ? { time: ctx.now() } : {}),
  });
  const violations = schemas().validateEvent(event);
  if (violations.length > 0)
    throw new ValidationError('does not fit the chain contract', violations);
  return event;
}

export function voortgangToEvent(
  msg: TaalaanbiederVoortgang,
  traject: Traject,
  ctx: InboundContext,
): Event<LeerrouteVoortgang> {
  assertContract(SCHEMA.voortgang, msg, 'the voortgang contract');
  return chainEvent<LeerrouteVoortgang>(
    VOORTGANG,
    // Skills in a fixed order: the same report with its skills listed otherwise is the same event.
    `voortgang:${msg.trajectId}:${msg.peildatum}:${JSON.stringify(Object.entries(msg.niveaus).sort())}`,
    traject,
    {
      inburgeraarId: traject.inburgeraarId,
      gemeenteCode: traject.gemeente,
      taalaanbieder: traject.taalaanbieder,
      peildatum: msg.peildatum,
      niveaus: { ...msg.niveaus },
    },
    ctx,
  );
}

export function urenToEvent(
  msg: TaalaanbiederUren,
  traject: Traject,
  ctx: InboundContext,
): Event<LeerrouteUren> {
  assertContract(SCHEMA.uren, msg, 'the uren contract');
  const soort = msg.soort ?? DEFAULT_UREN_SOORT;
  return chainEvent<LeerrouteUren>(
    UREN,
    `uren:${msg.trajectId}:${soort}:${msg.peildatum}:${msg.urenTotaal}`,
    traject,
    {
      inburgeraarId: traject.inburgeraarId,
      gemeenteCode: traject.gemeente,
      soort,
      urenTotaal: msg.urenTotaal,
      peildatum: msg.peildatum,
      taalaanbieder: traject.taalaanbieder,
    },
    ctx,
  );
}

export function verzuimToEvent(
  msg: TaalaanbiederVerzuim,
  traject: Traject,
  ctx: InboundContext,
): Event<LeerrouteVerzuim> {
  assertContract(SCHEMA.verzuim, msg, 'the verzuim contract');
  return chainEvent<LeerrouteVerzuim>(
    VERZUIM,
    `verzuim:${msg.trajectId}:${msg.datum}:${msg.urenGemist}:${msg.reden}`,
    traject,
    {
      inburgeraarId: traject.inburgeraarId,
      gemeenteCode: traject.gemeente,
      taalaanbieder: traject.taalaanbieder,
      datum: msg.datum,
      urenGemist: msg.urenGemist,
      reden: msg.reden,
    },
    ctx,
  );
}
