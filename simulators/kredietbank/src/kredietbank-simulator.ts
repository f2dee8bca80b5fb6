/**
 * A stand-in for a Kredietbank's budgetbeheer system: a real HTTP server with the REST API the
 * hub calls (register, change, extend, move to a new home, end an ontzorgtraject, per gemeente)
 * and webhooks back to
 * the hub. Time is simulated: nothing happens until the clock is advanced (`POST /_sim/clock` or
 * `advance()`), then each traject pays its fixed charges monthly from the benefit (a charge the
 * remaining balance cannot cover fails with ONVOLDOENDE_SALDO), is reviewed at three months and
 * ends at its einddatum, each step sent as a webhook in order, retried with the same id.
 *
 * It checks what a real bank would: the contract (additionalProperties: false), IBAN check
 * digits, amounts, the idempotency key (a repeat is answered as the first time and counted as a
 * duplicate). Everything is in memory; `/_sim` has no authentication, hence loopback by default.
 * Request faults, the control routes, the webhook retries and listening come from the simulator
 * kit; payment faults (a payment that fails with a reden) are the bank's own.
 */

import { randomUUID, timingSafeEqual, createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createAjv, schemas, toViolations, type Violation } from '@ketenhub/contracts';
import { createNotifier, createSimServer } from '@ketenhub/simulator-kit';
import type {
  DeliveryStats,
  FaultInput,
  NotificationAttempt,
  NotificationOutcome,
  NotifierStats,
  SimControls,
  SimulatorLogger,
} from '@ketenhub/simulator-kit';
import type {
  KredietbankAntwoord,
  KredietbankBeeindiging,
  KredietbankLooptijd,
  KredietbankOntzorgtraject,
  KredietbankWebhook,
  KredietbankWoning,
} from '@ketenhub/contracts/generated/kredietbank';
import { moneyViolations } from '@ketenhub/kit/privacy';

const TRAJECT_SCHEMA = 'https://contracts.ketenhub.nl/kredietbank/ontzorgtraject.schema.json';
const BEEINDIGING_SCHEMA = 'https://contracts.ketenhub.nl/kredietbank/beeindiging.schema.json';
const LOOPTIJD_SCHEMA = 'https://contracts.ketenhub.nl/kredietbank/looptijd.schema.json';
const WONING_SCHEMA = 'https://contracts.ketenhub.nl/kredietbank/woning.schema.json';
export const TRAJECT_BESTAAT = 'https://kredietbank.example/problems/traject-bestaat';
/** 409 to a change of the looptijd or the home of a traject that has already ended. */
export const TRAJECT_BEEINDIGD = 'https://kredietbank.example/problems/traject-beeindigd';

export type { FaultInput, SimulatorLogger };

export interface KredietbankSimulatorOptions {
  host?: string;
  port?: number;
  /** The hub's webhook endpoint, e.g. http://127.0.0.1:4305/v1/webhooks; none = not sent. */
  hubWebhookUrl?: string;
  /** The key the simulator presents at the hub's webhook. */
  hubApiKey?: string;
  /** The bearer token the hub must present; none = not checked. */
  token?: string;
  /** Simulated date at the start (YYYY-MM-DD); default today. */
  today?: string;
  /** Delay between attempts of a failed webhook (ms), less up to 20 % jitter. Default 200. */
  webhookRetryDelayMs?: number;
  /** Attempts per webhook before it is given up (recorded as failed). Default 30. */
  webhookMaxAttempts?: number;
  logger?: SimulatorLogger;
}

export const REDENEN = [
  'ONVOLDOENDE_SALDO',
  'IBAN_GEWEIGERD',
  'CREDITEUR_WEIGERT',
  'OVERIG',
] as const;
export type Reden = (typeof REDENEN)[number];

export interface Traject {
  dossiernummer: string;
  status: 'actief' | 'beeindigd';
  aanvraag: KredietbankOntzorgtraject;
  registeredOn: string;
  /** Months (YYYY-MM) whose charges were handled. */
  periodes: string[];
  betalingen: { uitgevoerd: number; mislukt: number };
  geevalueerd: boolean;
  wijzigingen: number;
  /** The last change of the end date (PUT …/looptijd), with the PIP it rests on. */
  looptijd?: KredietbankLooptijd;
  /** The last move to a home with a signed lease (PUT …/woning): its rent is paid from `huur.vanaf`. */
  woning?: KredietbankWoning;
  /** The gemeente's request that ended it early (POST …/beeindiging). */
  beeindiging?: KredietbankBeeindiging;
}

export interface WebhookRecord {
  webhook: KredietbankWebhook;
  /** `rejected`: the hub answered a 4xx other than 429; `failed`: given up after retries. */
  outcome: NotificationOutcome;
  /** Attempts made. */
  attempts: number;
  lastStatus?: number;
  /** Why it was rejected, failed or skipped. */
  reason?: string;
  /** Every attempt: when, the hub's status or the error, how long. */
  history: NotificationAttempt[];
}

/**
 * With the kit's DeliveryStats: `received` the requests the bank carried out (registraties,
 * wijzigingen, looptijdwijzigingen, woningwijzigingen, beëindigingen), `duplicates` those repeated with an
 * Idempotency-Key already answered.
 */
export interface KredietbankSimStats extends DeliveryStats {
  registraties: number;
  wijzigingen: number;
  /** Changes of a traject's end date (PUT …/looptijd). */
  looptijdWijzigingen: number;
  /** Moves to a home with a signed lease (PUT …/woning). */
  woningWijzigingen: number;
  beeindigingen: number;
  /** Requests repeated with an Idempotency-Key already answered. */
  duplicates: number;
  /** Requests refused (401, 404, 409, 422). */
  rejected: number;
  /** Of which for an IBAN failing its check digits. */
  ibanRejected: number;
  /** API calls answered by an injected fault. */
  faulted: number;
  webhooks: NotifierStats;
}

export interface PaymentFault {
  /** Only this referentie; any when absent. */
  referentie?: string;
  /** Fail the next N payments. Default 1. */
  count?: number;
  reden?: Reden;
}

/**
 * The simulator; its request faults (`injectFault`) are the simulator kit's, `scope.gemeente` a
 * code like `0797`; `reset` forgets trajecten, answers, webhooks, faults and counters, and the
 * clock goes back to the start.
 */
export interface KredietbankSimulator extends SimControls {
  url: string;
  /** What the hub's `kredietbank.baseUrl` points at. */
  baseUrl: string;
  today(): string;
  /** Moves the clock by `days`, running every due payment, review and end. */
  advance(days: number): string;
  trajecten(): Traject[];
  webhooks(): WebhookRecord[];
  stats(): KredietbankSimStats;
  /** The next matching payments fail with `reden`. */
  failPayments(fault: PaymentFault): void;
  /** The next `count` API calls answer `status` (breaker tests): a `status` fault. */
  failRequests(status: number, count: number): void;
  /** Resolves when every queued webhook is delivered or given up. */
  idle(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

const DAY = 24 * 60 * 60 * 1000;
const isoDate = (d: Date) => d.toISOString().slice(0, 10);
const parseDate = (s: string) => new Date(`${s}T00:00:00Z`);
export const addDays = (s: string, n: number) =>
  isoDate(new Date(parseDate(s).getTime() + n * DAY));
/** Calendar months later, clamped to the month's last day (31 Jan + 1 = 28/29 Feb). */
export function addMonths(s: string, n: number): string {
  const d = parseDate(s);
  const target = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + n, 1));
  const last = new Date(
    Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0),
  ).getUTCDate();
  target.setUTCDate(Math.min(d.getUTCDate(), last));
  return isoDate(target);
}

const paymentFaultSchema = {
  type: 'object',
  properties: {
    referentie: { type: 'string', minLength: 1 },
    count: { type: 'integer', minimum: 1 },
    reden: { type: 'string', enum: [...REDENEN] },
  },
  additionalProperties: false,
};

function problem(reply: FastifyReply, status: number, title: string, extra: object = {}) {
  return reply
    .code(status)
    .type('application/problem+json')
    .send({ type: `https://kredietbank.example/problems/${status}`, title, status, ...extra });
}

function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

export async function startKredietbankSimulator(
  opts: KredietbankSimulatorOptions = {},
): Promise<KredietbankSimulator> {
  const log = opts.logger ?? { info: () => {}, warn: () => {} };
  const startDay = opts.today ?? isoDate(new Date());
  let today = startDay;
  const trajecten = new Map<string, Traject>();
  const replies = new Map<string, { status: number; body: unknown }>();
  let paymentFaults: PaymentFault[] = [];
  let seq = 0;
  const zero = (): Omit<KredietbankSimStats, 'webhooks' | 'received'> => ({
    registraties: 0,
    wijzigingen: 0,
    looptijdWijzigingen: 0,
    woningWijzigingen: 0,
    beeindigingen: 0,
    duplicates: 0,
    rejected: 0,
    ibanRejected: 0,
    faulted: 0,
  });
  let stats = zero();
  const key = (gemeentecode: string, referentie: string) => `${gemeentecode}/${referentie}`;
  const validatePaymentFault = createAjv().compile(paymentFaultSchema);

  // Webhooks go out one at a time, in order: the hub sees gestart before the first payment. A
  // failed one is retried with the same id (a fixed delay: base and maximum are the same).
  const retryDelayMs = opts.webhookRetryDelayMs ?? 200;
  const notifier = createNotifier<KredietbankWebhook>({
    name: 'kredietbank-simulator',
    ...(opts.hubWebhookUrl ? { url: opts.hubWebhookUrl } : {}),
    ...(opts.hubApiKey ? { headers: { authorization: `Bearer ${opts.hubApiKey}` } } : {}),
    ordered: true,
    retry: {
      maxAttempts: opts.webhookMaxAttempts ?? 30,
      baseDelayMs: retryDelayMs,
      maxDelayMs: retryDelayMs,
    },
    describe: (r) => ({ id: r.body.id, type: r.body.type }),
    logger: log,
  });

  function clearState(): void {
    today = startDay;
    trajecten.clear();
    replies.clear();
    paymentFaults = [];
    seq = 0;
    stats = zero();
    notifier.reset();
  }

  function emit(t: Traject, type: KredietbankWebhook['type'], gegevens: object): void {
    notifier.send({
      body: {
        id: randomUUID(),
        type,
        referentie: t.aanvraag.referentie,
        gemeentecode: t.aanvraag.gemeentecode,
        dossiernummer: t.dossiernummer,
        tijdstip: new Date(`${today}T12:00:00Z`).toISOString(),
        gegevens: gegevens as KredietbankWebhook['gegevens'],
      },
      meta: {},
    });
  }

  function webhooks(): WebhookRecord[] {
    return notifier.list().map((r) => {
      const lastStatus = r.attempts.findLast((a) => a.status !== undefined)?.status;
      return {
        webhook: r.body,
        outcome: r.outcome,
        attempts: r.attempts.length,
        ...(lastStatus === undefined ? {} : { lastStatus }),
        ...(r.reason === undefined ? {} : { reason: r.reason }),
        history: r.attempts,
      };
    });
  }
  /** The charges of a month: from the month a new lease starts, its rent (first) replaces the old. */
  function lastenIn(t: Traject, periode: string): KredietbankOntzorgtraject['vasteLasten'] {
    const huur = t.woning?.huur;
    if (!huur || periode < huur.vanaf.slice(0, 7)) return t.aanvraag.vasteLasten;
    const { vanaf: _vanaf, ...last } = huur;
    return [
      { soort: 'HUUR', ...last },
      ...t.aanvraag.vasteLasten.filter((l) => l.soort !== 'HUUR'),
    ] as KredietbankOntzorgtraject['vasteLasten'];
  }
  function pay(t: Traject, periode: string, date: string): void {
    let saldo = t.aanvraag.uitkering.bedrag;
    for (const last of lastenIn(t, periode)) {
      const betaling = {
        betalingId: `${t.dossiernummer}-${periode}-${last.soort}`,
        soort: last.soort,
        crediteurNaam: last.crediteur.naam,
        bedrag: last.bedrag,
        periode,
        datum: date,
      };
      const fault = paymentFaults.find(
        (f) => (f.count ?? 1) > 0 && (!f.referentie || f.referentie === t.aanvraag.referentie),
      );
      let reden: Reden | undefined;
      if (fault) {
        fault.count = (fault.count ?? 1) - 1;
        reden = fault.reden ?? 'ONVOLDOENDE_SALDO';
      } else if (saldo < last.bedrag) reden = 'ONVOLDOENDE_SALDO';
      if (reden) {
        t.betalingen.mislukt++;
        emit(t, 'betaling.mislukt', { ...betaling, reden });
      } else {
        saldo -= last.bedrag;
        t.betalingen.uitgevoerd++;
        emit(t, 'betaling.uitgevoerd', betaling);
      }
    }
  }

  /** Everything due on or before `date` for one traject, in date order. */
  function run(t: Traject, date: string): void {
    const { start, eind } = t.aanvraag.periode;
    for (let k = 0; t.status === 'actief'; k++) {
      const due = addMonths(start, k);
      const review = addMonths(start, 3);
      if (!t.geevalueerd && review <= date && review <= due && review < eind) {
        t.geevalueerd = true;
        emit(t, 'traject.geevalueerd', {
          datum: review,
          advies: t.betalingen.mislukt > 0 ? 'VERLENGING_ADVIES' : 'CONTINUEREN',
          aantalBetalingen: t.betalingen.uitgevoerd,
          aantalMislukt: t.betalingen.mislukt,
        });
      }
      if (due >= eind || due > date) break;
      const periode = due.slice(0, 7);
      if (!t.periodes.includes(periode)) {
        t.periodes.push(periode);
        pay(t, periode, due);
      }
    }
    if (t.status === 'actief' && eind <= date) {
      t.status = 'beeindigd';
      emit(t, 'traject.beeindigd', {
        datum: eind,
        reden: 'EINDDATUM_BEREIKT',
        aantalBetalingen: t.betalingen.uitgevoerd,
        aantalMislukt: t.betalingen.mislukt,
      });
    }
  }

  function advance(days: number): string {
    for (let i = 0; i < days; i++) {
      today = addDays(today, 1);
      for (const t of trajecten.values()) run(t, today);
    }
    return today;
  }

  function check(schemaId: string, body: unknown): Violation[] {
    const violations = schemas().validate(schemaId, body);
    if (violations.length > 0) return violations;
    // The schema checks the shape; a bank checks the IBAN's check digits before it pays.
    const out = moneyViolations(body);
    const periode = (body as { periode?: { start: string; eind: string } }).periode;
    if (periode && periode.eind <= periode.start) {
      out.push({ field: 'periode.eind', rule: 'after start', message: 'must be after start' });
    }
    return out;
  }

  const server = createSimServer({
    name: 'kredietbank-simulator',
    bodyLimit: 256 * 1024,
    scopes: { gemeente: { pattern: '^[0-9]{4}$' } },
    stats: snapshot,
    reset: clearState,
    // The bank's API is per gemeente; its /_sim routes are never faulted.
    scopeOf: (request) => {
      const { gemeentecode } = request.params as { gemeentecode?: string };
      return gemeentecode === undefined ? undefined : { gemeente: gemeentecode };
    },
    onFault: () => {
      stats.faulted++;
    },
  });
  const app = server.app;

  /** Auth and idempotent replay; answers and returns true when handled. */
  function preflight(request: FastifyRequest, reply: FastifyReply): boolean {
    if (opts.token) {
      const auth = request.headers.authorization ?? '';
      if (!auth.startsWith('Bearer ') || !sameSecret(auth.slice(7), opts.token)) {
        stats.rejected++;
        void problem(reply, 401, 'unknown or missing token');
        return true;
      }
    }
    const idem = request.headers['idempotency-key'];
    const stored = typeof idem === 'string' ? replies.get(idem) : undefined;
    if (stored) {
      stats.duplicates++;
      void reply.code(stored.status).header('idempotent-replayed', 'true').send(stored.body);
      return true;
    }
    return false;
  }
  function remember(request: FastifyRequest, status: number, body: unknown): void {
    const idem = request.headers['idempotency-key'];
    if (typeof idem === 'string') replies.set(idem, { status, body });
  }
  function refuse(reply: FastifyReply, violations: Violation[]) {
    stats.rejected++;
    if (violations.some((v) => v.rule === 'iban')) stats.ibanRejected++;
    return problem(reply, 422, 'ontzorgtraject niet geldig', { errors: violations });
  }

  function ended(reply: FastifyReply) {
    stats.rejected++;
    return reply.code(409).type('application/problem+json').send({
      type: TRAJECT_BEEINDIGD,
      title: 'the traject has ended; register a new one',
      status: 409,
    });
  }

  type Params = { gemeentecode: string; referentie?: string };

  app.post<{ Params: Params }>('/v1/gemeenten/:gemeentecode/ontzorgtrajecten', (request, reply) => {
    if (preflight(request, reply)) return reply;
    const body = request.body as KredietbankOntzorgtraject;
    const violations = check(TRAJECT_SCHEMA, body);
    if (body?.gemeentecode !== request.params.gemeentecode) {
      violations.push({
        field: 'gemeentecode',
        rule: 'equals path',
        message: 'must equal the path',
      });
    }
    if (violations.length > 0) return refuse(reply, violations);
    if (trajecten.has(key(body.gemeentecode, body.referentie))) {
      stats.rejected++;
      return reply.code(409).type('application/problem+json').send({
        type: TRAJECT_BESTAAT,
        title: 'referentie already registered; change it with PUT',
        status: 409,
      });
    }
    const t: Traject = {
      dossiernummer: `KB-${String(++seq).padStart(6, '0')}`,
      status: 'actief',
      aanvraag: body,
      registeredOn: today,
      periodes: [],
      betalingen: { uitgevoerd: 0, mislukt: 0 },
      geevalueerd: false,
      wijzigingen: 0,
    };
    trajecten.set(key(body.gemeentecode, body.referentie), t);
    stats.registraties++;
    emit(t, 'traject.gestart', { start: body.periode.start, eind: body.periode.eind });
    run(t, today);
    const answer: KredietbankAntwoord = {
      referentie: body.referentie,
      dossiernummer: t.dossiernummer,
      status: 'GEREGISTREERD',
    };
    remember(request, 201, answer);
    log.info({ dossiernummer: t.dossiernummer }, 'ontzorgtraject registered');
    return reply.code(201).send(answer);
  });

  app.put<{ Params: Params }>(
    '/v1/gemeenten/:gemeentecode/ontzorgtrajecten/:referentie',
    (request, reply) => {
      if (preflight(request, reply)) return reply;
      const body = request.body as KredietbankOntzorgtraject;
      const violations = check(TRAJECT_SCHEMA, body);
      if (body?.referentie !== request.params.referentie) {
        violations.push({
          field: 'referentie',
          rule: 'equals path',
          message: 'must equal the path',
        });
      }
      if (violations.length > 0) return refuse(reply, violations);
      const t = trajecten.get(key(request.params.gemeentecode, request.params.referentie!));
      if (!t) {
        stats.rejected++;
        return problem(reply, 404, 'unknown traject');
      }
      t.aanvraag = body;
      t.wijzigingen++;
      stats.wijzigingen++;
      const answer: KredietbankAntwoord = {
        referentie: body.referentie,
        dossiernummer: t.dossiernummer,
        status: 'GEWIJZIGD',
      };
      remember(request, 200, answer);
      return reply.code(200).send(answer);
    },
  );

  // A new end date (an extension through the PIP): payments go on monthly until the new end,
  // and the traject ends then. An end that is already due ends the traject now.
  app.put<{ Params: Params }>(
    '/v1/gemeenten/:gemeentecode/ontzorgtrajecten/:referentie/looptijd',
    (request, reply) => {
      if (preflight(request, reply)) return reply;
      const body = request.body as KredietbankLooptijd;
      const violations = check(LOOPTIJD_SCHEMA, body);
      if (violations.length > 0) return refuse(reply, violations);
      const t = trajecten.get(key(request.params.gemeentecode, request.params.referentie!));
      if (!t) {
        stats.rejected++;
        return problem(reply, 404, 'unknown traject');
      }
      if (t.status !== 'actief') return ended(reply);
      if (body.eind <= t.aanvraag.periode.start) {
        return refuse(reply, [
          { field: 'eind', rule: 'after start', message: 'must be after the start of the traject' },
        ]);
      }
      t.aanvraag = { ...t.aanvraag, periode: { ...t.aanvraag.periode, eind: body.eind } };
      t.looptijd = body;
      stats.looptijdWijzigingen++;
      run(t, today);
      const answer: KredietbankAntwoord = {
        referentie: t.aanvraag.referentie,
        dossiernummer: t.dossiernummer,
        status: 'GEWIJZIGD',
      };
      remember(request, 200, answer);
      log.info({ dossiernummer: t.dossiernummer, eind: body.eind }, 'ontzorgtraject end moved');
      return reply.code(200).send(answer);
    },
  );

  // The client moved into a home with a signed lease: the new address now, the rent to the
  // landlord of the lease from the month it starts (lastenIn).
  app.put<{ Params: Params }>(
    '/v1/gemeenten/:gemeentecode/ontzorgtrajecten/:referentie/woning',
    (request, reply) => {
      if (preflight(request, reply)) return reply;
      const body = request.body as KredietbankWoning;
      const violations = check(WONING_SCHEMA, body);
      if (violations.length > 0) return refuse(reply, violations);
      const t = trajecten.get(key(request.params.gemeentecode, request.params.referentie!));
      if (!t) {
        stats.rejected++;
        return problem(reply, 404, 'unknown traject');
      }
      if (t.status !== 'actief') return ended(reply);
      t.aanvraag = { ...t.aanvraag, client: { ...t.aanvraag.client, adres: body.adres } };
      t.woning = body;
      stats.woningWijzigingen++;
      const answer: KredietbankAntwoord = {
        referentie: t.aanvraag.referentie,
        dossiernummer: t.dossiernummer,
        status: 'GEWIJZIGD',
      };
      remember(request, 200, answer);
      log.info({ dossiernummer: t.dossiernummer }, 'ontzorgtraject moved to a new home');
      return reply.code(200).send(answer);
    },
  );

  app.post<{ Params: Params }>(
    '/v1/gemeenten/:gemeentecode/ontzorgtrajecten/:referentie/beeindiging',
    (request, reply) => {
      if (preflight(request, reply)) return reply;
      const body = request.body as KredietbankBeeindiging;
      const violations = check(BEEINDIGING_SCHEMA, body);
      if (violations.length > 0) return refuse(reply, violations);
      const t = trajecten.get(key(request.params.gemeentecode, request.params.referentie!));
      if (!t) {
        stats.rejected++;
        return problem(reply, 404, 'unknown traject');
      }
      if (t.status === 'actief') {
        t.status = 'beeindigd';
        t.beeindiging = body;
        stats.beeindigingen++;
        emit(t, 'traject.beeindigd', {
          datum: body.datum,
          // The reason the gemeente gave, in the bank's own words.
          reden: (
            { OP_VERZOEK_GEMEENTE: 'OP_VERZOEK', VERHUISD: 'VERHUISD', OVERIG: 'OVERIG' } as const
          )[body.reden],
          aantalBetalingen: t.betalingen.uitgevoerd,
          aantalMislukt: t.betalingen.mislukt,
        });
      }
      const answer: KredietbankAntwoord = {
        referentie: t.aanvraag.referentie,
        dossiernummer: t.dossiernummer,
        status: 'BEEINDIGD',
      };
      remember(request, 200, answer);
      return reply.code(200).send(answer);
    },
  );

  app.get('/_sim/clock', () => ({ today }));
  app.post('/_sim/clock', (request, reply) => {
    const b = (request.body ?? {}) as { advanceDays?: unknown; date?: unknown };
    let days: number;
    if (typeof b.date === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(b.date)) {
      days = Math.round((parseDate(b.date).getTime() - parseDate(today).getTime()) / DAY);
    } else days = Number(b.advanceDays);
    if (!Number.isInteger(days) || days < 0 || days > 3660) {
      return problem(
        reply,
        400,
        'advanceDays must be an integer 0..3660, or date later than today',
      );
    }
    return { today: advance(days) };
  });
  app.get('/_sim/trajecten', () => [...trajecten.values()]);
  app.get('/_sim/webhooks', () => webhooks());
  // Payments that fail (the bank's own faults; request faults are the kit's /_sim/faults).
  app.get('/_sim/payment-faults', () => ({ faults: paymentFaults }));
  app.post('/_sim/payment-faults', (request, reply) => {
    const body = request.body ?? {};
    if (!validatePaymentFault(body)) {
      return problem(reply, 400, 'invalid payment fault', {
        errors: toViolations(validatePaymentFault.errors),
      });
    }
    const fault = { ...(body as PaymentFault) };
    paymentFaults.push(fault);
    return reply.code(201).send(fault);
  });

  function snapshot(): KredietbankSimStats {
    const received =
      stats.registraties +
      stats.wijzigingen +
      stats.looptijdWijzigingen +
      stats.woningWijzigingen +
      stats.beeindigingen;
    return { received, ...stats, webhooks: notifier.stats() };
  }

  const listening = await server.listen({
    ...(opts.host === undefined ? {} : { host: opts.host }),
    port: opts.port ?? 0,
    logger: log,
  });
  const url = listening.url;
  log.info({ url }, 'Kredietbank simulator listening');

  return {
    url,
    baseUrl: `${url}/v1`,
    today: () => today,
    advance,
    trajecten: () => [...trajecten.values()],
    webhooks,
    stats: snapshot,
    failPayments: (fault) => void paymentFaults.push({ ...fault }),
    ...server.controls,
    failRequests(status, count) {
      server.faults.add({ kind: 'status', status, count });
    },
    async idle(timeoutMs = 10_000) {
      await notifier.drain(timeoutMs);
    },
    async close() {
      notifier.close();
      await listening.close();
    },
  };
}
