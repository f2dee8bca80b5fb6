/**
 * Pushes a cohort into the hub's COA endpoint the way COA would: koppelingen as JSON pushes
 * and (a share of them) as one nightly TVS CSV export, then the warme overdracht of every adult
 * whose koppeling the hub accepted. Retryable failures are resent with the same body, so the
 * same berichtId and koppelingId: the hub derives the event id from the koppelingId (or overdrachtId), which makes a retry
 * after a lost answer safe.
 */

import type { CoaKoppeling, CoaWarmeOverdracht } from '@ketenhub/contracts/generated/coa';
import type { Cohort } from './cohort.ts';
import { toTvsCsv } from './tvs-csv.ts';

export type SendKind = 'koppeling' | 'overdracht';
export type SendChannel = 'json' | 'csv';

export interface SendAccepted {
  kind: SendKind;
  channel: SendChannel;
  koppelingId: string;
  /** 4 digits, as sent. */
  gemeenteCode: string;
  eventId: string;
}

export interface SendRejected {
  kind: SendKind;
  channel: SendChannel;
  koppelingId?: string;
  /** Row number as the hub's CSV report gives it. */
  row?: number;
  /** HTTP status of the last attempt; absent after network errors. */
  status?: number;
  field?: string;
  reason: string;
}

export interface SendSkipped {
  kind: 'overdracht';
  koppelingId: string;
  reason: string;
}

export interface SendReport {
  accepted: SendAccepted[];
  rejected: SendRejected[];
  /** Overdrachten not sent because their koppeling was not accepted. */
  skipped: SendSkipped[];
  durationMs: number;
}

export interface SendCohortOptions {
  /** The hub's COA endpoint base, e.g. http://127.0.0.1:4301. */
  baseUrl: string;
  apiKey: string;
  cohort: Cohort;
  /** Fraction of koppelingen sent in the TVS CSV export instead of as JSON; default 0.3. */
  csvShare?: number;
  /** Requests in flight at once; default 8. */
  concurrency?: number;
  fetchImpl?: typeof fetch;
  /** First retry delay; it doubles per attempt. Default 200 ms. */
  retryBaseMs?: number;
  /** Per attempt; a hung hub counts as a network error. Default 30 s. */
  timeoutMs?: number;
}

/** Resends after the first attempt; COA's own client gives up after this many. */
export const MAX_RETRIES = 5;
const MAX_DELAY_MS = 5_000;

interface Delivered {
  status: number;
  body: unknown;
  text: string;
}

interface Failed {
  status?: number;
  reason: string;
  field?: string;
}

type Outcome = { ok: true; res: Delivered } | { ok: false; failure: Failed };

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isObject(v: unknown): v is { [key: string]: unknown } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The field and reason out of an RFC 9457 problem document, as far as it has them. */
function describeProblem(status: number, body: unknown, text: string): Failed {
  if (!isObject(body)) {
    return { status, reason: `HTTP ${status}${text ? `: ${text.slice(0, 200)}` : ''}` };
  }
  const errors = Array.isArray(body.errors) ? body.errors.filter(isObject) : [];
  const first = errors[0];
  const title = typeof body.title === 'string' ? body.title : `HTTP ${status}`;
  const detail = typeof body.detail === 'string' ? body.detail : undefined;
  const listed = errors
    .map((e) => [e.field, e.rule, e.message].filter((x) => typeof x === 'string').join(' '))
    .filter((s) => s !== '');
  const reason = [title, detail, ...listed].filter((x) => x !== undefined && x !== '').join(': ');
  return {
    status,
    reason,
    ...(first && typeof first.field === 'string' ? { field: first.field } : {}),
  };
}

function retryAfterMs(res: Response): number | undefined {
  const header = res.headers.get('retry-after');
  if (header === null) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs `fn` over `items` with at most `limit` calls in flight. */
async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Koppelingen for the CSV export, spread evenly over the cohort: floor(n × share) of them. */
function splitForCsv(koppelingen: readonly CoaKoppeling[], share: number) {
  const json: CoaKoppeling[] = [];
  const csv: CoaKoppeling[] = [];
  koppelingen.forEach((k, i) => {
    (Math.floor((i + 1) * share) > Math.floor(i * share) ? csv : json).push(k);
  });
  return { json, csv };
}

export async function sendCohort(opts: SendCohortOptions): Promise<SendReport> {
  const started = Date.now();
  const csvShare = opts.csvShare ?? 0.3;
  const concurrency = opts.concurrency ?? 8;
  if (!(csvShare >= 0 && csvShare <= 1)) throw new RangeError('csvShare must be between 0 and 1');
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError('concurrency must be a positive integer');
  }
  const fetchImpl = opts.fetchImpl ?? fetch;
  const base = opts.baseUrl.replace(/\/+$/, '');
  const retryBaseMs = opts.retryBaseMs ?? 200;
  const timeoutMs = opts.timeoutMs ?? 30_000;

  const accepted: SendAccepted[] = [];
  const rejected: SendRejected[] = [];
  const skipped: SendSkipped[] = [];
  const acceptedKoppelingen = new Set<string>();

  async function post(path: string, body: string, contentType: string): Promise<Outcome> {
    let last: Failed = { reason: 'not sent' };
    for (let attempt = 0; attempt <= MAX_RETRIES; attempt++) {
      let wait = Math.min(MAX_DELAY_MS, retryBaseMs * 2 ** attempt);
      try {
        const res = await fetchImpl(`${base}${path}`, {
          method: 'POST',
          headers: {
            'content-type': contentType,
            accept: 'application/json, application/problem+json',
            authorization: `Bearer ${opts.apiKey}`,
          },
          body,
          signal: AbortSignal.timeout(timeoutMs),
        });
        const text = await res.text();
        const parsed = parseJson(text);
        if (res.status < 500 && res.status !== 429) {
          if (res.ok) return { ok: true, res: { status: res.status, body: parsed, text } };
          return { ok: false, failure: describeProblem(res.status, parsed, text) };
        }
        last = describeProblem(res.status, parsed, text);
        const asked = retryAfterMs(res);
        if (asked !== undefined) wait = Math.min(MAX_DELAY_MS, Math.max(wait, asked));
      } catch (err) {
        const e = err as Error;
        const cause = (e.cause as Error | undefined)?.message;
        last = {
          reason: `network error: ${e.name === 'TimeoutError' ? 'timed out' : e.message}${cause ? ` (${cause})` : ''}`,
        };
      }
      if (attempt < MAX_RETRIES) await sleep(wait);
    }
    return {
      ok: false,
      failure: { ...last, reason: `gave up after ${MAX_RETRIES + 1} attempts: ${last.reason}` },
    };
  }

  async function sendKoppeling(k: CoaKoppeling): Promise<void> {
    const out = await post('/v1/koppelingen', JSON.stringify(k), 'application/json');
    if (out.ok) {
      acceptedKoppelingen.add(k.koppelingId);
      accepted.push({
        kind: 'koppeling',
        channel: 'json',
        koppelingId: k.koppelingId,
        gemeenteCode: k.gemeenteCode,
        // A 2xx without an event id still means the hub has it; the id is then unknown.
        eventId:
          isObject(out.res.body) && typeof out.res.body.eventId === 'string'
            ? out.res.body.eventId
            : '',
      });
    } else {
      rejected.push({
        kind: 'koppeling',
        channel: 'json',
        koppelingId: k.koppelingId,
        ...out.failure,
      });
    }
  }

  async function sendExport(rows: CoaKoppeling[]): Promise<void> {
    const out = await post('/v1/tvs-export', toTvsCsv(rows), 'text/csv; charset=utf-8');
    if (!out.ok) {
      for (const k of rows) {
        rejected.push({
          kind: 'koppeling',
          channel: 'csv',
          koppelingId: k.koppelingId,
          ...out.failure,
        });
      }
      return;
    }
    const report = out.res.body;
    if (!isObject(report) || !Array.isArray(report.accepted) || !Array.isArray(report.rejected)) {
      for (const k of rows) {
        rejected.push({
          kind: 'koppeling',
          channel: 'csv',
          koppelingId: k.koppelingId,
          status: out.res.status,
          reason: 'the hub answered the TVS export without a readable report',
        });
      }
      return;
    }
    const byId = new Map(rows.map((k, i) => [k.koppelingId, { k, i }]));
    // The report numbers rows; accepted rows also name the koppeling, which tells how the
    // numbering maps onto the export so rejected rows can be named too.
    const offsets = new Set<number>();
    for (const a of report.accepted.filter(isObject)) {
      const hit = typeof a.koppelingId === 'string' ? byId.get(a.koppelingId) : undefined;
      if (!hit) continue;
      if (typeof a.row === 'number') offsets.add(a.row - hit.i);
      acceptedKoppelingen.add(hit.k.koppelingId);
      accepted.push({
        kind: 'koppeling',
        channel: 'csv',
        koppelingId: hit.k.koppelingId,
        gemeenteCode: hit.k.gemeenteCode,
        eventId: typeof a.eventId === 'string' ? a.eventId : '',
      });
    }
    const offset = offsets.size === 1 ? [...offsets][0] : undefined;
    const explained = new Set<string>();
    let unnamed = 0;
    for (const r of report.rejected.filter(isObject)) {
      const row = typeof r.row === 'number' ? r.row : undefined;
      const k = row !== undefined && offset !== undefined ? rows[row - offset] : undefined;
      if (k) explained.add(k.koppelingId);
      else unnamed++;
      rejected.push({
        kind: 'koppeling',
        channel: 'csv',
        ...(k ? { koppelingId: k.koppelingId } : {}),
        ...(row !== undefined ? { row } : {}),
        status: out.res.status,
        ...(typeof r.field === 'string' ? { field: r.field } : {}),
        reason: [r.rule, r.reason].filter((x) => typeof x === 'string').join(': ') || 'rejected',
      });
    }
    if (unnamed > 0) return;
    for (const k of rows) {
      if (acceptedKoppelingen.has(k.koppelingId) || explained.has(k.koppelingId)) continue;
      rejected.push({
        kind: 'koppeling',
        channel: 'csv',
        koppelingId: k.koppelingId,
        status: out.res.status,
        reason: "missing from the hub's report on the TVS export",
      });
    }
  }

  async function sendOverdracht(o: CoaWarmeOverdracht): Promise<void> {
    const out = await post('/v1/overdrachten', JSON.stringify(o), 'application/json');
    if (out.ok) {
      accepted.push({
        kind: 'overdracht',
        channel: 'json',
        koppelingId: o.koppelingId,
        gemeenteCode: o.gemeenteCode,
        eventId:
          isObject(out.res.body) && typeof out.res.body.eventId === 'string'
            ? out.res.body.eventId
            : '',
      });
    } else {
      rejected.push({
        kind: 'overdracht',
        channel: 'json',
        koppelingId: o.koppelingId,
        ...out.failure,
      });
    }
  }

  const { json, csv } = splitForCsv(opts.cohort.koppelingen, csvShare);
  // The export is one large request, so it takes one of the slots while the pushes run.
  await Promise.all([
    csv.length > 0 ? sendExport(csv) : Promise.resolve(),
    pool(json, csv.length > 0 ? Math.max(1, concurrency - 1) : concurrency, sendKoppeling),
  ]);

  // An overdracht refers to its koppeling, so it only goes out once that is accepted.
  const toSend: CoaWarmeOverdracht[] = [];
  for (const o of opts.cohort.overdrachten) {
    if (acceptedKoppelingen.has(o.koppelingId)) toSend.push(o);
    else
      skipped.push({
        kind: 'overdracht',
        koppelingId: o.koppelingId,
        reason: 'koppeling not accepted',
      });
  }
  await pool(toSend, concurrency, sendOverdracht);

  const order = (a: { kind: SendKind; koppelingId?: string }, b: typeof a): number =>
    (a.kind === b.kind ? 0 : a.kind === 'koppeling' ? -1 : 1) ||
    (a.koppelingId ?? '').localeCompare(b.koppelingId ?? '', 'en');
  accepted.sort(order);
  rejected.sort(order);
  return { accepted, rejected, skipped, durationMs: Date.now() - started };
}
