import type { FastifyInstance } from 'fastify';
import { schemas } from '@ketenhub/contracts';
import type { KredietbankWebhook } from '@ketenhub/contracts/generated';
import {
  ForbiddenError,
  ValidationError,
  buildEvent,
  mayProduce,
  moneyViolations,
  nameBasedUuid,
  requireKind,
  traceparentFor,
  type Event,
  type Logger,
} from '@ketenhub/kit';
import { KREDIETBANK_PARTNER } from './handlers.ts';
import type { TrajectStore } from './trajecten.ts';
import { KREDIETBANK_WEBHOOK_SCHEMA, webhookToChain } from './translate.ts';

export interface WebhookDeps {
  /** CBS codes (gm0797) the hub serves. */
  gemeenten: Set<string>;
  trajecten: TrajectStore;
  /** Publishes to JetStream and resolves when the stream has stored the event. */
  publish(event: Event<unknown>, traceparent: string): Promise<void>;
  source: string;
  logger: Logger;
}

/**
 * The Kredietbank's webhooks: POST /v1/webhooks with the Kredietbank's credential. Each is
 * checked against the Kredietbank's webhook contract, tied to the inburgeraar through the
 * traject store (refused for a traject the hub did not register for that gemeente), translated
 * and published as a chain event for the gemeente's KVS. The chain event id is derived from the
 * webhook id, so a webhook the Kredietbank sends again is stored once (Nats-Msg-Id). 202 means
 * stored in JetStream.
 */
export function registerWebhookRoutes(app: FastifyInstance, deps: WebhookDeps): void {
  app.post('/v1/webhooks', async (request, reply) => {
    const principal = requireKind(request, KREDIETBANK_PARTNER);
    const webhook = request.body as KredietbankWebhook;
    // The schema first, and nothing else until it holds: only then is the body an object with
    // `gegevens` of a known shape to look into (null, a string or 50,000 levels of nesting is
    // refused here, also without the edge's own body checks).
    const violations = schemas().validate(KREDIETBANK_WEBHOOK_SCHEMA, webhook);
    if (violations.length > 0) throw new ValidationError('not a valid webhook', violations);
    const money = moneyViolations(webhook.gegevens, 'gegevens');
    if (money.length > 0) throw new ValidationError('not a valid webhook', money);
    const gemeente = `gm${webhook.gemeentecode}`;
    if (!deps.gemeenten.has(gemeente)) {
      throw new ForbiddenError(`the hub does not serve gemeente ${webhook.gemeentecode}`, {
        field: 'gemeentecode',
        rule: 'served gemeente',
      });
    }
    const link = await deps.trajecten.get(gemeente, webhook.referentie);
    if (!link) {
      throw new ValidationError('unknown traject', [
        {
          field: 'referentie',
          rule: 'known traject',
          message: `the hub registered no traject ${webhook.referentie} for gemeente ${webhook.gemeentecode}`,
        },
      ]);
    }
    const chain = webhookToChain(webhook, link.inburgeraarId);
    if (!mayProduce(KREDIETBANK_PARTNER, chain.type)) {
      throw new ForbiddenError(`the Kredietbank may not send ${chain.type}`, {
        field: 'type',
        rule: 'policy levert',
      });
    }
    const event = buildEvent({
      id: nameBasedUuid(`kredietbank:${webhook.id}`),
      type: chain.type,
      source: deps.source,
      gemeente,
      data: chain.data,
    });
    const chainViolations = schemas().validateEvent(event);
    if (chainViolations.length > 0) {
      throw new ValidationError('webhook does not fit the chain contract', chainViolations);
    }
    const traceparent = traceparentFor(request.headers);
    await deps.publish(event, traceparent);
    deps.logger.info(
      { eventId: event.id, type: event.type, gemeente, partner: principal.id },
      'Kredietbank webhook accepted',
    );
    return reply.code(202).send({ eventId: event.id, type: event.type });
  });
}
