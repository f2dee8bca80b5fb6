import type { JsMsg } from '@nats-io/jetstream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type {
  DuoNotificatieOntvangen,
  OntheffingenOpgevraagd,
} from '@ketenhub/contracts/generated';
import type {
  DuoDoelgroep,
  DuoExamenresultaten,
  DuoInburgeringsplicht,
  DuoInburgeringstermijn,
  DuoLbtExamennummer,
  DuoLbtResultaten,
  DuoNotificatie,
  DuoOntheffingen,
  DuoVrijstellingen,
} from '@ketenhub/contracts/generated/duo';
import { schemas } from '@ketenhub/contracts';
import {
  ForbiddenError,
  OutOfOrderError,
  ValidationError,
  buildEvent,
  inboundRoute,
  messageSpan,
  nameBasedUuid,
  parseChainEvent,
  raiseAlert,
  scopedEventIdOf,
  type InboundDeps,
  type Outcome,
} from '@ketenhub/kit';
import {
  PERSON_WAIT_ATTEMPTS,
  bsnProblem,
  normaliseVnummer,
  vnummerProblem,
  type IdentityStore,
  type Pseudonymizer,
} from '@ketenhub/kit/privacy';
import {
  DUO_SIGNAAL,
  GEBEURTENISSEN,
  ONTHEFFING_VERLEEND,
  VRIJSTELLING_VERLEEND,
  type Gebeurtenis,
} from './codes.ts';
import { PINNED_VERSIONS, type DuoApi } from './duo-client.ts';
import { DUO_PARTNER, duoGet, type DuoDeps, type DuoRead } from './handlers.ts';
import {
  doelgroepFromDuo,
  examensFromDuo,
  lbtFromDuo,
  ontheffingenFromDuo,
  plichtFromDuo,
  termijnFromDuo,
  vrijstellingenFromDuo,
} from './translate.ts';

export const NOTIFICATIE_SCHEMA = 'https://contracts.ketenhub.nl/duo/notificatie.schema.json';
export const NOTIFICATIE_ONTVANGEN = 'nl.inburgering.duo.notificatie-ontvangen';
const OIN = /^[0-9]{20}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface NotificatieDeps extends InboundDeps {
  duoOin: string;
  /** OIN of each gemeente the hub serves → its CBS code. */
  gemeenteByOin: ReadonlyMap<string, string>;
  pseudonymizer: Pseudonymizer;
  identities: IdentityStore;
  /** True when this berichtId was handled before (kept for `notificatieDedupDays`). */
  seen(berichtId: string): Promise<boolean>;
  remember(berichtId: string): Promise<void>;
  source: string;
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The Digikoppeling headers of a notification, checked: `bron` must be DUO, `doel` a gemeente
 * the hub serves (its CBS code), `berichtId` a UUID.
 */
function routeOf(
  request: FastifyRequest,
  deps: NotificatieDeps,
): { gemeente: string; berichtId: string } {
  const bron = header(request.headers.bron);
  const doel = header(request.headers.doel);
  // A UUID in any casing is the same berichtId: lower-cased once, here, so the seen-set, the
  // event id (JetStream's duplicate check) and the event agree on one spelling.
  const berichtId = header(request.headers.berichtid)?.toLowerCase();
  const headerViolations = [
    ...(bron && OIN.test(bron)
      ? []
      : [{ field: 'header.bron', rule: 'OIN: 20 digits', message: 'is required: the OIN of DUO' }]),
    ...(doel && OIN.test(doel)
      ? []
      : [
          {
            field: 'header.doel',
            rule: 'OIN: 20 digits',
            message: 'is required: the OIN of the gemeente',
          },
        ]),
    ...(berichtId && UUID.test(berichtId)
      ? []
      : [{ field: 'header.berichtId', rule: 'format:uuid', message: 'is required: a UUID' }]),
  ];
  if (headerViolations.length > 0)
    throw new ValidationError('invalid Digikoppeling headers', headerViolations);
  if (bron !== deps.duoOin) {
    throw new ForbiddenError('bron is not DUO', { field: 'header.bron', rule: 'DUO OIN' });
  }
  const gemeente = deps.gemeenteByOin.get(doel!);
  if (!gemeente) {
    throw new ForbiddenError('the hub does not serve this doel', {
      field: 'header.doel',
      rule: 'served gemeente OIN',
    });
  }
  return { gemeente, berichtId: berichtId! };
}

/**
 * DUO's Notificatie API (Notificatie 1.8.0), served by the hub for every gemeente it serves:
 * routing on the `doel` OIN, answering 201 as DUO expects, and accepting a repeated berichtId
 * once without processing it twice. The notification carries only a BSN/V-nummer and a code;
 * the DUO adapter pulls the details afterwards (pattern "notificering").
 */
export function registerNotificatieRoutes(app: FastifyInstance, deps: NotificatieDeps): void {
  app.addHook('onSend', async (_request, reply) => {
    // Every answer of an API implementing DUO's spec carries its version.
    reply.header('API-Version', PINNED_VERSIONS.Notificatie);
  });

  inboundRoute<DuoNotificatie>(
    app,
    {
      url: '/v1/notificaties',
      kind: 'duo',
      what: 'notificatie',
      produces: [NOTIFICATIE_ONTVANGEN],
      // Digikoppeling's headers come before the body: who sends it, for which gemeente.
      schema: (body, request) => {
        routeOf(request, deps);
        return schemas().validate(NOTIFICATIE_SCHEMA, body);
      },
      check: (body) => [
        ...(body.bsn !== undefined && bsnProblem(body.bsn)
          ? [{ field: 'bsn', rule: 'elfproef', message: bsnProblem(body.bsn)! }]
          : []),
        // The schema allows 0 (DUO's integer type); no person has V-nummer 0.
        ...(typeof body.vNummer === 'number' && vnummerProblem(body.vNummer)
          ? [{ field: 'vNummer', rule: 'vnummer', message: vnummerProblem(body.vNummer)! }]
          : []),
        ...(body.bsn === undefined && body.vNummer === undefined
          ? [{ field: 'bsn', rule: 'bsn or vNummer', message: 'a BSN or V-nummer is required' }]
          : []),
      ],
      // A berichtId handled before is answered 201 again and not processed twice.
      handled: (_body, request) => deps.seen(routeOf(request, deps).berichtId),
      async translate(body, { request }) {
        const { gemeente, berichtId } = routeOf(request, deps);
        const vnummer =
          body.vNummer !== undefined ? normaliseVnummer(body.vNummer, 'vNummer') : undefined;
        const inburgeraarId = deps.pseudonymizer.inburgeraarId({
          bsn: body.bsn,
          vnummer: vnummer ?? '',
        });
        // DUO addresses the gemeente responsible for the person (`doel`), also after a move: its
        // notifications bind the person to that gemeente (docs/adr/0012-tenant-binding.md).
        await deps.identities.binding.merge(inburgeraarId, {
          ...(body.bsn ? { bsn: body.bsn } : {}),
          ...(vnummer ? { vnummer } : {}),
        });
        await deps.identities.persons.bind(inburgeraarId, gemeente, 'duo');
        return buildEvent({
          id: nameBasedUuid(`duo:notificatie:${berichtId}`),
          type: NOTIFICATIE_ONTVANGEN,
          source: deps.source,
          gemeente,
          data: {
            inburgeraarId,
            gemeenteCode: gemeente,
            gebeurtenisId: body.gebeurtenisId,
            registratieDatumTijd: body.registratieDatumTijd,
            berichtId,
          },
        });
      },
      // Stored first, remembered after: a crash in between makes DUO's retry publish again,
      // which JetStream drops as a duplicate (same Nats-Msg-Id), so nothing is lost or doubled.
      after: (event) => deps.remember((event.data as { berichtId: string }).berichtId),
      // DUO's Notificatie API answers 201 without a body.
      answer: { status: 201 },
    },
    deps,
  );
}

/** The BSN of a person of this gemeente; a person of another gemeente is refused (kit). */
async function bsnOf(
  deps: DuoDeps,
  gemeente: string,
  inburgeraarId: string,
): Promise<string | undefined> {
  return (await deps.identities.personOf(gemeente, inburgeraarId))?.bsn;
}

/** A GET of DUO's for one person; undefined when DUO has nothing (404). */
type Get = <T>(api: DuoApi, path: string) => Promise<T | undefined>;

/** The details of one chain event, pulled from DUO's GET APIs, in the chain's vocabulary. */
async function detailsOf(
  type: string,
  get: Get,
  g: Gebeurtenis | undefined,
): Promise<Record<string, unknown>> {
  switch (type) {
    case 'nl.inburgering.inburgeringsplicht.gewijzigd': {
      const plicht = await get<DuoInburgeringsplicht>('Inburgeringsplicht', '/inburgeringsplicht');
      const doelgroep = await get<DuoDoelgroep>('Inburgeringsplicht', '/doelgroep');
      const dg = doelgroep ? doelgroepFromDuo(doelgroep) : undefined;
      return {
        // A person DUO no longer knows (SS110, SS111) has no plicht.
        inburgeringsplicht: plicht ? plichtFromDuo(plicht) : { plichtig: false },
        ...(dg ? { doelgroep: dg } : {}),
      };
    }
    case 'nl.inburgering.leerbaarheidstoets.aangemeld': {
      const nr = await get<DuoLbtExamennummer>('Leerbaarheidstoets', '/lbt/examennummer');
      return nr ? { examennummer: nr.examennummer } : {};
    }
    case 'nl.inburgering.leerbaarheidstoets.afgerond':
      return {
        resultaten: lbtFromDuo(
          (await get<DuoLbtResultaten>('Leerbaarheidstoets', '/lbt/resultaten')) ?? [],
        ),
      };
    case 'nl.inburgering.inburgeringstermijn.gestart': {
      const termijn = await get<DuoInburgeringstermijn>(
        'Inburgeringstermijn',
        '/inburgeringstermijn',
      );
      if (!termijn)
        throw new ValidationError('DUO has no inburgeringstermijn', [
          { field: 'termijn', rule: 'present', message: 'SS102 without a termijn' },
        ]);
      return { termijn: termijnFromDuo(termijn) };
    }
    case 'nl.inburgering.examen.resultaat':
      return {
        resultaten: examensFromDuo(
          (await get<DuoExamenresultaten>('Examen', '/examens/resultaten')) ?? [],
        ),
      };
    // Everything DUO holds, granted or refused; none (404 or []) is an empty list.
    case ONTHEFFING_VERLEEND:
      return {
        ontheffingen: ontheffingenFromDuo(
          (await get<DuoOntheffingen>('Ontheffing', '/ontheffingen')) ?? [],
        ),
      };
    case VRIJSTELLING_VERLEEND:
      return {
        vrijstellingen: vrijstellingenFromDuo(
          (await get<DuoVrijstellingen>('Vrijstelling', '/vrijstellingen')) ?? [],
        ),
      };
    case DUO_SIGNAAL:
      return { signaal: g?.signaal };
    default:
      throw new Error(`the hub has no details for ${type}`);
  }
}

/**
 * Pulls the details of each type for one person and publishes the chain events, in order. All
 * are built and checked against the chain contract before the first is published, so DUO details
 * that do not fit publish nothing; a redelivery publishes the same ids again (JetStream drops
 * the duplicates).
 */
async function pullAndPublish(
  deps: DuoDeps,
  m: JsMsg,
  opts: {
    gemeente: string;
    bsn: string;
    types: readonly string[];
    base: Record<string, unknown>;
    idOf(type: string): string;
    gebeurtenis?: Gebeurtenis;
    /**
     * When the KVS asked: each GET is a disclosure of the BSN in DUO's URL, logged around the
     * call in its own span under the message's (fail closed). Not yet for a notification.
     */
    read?: DuoRead;
  },
): Promise<void> {
  const bron = deps.oinOf(opts.gemeente);
  const { read } = opts;
  const get: Get = duoGet(deps, opts.bsn, bron, read);
  const events = [];
  for (const type of opts.types) {
    const out = buildEvent({
      id: opts.idOf(type),
      type,
      source: deps.source,
      gemeente: opts.gemeente,
      data: { ...opts.base, ...(await detailsOf(type, get, opts.gebeurtenis)) },
    });
    const violations = schemas().validateEvent(out);
    if (violations.length > 0)
      throw new ValidationError('DUO details do not fit the chain contract', violations);
    events.push(out);
  }
  for (const out of events) await deps.publish(out, messageSpan(m).traceparent);
}

const noBsn = () =>
  new ValidationError('no BSN known for this person', [
    { field: 'data.inburgeraarId', rule: 'bsn known', message: 'DUO addresses persons by BSN' },
  ]);

/**
 * DUO notification → pull the details → the chain event of its gebeurtenis code, and the ones
 * published beside it (`ook`: the ontheffingen or vrijstellingen of SS107, SS108, SS109).
 */
export function createNotificationHandler(deps: DuoDeps): (m: JsMsg) => Promise<Outcome> {
  return async (m) => {
    const event = parseChainEvent<DuoNotificatieOntvangen>(m);
    const n = event.data;
    const g = GEBEURTENISSEN[n.gebeurtenisId];
    if (!g) {
      // Kept (dead letter, replayable once the hub knows the code) and reported, never dropped.
      await raiseAlert(deps.js, {
        kind: 'unknown-notification',
        service: 'duo',
        partner: DUO_PARTNER,
        gemeente: event.gemeente,
        eventId: event.id,
        attempts: m.info.deliveryCount,
        reason: `unknown gebeurtenisId ${n.gebeurtenisId}`,
      });
      throw new ValidationError(`unknown DUO gebeurtenisId ${n.gebeurtenisId}`, [
        {
          field: 'data.gebeurtenisId',
          rule: 'known gebeurtenisId',
          message: `${n.gebeurtenisId} is not in the table`,
        },
      ]);
    }
    const bsn = await bsnOf(deps, event.gemeente, n.inburgeraarId);
    if (!bsn) throw noBsn();
    await pullAndPublish(deps, m, {
      gemeente: event.gemeente,
      bsn,
      types: [g.type, ...(g.ook ?? [])],
      base: {
        inburgeraarId: n.inburgeraarId,
        gemeenteCode: event.gemeente,
        gebeurtenis: {
          code: n.gebeurtenisId,
          omschrijving: g.omschrijving,
          registratieDatumTijd: n.registratieDatumTijd,
        },
      },
      idOf: (type) => nameBasedUuid(`duo:${n.berichtId}:${type}`),
      gebeurtenis: g,
    });
    return 'delivered';
  };
}

export const ONTHEFFINGEN_OPGEVRAAGD = 'nl.inburgering.ontheffingen.opgevraagd';

/**
 * The KVS asks to read the person's ontheffingen and vrijstellingen again
 * (`ontheffingen.opgevraagd`): the hub GETs both at DUO, each a disclosure of the BSN in
 * DUO's URL (processing log, fail closed), and answers with `ontheffing.verleend` and
 * `vrijstelling.verleend`, `bronEventId` the KVS's event, without `gebeurtenis`.
 */
export function createOntheffingenOpgevraagdHandler(deps: DuoDeps): (m: JsMsg) => Promise<Outcome> {
  return async (m) => {
    const event = parseChainEvent<OntheffingenOpgevraagd>(m);
    const disclosure = deps.projector.project(event);
    if (!disclosure) return 'skipped';
    const { inburgeraarId } = (disclosure.event as { data: OntheffingenOpgevraagd }).data;
    const bsn = await bsnOf(deps, event.gemeente, inburgeraarId);
    if (!bsn) {
      // As for a melding: the vestiging that brings the BSN may be a moment behind.
      if (m.info.deliveryCount < PERSON_WAIT_ATTEMPTS) {
        throw new OutOfOrderError(
          'no BSN known for this person yet: data.inburgeraarId (vestiging or koppeling first)',
          { field: 'data.inburgeraarId', rule: 'vestiging or koppeling first' },
        );
      }
      throw noBsn();
    }
    // Ids from the scoped id: a KVS chooses its event ids and must not pick another gemeente's.
    const scoped = scopedEventIdOf(m, event);
    await pullAndPublish(deps, m, {
      gemeente: event.gemeente,
      bsn,
      types: [ONTHEFFING_VERLEEND, VRIJSTELLING_VERLEEND],
      base: { inburgeraarId, gemeenteCode: event.gemeente, bronEventId: event.id },
      idOf: (type) => nameBasedUuid(`duo:opgevraagd:${scoped}:${type}`),
      read: {
        span: messageSpan(m),
        event,
        activiteit: disclosure.activity,
        betrokkene: inburgeraarId,
      },
    });
    return 'delivered';
  };
}
