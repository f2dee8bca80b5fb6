import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { DuoNotificatie } from '@ketenhub/contracts/generated/duo';
import { schemas } from '@ketenhub/contracts';
import {
  ForbiddenError,
  ValidationError,
  buildEvent,
  inboundRoute,
  nameBasedUuid,
  type InboundDeps,
} from '@ketenhub/kit';
import {
  bsnProblem,
  normaliseVnummer,
  vnummerProblem,
  type IdentityStore,
  type Pseudonymizer,
} from '@ketenhub/kit/privacy';
import { PINNED_VERSIONS } from './duo-client.ts';

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
