import { randomUUID } from 'node:crypto';
import type { JsMsg } from '@nats-io/jetstream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { DuoNotificatieOntvangen } from '@ketenhub/contracts/generated';
import type {
  DuoDoelgroep,
  DuoExamenresultaten,
  DuoInburgeringsplicht,
  DuoInburgeringstermijn,
  DuoLbtExamennummer,
  DuoLbtResultaten,
  DuoNotificatie,
} from '@ketenhub/contracts/generated/duo';
import { schemas } from '@ketenhub/contracts';
import {
  ForbiddenError,
  ValidationError,
  buildEvent,
  inboundRoute,
  messageSpan,
  nameBasedUuid,
  parseChainEvent,
  raiseAlert,
  type InboundDeps,
  type Outcome,
} from '@ketenhub/kit';
import {
  bsnProblem,
  normaliseVnummer,
  vnummerProblem,
  type IdentityStore,
  type Pseudonymizer,
} from '@ketenhub/kit/privacy';
import { GEBEURTENISSEN } from './codes.ts';
import { PINNED_VERSIONS, type DuoApi } from './duo-client.ts';
import { DUO_PARTNER, type DuoDeps } from './handlers.ts';
import {
  doelgroepFromDuo,
  examensFromDuo,
  lbtFromDuo,
  plichtFromDuo,
  termijnFromDuo,
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

/** DUO notification → pull the details → the chain event of its gebeurtenis code. */
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
    if (!bsn) {
      throw new ValidationError('no BSN known for this person', [
        { field: 'data.inburgeraarId', rule: 'bsn known', message: 'DUO addresses persons by BSN' },
      ]);
    }
    const bron = deps.oinOf(event.gemeente);
    const get = <T>(api: DuoApi, path: string) =>
      deps.duo.find<T>(api, { path: `/personen/${bsn}${path}`, bron, berichtId: randomUUID() });

    const gebeurtenis = {
      code: n.gebeurtenisId,
      omschrijving: g.omschrijving,
      registratieDatumTijd: n.registratieDatumTijd,
    };
    const base = { inburgeraarId: n.inburgeraarId, gemeenteCode: event.gemeente, gebeurtenis };
    let data: Record<string, unknown>;
    if (g.pulls.includes('plicht')) {
      const plicht = await get<DuoInburgeringsplicht>('Inburgeringsplicht', '/inburgeringsplicht');
      const doelgroep = await get<DuoDoelgroep>('Inburgeringsplicht', '/doelgroep');
      const dg = doelgroep ? doelgroepFromDuo(doelgroep) : undefined;
      data = {
        ...base,
        // A person DUO no longer knows (SS110, SS111) has no plicht.
        inburgeringsplicht: plicht ? plichtFromDuo(plicht) : { plichtig: false },
        ...(dg ? { doelgroep: dg } : {}),
      };
    } else if (g.pulls.includes('lbt-examennummer')) {
      const nr = await get<DuoLbtExamennummer>('Leerbaarheidstoets', '/lbt/examennummer');
      data = { ...base, ...(nr ? { examennummer: nr.examennummer } : {}) };
    } else if (g.pulls.includes('lbt-resultaten')) {
      data = {
        ...base,
        resultaten: lbtFromDuo(
          (await get<DuoLbtResultaten>('Leerbaarheidstoets', '/lbt/resultaten')) ?? [],
        ),
      };
    } else if (g.pulls.includes('termijn')) {
      const termijn = await get<DuoInburgeringstermijn>(
        'Inburgeringstermijn',
        '/inburgeringstermijn',
      );
      if (!termijn)
        throw new ValidationError('DUO has no inburgeringstermijn', [
          { field: 'termijn', rule: 'present', message: 'SS102 without a termijn' },
        ]);
      data = { ...base, termijn: termijnFromDuo(termijn) };
    } else {
      data = {
        ...base,
        resultaten: examensFromDuo(
          (await get<DuoExamenresultaten>('Examen', '/examens/resultaten')) ?? [],
        ),
      };
    }
    const out = buildEvent({
      id: nameBasedUuid(`duo:${n.berichtId}:${g.type}`),
      type: g.type,
      source: deps.source,
      gemeente: event.gemeente,
      data,
    });
    const violations = schemas().validateEvent(out);
    if (violations.length > 0)
      throw new ValidationError('DUO details do not fit the chain contract', violations);
    await deps.publish(out, messageSpan(m).traceparent);
    return 'delivered';
  };
}
