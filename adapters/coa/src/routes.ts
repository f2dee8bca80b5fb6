import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { CoaKoppeling, CoaWarmeOverdracht } from '@ketenhub/contracts/generated/coa';
import {
  ForbiddenError,
  isCsvBody,
  isRetryable,
  problem,
  inboundRoute,
  requireKind,
  traceparentFor,
  type Event,
  type AcceptOptions,
  type InboundDeps,
  type Problem,
  type ProblemError,
} from '@ketenhub/kit';
import { mayProduce } from '@ketenhub/kit/privacy';
import {
  GEKOPPELD,
  KOPPELING_SCHEMA,
  OVERDRACHT_SCHEMA,
  OVERGEDRAGEN,
  koppelingToEvent,
  overdrachtToEvent,
  type TranslateContext,
} from './translate.ts';
import { csvField, streamTvsCsv, type RejectedRow } from './tvs-csv.ts';

export const COA_PARTNER = 'coa';

export interface CoaRouteDeps extends InboundDeps {
  ctx: TranslateContext;
  /** Events of one CSV published at the same time (the stream acks each). */
  csvPublishConcurrency?: number;
}

/**
 * Once per COA id: the same koppeling again (also from the nightly CSV after a JSON push) is
 * accepted again; other content under the same id is a 409. `bron` (channel, message id) is how
 * it came, not what it says.
 */
export function coaReceipt(event: Event<unknown>): AcceptOptions {
  const { bron: _bron, ...content } = event.data as { bron?: unknown } & Record<string, unknown>;
  const [field, value] =
    typeof content.koppelingId === 'string'
      ? ['koppelingId', content.koppelingId]
      : ['overdrachtId', String(content.overdrachtId)];
  return {
    id: { field, value },
    content: { type: event.type, gemeente: event.gemeente, data: content },
  };
}

function assertMayProduce(request: FastifyRequest, type: string): void {
  const principal = requireKind(request, COA_PARTNER);
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

  const single = <B>(
    url: string,
    type: string,
    schema: string,
    toEvent: (b: B) => Event<unknown>,
  ) =>
    inboundRoute<B>(
      app,
      {
        url,
        kind: COA_PARTNER,
        what: type === GEKOPPELD ? 'koppeling' : 'warme overdracht',
        produces: [type],
        schema,
        translate: toEvent,
        gemeenteField: 'gemeenteCode',
        accept: coaReceipt,
      },
      deps,
    );
  single<CoaKoppeling>('/v1/koppelingen', GEKOPPELD, KOPPELING_SCHEMA, (b) =>
    koppelingToEvent(b, ctx),
  );
  single<CoaWarmeOverdracht>('/v1/overdrachten', OVERGEDRAGEN, OVERDRACHT_SCHEMA, (b) =>
    overdrachtToEvent(b, ctx),
  );

  app.post('/v1/tvs-export', async (request, reply) => {
    assertMayProduce(request, GEKOPPELD);
    const body = request.body;
    if (!isCsvBody(body)) {
      return reply.code(415).type('application/problem+json').send({
        type: 'https://ketenhub.nl/problems/unsupported-media-type',
        title: 'Unsupported media type',
        status: 415,
        detail: 'send the TVS export as text/csv',
      });
    }
    const principal = requireKind(request, COA_PARTNER);
    const traceparent = traceparentFor(request.headers);
    const concurrency = deps.csvPublishConcurrency ?? 256;
    const report: TvsReport = {
      rows: 0,
      accepted: new StoredRows(),
      rejected: [],
      notStored: new StoredRows(),
    };
    // Rows are read from the body as it arrives, translated and published a batch at a time, so
    // memory stays flat whatever the size of the export; the next batch is read while the
    // previous one is being stored. Each row's publish is settled on its own, so the answer can
    // say of every row whether it is stored. After the first failure to store, nothing more is
    // published: the rest is read and checked, and the good rows are reported not stored.
    let batch: Pending[] = [];
    let storing: Promise<void> = Promise.resolve();
    let storeFailure: unknown;
    const flush = async () => {
      const full = batch;
      batch = [];
      await storing;
      if (storeFailure !== undefined) {
        for (const a of full) report.notStored.add(a);
        return;
      }
      storing = Promise.allSettled(
        full.map((a) => publish(a.event, traceparent, coaReceipt(a.event))),
      ).then((results) =>
        results.forEach((result, i) => {
          const a = full[i]!;
          if (result.status === 'fulfilled') report.accepted.add(a);
          else if (isRowRefusal(result.reason)) report.rejected.push(refused(a, result.reason));
          else {
            storeFailure ??= result.reason;
            report.notStored.add(a);
          }
        }),
      );
    };
    let readFailure: unknown;
    let readUpTo = 0;
    try {
      for await (const outcome of streamTvsCsv(body, ctx)) {
        report.rows++;
        readUpTo = outcome.end;
        if ('rejected' in outcome) {
          report.rejected.push(outcome.rejected);
        } else if (principal.gemeenten && !principal.gemeenten.includes(outcome.event.gemeente)) {
          report.rejected.push({
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
    } catch (err) {
      // Nothing read, nothing stored (a bad header, a body over the limit): the error as it is.
      if (report.rows === 0) throw err;
      readFailure = err;
    }
    // The rows read before a failure are good rows: stored like the others.
    await flush();
    await storing;
    // Stored and not-stored rows come in row order (batches in turn, each in order); a row the
    // store refused came after rows rejected as they were read.
    report.rejected.sort((a, b) => a.row - b.row);
    const counts = {
      rows: report.rows,
      accepted: report.accepted.length,
      rejected: report.rejected.length,
      notStored: report.notStored.length,
    };
    if (readFailure === undefined && storeFailure === undefined) {
      deps.logger.info(counts, 'TVS export');
      return reply
        .code(200)
        .type('application/json; charset=utf-8')
        .send(reportJson({}, report, { notStored: false }));
    }
    // Part of the file is stored: the answer must say which part, whatever went wrong.
    const failure = readFailure ?? storeFailure;
    const status = statusOfFailure(failure);
    const partial = reportJson(
      { ...problemOf(failure, status), instance: `urn:uuid:${request.id}` },
      report,
      { notStored: true, ...(readFailure !== undefined ? { readUpTo } : {}) },
    );
    const log = { ...counts, status, err: status >= 500 ? failure : undefined };
    if (status >= 500) deps.logger.error(log, 'TVS export stopped part way');
    else deps.logger.info(log, 'TVS export stopped part way');
    return reply.code(status).type('application/problem+json').send(partial);
  });
}

/** An accepted row on its way to the stream. */
type Pending = { row: number; koppelingId: string; event: Event<unknown> };

/**
 * Rows with their koppelingId and event id, kept as three flat lists rather than an object per
 * row: a catch-up export of 700,000 rows lists every one of them in its answer.
 */
class StoredRows {
  readonly rows: number[] = [];
  readonly koppelingIds: string[] = [];
  readonly eventIds: string[] = [];
  get length(): number {
    return this.rows.length;
  }
  add(a: Pending): void {
    this.rows.push(a.row);
    this.koppelingIds.push(a.koppelingId);
    this.eventIds.push(a.event.id);
  }
}

/** Where each row of a TVS export ended up; every row read is in exactly one list. */
interface TvsReport {
  rows: number;
  accepted: StoredRows;
  rejected: RejectedRow[];
  /** Good rows the stream did not confirm: not stored, or not known to be. Send them again. */
  notStored: StoredRows;
}

/**
 * The report as JSON text (adapters/coa/openapi.yaml, TvsReport and TvsStopped) after the members
 * of `head`, a thousand rows at a time, so the answer to a large export is never one string.
 */
function reportJson(
  head: object,
  report: TvsReport,
  opts: { notStored: boolean; readUpTo?: number },
): Readable {
  function* storedRows(list: StoredRows): Generator<string> {
    for (let i = 0; i < list.length; i += 1000) {
      const end = Math.min(list.length, i + 1000);
      const items: string[] = [];
      for (let j = i; j < end; j++) {
        items.push(
          JSON.stringify({
            row: list.rows[j],
            koppelingId: list.koppelingIds[j],
            eventId: list.eventIds[j],
          }),
        );
      }
      yield `${i === 0 ? '' : ','}${items.join(',')}`;
    }
  }
  function* json(): Generator<string> {
    const start = JSON.stringify(head).slice(1, -1);
    yield `{${start}${start ? ',' : ''}"rows":${report.rows},"accepted":[`;
    yield* storedRows(report.accepted);
    yield `],"rejected":${JSON.stringify(report.rejected)}`;
    if (opts.notStored) {
      yield ',"notStored":[';
      yield* storedRows(report.notStored);
      yield ']';
    }
    if (opts.readUpTo !== undefined) yield `,"readUpTo":${opts.readUpTo}`;
    yield '}';
  }
  return Readable.from(json(), { objectMode: false });
}

/**
 * A publish refused for this row alone (the same koppelingId accepted before with other content,
 * an event too large to store): a rejected row. Anything retryable is the store failing.
 */
function isRowRefusal(err: unknown): boolean {
  const status = (err as { status?: unknown } | null)?.status;
  return !isRetryable(err) && typeof status === 'number' && status >= 400 && status < 500;
}

function refused(a: Pending, err: unknown): RejectedRow {
  const e = err as { status?: number; field?: unknown; rule?: unknown };
  return {
    row: a.row,
    field: typeof e.field === 'string' ? csvField(e.field) : '(row)',
    rule: typeof e.rule === 'string' ? e.rule : 'refused',
    // The error's own message may quote the row; the status says enough.
    reason:
      e.status === 409
        ? 'was accepted before with other content; send a change under a new koppeling_id'
        : 'the hub cannot store this row',
  };
}

function statusOfFailure(err: unknown): number {
  const e = err as { status?: unknown; statusCode?: unknown; retryable?: unknown } | null;
  const status = typeof e?.retryable === 'boolean' ? e.status : e?.statusCode;
  return typeof status === 'number' && status >= 400 && status <= 599 ? status : 503;
}

/** The problem document of a stopped upload: the violations of a 4xx, nothing internal of a 5xx. */
function problemOf(err: unknown, status: number): Problem {
  if (status >= 500) {
    return problem(
      status,
      undefined,
      'storing stopped part way: the rows in accepted are stored, the rows in notStored are not; ' +
        'send those again (the same row twice is one event)',
    );
  }
  const e = err as { message?: unknown; violations?: unknown };
  const violations = Array.isArray(e.violations) ? (e.violations as ProblemError[]) : undefined;
  return problem(
    status,
    violations && status === 400 ? 'Validation failed' : undefined,
    typeof e.message === 'string' ? e.message : undefined,
    violations?.map(({ field, rule, message }) => ({ field, rule, message })),
  );
}
