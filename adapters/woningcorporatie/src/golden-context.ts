/**
 * The fixed context of the golden translations (fixtures/golden), shared by the conformance
 * suite and the unit tests: a zoektocht as the store holds it, a clock, the ids.
 */
import type { WoningAangevraagd } from '@ketenhub/contracts/generated';
import type {
  WoningcorporatieHuurcontract,
  WoningcorporatieWeigering,
} from '@ketenhub/contracts/generated/woningcorporatie';
import { buildEvent } from '@ketenhub/kit';
import { createProjector } from '@ketenhub/kit/privacy';
import {
  AANGEVRAAGD,
  WONINGCORPORATIE_PARTNER,
  aanvraagToZoektocht,
  huurcontractToEvent,
  weigeringToEvent,
} from './translate.ts';
import type { Zoektocht } from './zoektocht.ts';

export const GOLDEN_IDS = {
  zoektochtId: 'wz-0123456789abcdef0123456789abcdef',
  berichtId: '4b3c2a1e-0000-4000-8000-000000000001',
};

export const GOLDEN_ZOEKTOCHT: Zoektocht = {
  inburgeraarId: 'ih-0123456789abcdef0123456789abcdef',
  gemeente: 'gm0797',
  aanvraagId: 'WA-2026-0042',
  corporatie: 'woonstede',
};

export const GOLDEN_CTX = {
  source: 'urn:nld:oin:00000001234567890000:systeem:woningcorporatie',
  now: () => new Date('2026-11-24T10:00:00.000Z'),
};

/** The aanvraag's data as an event through the woningcorporatie policy, then the zoektocht. */
export function goldenZoektocht(data: unknown) {
  const d = data as WoningAangevraagd;
  const event = buildEvent({
    id: '4b3c2a1e-0000-4000-8000-0000000000aa',
    type: AANGEVRAAGD,
    source: 'urn:nld:oin:00000001234567890000:systeem:gemeente-kvs',
    gemeente: d.gemeenteCode,
    data: d,
  });
  const disclosure = createProjector(WONINGCORPORATIE_PARTNER).project(event);
  return aanvraagToZoektocht(disclosure!.event.data as Partial<WoningAangevraagd>, GOLDEN_IDS);
}

export const GOLDEN_CASES = {
  'aanvraag-naar-zoektocht': goldenZoektocht,
  'huurcontract-naar-event': (msg: unknown) =>
    huurcontractToEvent(msg as WoningcorporatieHuurcontract, GOLDEN_ZOEKTOCHT, GOLDEN_CTX),
  'weigering-naar-event': (msg: unknown) =>
    weigeringToEvent(msg as WoningcorporatieWeigering, GOLDEN_ZOEKTOCHT, GOLDEN_CTX),
};
