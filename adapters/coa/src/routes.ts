import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { CoaKoppeling, CoaWarmeOverdracht } from '@ketenhub/contracts/generated';
import {
  ForbiddenError,
  childSpan,
  formatTraceparent,
  mayProduce,
  parseTraceparent,
  requireGemeente,
  requireKind,
  type Event,
  type Logger,
} from '@ketenhub/kit';
import {
  GEKOPPELD,
  OVERGEDRAGEN,
  koppelingToEvent,
  overdrachtToEvent,
  type TranslateContext,
} from './translate.ts';
import { translateTvsCsv } from './tvs-csv.ts';

export interface CoaRouteDeps {
  ctx: TranslateContext;
  /** Publishes to JetStream and resolves when the stream has stored the event. */
  publish: (event: Event<unknown>, traceparent: string) => Promise<void>;
  logger: Logger;
  /** Events of one CSV published at the same time (the stream acks each). */
  csvPublishConcurrency?: number;
}

function traceFor(request: FastifyRequest): string {
  const header = request.headers.traceparent;
  return formatTraceparent(childSpan(parseTraceparent(Array.isArray(header) ? header[0] : header)));
}

function assertMayProduce(request: FastifyRequest, type: string): void {
  const principal = requireKind(request, 'coa');
  if (!mayProduce(principal.kind, type)) {
    throw new ForbiddenError(`credential ${principal.id} may not deliver ${type}`, {
      field: 'type',
      rule: 'policy levert',
    });
  }
}

/**
 * COA's inbound API (see adapters/coa/openapi.yaml): a 202 means the event is stored in
 * JetStream and will reach the gemeente; anything short of that is an error the partner sees.
 */
export function registerCoaRoutes(app: FastifyInstance, deps: CoaRouteDeps): void {
  const { ctx, publish } = deps;

  app.post('/v1/koppelingen', async (request, reply) => {
    assertMayProduce(request, GEKOPPELD);
    const event = koppelingToEvent(request.body as CoaKoppeling, ctx);
    requireGemeente(request, event.gemeente, 'gemeenteCode');
    await publish(event, traceFor(request));
    return reply.code(202).send({ eventId: event.id, type: event.type });
  });

  app.post('/v1/overdrachten', async (request, reply) => {
    assertMayProduce(request, OVERGEDRAGEN);
    const event = overdrachtToEvent(request.body as CoaWarmeOverdracht, ctx);
    requireGemeente(request, event.gemeente, 'gemeenteCode');
    await publish(event, traceFor(request));
    return reply.code(202).send({ eventId: event.id, type: event.type });
  });

  app.post('/v1/tvs-export', async (request, reply) => {
    assertMayProduce(request, GEKOPPELD);
    if (typeof request.body !== 'string') {
      return reply.code(415).type('application/problem+json').send({
        type: 'https://ketenhub.nl/problems/unsupported-media-type',
        title: 'Unsupported media type',
        status: 415,
        detail: 'send the TVS export as text/csv',
      });
    }
    const result = translateTvsCsv(request.body, ctx);
    const principal = requireKind(request, 'coa');
    const accepted: { row: number; koppelingId: string; eventId: string }[] = [];
    const rejected = [...result.rejected];
    const allowed = result.accepted.filter((a) => {
      const ok = !principal.gemeenten || principal.gemeenten.includes(a.event.gemeente);
      if (!ok) {
        rejected.push({
          row: a.row,
          field: 'gemeente_code',
          rule: 'credential-scope',
          reason: 'this credential may not deliver for that gemeente',
        });
      }
      return ok;
    });
    const traceparent = traceFor(request);
    const concurrency = deps.csvPublishConcurrency ?? 256;
    // Every row is published before we answer: a 200 means every accepted row is stored.
    for (let i = 0; i < allowed.length; i += concurrency) {
      const batch = allowed.slice(i, i + concurrency);
      await Promise.all(batch.map((a) => publish(a.event, traceparent)));
      for (const a of batch)
        accepted.push({ row: a.row, koppelingId: a.koppelingId, eventId: a.event.id });
    }
    rejected.sort((a, b) => a.row - b.row);
    deps.logger.info(
      { rows: result.rows, accepted: accepted.length, rejected: rejected.length },
      'TVS export',
    );
    return reply.code(200).send({ rows: result.rows, accepted, rejected });
  });
}
