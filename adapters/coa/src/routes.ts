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
import { streamTvsCsv, type RejectedRow } from './tvs-csv.ts';

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
    const principal = requireKind(request, 'coa');
    const traceparent = traceFor(request);
    const concurrency = deps.csvPublishConcurrency ?? 256;
    const accepted: { row: number; koppelingId: string; eventId: string }[] = [];
    const rejected: RejectedRow[] = [];
    let rows = 0;
    // Rows are translated and published a batch at a time, so memory stays flat whatever the
    // size of the export; the next batch is translated while the previous one is being stored.
    // Every row is published before we answer: a 200 means every accepted row is stored.
    type Accepted = { row: number; koppelingId: string; event: Event<unknown> };
    let batch: Accepted[] = [];
    let storing: Promise<void> = Promise.resolve();
    const flush = async () => {
      const full = batch;
      batch = [];
      await storing;
      storing = Promise.all(full.map((a) => publish(a.event, traceparent))).then(() => {
        for (const a of full)
          accepted.push({ row: a.row, koppelingId: a.koppelingId, eventId: a.event.id });
      });
      // Awaited at the next flush; until then a failure must not count as unhandled.
      storing.catch(() => undefined);
    };
    for await (const outcome of streamTvsCsv(request.body, ctx)) {
      rows++;
      if ('rejected' in outcome) {
        rejected.push(outcome.rejected);
      } else if (principal.gemeenten && !principal.gemeenten.includes(outcome.event.gemeente)) {
        rejected.push({
          row: outcome.row,
          field: 'gemeente_code',
          rule: 'credential-scope',
          reason: 'this credential may not deliver for that gemeente',
        });
      } else {
        batch.push(outcome);
        if (batch.length >= concurrency) await flush();
      }
    }
    await flush();
    await storing;
    rejected.sort((a, b) => a.row - b.row);
    deps.logger.info({ rows, accepted: accepted.length, rejected: rejected.length }, 'TVS export');
    return reply.code(200).send({ rows, accepted, rejected });
  });
}
