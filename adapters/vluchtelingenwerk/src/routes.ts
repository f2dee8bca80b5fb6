import type { FastifyInstance } from 'fastify';
import type {
  VluchtelingenwerkBeeindiging,
  VluchtelingenwerkContactmoment,
  VluchtelingenwerkOndertekening,
  VluchtelingenwerkStart,
  VluchtelingenwerkWorkshop,
} from '@ketenhub/contracts/generated/vluchtelingenwerk';
import {
  ValidationError,
  inboundRoute,
  type Event,
  type InboundDeps,
  type Violation,
} from '@ketenhub/kit';
import type { Begeleiding, BegeleidingStore, Onderdeel } from './begeleiding.ts';
import type { PvtBevestiging } from './settings.ts';
import {
  BEEINDIGD,
  GESTART,
  ONDERTEKEND,
  ONDERTEKENING_GEMELD,
  SCHEMA,
  VLUCHTELINGENWERK_PARTNER,
  VOORTGANG,
  WORKSHOP_GEVOLGD,
  beeindigingToEvent,
  contactmomentToEvent,
  ondertekeningToEvent,
  startToEvent,
  workshopToEvent,
  type InboundContext,
} from './translate.ts';

export interface VluchtelingenwerkRouteDeps extends InboundDeps {
  ctx: InboundContext;
  begeleidingen: BegeleidingStore;
  /** The gemeente's rule for a signing (partners.vluchtelingenwerk.settings.pvtBevestiging). */
  pvtBevestiging(gemeente: string): PvtBevestiging;
}

const UNKNOWN_BEGELEIDING: Violation = {
  field: 'begeleidingId',
  rule: 'known begeleiding',
  message: 'no begeleiding with this begeleidingId was sent to this VluchtelingenWerk office',
};

/**
 * The begeleiding of an office's report, only when the hub sent it to that office: an unknown
 * begeleiding and another office's get the same answer, so a key cannot probe other offices.
 * One of its own in a gemeente its credential is not bound to (any more) gets the kit's 403
 * `credential-scope` after translation. A report about a part the gemeente did not assign
 * (contact moments for a PVT-only aanvraag) is refused naming the rule.
 */
async function begeleidingOf(
  deps: VluchtelingenwerkRouteDeps,
  begeleidingId: string,
  vestiging: string,
  onderdeel: Onderdeel,
): Promise<Begeleiding> {
  const b = await deps.begeleidingen.get(begeleidingId);
  if (!b || b.vestiging !== vestiging) {
    throw new ValidationError('unknown begeleiding', [UNKNOWN_BEGELEIDING]);
  }
  if (!b.onderdelen.includes(onderdeel)) {
    throw new ValidationError(`${onderdeel} was not assigned for this begeleiding`, [
      {
        field: 'begeleidingId',
        rule: `${onderdeel} assigned`,
        message: `the gemeente assigned ${b.onderdelen.join(' and ')} only`,
      },
    ]);
  }
  return b;
}

/** An office's report about one of its begeleidingen, through the kit's inbound recipe. */
function report<M extends { begeleidingId: string }>(
  app: FastifyInstance,
  deps: VluchtelingenwerkRouteDeps,
  route: {
    url: string;
    what: string;
    produces: string[];
    schema: string;
    onderdeel: Onderdeel;
    toEvent: (msg: M, b: Begeleiding) => Event<unknown>;
  },
): void {
  inboundRoute<M>(
    app,
    {
      url: route.url,
      kind: VLUCHTELINGENWERK_PARTNER,
      what: route.what,
      produces: route.produces,
      schema: route.schema,
      gemeenteField: 'begeleidingId',
      async translate(msg, { principal }) {
        const b = await begeleidingOf(deps, msg.begeleidingId, principal.id, route.onderdeel);
        return route.toEvent(msg, b);
      },
    },
    deps,
  );
}

/**
 * The office-facing API (adapters/vluchtelingenwerk/README.md): the start, contact moments and
 * end of the maatschappelijke begeleiding, the PVT workshop parts and the signing, each about a
 * begeleiding the hub sent that office. 202 means the chain event is stored in JetStream and
 * will reach the gemeente (and, for a signing under the rule `direct`, DUO).
 */
export function registerVluchtelingenwerkRoutes(
  app: FastifyInstance,
  deps: VluchtelingenwerkRouteDeps,
): void {
  const { ctx } = deps;
  report<VluchtelingenwerkStart>(app, deps, {
    url: '/v1/starts',
    what: 'start',
    produces: [GESTART],
    schema: SCHEMA.start,
    onderdeel: 'maatschappelijke-begeleiding',
    toEvent: (msg, b) => startToEvent(msg, b, ctx),
  });
  report<VluchtelingenwerkContactmoment>(app, deps, {
    url: '/v1/contactmomenten',
    what: 'contactmoment',
    produces: [VOORTGANG],
    schema: SCHEMA.contactmoment,
    onderdeel: 'maatschappelijke-begeleiding',
    toEvent: (msg, b) => contactmomentToEvent(msg, b, ctx),
  });
  report<VluchtelingenwerkBeeindiging>(app, deps, {
    url: '/v1/beeindigingen',
    what: 'beeindiging',
    produces: [BEEINDIGD],
    schema: SCHEMA.beeindiging,
    onderdeel: 'maatschappelijke-begeleiding',
    toEvent: (msg, b) => beeindigingToEvent(msg, b, ctx),
  });
  report<VluchtelingenwerkWorkshop>(app, deps, {
    url: '/v1/workshops',
    what: 'workshop',
    produces: [WORKSHOP_GEVOLGD],
    schema: SCHEMA.workshop,
    onderdeel: 'pvt',
    toEvent: (msg, b) => workshopToEvent(msg, b, ctx),
  });
  report<VluchtelingenwerkOndertekening>(app, deps, {
    url: '/v1/ondertekeningen',
    what: 'ondertekening',
    produces: [ONDERTEKEND, ONDERTEKENING_GEMELD],
    schema: SCHEMA.ondertekening,
    onderdeel: 'pvt',
    toEvent: (msg, b) => ondertekeningToEvent(msg, b, ctx, deps.pvtBevestiging(b.gemeente)),
  });
}
