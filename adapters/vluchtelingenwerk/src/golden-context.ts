/**
 * The fixed context of the golden translations (fixtures/golden), shared by the conformance
 * suite and the unit tests: a begeleiding as the store holds it, a clock, the ids.
 */
import type { BegeleidingAangevraagd } from '@ketenhub/contracts/generated';
import type {
  VluchtelingenwerkContactmoment,
  VluchtelingenwerkOndertekening,
  VluchtelingenwerkWorkshop,
} from '@ketenhub/contracts/generated/vluchtelingenwerk';
import { buildEvent } from '@ketenhub/kit';
import { createProjector } from '@ketenhub/kit/privacy';
import type { Begeleiding } from './begeleiding.ts';
import {
  AANGEVRAAGD,
  VLUCHTELINGENWERK_PARTNER,
  aanvraagToBegeleiding,
  contactmomentToEvent,
  ondertekeningToEvent,
  workshopToEvent,
} from './translate.ts';

export const GOLDEN_IDS = {
  begeleidingId: 'vb-0123456789abcdef0123456789abcdef',
  berichtId: '4b3c2a1e-0000-4000-8000-000000000001',
};

export const GOLDEN_BEGELEIDING: Begeleiding = {
  inburgeraarId: 'ih-0123456789abcdef0123456789abcdef',
  gemeente: 'gm0797',
  aanvraagId: 'MB-2026-0042',
  vestiging: 'vwn-langstraat',
  onderdelen: ['maatschappelijke-begeleiding', 'pvt'],
};

export const GOLDEN_CTX = {
  source: 'urn:nld:oin:00000001234567890000:systeem:vluchtelingenwerk',
  now: () => new Date('2026-11-24T10:00:00.000Z'),
};

/** The aanvraag's data as an event through the vluchtelingenwerk policy, then the office's body. */
export function goldenBegeleiding(data: unknown) {
  const d = data as BegeleidingAangevraagd;
  const event = buildEvent({
    id: '4b3c2a1e-0000-4000-8000-0000000000aa',
    type: AANGEVRAAGD,
    source: 'urn:nld:oin:00000001234567890000:systeem:gemeente-kvs',
    gemeente: d.gemeenteCode,
    data: d,
  });
  const disclosure = createProjector(VLUCHTELINGENWERK_PARTNER).project(event);
  return aanvraagToBegeleiding(
    disclosure!.event.data as Partial<BegeleidingAangevraagd>,
    GOLDEN_IDS,
  );
}

export const GOLDEN_CASES = {
  'aanvraag-naar-begeleiding': goldenBegeleiding,
  'contactmoment-naar-event': (msg: unknown) =>
    contactmomentToEvent(msg as VluchtelingenwerkContactmoment, GOLDEN_BEGELEIDING, GOLDEN_CTX),
  'workshop-naar-event': (msg: unknown) =>
    workshopToEvent(msg as VluchtelingenwerkWorkshop, GOLDEN_BEGELEIDING, GOLDEN_CTX),
  'ondertekening-direct-naar-pvt-ondertekend': (msg: unknown) =>
    ondertekeningToEvent(
      msg as VluchtelingenwerkOndertekening,
      GOLDEN_BEGELEIDING,
      GOLDEN_CTX,
      'direct',
    ),
  'ondertekening-kvs-naar-gemeld': (msg: unknown) =>
    ondertekeningToEvent(
      msg as VluchtelingenwerkOndertekening,
      GOLDEN_BEGELEIDING,
      GOLDEN_CTX,
      'kvs',
    ),
};
