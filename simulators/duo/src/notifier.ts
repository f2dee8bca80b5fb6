/**
 * DUO's side of the Notificatie API: `POST {hub}/notificaties` with only
 * `registratieDatumTijd`, `gebeurtenisId`, `bsn` and `vNummer`, routed by the `doel` header to
 * the gemeente. Delivery, retries (same berichtId and body, so the hub can recognise the
 * repeat) and the record of every attempt are the simulator kit's notifier; this module adds
 * what is DUO's: the headers, the body, which gemeenten are notified at all, and checking the
 * request and the hub's answers against the Notificatie API spec.
 */

import { randomUUID } from 'node:crypto';
import { createNotifier as createKitNotifier } from '@ketenhub/simulator-kit';
import type {
  NotificationAttempt as KitAttempt,
  NotificationOutcome,
  NotificationRecord as KitRecord,
  NotifierStats,
  SimulatorLogger,
  Work,
} from '@ketenhub/simulator-kit';
import type { DuoSpecs, SpecViolation } from './openapi-validator.ts';

export type { NotificationOutcome, SimulatorLogger };

export const NOTIFICATIE_API_VERSION = '1.8.0';

export interface NotificatieBody {
  registratieDatumTijd: string;
  gebeurtenisId: string;
  bsn: string;
  vNummer?: number;
}

/** Where the hub's answer departs from the Notificatie API spec (201, no body, API-Version). */
type AttemptChecks = { responseViolations: SpecViolation[] };

interface NotificationFields {
  /** The same for every attempt. */
  berichtId: string;
  gebeurtenisId: string;
  bsn: string;
  gemeentecode: string;
  /** The gemeente's OIN; absent when the hub does not serve the gemeente. */
  doel?: string;
  /** What caused it: `pip`, `event:<type>` or `notify`. */
  trigger: string;
  /** Where this simulator's own request departs from the spec (e.g. a deliberate bad code). */
  requestViolations: SpecViolation[];
}

export type NotificationAttempt = KitAttempt<AttemptChecks>;
export type NotificationRecord = KitRecord<NotificatieBody, NotificationFields, AttemptChecks>;

export interface NotifierOptions {
  /** Base URL of the hub's Notificatie API, e.g. `http://127.0.0.1:4302/v1`. */
  url?: string;
  /** Sent as `Authorization: Bearer …`. */
  apiKey?: string;
  duoOin: string;
  /** CBS code (4 digits) → the gemeente's OIN. */
  gemeenteOins: ReadonlyMap<string, string>;
  specs?: DuoSpecs;
  /** Attempts in all, the first included. */
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
  timeoutMs: number;
  now: () => number;
  fetchImpl: typeof fetch;
  /** The simulator's background work: drained and cancelled with its processing. */
  work: Work;
  logger?: SimulatorLogger;
}

export interface NotifyRequest {
  bsn: string;
  vNummer?: number;
  gemeentecode: string;
  gebeurtenisId: string;
  trigger: string;
  delayMs: number;
}

export interface Notifier {
  enqueue(request: NotifyRequest): NotificationRecord;
  list(): NotificationRecord[];
  stats(): NotifierStats;
  reset(): void;
}

export function createNotifier(opts: NotifierOptions): Notifier {
  const endpoint =
    opts.url === undefined ? undefined : `${opts.url.replace(/\/+$/, '')}/notificaties`;
  const common = {
    bron: opts.duoOin,
    'API-Version': NOTIFICATIE_API_VERSION,
    ...(opts.apiKey ? { authorization: `Bearer ${opts.apiKey}` } : {}),
  };
  const kit = createKitNotifier<NotificatieBody, NotificationFields, AttemptChecks>({
    name: 'duo-simulator',
    ...(endpoint === undefined ? {} : { url: endpoint }),
    headers: common,
    retry: {
      maxAttempts: opts.maxAttempts,
      baseDelayMs: opts.retryBaseMs,
      maxDelayMs: opts.retryMaxMs,
      timeoutMs: opts.timeoutMs,
    },
    inspect: (res) => ({
      responseViolations: res
        ? (opts.specs?.validateResponse(
            'POST',
            '/notificaties',
            res.status,
            res.headers,
            res.body,
          ) ?? [])
        : [],
    }),
    // The gebeurtenisId and gemeente, never the BSN.
    describe: (rec) => ({
      id: rec.id,
      gebeurtenisId: rec.gebeurtenisId,
      gemeentecode: rec.gemeentecode,
    }),
    work: opts.work,
    now: opts.now,
    fetchImpl: opts.fetchImpl,
    ...(opts.logger ? { logger: opts.logger } : {}),
  });

  return {
    enqueue(request) {
      const doel = opts.gemeenteOins.get(request.gemeentecode);
      const berichtId = randomUUID();
      const body: NotificatieBody = {
        registratieDatumTijd: new Date(opts.now()).toISOString(),
        gebeurtenisId: request.gebeurtenisId,
        bsn: request.bsn,
        ...(request.vNummer === undefined ? {} : { vNummer: request.vNummer }),
      };
      const headers = { doel: doel ?? '', berichtId };
      // Only what is really sent is checked; a skipped one has no doel to put in the header.
      const requestViolations =
        endpoint !== undefined && doel !== undefined
          ? (opts.specs?.validateRequest(
              'POST',
              '/notificaties',
              { 'content-type': 'application/json', ...common, ...headers },
              body,
            ) ?? [])
          : [];
      return kit.send({
        body,
        headers,
        delayMs: request.delayMs,
        meta: {
          berichtId,
          gebeurtenisId: request.gebeurtenisId,
          bsn: request.bsn,
          gemeentecode: request.gemeentecode,
          ...(doel === undefined ? {} : { doel }),
          trigger: request.trigger,
          requestViolations,
        },
        ...(endpoint === undefined
          ? { skip: 'no hub Notificatie URL configured' }
          : doel === undefined
            ? // Real DUO would notify that gemeente's own system, which is not this hub.
              { skip: `gemeente ${request.gemeentecode} has no OIN configured here` }
            : {}),
      });
    },
    list: () => kit.list(),
    stats: () => kit.stats(),
    reset: () => kit.reset(),
  };
}
