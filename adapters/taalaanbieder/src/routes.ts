import type { FastifyInstance, FastifyRequest } from 'fastify';
import type {
  TaalaanbiederUren,
  TaalaanbiederVerzuim,
  TaalaanbiederVoortgang,
} from '@ketenhub/contracts/generated/taalaanbieder';
import {
  ForbiddenError,
  ValidationError,
  csvText,
  inboundRoute,
  isCsvBody,
  requireKind,
  traceparentFor,
  type Event,
  type InboundDeps,
} from '@ketenhub/kit';
import { mayProduce } from '@ketenhub/kit/privacy';
import type { Traject, TrajectStore } from './traject.ts';
import {
  SCHEMA,
  TAALAANBIEDER_PARTNER,
  UREN,
  VERZUIM,
  VOORTGANG,
  urenToEvent,
  verzuimToEvent,
  voortgangToEvent,
  type InboundContext,
} from './translate.ts';
import { parseUrenCsv, type RejectedRow } from './uren-csv.ts';

export interface TaalaanbiederRouteDeps extends InboundDeps {
  ctx: InboundContext;
  trajecten: TrajectStore;
}

/** The school a request comes from: its credential's id is the school id (bound in the config). */
function schoolOf(request: FastifyRequest, type: string): string {
  const principal = requireKind(request, TAALAANBIEDER_PARTNER);
  if (!mayProduce(principal.kind, type)) {
    throw new ForbiddenError(`credential ${principal.id} may not deliver ${type}`, {
      field: 'type',
      rule: 'policy levert',
    });
  }
  return principal.id;
}

/**
 * The traject of a school's message, only when that school registered it: an unknown traject
 * and another school's traject get the same answer, so a key cannot probe other schools.
 */
async function trajectOf(
  deps: TaalaanbiederRouteDeps,
  trajectId: string,
  school: string,
): Promise<Traject | undefined> {
  const traject = await deps.trajecten.get(trajectId);
  return traject && traject.taalaanbieder === school ? traject : undefined;
}

const UNKNOWN_TRAJECT = {
  field: 'trajectId',
  rule: 'known traject',
  message: 'no aanmelding with this trajectId was sent to this taalaanbieder',
};

/** A school's message about one of its trajecten, through the kit's inbound recipe. */
function single<M extends { trajectId: string }>(
  app: FastifyInstance,
  deps: TaalaanbiederRouteDeps,
  url: string,
  type: string,
  schemaId: string,
  toEvent: (msg: M, traject: Traject, ctx: InboundContext) => Event<unknown>,
): void {
  inboundRoute<M>(
    app,
    {
      url,
      kind: TAALAANBIEDER_PARTNER,
      what: type,
      produces: [type],
      schema: schemaId,
      async translate(msg, { principal }) {
        const traject = await trajectOf(deps, msg.trajectId, principal.id);
        if (!traject) throw new ValidationError('unknown traject', [UNKNOWN_TRAJECT]);
        return toEvent(msg, traject, deps.ctx);
      },
    },
    deps,
  );
}

/**
 * The school-facing API (adapters/taalaanbieder/README.md): progress, hours (JSON or a CSV
 * spreadsheet) and absence, each about a traject the hub registered at that school. 202 means
 * the chain event is stored in JetStream and will reach the gemeente (and DUO for hours).
 */
export function registerTaalaanbiederRoutes(
  app: FastifyInstance,
  deps: TaalaanbiederRouteDeps,
): void {
  single<TaalaanbiederVoortgang>(
    app,
    deps,
    '/v1/voortgang',
    VOORTGANG,
    SCHEMA.voortgang,
    voortgangToEvent,
  );
  single<TaalaanbiederUren>(app, deps, '/v1/uren', UREN, SCHEMA.uren, urenToEvent);
  single<TaalaanbiederVerzuim>(app, deps, '/v1/verzuim', VERZUIM, SCHEMA.verzuim, verzuimToEvent);

  app.post('/v1/uren.csv', async (request, reply) => {
    const school = schoolOf(request, UREN);
    if (!isCsvBody(request.body)) {
      return reply.code(415).type('application/problem+json').send({
        type: 'https://ketenhub.nl/problems/unsupported-media-type',
        title: 'Unsupported media type',
        status: 415,
        detail: 'send the hours spreadsheet as text/csv',
      });
    }
    // A week's hours of one school: small enough (the edge's CSV limit) to read whole.
    const parsed = parseUrenCsv(await csvText(request.body));
    const traceparent = traceparentFor(request.headers);
    const rejected: RejectedRow[] = [...parsed.rejected];
    const accepted: { row: number; trajectId: string; eventId: string }[] = [];
    const events: { row: number; trajectId: string; event: Event<unknown> }[] = [];
    for (const { row, uren } of parsed.accepted) {
      const traject = await trajectOf(deps, uren.trajectId, school);
      if (!traject) {
        rejected.push({
          row,
          field: 'traject_id',
          rule: UNKNOWN_TRAJECT.rule,
          reason: UNKNOWN_TRAJECT.message,
        });
        continue;
      }
      events.push({ row, trajectId: uren.trajectId, event: urenToEvent(uren, traject, deps.ctx) });
    }
    // Every accepted row is stored before we answer: a 200 means none of them can be lost.
    await Promise.all(events.map((e) => deps.publish(e.event, traceparent)));
    for (const e of events)
      accepted.push({ row: e.row, trajectId: e.trajectId, eventId: e.event.id });
    rejected.sort((a, b) => a.row - b.row);
    deps.logger.info(
      { school, rows: parsed.rows, accepted: accepted.length, rejected: rejected.length },
      'hours CSV',
    );
    return reply.code(200).send({ rows: parsed.rows, accepted, rejected });
  });
}
