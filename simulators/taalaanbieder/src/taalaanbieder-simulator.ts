import { schemas } from '@ketenhub/contracts';
import type { TaalaanbiederAanmelding } from '@ketenhub/contracts/generated/taalaanbieder';
import { createSimServer } from '@ketenhub/simulator-kit';
import type {
  DeliveryStats,
  FaultInput,
  SimControls,
  SimulatorLogger,
} from '@ketenhub/simulator-kit';
import { SCHEMA } from '@ketenhub/adapter-taalaanbieder';

export type { FaultInput };

/**
 * A taalaanbieder as the demo and the tests need one: a real HTTP server that takes the hub's
 * aanmeldingen (POST /aanmeldingen, checked against the contract, idempotent on the
 * Idempotency-Key) and, on `POST /_sim/tick`, reports a week of lessons for every learner back
 * to the hub with its own key: progress per skill, hours (JSON or one CSV) and some absence.
 * Faults on the aanmeldingen (the simulator kit's, scoped by the aanmelding's gemeente),
 * `/health`, `/_sim/faults`, `/_sim/stats` and `/_sim/reset` come from the simulator kit.
 */
export interface TaalaanbiederSimulatorOptions {
  /** The school's id in the hub's config. */
  id: string;
  host?: string;
  port?: number;
  /** Base URL of the hub's school API (…/v1 is appended per call); settable later. */
  hubUrl?: string;
  /** The school's key at the hub. */
  hubApiKey?: string;
  /** Bearer token the hub must present; empty = none checked. */
  token?: string;
  /** Today as an ISO date; injectable for tests. */
  today?: () => string;
  logger?: SimulatorLogger;
}

export interface TickOptions {
  /** Send the hours as one CSV upload instead of a JSON call per learner. */
  csv?: boolean;
  /** Rows with mistakes appended to the CSV (each reported back by the hub). */
  csvBadRows?: number;
  /** Report absence for every learner (default: every other learner). */
  verzuimAll?: boolean;
}

export interface TickReport {
  learners: number;
  voortgang: { sent: number; accepted: number };
  uren: { sent: number; accepted: number };
  verzuim: { sent: number; accepted: number };
  /** The hub's per-row answer to the CSV upload. */
  csv?: { rows: number; accepted: unknown[]; rejected: { row: number; field: string }[] };
}

/**
 * With the kit's DeliveryStats: `received` the aanmeldingen taken (one per idempotency key),
 * `duplicates` the repeats.
 */
export interface TaalaanbiederStats extends DeliveryStats {
  id: string;
  /** Idempotency keys taken. */
  aanmeldingen: number;
  trajecten: number;
  /** Deliveries of aanmeldingen (including repeats answered idempotently), not faulted ones. */
  deliveries: number;
  /** Deliveries of an aanmelding id the school already had, answered idempotently. */
  repeats: number;
  /** Deliveries answered by an injected fault. */
  faulted: number;
}

/**
 * The simulator; its faults (`injectFault`) are the simulator kit's, on `POST /aanmeldingen`
 * with `scope.gemeente` the aanmelding's `gemeenteCode`; `reset` forgets learners,
 * aanmeldingen, counters and faults.
 */
export interface TaalaanbiederSimulator extends SimControls {
  id: string;
  /** Base URL of the school's API (the hub's `partners.taalaanbieder.organisations[].endpoint.url`). */
  url: string;
  aanmeldingen(): TaalaanbiederAanmelding[];
  /** Deliveries of aanmeldingen (including repeats answered idempotently). */
  deliveries(): number;
  stats(): TaalaanbiederStats;
  setHub(url: string, apiKey: string): void;
  tick(opts?: TickOptions): Promise<TickReport>;
  close(): Promise<void>;
}

const LEVELS = ['A0', 'A1', 'A2', 'B1', 'B2'] as const;
const SKILLS = ['lezen', 'luisteren', 'schrijven', 'spreken', 'knm'] as const;
const REDENEN = ['afgemeld', 'ongeoorloofd', 'ziek', 'overig'] as const;

interface Learner {
  aanmelding: TaalaanbiederAanmelding;
  weeks: number;
  uren: number;
}

function ddmmyyyy(iso: string): string {
  const [y, m, d] = iso.split('-');
  return `${d}-${m}-${y}`;
}

export async function startTaalaanbiederSimulator(
  opts: TaalaanbiederSimulatorOptions,
): Promise<TaalaanbiederSimulator> {
  const learners = new Map<string, Learner>();
  const byKey = new Map<string, string>();
  let deliveries = 0;
  let repeats = 0;
  let faulted = 0;
  const perAanmelding = new Map<string, { trajectId: string; deliveries: number }>();
  let hubUrl = opts.hubUrl;
  let hubApiKey = opts.hubApiKey;
  const today = opts.today ?? (() => new Date().toISOString().slice(0, 10));

  function clearState(): void {
    learners.clear();
    byKey.clear();
    perAanmelding.clear();
    deliveries = 0;
    repeats = 0;
    faulted = 0;
  }

  // What a demo reports: repeats are deliveries of an aanmelding id the school already had
  // (answered idempotently, not registered twice).
  const stats = (): TaalaanbiederStats => ({
    received: byKey.size,
    duplicates: repeats,
    id: opts.id,
    aanmeldingen: byKey.size,
    trajecten: learners.size,
    deliveries,
    repeats,
    faulted,
  });

  const server = createSimServer({
    name: 'taalaanbieder-simulator',
    scopes: { gemeente: { pattern: '^gm[0-9]{4}$' } },
    stats,
    reset: clearState,
    // Only the hub's aanmeldingen, by the gemeente the aanmelding names (read from the body).
    scopeOf: (request) => {
      if (request.routeOptions.url !== '/aanmeldingen') return undefined;
      const code = (request.body as { gemeenteCode?: unknown } | undefined)?.gemeenteCode;
      return typeof code === 'string' ? { gemeente: code } : {};
    },
    onFault: () => {
      faulted++;
    },
  });
  const app = server.app;

  app.post('/aanmeldingen', async (request, reply) => {
    deliveries++;
    if (opts.token && request.headers.authorization !== `Bearer ${opts.token}`) {
      return reply.code(401).type('application/problem+json').send({
        type: 'https://ketenhub.nl/problems/unauthorized',
        title: 'Unauthorized',
        status: 401,
      });
    }
    const violations = schemas().validate(SCHEMA.aanmelding, request.body);
    if (violations.length > 0) {
      return reply
        .code(400)
        .type('application/problem+json')
        .send({
          type: 'https://ketenhub.nl/problems/validation',
          title: 'Invalid aanmelding',
          status: 400,
          errors: violations.map((v) => ({ field: v.field, rule: v.rule, message: v.message })),
        });
    }
    const a = request.body as TaalaanbiederAanmelding;
    const seen = perAanmelding.get(a.aanmeldingId);
    perAanmelding.set(a.aanmeldingId, {
      trajectId: a.trajectId,
      deliveries: (seen?.deliveries ?? 0) + 1,
    });
    const key = String(request.headers['idempotency-key'] ?? a.aanmeldingId);
    if (byKey.has(key)) {
      repeats++;
      return reply.code(200).send({ trajectId: byKey.get(key), herhaald: true });
    }
    byKey.set(key, a.trajectId);
    const known = learners.get(a.trajectId);
    // A changed PIP replaces the aanmelding of the same traject; progress so far is kept.
    learners.set(a.trajectId, { aanmelding: a, weeks: known?.weeks ?? 0, uren: known?.uren ?? 0 });
    return reply.code(201).send({ trajectId: a.trajectId });
  });

  app.get('/_sim/aanmeldingen', async () => [...learners.values()].map((l) => l.aanmelding));
  // Every aanmelding id received and how often: a demo matches its PIPs on the id.
  app.get('/_sim/ontvangen', async () =>
    [...perAanmelding].map(([aanmeldingId, v]) => ({ aanmeldingId, ...v })),
  );

  async function send(path: string, body: unknown, contentType = 'application/json') {
    if (!hubUrl || !hubApiKey) throw new Error(`simulator ${opts.id}: no hub URL or key set`);
    const res = await fetch(`${hubUrl}/v1/${path}`, {
      method: 'POST',
      headers: { 'content-type': contentType, authorization: `Bearer ${hubApiKey}` },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json().catch(() => undefined)) as unknown };
  }

  async function tick(t: TickOptions = {}): Promise<TickReport> {
    const report: TickReport = {
      learners: learners.size,
      voortgang: { sent: 0, accepted: 0 },
      uren: { sent: 0, accepted: 0 },
      verzuim: { sent: 0, accepted: 0 },
    };
    const peildatum = today();
    const csvLines = ['traject_id;peildatum;uren_totaal'];
    let i = 0;
    for (const [trajectId, l] of learners) {
      l.weeks++;
      l.uren += l.aanmelding.urenPerWeek ?? 10;
      const niveaus = Object.fromEntries(
        SKILLS.map((s, k) => [
          s,
          LEVELS[Math.min(LEVELS.length - 1, Math.floor((l.weeks + k) / 3))],
        ]),
      );
      report.voortgang.sent++;
      if ((await send('voortgang', { trajectId, peildatum, niveaus })).status === 202)
        report.voortgang.accepted++;
      if (t.csv) {
        csvLines.push(`${trajectId};${ddmmyyyy(peildatum)};${l.uren}`);
      } else {
        report.uren.sent++;
        if ((await send('uren', { trajectId, peildatum, urenTotaal: l.uren })).status === 202)
          report.uren.accepted++;
      }
      if (t.verzuimAll || i % 2 === 0) {
        report.verzuim.sent++;
        const verzuim = {
          trajectId,
          datum: peildatum,
          urenGemist: 2.5,
          reden: REDENEN[(l.weeks + i) % REDENEN.length],
        };
        if ((await send('verzuim', verzuim)).status === 202) report.verzuim.accepted++;
      }
      i++;
    }
    if (t.csv) {
      for (let b = 0; b < (t.csvBadRows ?? 0); b++) {
        // Mistakes a spreadsheet makes: a date that is not one, hours that are not a number.
        csvLines.push(
          b % 2 === 0
            ? `tr-${'0'.repeat(32)};31-02-2026;12`
            : `tr-${'0'.repeat(32)};01-03-2026;veel`,
        );
      }
      report.uren.sent += learners.size;
      const res = await send('uren.csv', `${csvLines.join('\n')}\n`, 'text/csv');
      if (res.status === 200) {
        report.csv = res.body as NonNullable<TickReport['csv']>;
        report.uren.accepted += report.csv.accepted.length;
      }
    }
    return report;
  }

  app.post('/_sim/tick', async (request) => tick((request.body ?? {}) as TickOptions));

  const listening = await server.listen({
    ...(opts.host === undefined ? {} : { host: opts.host }),
    port: opts.port ?? 0,
    ...(opts.logger ? { logger: opts.logger } : {}),
  });
  return {
    id: opts.id,
    url: listening.url,
    aanmeldingen: () => [...learners.values()].map((l) => l.aanmelding),
    deliveries: () => deliveries,
    stats,
    ...server.controls,
    setHub(url, apiKey) {
      hubUrl = url;
      hubApiKey = apiKey;
    },
    tick,
    close: listening.close,
  };
}
