import type { FastifyInstance } from 'fastify';
import { schemas } from '@ketenhub/contracts';
import {
  ForbiddenError,
  ValidationError,
  bsnViolations,
  mayProduce,
  moneyViolations,
  requireGemeente,
  requireKind,
  traceparentFor,
  type Event,
  type Logger,
} from '@ketenhub/kit';
import { KVS_PARTNER } from './deliver.ts';

export interface KvsInboundDeps {
  /** Publishes to JetStream and resolves when the stream has stored the event. */
  publish: (event: Event<unknown>, traceparent: string) => Promise<void>;
  logger: Logger;
}

/**
 * The KVS's inbound API: a gemeente's klantvolgsysteem sends chain events to the hub (vestiging,
 * PIP, MAP/PVT, hours) as CloudEvents in structured mode. The credential is bound to one
 * gemeente: it can send only that gemeente's events (403 otherwise) and only the types the
 * gemeente-kvs policy says a KVS delivers. 202 means the event is stored in JetStream.
 */
export function registerKvsInboundRoutes(app: FastifyInstance, deps: KvsInboundDeps): void {
  app.post('/v1/events', async (request, reply) => {
    const principal = requireKind(request, KVS_PARTNER);
    const event = request.body as Event<{ gemeenteCode?: string }> & { traceparent?: unknown };
    const violations = schemas().validateEvent(event);
    if (violations.length > 0) throw new ValidationError('not a valid chain event', violations);
    // A schema can check an IBAN's shape, not its check digits: a one-digit typo would send a
    // payment to someone else's account (financieel ontzorgen), so it is refused here.
    const money = moneyViolations(event.data, 'data');
    if (money.length > 0) throw new ValidationError('invalid IBAN or amount', money);
    // Nor can it run the elfproef: a mistyped BSN (in any field `bsn`, of any event type a KVS
    // may send) would tie the person to someone else's records at DUO and the Kredietbank.
    const bsn = bsnViolations(event.data, 'data');
    if (bsn.length > 0) throw new ValidationError('invalid BSN', bsn);
    if (!mayProduce(KVS_PARTNER, event.type)) {
      throw new ForbiddenError(`a KVS may not send ${event.type}`, {
        field: 'type',
        rule: 'policy levert',
      });
    }
    if (!event.gemeente) {
      throw new ValidationError('gemeente is required', [
        {
          field: 'gemeente',
          rule: 'required',
          message: 'the CloudEvents extension gemeente is required',
        },
      ]);
    }
    if (event.data.gemeenteCode !== event.gemeente) {
      throw new ValidationError('gemeente does not match data.gemeenteCode', [
        {
          field: 'data.gemeenteCode',
          rule: 'equals gemeente',
          message: 'must equal the gemeente extension',
        },
      ]);
    }
    requireGemeente(request, event.gemeente, 'gemeente');
    const { traceparent: _ignored, ...clean } = event;
    await deps.publish(clean as Event<unknown>, traceparentFor(request.headers, event.traceparent));
    deps.logger.info(
      { eventId: event.id, type: event.type, kvs: principal.id },
      'KVS event accepted',
    );
    return reply.code(202).send({ eventId: event.id, type: event.type });
  });
}
