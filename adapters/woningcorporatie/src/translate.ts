import { schemas } from '@ketenhub/contracts';
import type {
  HuurcontractGetekend,
  WoningAangeboden,
  WoningAangevraagd,
  WoningGeaccepteerd,
  WoningGeweigerd,
} from '@ketenhub/contracts/generated';
import type {
  WoningcorporatieAanbod,
  WoningcorporatieAcceptatie,
  WoningcorporatieHuurcontract,
  WoningcorporatieWeigering,
  WoningcorporatieZoektocht,
} from '@ketenhub/contracts/generated/woningcorporatie';
import {
  ValidationError,
  buildEvent,
  nameBasedUuid,
  type Event,
  type Violation,
} from '@ketenhub/kit';
import { assertContract, moneyViolations } from '@ketenhub/kit/privacy';
import type { Zoektocht } from './zoektocht.ts';

export const WONINGCORPORATIE_PARTNER = 'woningcorporatie';

export const AANGEVRAAGD = 'nl.inburgering.woning.aangevraagd';
export const AANGEBODEN = 'nl.inburgering.woning.aangeboden';
export const GEACCEPTEERD = 'nl.inburgering.woning.geaccepteerd';
export const GEWEIGERD = 'nl.inburgering.woning.geweigerd';
export const GETEKEND = 'nl.inburgering.huurcontract.getekend';

export const SCHEMA = {
  zoektocht: 'https://contracts.ketenhub.nl/woningcorporatie/zoektocht.schema.json',
  aanbod: 'https://contracts.ketenhub.nl/woningcorporatie/aanbod.schema.json',
  acceptatie: 'https://contracts.ketenhub.nl/woningcorporatie/acceptatie.schema.json',
  weigering: 'https://contracts.ketenhub.nl/woningcorporatie/weigering.schema.json',
  huurcontract: 'https://contracts.ketenhub.nl/woningcorporatie/huurcontract.schema.json',
} as const;

/**
 * The aanvraag as the woningcorporatie policy lets it out → the woningzoektocht. `aanvraag` is
 * the projection (no inburgeraarId, no aanvraagId, no corporatie); the zoektocht pseudonym
 * replaces the person. The accessibility need goes only with the household's consent: the
 * schema allows it only with `toestemming: true`, and it is checked here again, so a projection
 * that somehow held it without consent is refused rather than sent.
 */
export function aanvraagToZoektocht(
  aanvraag: Partial<WoningAangevraagd>,
  ids: { zoektochtId: string; berichtId: string },
): WoningcorporatieZoektocht {
  if (aanvraag.toegankelijkheid && aanvraag.toegankelijkheid.toestemming !== true) {
    throw new ValidationError('an accessibility need goes only with consent', [
      {
        field: 'data.toegankelijkheid.toestemming',
        rule: 'const true',
        message: 'no consent',
      },
    ]);
  }
  const zoektocht: WoningcorporatieZoektocht = {
    berichtId: ids.berichtId,
    zoektochtId: ids.zoektochtId,
    gemeenteCode: aanvraag.gemeenteCode!,
    huishouden: {
      omvang: aanvraag.huishouden!.omvang,
      leden: aanvraag.huishouden!.leden.map((l) => ({
        rol: l.rol,
        leeftijd: l.leeftijd,
      })) as WoningcorporatieZoektocht['huishouden']['leden'],
    },
    nareizigers: {
      aantal: aanvraag.nareizigers!.aantal,
      ...(aanvraag.nareizigers!.leden
        ? {
            leden: aanvraag.nareizigers!.leden.map((l) => ({ rol: l.rol, leeftijd: l.leeftijd })),
          }
        : {}),
    },
    ...(aanvraag.toegankelijkheid
      ? {
          toegankelijkheid: {
            toestemming: true,
            behoeften: [...aanvraag.toegankelijkheid.behoeften],
          },
        }
      : {}),
    ...(aanvraag.voorkeurKern ? { voorkeurKern: aanvraag.voorkeurKern } : {}),
    ...(aanvraag.streefdatum ? { streefdatum: aanvraag.streefdatum } : {}),
    contactpersoon: { ...aanvraag.contactpersoon! },
  };
  assertContract(SCHEMA.zoektocht, zoektocht, 'the zoektocht contract');
  return zoektocht;
}

/**
 * The id of the zoektocht message for one aanvraag version at one corporatie; also the
 * Idempotency-Key. From the aanvraag event's scoped id (kit `scopedEventIdOf`), so no KVS can
 * choose another gemeente's.
 */
export function berichtIdFor(scopedAanvraagId: string, corporatie: string): string {
  return nameBasedUuid(`woningcorporatie:${corporatie}:zoektocht:${scopedAanvraagId}`);
}

export interface InboundContext {
  /** `urn:nld:oin:<hub OIN>:systeem:woningcorporatie`. */
  source: string;
  now?: () => Date;
}

/**
 * What the lease's schema cannot say: the keys are not handed over before the signing, and the
 * account the rent is paid to passes the IBAN check digits (kit `moneyViolations`, mod-97): the
 * Kredietbank pays the rent there, and a payment to a wrong account is hard to undo.
 */
export function huurcontractViolations(msg: WoningcorporatieHuurcontract): Violation[] {
  const dates: Violation[] =
    msg.sleuteloverdracht < msg.getekendOp
      ? [
          {
            field: 'sleuteloverdracht',
            rule: 'not before getekendOp',
            message: 'the keys are handed over on or after the signing',
          },
        ]
      : [];
  return [...dates, ...moneyViolations(msg)];
}

function chainEvent<D>(type: string, key: string, z: Zoektocht, data: D, ctx: InboundContext) {
  const event = buildEvent<D>({
    // The same answer sent twice is the same event (Nats-Msg-Id dedup and the KVS's 409).
    id: nameBasedUuid(`woningcorporatie:${z.corporatie}:${key}`),
    type,
    source: ctx.source,
    gemeente: z.gemeente,
    data,
    ...(ctx.now ? { time: ctx.now() } : {}),
  });
  const violations = schemas().validateEvent(event);
  if (violations.length > 0)
    throw new ValidationError('does not fit the chain contract', violations);
  return event;
}

/** What every answer event says about its aanvraag: person, gemeente, aanvraag, corporatie. */
const about = (z: Zoektocht, aanbodId: string) => ({
  inburgeraarId: z.inburgeraarId,
  gemeenteCode: z.gemeente,
  aanvraagId: z.aanvraagId,
  corporatie: z.corporatie,
  aanbodId,
});

export function aanbodToEvent(
  msg: WoningcorporatieAanbod,
  z: Zoektocht,
  ctx: InboundContext,
): Event<WoningAangeboden> {
  assertContract(SCHEMA.aanbod, msg, 'the aanbod contract');
  return chainEvent<WoningAangeboden>(
    AANGEBODEN,
    `aanbod:${msg.zoektochtId}:${msg.aanbodId}`,
    z,
    {
      ...about(z, msg.aanbodId),
      adres: { ...msg.adres },
      huurprijsCent: msg.huurprijsCent,
      ingangsdatum: msg.ingangsdatum,
      aantalKamers: msg.aantalKamers,
      aangebodenOp: msg.aangebodenOp,
    },
    ctx,
  );
}

export function acceptatieToEvent(
  msg: WoningcorporatieAcceptatie,
  z: Zoektocht,
  ctx: InboundContext,
): Event<WoningGeaccepteerd> {
  assertContract(SCHEMA.acceptatie, msg, 'the acceptatie contract');
  return chainEvent<WoningGeaccepteerd>(
    GEACCEPTEERD,
    `acceptatie:${msg.zoektochtId}:${msg.aanbodId}`,
    z,
    { ...about(z, msg.aanbodId), geaccepteerdOp: msg.geaccepteerdOp },
    ctx,
  );
}

export function weigeringToEvent(
  msg: WoningcorporatieWeigering,
  z: Zoektocht,
  ctx: InboundContext,
): Event<WoningGeweigerd> {
  assertContract(SCHEMA.weigering, msg, 'the weigering contract');
  return chainEvent<WoningGeweigerd>(
    GEWEIGERD,
    `weigering:${msg.zoektochtId}:${msg.aanbodId}`,
    z,
    {
      ...about(z, msg.aanbodId),
      geweigerdOp: msg.geweigerdOp,
      reden: msg.reden,
      ...(msg.toelichting ? { toelichting: msg.toelichting } : {}),
    },
    ctx,
  );
}

export function huurcontractToEvent(
  msg: WoningcorporatieHuurcontract,
  z: Zoektocht,
  ctx: InboundContext,
): Event<HuurcontractGetekend> {
  assertContract(SCHEMA.huurcontract, msg, 'the huurcontract contract');
  return chainEvent<HuurcontractGetekend>(
    GETEKEND,
    `huurcontract:${msg.zoektochtId}:${msg.aanbodId}`,
    z,
    {
      ...about(z, msg.aanbodId),
      adres: { ...msg.adres },
      huurprijsCent: msg.huurprijsCent,
      betaling: { ...msg.betaling },
      ingangsdatum: msg.ingangsdatum,
      sleuteloverdracht: msg.sleuteloverdracht,
      getekendOp: msg.getekendOp,
    },
    ctx,
  );
}
