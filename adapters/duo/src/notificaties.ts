import type { FastifyInstance } from 'fastify';
import type { DuoNotificatie } from '@ketenhub/contracts/generated';
import { schemas } from '@ketenhub/contracts';
import {
  ForbiddenError,
  ValidationError,
  bsnProblem,
  buildEvent,
  childSpan,
  formatTraceparent,
  nameBasedUuid,
  normaliseVnummer,
  requireKind,
  vnummerProblem,
  type Event,
  type IdentityStore,
  type Logger,
  type Pseudonymizer,
} from '@ketenhub/kit';
import { PINNED_VERSIONS } from './duo-client.ts';

export const NOTIFICATIE_SCHEMA = 'https://contracts.ketenhub.nl/duo/notificatie.schema.json';
export const NOTIFICATIE_ONTVANGEN = 'nl.inburgering.duo.notificatie-ontvangen';
const OIN = /^[0-9]{20}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface NotificatieDeps {
  duoOin: string;
  /** OIN of each gemeente the hub serves → its CBS code. */
  gemeenteByOin: ReadonlyMap<string, string>;
  pseudonymizer: Pseudonymizer;
  identities: IdentityStore;
  /** True when this berichtId was handled before (kept for `notificatieDedupDays`). */
  seen(berichtId: string): Promise<boolean>;
  remember(berichtId: string): Promise<void>;
  publish(event: Event<unknown>, traceparent: string): Promise<void>;
  source: string;
  logger: Logger;
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
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

  app.post('/v1/notificaties', async (request, reply) => {
    requireKind(request, 'duo');
    const bron = header(request.headers.bron);
    const doel = header(request.headers.doel);
    // A UUID in any casing is the same berichtId: lower-cased once, here, so the seen-set, the
    // event id (JetStream's duplicate check) and the event agree on one spelling.
    const berichtId = header(request.headers.berichtid)?.toLowerCase();
    const headerViolations = [
      ...(bron && OIN.test(bron)
        ? []
        : [
            {
              field: 'header.bron',
              rule: 'OIN: 20 digits',
              message: 'is required: the OIN of DUO',
            },
          ]),
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

    const body = request.body as DuoNotificatie;
    const violations = schemas().validate(NOTIFICATIE_SCHEMA, body);
    if (body && typeof body === 'object') {
      if (body.bsn !== undefined) {
        const problem = bsnProblem(body.bsn);
        if (problem) violations.push({ field: 'bsn', rule: 'elfproef', message: problem });
      }
      // The schema allows 0 (DUO's integer type); no person has V-nummer 0.
      if (typeof body.vNummer === 'number' && !violations.some((v) => v.field === 'vNummer')) {
        const problem = vnummerProblem(body.vNummer);
        if (problem) violations.push({ field: 'vNummer', rule: 'vnummer', message: problem });
      }
      if (body.bsn === undefined && body.vNummer === undefined) {
        violations.push({
          field: 'bsn',
          rule: 'bsn or vNummer',
          message: 'a BSN or V-nummer is required',
        });
      }
    }
    if (violations.length > 0) throw new ValidationError('invalid notificatie', violations);

    if (await deps.seen(berichtId!)) {
      deps.logger.info({ berichtId }, 'repeated DUO notification accepted, not processed again');
      return reply.code(201).send();
    }
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
    const event = buildEvent({
      id: nameBasedUuid(`duo:notificatie:${berichtId}`),
      type: NOTIFICATIE_ONTVANGEN,
      source: deps.source,
      gemeente,
      data: {
        inburgeraarId,
        gemeenteCode: gemeente,
        gebeurtenisId: body.gebeurtenisId,
        registratieDatumTijd: body.registratieDatumTijd,
        berichtId: berichtId!,
      },
    });
    // Stored first, remembered after: a crash in between makes DUO's retry publish again, which
    // JetStream drops as a duplicate (same Nats-Msg-Id), so nothing is lost and nothing doubled.
    await deps.publish(event, formatTraceparent(childSpan()));
    await deps.remember(berichtId!);
    return reply.code(201).send();
  });
}
