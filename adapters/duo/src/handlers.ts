import { randomUUID } from 'node:crypto';
import type { JetStreamClient, JsMsg } from '@nats-io/jetstream';
import type {
  DuoMeldingAfgewezen,
  LeerrouteUren,
  MapAfgerond,
  PipVastgesteld,
  PvtOndertekend,
} from '@ketenhub/contracts/generated';
import type {
  DuoDoelgroep,
  DuoGemeentePip,
  DuoInburgeringsplicht,
  DuoInburgeringstermijn,
  DuoResultaatMap,
  DuoResultaatPvt,
} from '@ketenhub/contracts/generated/duo';
import {
  OutOfOrderError,
  PARTNER_HEADER,
  ValidationError,
  buildEvent,
  childSpan,
  messageSpan,
  nameBasedUuid,
  parseChainEvent,
  raiseAlert,
  scopedEventIdOf,
  type Event,
  type Logger,
  type Outcome,
  type UrenLedger,
} from '@ketenhub/kit';
import {
  PERSON_WAIT_ATTEMPTS,
  disclose,
  discloseMessage,
  type Identity,
  type IdentityStore,
  type ProcessingLog,
  type Projector,
} from '@ketenhub/kit/privacy';
import type { DuoApi, DuoClient } from './duo-client.ts';
import {
  checkMapPvt,
  checkPip,
  checkPipIntrekken,
  checkUren,
  type RuleViolation,
} from './rules.ts';
import {
  CURSUSUREN,
  UREN_PAD,
  doelgroepFromDuo,
  leerrouteFromDuo,
  mapToDuo,
  pipToDuo,
  pvtToDuo,
} from './translate.ts';

export const DUO_PARTNER = 'duo';

export interface DuoDeps {
  duo: DuoClient;
  identities: IdentityStore;
  /** OIN per gemeente code: the hub calls DUO on the gemeente's behalf (bron). */
  oinOf(gemeente: string): string;
  publish(event: Event<unknown>, traceparent: string): Promise<void>;
  projector: Projector;
  processingLog: ProcessingLog;
  js: JetStreamClient;
  source: string;
  logger: Logger;
  /** Today as an ISO date; injectable for tests. */
  today?: () => string;
  /** Every source's total of hours per person and kind; DUO gets their sum (ADR 0023). */
  uren?: UrenLedger;
}

interface Incoming<D> extends Event<D> {
  gemeente: string;
}

const parse = <D>(m: JsMsg): Incoming<D> => parseChainEvent<D>(m);

type Melding = DuoMeldingAfgewezen['melding'];
const OUTCOME_TYPES: Record<Melding, { ok: string; nok: string }> = {
  pip: { ok: 'nl.inburgering.pip.geregistreerd', nok: 'nl.inburgering.pip.afgewezen' },
  'pip-intrekking': {
    ok: 'nl.inburgering.pip.ingetrokken-bij-duo',
    nok: 'nl.inburgering.pip.afgewezen',
  },
  map: { ok: 'nl.inburgering.map.geregistreerd', nok: 'nl.inburgering.map.afgewezen' },
  pvt: { ok: 'nl.inburgering.pvt.geregistreerd', nok: 'nl.inburgering.pvt.afgewezen' },
  zroute: { ok: 'nl.inburgering.zroute.geregistreerd', nok: 'nl.inburgering.zroute.afgewezen' },
  uren: {
    ok: 'nl.inburgering.leerroute.uren-geregistreerd',
    nok: 'nl.inburgering.leerroute.uren-afgewezen',
  },
};

/** Every outcome type a melding to DUO can have: what the DUO module publishes for the KVS. */
export const MELDING_OUTCOMES = [
  ...new Set(Object.values(OUTCOME_TYPES).flatMap((t) => [t.ok, t.nok])),
];

interface MeldingPlan {
  melding: Melding;
  api: DuoApi;
  method: 'POST' | 'PUT' | 'DELETE';
  path: string;
  body?: unknown;
  /** DUO's rules for this melding, given what DUO and the hub know. */
  check(): Promise<RuleViolation[]>;
  /**
   * Once the rules passed, for a body that depends on the hub's state (the hours' sum): the body
   * and the berichtId it goes under (one per distinct body, so a different body is a new bericht).
   */
  prepare?(): Promise<{ body: unknown; berichtId: string }>;
  /**
   * For a melding DUO would apply twice (a PIP registration: DUO keeps every POST as a new
   * version, it does not recognise a berichtId it had): whether DUO already holds exactly this
   * melding, from what check() read. Asked on a redelivery only.
   */
  heldByDuo?(): boolean;
  after?(): Promise<void>;
}

/**
 * A melding to DUO (pattern "melding-bevestiging"): project to what DUO may get, resolve the BSN,
 * check DUO's rules (a melding DUO would refuse is not sent: the gemeente gets `*.afgewezen`
 * with the rule), log the disclosure, send, and report `*.geregistreerd`. DUO refusing (4xx)
 * also yields `*.afgewezen`, and the message is dead-lettered for the operator.
 */
export function createMeldingHandler(
  deps: DuoDeps,
  plan: (
    event: Incoming<Record<string, unknown>>,
    bsn: string,
    bron: string,
    ctx: {
      berichtId: string;
      identity: Identity;
      /** The event as it arrived (before the duo projection): for the hub's own bookkeeping. */
      original: Incoming<Record<string, unknown>>;
      /** The partner whose edge published it (Ketenhub-Partner header). */
      partner: string | undefined;
      /** DUO's facts about the person, each read logged as a disclosure of the BSN. */
      duo: ReturnType<typeof duoFacts>;
    },
  ) => MeldingPlan,
  melding: Melding,
): (m: JsMsg) => Promise<Outcome> {
  return async (m) => {
    const event = parse<Record<string, unknown> & { inburgeraarId: string; pipId?: string }>(m);
    const disclosure = deps.projector.project(event);
    if (!disclosure) return 'skipped';
    const projected = disclosure.event as Incoming<
      Record<string, unknown> & { inburgeraarId: string; pipId?: string }
    >;
    const span = messageSpan(m);
    const { traceparent } = span;
    // Every id derived from the melding (DUO's berichtId, the outcome's event id) comes from its
    // scoped id: a KVS chooses its event ids, and must not be able to pick another gemeente's.
    const scoped = scopedEventIdOf(m, event);
    const outcome = async (ok: boolean, extra: Record<string, unknown>) => {
      const types = OUTCOME_TYPES[melding];
      const out = buildEvent({
        id: nameBasedUuid(`duo:${ok ? 'geregistreerd' : 'afgewezen'}:${scoped}`),
        type: ok ? types.ok : types.nok,
        source: deps.source,
        gemeente: event.gemeente,
        data: {
          inburgeraarId: event.data.inburgeraarId,
          gemeenteCode: event.gemeente,
          melding,
          bronEventId: event.id,
          ...(event.data.pipId ? { pipId: event.data.pipId } : {}),
          ...extra,
        },
      });
      await deps.publish(out, traceparent);
    };

    // A person of another gemeente is refused here too (kit: TenantMismatchError).
    const identity = await deps.identities.personOf(event.gemeente, event.data.inburgeraarId);
    const bsn = identity?.bsn;
    if (!identity || !bsn) {
      // The vestiging or koppeling that brings the BSN travels on another consumer and may be a
      // moment behind (a KVS sends the vestiging and the PIP back to back): wait for it a few
      // attempts (nak with the service's backoff) before telling the KVS there is none.
      if (m.info.deliveryCount < PERSON_WAIT_ATTEMPTS) {
        throw new OutOfOrderError(
          'no BSN known for this person yet: data.inburgeraarId (vestiging or koppeling first)',
          { field: 'data.inburgeraarId', rule: 'vestiging or koppeling first' },
        );
      }
      await outcome(false, {
        door: 'hub',
        regel: {
          code: 'bsn-onbekend',
          omschrijving:
            'de hub kent geen BSN voor deze inburgeraar (geen koppeling of vestiging ontvangen)',
        },
      });
      return 'rejected';
    }
    const bron = deps.oinOf(event.gemeente);
    const berichtId = nameBasedUuid(`duo:melding:${scoped}`);
    const p = plan(projected, bsn, bron, {
      berichtId,
      identity,
      original: event,
      partner: m.headers?.get(PARTNER_HEADER) || undefined,
      duo: duoFacts(deps, bsn, bron, {
        span,
        event,
        activiteit: disclosure.activity,
        betrokkene: event.data.inburgeraarId,
      }),
    });
    const violations = await p.check();
    if (violations.length > 0) {
      deps.logger.info(
        { eventId: event.id, rules: violations.map((v) => v.code) },
        'melding refused by DUO rules',
      );
      await outcome(false, {
        door: 'hub',
        regel: {
          code: violations[0]!.code,
          omschrijving: violations
            .map((v) => v.omschrijving)
            .join('; ')
            .slice(0, 300),
        },
      });
      return 'rejected';
    }

    // A redelivered melding may have reached DUO already: the service can die, or lose DUO's
    // answer, after DUO applied it and before the message was acked. A melding DUO already
    // holds exactly is not sent again (a second POST would register the PIP twice); nothing is
    // disclosed now, and the earlier delivery's processing-log record (gestart) covers the
    // disclosure it made.
    if (m.info.redelivered && p.heldByDuo?.()) {
      deps.logger.info(
        { eventId: event.id, api: p.api, attempt: m.info.deliveryCount },
        'melding already at DUO from an earlier delivery: not sent again',
      );
      await p.after?.();
      await outcome(true, { geregistreerdOp: new Date().toISOString() });
      return 'delivered';
    }

    const prepared = await p.prepare?.();
    const call = {
      method: p.method,
      path: p.path,
      bron,
      berichtId: prepared?.berichtId ?? berichtId,
      data: prepared ? prepared.body : p.body,
    };
    let versionDrift: { answered: string; pinned: string } | undefined;
    try {
      ({ versionDrift } = await discloseMessage(
        deps,
        {
          span,
          event,
          disclosure,
          betrokkene: event.data.inburgeraarId,
          to: { partner: DUO_PARTNER, endpoint: p.api },
          // The BSN travels in DUO's URL: disclosed as well, though not a field of the event.
          alsoDisclosed: ['identificatie'],
        },
        () => deps.duo.call(p.api, call),
      ));
    } catch (err) {
      const e = err as { name?: string; rule?: string; partnerStatus?: number };
      if (e.name === 'PartnerRejectedError') {
        await outcome(false, {
          door: 'duo',
          regel: {
            code: `duo-${e.partnerStatus ?? 'weigering'}`,
            omschrijving: `DUO weigerde de melding (HTTP ${e.partnerStatus ?? '?'})`,
          },
          ...(e.rule && e.partnerStatus !== undefined ? { fouttekst: e.rule.slice(0, 200) } : {}),
        });
      }
      throw err;
    }
    if (versionDrift) {
      deps.logger.warn({ eventId: event.id, api: p.api, ...versionDrift }, 'DUO API version drift');
      await raiseAlert(deps.js, {
        kind: 'partner-version',
        service: 'duo',
        partner: DUO_PARTNER,
        gemeente: event.gemeente,
        eventId: event.id,
        eventType: event.type,
        attempts: m.info.deliveryCount,
        reason: `DUO ${p.api} accepted the melding with API-Version ${versionDrift.answered}; the hub is pinned to ${versionDrift.pinned}`,
      }).catch((err: Error) => {
        deps.logger.warn({ eventId: event.id, err: err.message }, 'alert not written');
      });
    }
    await p.after?.();
    await outcome(true, { geregistreerdOp: new Date().toISOString() });
    return 'delivered';
  };
}

export const today = (deps: DuoDeps) => deps.today?.() ?? new Date().toISOString().slice(0, 10);

/** Whom and what a read of DUO is for: it discloses the BSN to DUO, so it is logged. */
export interface DuoRead {
  span: { ids: { traceId: string; spanId: string } };
  event: { id: string; type: string; gemeente: string };
  /** The activity of the melding the read serves (its policy's). */
  activiteit: string;
  betrokkene: string;
}

/**
 * A GET on DUO about one person: on demand, with a fresh berichtId, `undefined` for DUO's 404
 * (nothing registered). Every such read carries the BSN in DUO's URL and the gemeente as bron,
 * so with `read` it is a disclosure in the processing log (its own span under the message's,
 * categories `gemeente` and `identificatie`, fail closed) and in the inzage.
 */
export function duoGet(deps: DuoDeps, bsn: string, bron: string, read?: DuoRead) {
  return <T>(api: DuoApi, path: string): Promise<T | undefined> => {
    const call = () =>
      deps.duo.find<T>(api, { path: `/personen/${bsn}${path}`, bron, berichtId: randomUUID() });
    if (!read) return call();
    const span = childSpan({ ...read.span.ids, flags: '01' });
    return disclose(
      deps,
      {
        traceId: span.traceId,
        spanId: span.spanId,
        parentSpanId: read.span.ids.spanId,
        activiteit: read.activiteit,
        ontvanger: { partner: DUO_PARTNER, endpoint: api },
        betrokkene: read.betrokkene,
        categorieen: ['gemeente', 'identificatie'],
        gemeente: read.event.gemeente,
        eventId: read.event.id,
        eventType: read.event.type,
      },
      call,
    );
  };
}

/** What DUO knows of the person, for a melding's rules: every read logged (`duoGet`). */
export function duoFacts(deps: DuoDeps, bsn: string, bron: string, read: DuoRead) {
  const get = duoGet(deps, bsn, bron, read);
  return {
    plicht: () => get<DuoInburgeringsplicht>('Inburgeringsplicht', '/inburgeringsplicht'),
    doelgroep: () => get<DuoDoelgroep>('Inburgeringsplicht', '/doelgroep'),
    pip: () => get<DuoGemeentePip>('PIP', '/PIP'),
    termijn: () => get<DuoInburgeringstermijn>('Inburgeringstermijn', '/inburgeringstermijn'),
    uren: () => get<Record<string, unknown>>('GevolgdeUren', '/uren'),
    map: () => get<DuoResultaatMap>('MAP-PVT-Zroute', '/map'),
    pvt: () => get<DuoResultaatPvt>('MAP-PVT-Zroute', '/pvt'),
  };
}

export function createPipHandler(deps: DuoDeps) {
  return createMeldingHandler(
    deps,
    (event, bsn, bron, { identity, duo }) => {
      const pip = event.data as unknown as PipVastgesteld;
      const body = pipToDuo(pip);
      let held: DuoGemeentePip | undefined;
      return {
        melding: 'pip',
        api: 'PIP',
        method: 'POST',
        path: `/personen/${bsn}/PIP`,
        body,
        async check() {
          const [plicht, doelgroep, huidig] = await Promise.all([
            duo.plicht(),
            duo.doelgroep(),
            duo.pip(),
          ]);
          held = huidig;
          const dg = doelgroep ? doelgroepFromDuo(doelgroep)?.indeling : undefined;
          return checkPip(pip, {
            ...(plicht
              ? {
                  plicht: {
                    plichtig: plicht.indicatorInburgeringsplicht,
                    ...(plicht.begindatum ? { begindatum: plicht.begindatum } : {}),
                  },
                }
              : {}),
            ...(identity?.vestigingsdatum ? { vestigingsdatum: identity.vestigingsdatum } : {}),
            ...(dg ? { doelgroep: dg } : {}),
            ...(huidig ? { huidigePip: { dagtekening: huidig.pip.dagtekeningPip } } : {}),
            ...(identity?.pip ? { initielePipDagtekening: identity.pip.initieel } : {}),
          });
        },
        // DUO's current PIP is this gemeente's and has every field the hub sends (DUO may add
        // one, such as the niveau it records for a B1-route without one).
        heldByDuo() {
          const current = held;
          if (current?.gemeentecode !== event.gemeente.slice(2)) return false;
          return Object.entries(body).every(
            ([field, value]) => (current.pip as Record<string, unknown>)[field] === value,
          );
        },
        async after() {
          const identity = await deps.identities.personOf(event.gemeente, pip.inburgeraarId);
          await deps.identities.merge(event.gemeente, pip.inburgeraarId, {
            pip: { initieel: identity?.pip?.initieel ?? pip.dagtekening, huidig: pip.dagtekening },
          });
        },
      };
    },
    'pip',
  );
}

export function createPipIntrekkingHandler(deps: DuoDeps) {
  return createMeldingHandler(
    deps,
    (_event, bsn, _bron, { duo }) => ({
      melding: 'pip-intrekking',
      api: 'PIP',
      method: 'DELETE',
      path: `/personen/${bsn}/PIP`,
      async check() {
        const [termijn, uren] = await Promise.all([duo.termijn(), duo.uren()]);
        return checkPipIntrekken({
          termijnGezet: termijn !== undefined,
          geregistreerdeCursusuren: courseHours(uren),
        });
      },
    }),
    'pip-intrekking',
  );
}

/**
 * The course hours DUO reports for the person (its GET /uren answer: per gemeente, per kind):
 * the kinds of CURSUSUREN, summed over every gemeente; participation activities are left out.
 */
export function courseHours(value: unknown): number {
  if (Array.isArray(value)) return value.reduce<number>((a, v) => a + courseHours(v), 0);
  if (!value || typeof value !== 'object') return 0;
  const record = value as Record<string, unknown>;
  return Object.entries(record).reduce<number>((a, [k, v]) => {
    if ((CURSUSUREN as readonly string[]).includes(k)) {
      const uren = (v as { uren?: unknown } | null)?.uren;
      return a + (typeof uren === 'number' ? uren : 0);
    }
    return v && typeof v === 'object' ? a + courseHours(v) : a;
  }, 0);
}

function mapPvtHandler(deps: DuoDeps, kind: 'map' | 'pvt') {
  return createMeldingHandler(
    deps,
    (event, bsn, _bron, { duo }) => {
      const d = event.data as unknown as MapAfgerond & PvtOndertekend;
      const datum = kind === 'map' ? d.datumEindgesprek : d.datumOndertekening;
      return {
        melding: kind,
        api: 'MAP-PVT-Zroute',
        method: 'PUT',
        path: `/personen/${bsn}/${kind}`,
        body: kind === 'map' ? mapToDuo(d) : pvtToDuo(d),
        async check() {
          const gemeentecode = event.gemeente.slice(2);
          const [huidig, plicht, termijn] = await Promise.all([
            duo.pip(),
            duo.plicht(),
            duo.termijn(),
          ]);
          const zrouteVoldaan =
            huidig?.pip.leerroute === 'Z' &&
            plicht?.redenGeenInburgeringsplicht === 'Inburgeringsplicht voldaan'
              ? (plicht.einddatum ?? plicht.wijzigingsdatum)
              : undefined;
          return checkMapPvt(
            {
              ...(datum ? { datum } : {}),
              ...(d.verwijtbaar !== undefined ? { verwijtbaar: d.verwijtbaar } : {}),
            },
            {
              vandaag: today(deps),
              huidigePipVanGemeente: huidig?.gemeentecode === gemeentecode,
              ...(zrouteVoldaan ? { zrouteVoldaanOp: zrouteVoldaan } : {}),
              ...(termijn
                ? { termijn: { startdatum: termijn.startdatum, einddatum: termijn.einddatum } }
                : {}),
            },
          );
        },
      };
    },
    kind,
  );
}

export const createMapHandler = (deps: DuoDeps) => mapPvtHandler(deps, 'map');
export const createPvtHandler = (deps: DuoDeps) => mapPvtHandler(deps, 'pvt');

/**
 * Who reported hours, as the hours ledger names the source: a school by its id (set by the
 * taalaanbieder adapter from the school's credential), anything else published through a
 * KVS edge as `kvs`. Taken from the partner header, never from a field a partner chose alone.
 */
export function urenBron(partner: string | undefined, data: Record<string, unknown>): string {
  if (partner === 'taalaanbieder') {
    return typeof data.taalaanbieder === 'string'
      ? `taalaanbieder:${data.taalaanbieder}`
      : 'taalaanbieder';
  }
  return partner === 'gemeente-kvs' || partner === undefined ? 'kvs' : partner;
}

/**
 * leerroute.uren → DUO's total of that kind: the report goes into the hours ledger (its
 * source's total replaced, not added) and DUO gets the sum over every source (ADR 0023). Should another source's report change the sum while this PUT was under way, the
 * message is retried, so the last PUT to DUO always carries the ledger's latest sum.
 */
export function createUrenHandler(deps: DuoDeps) {
  const ledger = deps.uren;
  if (!ledger) throw new Error('createUrenHandler needs the hours ledger (deps.uren)');
  return createMeldingHandler(
    deps,
    (event, bsn, _bron, { berichtId, original, partner, duo }) => {
      const d = event.data as unknown as LeerrouteUren;
      const rapport = {
        gemeente: event.gemeente,
        inburgeraarId: d.inburgeraarId,
        soort: d.soort,
        bron: urenBron(partner, original.data),
        uren: d.urenTotaal,
        tijd: event.time ?? new Date().toISOString(),
        eventId: event.id,
      };
      let sent: number | undefined;
      return {
        melding: 'uren',
        api: 'GevolgdeUren',
        method: 'PUT',
        path: `/personen/${bsn}/uren/${UREN_PAD[d.soort]}`,
        async prepare() {
          const stand = await ledger.report(rapport);
          if (stand.totaal > 9999) {
            throw new ValidationError('the sum of the hours exceeds what DUO takes', [
              {
                field: 'data.urenTotaal',
                rule: 'sum at most 9999',
                message: `the sources of this kind report ${stand.totaal} hours together`,
              },
            ]);
          }
          sent = stand.totaal;
          return {
            body: { uren: stand.totaal },
            // Per report and sum: a redelivery sending the same sum repeats its bericht, a
            // resend with a new sum (another source reported meanwhile) is a new one.
            berichtId: nameBasedUuid(`${berichtId}:uren:${stand.totaal}`),
          };
        },
        async after() {
          const now = await ledger.get(event.gemeente, d.inburgeraarId, d.soort);
          if (now && now.totaal !== sent) {
            throw new OutOfOrderError(
              'the hours ledger changed while DUO was being sent its total: sending the new sum',
              { field: 'data.urenTotaal', rule: 'latest sum at DUO' },
            );
          }
        },
        // DUO lists no rule for hours beyond the contract (0..9999, checked by schema); the hub
        // checks the kind against the person's route and doelgroep (checkUren), reading them
        // from DUO only for the kind that depends on them.
        async check() {
          if (d.soort !== 'zroute-participatieactiviteiten') return [];
          const [huidig, doelgroep] = await Promise.all([duo.pip(), duo.doelgroep()]);
          const leerroute = leerrouteFromDuo(huidig?.pip.leerroute);
          const dg = doelgroep ? doelgroepFromDuo(doelgroep)?.indeling : undefined;
          return checkUren(
            { soort: d.soort },
            { ...(leerroute ? { leerroute } : {}), ...(dg ? { doelgroep: dg } : {}) },
          );
        },
      };
    },
    'uren',
  );
}
