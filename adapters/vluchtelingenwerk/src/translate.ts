import { schemas } from '@ketenhub/contracts';
import type {
  BegeleidingAangevraagd,
  BegeleidingBeeindigd,
  BegeleidingGestart,
  BegeleidingVoortgang,
  PvtOndertekend,
  PvtOndertekeningGemeld,
  PvtWorkshopGevolgd,
} from '@ketenhub/contracts/generated';
import type {
  VluchtelingenwerkAanvraag,
  VluchtelingenwerkBeeindiging,
  VluchtelingenwerkContactmoment,
  VluchtelingenwerkOndertekening,
  VluchtelingenwerkStart,
  VluchtelingenwerkWorkshop,
} from '@ketenhub/contracts/generated/vluchtelingenwerk';
import { ValidationError, buildEvent, nameBasedUuid, type Event } from '@ketenhub/kit';
import { assertContract } from '@ketenhub/kit/privacy';
import type { Begeleiding } from './begeleiding.ts';
import type { PvtBevestiging } from './settings.ts';

export const VLUCHTELINGENWERK_PARTNER = 'vluchtelingenwerk';

export const AANGEVRAAGD = 'nl.inburgering.begeleiding.aangevraagd';
export const GESTART = 'nl.inburgering.begeleiding.gestart';
export const VOORTGANG = 'nl.inburgering.begeleiding.voortgang';
export const BEEINDIGD = 'nl.inburgering.begeleiding.beeindigd';
export const WORKSHOP_GEVOLGD = 'nl.inburgering.pvt.workshop-gevolgd';
export const ONDERTEKENING_GEMELD = 'nl.inburgering.pvt.ondertekening-gemeld';
export const ONDERTEKEND = 'nl.inburgering.pvt.ondertekend';

export const SCHEMA = {
  aanvraag: 'https://contracts.ketenhub.nl/vluchtelingenwerk/aanvraag.schema.json',
  start: 'https://contracts.ketenhub.nl/vluchtelingenwerk/start.schema.json',
  contactmoment: 'https://contracts.ketenhub.nl/vluchtelingenwerk/contactmoment.schema.json',
  beeindiging: 'https://contracts.ketenhub.nl/vluchtelingenwerk/beeindiging.schema.json',
  workshop: 'https://contracts.ketenhub.nl/vluchtelingenwerk/workshop.schema.json',
  ondertekening: 'https://contracts.ketenhub.nl/vluchtelingenwerk/ondertekening.schema.json',
} as const;

/**
 * The aanvraag as the vluchtelingenwerk policy lets it out → what the office gets. `aanvraag`
 * is the projection (no inburgeraarId, no aanvraagId); the begeleiding pseudonym replaces the
 * person. Built field by field, so nothing the projection might hold beyond the contract is
 * copied, and checked against the office's contract before it is sent.
 */
export function aanvraagToBegeleiding(
  aanvraag: Partial<BegeleidingAangevraagd>,
  ids: { begeleidingId: string; berichtId: string },
): VluchtelingenwerkAanvraag {
  const body: VluchtelingenwerkAanvraag = {
    berichtId: ids.berichtId,
    begeleidingId: ids.begeleidingId,
    gemeenteCode: aanvraag.gemeenteCode!,
    onderdelen: [...aanvraag.onderdelen!] as VluchtelingenwerkAanvraag['onderdelen'],
    startwens: aanvraag.startwens!,
    ...(aanvraag.pvtUiterlijk ? { pvtUiterlijk: aanvraag.pvtUiterlijk } : {}),
    ...(aanvraag.huishouden
      ? {
          huishouden: {
            leden: aanvraag.huishouden.leden.map((l) => ({
              rol: l.rol,
              leeftijd: l.leeftijd,
            })) as NonNullable<VluchtelingenwerkAanvraag['huishouden']>['leden'],
            nareizigers: aanvraag.huishouden.nareizigers,
          },
        }
      : {}),
    contactpersoon: {
      naam: aanvraag.contactpersoon!.naam,
      ...(aanvraag.contactpersoon!.telefoon ? { telefoon: aanvraag.contactpersoon!.telefoon } : {}),
      ...(aanvraag.contactpersoon!.email ? { email: aanvraag.contactpersoon!.email } : {}),
    },
  };
  assertContract(SCHEMA.aanvraag, body, 'the begeleiding aanvraag contract');
  return body;
}

/**
 * The id of the aanvraag message for one aanvraag version at one office; also the
 * Idempotency-Key. From the aanvraag event's scoped id (kit `scopedEventIdOf`), so no KVS can
 * choose another gemeente's.
 */
export function berichtIdFor(scopedAanvraagId: string, vestiging: string): string {
  return nameBasedUuid(`vluchtelingenwerk:${vestiging}:aanvraag:${scopedAanvraagId}`);
}

export interface InboundContext {
  /** `urn:nld:oin:<hub OIN>:systeem:vluchtelingenwerk`. */
  source: string;
  now?: () => Date;
}

function chainEvent<D>(type: string, key: string, b: Begeleiding, data: D, ctx: InboundContext) {
  const event = buildEvent<D>({
    // The same report sent twice is the same event (Nats-Msg-Id dedup and the KVS's 409).
    id: nameBasedUuid(`vluchtelingenwerk:${b.vestiging}:${key}`),
    type,
    source: ctx.source,
    gemeente: b.gemeente,
    data,
    ...(ctx.now ? { time: ctx.now() } : {}),
  });
  const violations = schemas().validateEvent(event);
  if (violations.length > 0)
    throw new ValidationError('does not fit the chain contract', violations);
  return event;
}

/** What every report event says about its aanvraag: person, gemeente, aanvraag, office. */
const about = (b: Begeleiding) => ({
  inburgeraarId: b.inburgeraarId,
  gemeenteCode: b.gemeente,
  aanvraagId: b.aanvraagId,
  vestiging: b.vestiging,
});

export function startToEvent(
  msg: VluchtelingenwerkStart,
  b: Begeleiding,
  ctx: InboundContext,
): Event<BegeleidingGestart> {
  assertContract(SCHEMA.start, msg, 'the start contract');
  return chainEvent<BegeleidingGestart>(
    GESTART,
    `start:${msg.begeleidingId}`,
    b,
    { ...about(b), startdatum: msg.startdatum },
    ctx,
  );
}

export function contactmomentToEvent(
  msg: VluchtelingenwerkContactmoment,
  b: Begeleiding,
  ctx: InboundContext,
): Event<BegeleidingVoortgang> {
  assertContract(SCHEMA.contactmoment, msg, 'the contactmoment contract');
  return chainEvent<BegeleidingVoortgang>(
    VOORTGANG,
    `contactmoment:${msg.begeleidingId}:${msg.contactmomentId}`,
    b,
    {
      ...about(b),
      contactmomentId: msg.contactmomentId,
      datum: msg.datum,
      soort: msg.soort,
      domeinen: [...msg.domeinen],
    },
    ctx,
  );
}

export function beeindigingToEvent(
  msg: VluchtelingenwerkBeeindiging,
  b: Begeleiding,
  ctx: InboundContext,
): Event<BegeleidingBeeindigd> {
  assertContract(SCHEMA.beeindiging, msg, 'the beeindiging contract');
  return chainEvent<BegeleidingBeeindigd>(
    BEEINDIGD,
    `beeindiging:${msg.begeleidingId}`,
    b,
    { ...about(b), einddatum: msg.einddatum, reden: msg.reden },
    ctx,
  );
}

export function workshopToEvent(
  msg: VluchtelingenwerkWorkshop,
  b: Begeleiding,
  ctx: InboundContext,
): Event<PvtWorkshopGevolgd> {
  assertContract(SCHEMA.workshop, msg, 'the workshop contract');
  return chainEvent<PvtWorkshopGevolgd>(
    WORKSHOP_GEVOLGD,
    `workshop:${msg.begeleidingId}:${msg.sessieId}`,
    b,
    { ...about(b), sessieId: msg.sessieId, datum: msg.datum, deel: msg.deel, uren: msg.uren },
    ctx,
  );
}

/**
 * The signing, by the gemeente's rule (docs/adr/0020-vluchtelingenwerk-pvt-bevestiging.md):
 * `direct` → nl.inburgering.pvt.ondertekend, the event the DUO module registers at DUO and the
 * KVS receives; `kvs` → nl.inburgering.pvt.ondertekening-gemeld, which only the KVS receives and
 * confirms by sending its own pvt.ondertekend. The event id is the same under either rule, so a
 * signing reported again after the rule changed is not published a second time.
 */
export function ondertekeningToEvent(
  msg: VluchtelingenwerkOndertekening,
  b: Begeleiding,
  ctx: InboundContext,
  regel: PvtBevestiging,
): Event<PvtOndertekend> | Event<PvtOndertekeningGemeld> {
  assertContract(SCHEMA.ondertekening, msg, 'the ondertekening contract');
  const key = `ondertekening:${msg.begeleidingId}:${msg.datumOndertekening}`;
  if (regel === 'direct') {
    // DUO's PVT resource as the gemeente would register it: the date; no verwijtbaarheid, which
    // is the gemeente's judgement, not VluchtelingenWerk's.
    return chainEvent<PvtOndertekend>(
      ONDERTEKEND,
      key,
      b,
      {
        inburgeraarId: b.inburgeraarId,
        gemeenteCode: b.gemeente,
        datumOndertekening: msg.datumOndertekening,
      },
      ctx,
    );
  }
  return chainEvent<PvtOndertekeningGemeld>(
    ONDERTEKENING_GEMELD,
    key,
    b,
    { ...about(b), datumOndertekening: msg.datumOndertekening },
    ctx,
  );
}
