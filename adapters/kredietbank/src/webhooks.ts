import type { FastifyInstance } from 'fastify';
import type { KredietbankWebhook } from '@ketenhub/contracts/generated/kredietbank';
import {
  ForbiddenError,
  ValidationError,
  buildEvent,
  inboundRoute,
  nameBasedUuid,
  type InboundDeps,
} from '@ketenhub/kit';
import { moneyViolations } from '@ketenhub/kit/privacy';
import { KREDIETBANK_PARTNER } from './handlers.ts';
import type { TrajectStore } from './trajecten.ts';
import { KREDIETBANK_WEBHOOK_SCHEMA, webhookToChain } from './translate.ts';

export interface WebhookDeps extends InboundDeps {
  /** CBS codes (gm0797) the hub serves. */
  gemeenten: Set<string>;
  trajecten: TrajectStore;
  source: string;
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
  inboundRoute<KredietbankWebhook>(
    app,
    {
      url: '/v1/webhooks',
      kind: KREDIETBANK_PARTNER,
      what: 'webhook',
      // The schema first, and nothing else until it holds: only then is the body an object with
      // `gegevens` of a known shape to look into.
      schema: KREDIETBANK_WEBHOOK_SCHEMA,
      check: (webhook) => moneyViolations(webhook.gegevens, 'gegevens'),
      async translate(webhook) {
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
        return buildEvent({
          id: nameBasedUuid(`kredietbank:${webhook.id}`),
          type: chain.type,
          source: deps.source,
          gemeente,
          data: chain.data,
        });
      },
      gemeenteField: 'gemeentecode',
    },
    deps,
  );
}
