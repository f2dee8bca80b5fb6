import type { FastifyInstance } from 'fastify';
import type {
  WoningcorporatieAanbod,
  WoningcorporatieAcceptatie,
  WoningcorporatieHuurcontract,
  WoningcorporatieWeigering,
} from '@ketenhub/contracts/generated/woningcorporatie';
import {
  ValidationError,
  inboundRoute,
  type Event,
  type InboundDeps,
  type Violation,
} from '@ketenhub/kit';
import {
  AANGEBODEN,
  GEACCEPTEERD,
  GETEKEND,
  GEWEIGERD,
  SCHEMA,
  WONINGCORPORATIE_PARTNER,
  aanbodToEvent,
  acceptatieToEvent,
  huurcontractViolations,
  huurcontractToEvent,
  weigeringToEvent,
  type InboundContext,
} from './translate.ts';
import type { Zoektocht, ZoektochtStore } from './zoektocht.ts';

export interface WoningcorporatieRouteDeps extends InboundDeps {
  ctx: InboundContext;
  zoektochten: ZoektochtStore;
}

const UNKNOWN_ZOEKTOCHT: Violation = {
  field: 'zoektochtId',
  rule: 'known zoektocht',
  message: 'no zoektocht with this zoektochtId was sent to this woningcorporatie',
};

/**
 * The zoektocht of a corporatie's message, only when the hub sent it to that corporatie: an
 * unknown zoektocht and another corporatie's get the same answer, so a key cannot probe other
 * corporaties. One of its own in a gemeente its credential is not bound to (any more) gets the
 * kit's 403 `credential-scope` after translation.
 */
async function zoektochtOf(
  deps: WoningcorporatieRouteDeps,
  zoektochtId: string,
  corporatie: string,
): Promise<Zoektocht> {
  const z = await deps.zoektochten.get(zoektochtId);
  if (!z || z.corporatie !== corporatie) {
    throw new ValidationError('unknown zoektocht', [UNKNOWN_ZOEKTOCHT]);
  }
  return z;
}

/** A corporatie's answer about one of its zoektochten, through the kit's inbound recipe. */
function answer<M extends { zoektochtId: string }>(
  app: FastifyInstance,
  deps: WoningcorporatieRouteDeps,
  route: {
    url: string;
    type: string;
    schema: string;
    check?: (msg: M) => Violation[];
    toEvent: (msg: M, z: Zoektocht, ctx: InboundContext) => Event<unknown>;
  },
): void {
  inboundRoute<M>(
    app,
    {
      url: route.url,
      kind: WONINGCORPORATIE_PARTNER,
      what: route.type,
      produces: [route.type],
      schema: route.schema,
      ...(route.check ? { check: route.check } : {}),
      gemeenteField: 'zoektochtId',
      async translate(msg, { principal }) {
        return route.toEvent(msg, await zoektochtOf(deps, msg.zoektochtId, principal.id), deps.ctx);
      },
    },
    deps,
  );
}

/**
 * The corporatie-facing API (adapters/woningcorporatie/README.md): an offer, the household's
 * acceptance or refusal, and the signed lease, each about a zoektocht the hub sent that
 * corporatie. 202 means the chain event is stored in JetStream and will reach the gemeente.
 */
export function registerWoningcorporatieRoutes(
  app: FastifyInstance,
  deps: WoningcorporatieRouteDeps,
): void {
  answer<WoningcorporatieAanbod>(app, deps, {
    url: '/v1/aanbiedingen',
    type: AANGEBODEN,
    schema: SCHEMA.aanbod,
    toEvent: aanbodToEvent,
  });
  answer<WoningcorporatieAcceptatie>(app, deps, {
    url: '/v1/acceptaties',
    type: GEACCEPTEERD,
    schema: SCHEMA.acceptatie,
    toEvent: acceptatieToEvent,
  });
  answer<WoningcorporatieWeigering>(app, deps, {
    url: '/v1/weigeringen',
    type: GEWEIGERD,
    schema: SCHEMA.weigering,
    toEvent: weigeringToEvent,
  });
  answer<WoningcorporatieHuurcontract>(app, deps, {
    url: '/v1/huurcontracten',
    type: GETEKEND,
    schema: SCHEMA.huurcontract,
    check: huurcontractViolations,
    toEvent: huurcontractToEvent,
  });
}
