/**
 * The admin API's routes: right of access, dead letters, alerts and flow state for system
 * administrators and privacy officers. Every route needs an `admin` credential; a credential
 * bound to gemeenten sees and touches only their data (a gemeente's privacy officer). Answers
 * carry ids, reasons and counts, and for an inzage the disclosures about one person; never a
 * message body. Registered on a kit HTTP edge by module.ts; openapi.yaml documents them.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { PolicySet } from '@ketenhub/contracts';
import {
  ValidationError,
  requireGemeente,
  requireKind,
  type Logger,
  type UrenLedger,
} from '@ketenhub/kit';
import { bsnProblem, normaliseVnummer } from '@ketenhub/kit/privacy';
import {
  disclosuresFor,
  flowOverview,
  getDeadLetter,
  inzagePseudonyms,
  latestAlerts,
  listDeadLetters,
  publicDeadLetter,
  replayDeadLetter,
  type DeadLetterFilter,
  type StoredDeadLetter,
} from '@ketenhub/kit/operations';

export const ADMIN_KIND = 'admin';

export interface AdminRouteDeps {
  js: JetStreamClient;
  jsm: JetStreamManager;
  policySet: PolicySet;
  /** Pseudonym keys to try for an inzage: the current one, and the previous during a rotation. */
  pseudonymKeys: string[];
  /** The hours ledger: what DUO is told the person followed, by source (shown in the inzage). */
  uren: Pick<UrenLedger, 'forPersons'>;
  /** The gemeenten the hub serves: where an unbound administrator's inzage looks. */
  served: string[];
  logger: Logger;
}

const GEMEENTE = { type: 'string', pattern: '^gm[0-9]{4}$' } as const;
const NAME = { type: 'string', pattern: '^[a-z0-9][a-z0-9.-]{0,80}$' } as const;
/** Replays per request: a larger backlog is replayed by filter, which has no such limit. */
const MAX_REPLAY_SEQS = 1000;

interface InzageBody {
  bsn?: string;
  vnummer?: string;
  gemeente?: string;
  includeFailed?: boolean;
}

interface DeadLetterQuery {
  gemeente?: string;
  partner?: string;
  service?: string;
  type?: string;
}

interface ReplayBody extends DeadLetterQuery {
  seqs?: number[];
  all?: boolean;
}

function notFound(message: string): Error {
  // The edge answers `statusCode` errors as problem+json with that status.
  return Object.assign(new Error(message), { statusCode: 404 });
}

/**
 * The gemeenten a request may read: the one it asks for (403 when outside the caller's scope),
 * else the caller's scope; undefined = every gemeente (an unbound administrator).
 */
function gemeentenFor(request: FastifyRequest, asked: string | undefined): string[] | undefined {
  const principal = requireKind(request, ADMIN_KIND);
  if (asked !== undefined) {
    requireGemeente(request, asked);
    return [asked];
  }
  return principal.gemeenten;
}

/** May the caller see this dead letter? A letter without a gemeente only for unbound callers. */
function assertLetterInScope(request: FastifyRequest, letter: StoredDeadLetter, field: string) {
  // 'none' is what dead-letter subjects say for a letter without a gemeente; no scope holds it.
  requireGemeente(request, letter.gemeente ?? 'none', field);
}

async function lettersIn(
  deps: AdminRouteDeps,
  filter: DeadLetterFilter,
  gemeenten: string[] | undefined,
): Promise<StoredDeadLetter[]> {
  if (!gemeenten) return listDeadLetters(deps.js, deps.jsm, filter);
  // One listing per gemeente: the server reads only that gemeente's letters.
  const out: StoredDeadLetter[] = [];
  for (const gemeente of gemeenten) {
    out.push(...(await listDeadLetters(deps.js, deps.jsm, { ...filter, gemeente })));
  }
  return out.sort((a, b) => a.seq - b.seq);
}

function filterOf(q: DeadLetterQuery): DeadLetterFilter {
  return {
    ...(q.service ? { service: q.service } : {}),
    ...(q.partner ? { partner: q.partner } : {}),
    ...(q.type ? { eventType: q.type } : {}),
  };
}

export function registerAdminRoutes(app: FastifyInstance, deps: AdminRouteDeps): void {
  // POST, not GET: the BSN travels in the body, so it never lands in a URL, a proxy's access
  // log or the browser history.
  app.post<{ Body: InzageBody }>(
    '/api/inzage',
    {
      schema: {
        body: {
          type: 'object',
          properties: {
            bsn: { type: 'string' },
            vnummer: { type: 'string' },
            gemeente: GEMEENTE,
            includeFailed: { type: 'boolean' },
          },
          additionalProperties: false,
        },
      },
    },
    async (request, reply) => {
      const principal = requireKind(request, ADMIN_KIND);
      const { bsn, gemeente, includeFailed } = request.body;
      if (!bsn && !request.body.vnummer) {
        throw new ValidationError('give the BSN (and the V-nummer when it was known first)', [
          { field: 'bsn', rule: 'required', message: 'is required (or vnummer)' },
        ]);
      }
      const problem = bsn ? bsnProblem(bsn) : undefined;
      if (problem) {
        throw new ValidationError(`bsn ${problem}`, [
          { field: 'bsn', rule: 'elfproef', message: problem },
        ]);
      }
      // A bad V-nummer is a ValidationError naming the field (kit: one rule for every edge).
      const vnummer = request.body.vnummer
        ? normaliseVnummer(request.body.vnummer, 'vnummer')
        : undefined;
      const gemeenten = gemeentenFor(request, gemeente);
      const betrokkenen = inzagePseudonyms({ bsn, vnummer }, deps.pseudonymKeys);
      const disclosures = await disclosuresFor(deps.js, deps.jsm, deps.policySet, {
        betrokkenen,
        ...(gemeenten ? { gemeenten } : {}),
        includeFailed: includeFailed === true,
      });
      // Beside what was disclosed, what the hub keeps to tell DUO: the hours by source.
      const uren = await deps.uren.forPersons(betrokkenen, gemeenten ?? deps.served);
      // Who asked and how much was found: the person (BSN, pseudonym) is not named here.
      request.log.info(
        { admin: principal.id, gemeenten: gemeenten ?? 'all', count: disclosures.length },
        'inzage answered',
      );
      void reply.header('cache-control', 'no-store');
      return { count: disclosures.length, disclosures, uren };
    },
  );

  app.get<{ Querystring: DeadLetterQuery }>(
    '/api/dead-letters',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: { gemeente: GEMEENTE, partner: NAME, service: NAME, type: NAME },
          additionalProperties: false,
        },
      },
    },
    async (request) => {
      const gemeenten = gemeentenFor(request, request.query.gemeente);
      const letters = await lettersIn(deps, filterOf(request.query), gemeenten);
      return { count: letters.length, deadLetters: letters.map(publicDeadLetter) };
    },
  );

  app.get<{ Params: { seq: string } }>(
    '/api/dead-letters/:seq',
    {
      schema: {
        params: {
          type: 'object',
          required: ['seq'],
          properties: { seq: { type: 'string', pattern: '^[1-9][0-9]{0,15}$' } },
        },
      },
    },
    async (request) => {
      requireKind(request, ADMIN_KIND);
      const seq = Number(request.params.seq);
      const letter = await getDeadLetter(deps.jsm, seq);
      if (!letter) throw notFound(`no dead letter ${seq}`);
      assertLetterInScope(request, letter, 'seq');
      return publicDeadLetter(letter);
    },
  );

  app.post<{ Body: ReplayBody }>(
    '/api/dead-letters/replay',
    {
      schema: {
        body: {
          type: 'object',
          properties: {
            seqs: {
              type: 'array',
              minItems: 1,
              maxItems: MAX_REPLAY_SEQS,
              uniqueItems: true,
              items: { type: 'integer', minimum: 1 },
            },
            all: { type: 'boolean' },
            gemeente: GEMEENTE,
            partner: NAME,
            service: NAME,
            type: NAME,
          },
          additionalProperties: false,
        },
      },
    },
    async (request) => {
      const principal = requireKind(request, ADMIN_KIND);
      const { seqs, all, ...query } = request.body;
      const filtered = all === true || Object.keys(query).length > 0;
      if (seqs && filtered) {
        throw new ValidationError('give seqs, or a filter / all, not both', [
          { field: 'seqs', rule: 'exclusive', message: 'is not allowed with all or a filter' },
        ]);
      }
      if (!seqs && !filtered) {
        throw new ValidationError('replay what? give seqs, a filter, or all: true', [
          { field: 'seqs', rule: 'required', message: 'is required without all or a filter' },
        ]);
      }

      const letters: StoredDeadLetter[] = [];
      const failed: { seq: number; error: string }[] = [];
      if (seqs) {
        // Every letter is checked before any is replayed: a request with one letter outside
        // the caller's gemeenten replays none.
        for (const seq of seqs) {
          const letter = await getDeadLetter(deps.jsm, seq);
          if (!letter) failed.push({ seq, error: 'not found' });
          else {
            assertLetterInScope(request, letter, 'seqs');
            letters.push(letter);
          }
        }
      } else {
        const gemeenten = gemeentenFor(request, query.gemeente);
        letters.push(...(await lettersIn(deps, filterOf(query), gemeenten)));
      }

      const replayed: number[] = [];
      for (const letter of letters) {
        try {
          await replayDeadLetter(deps.js, deps.jsm, letter);
          replayed.push(letter.seq);
        } catch (err) {
          // Another replay of the same letter got there first, or NATS failed: reported, and the
          // rest still goes.
          failed.push({ seq: letter.seq, error: (err as Error).message });
        }
      }
      request.log.info(
        { admin: principal.id, replayed: replayed.length, failed: failed.length },
        'dead letters replayed',
      );
      return { replayed, failed };
    },
  );

  app.get('/api/alerts', async (request) => {
    const principal = requireKind(request, ADMIN_KIND);
    const alerts = await latestAlerts(deps.jsm, {
      limit: 100,
      ...(principal.gemeenten ? { gemeenten: principal.gemeenten } : {}),
    });
    return { count: alerts.length, alerts };
  });

  app.get('/api/flows', async (request) => {
    const principal = requireKind(request, ADMIN_KIND);
    return flowOverview(deps.jsm, principal.gemeenten ? { gemeenten: principal.gemeenten } : {});
  });
}
