import {
  PARTNER_HEADER,
  RECEIPTS,
  flowName,
  kvsCredentials,
  type ConsumerDecl,
  type ConsumerSpec,
  type HubConfig,
  type PartnerModule,
} from '@ketenhub/kit';
import { KVS_PARTNER, createKvsDelivery, describeMessage, isDuplicateAnswer } from './deliver.ts';
import { registerKvsInboundRoutes } from './inbound.ts';

/** One consumer per gemeente, on that gemeente's subjects only: the tenant is its filter. */
function consumersOf(config: HubConfig): ConsumerDecl[] {
  return config.gemeenten.map((g) => ({
    durable: `${KVS_PARTNER}-${g.code}`,
    filter: `keten.${g.code}.>`,
  }));
}

/**
 * Each gemeente's KVS: every chain event of the gemeente delivered to its KVS (one durable
 * consumer and one breaker per gemeente, so a KVS that is down holds up only its own
 * gemeente's messages), and, when `services.gemeente-kvs.port` is set, the KVS inbound API
 * where each KVS's credential is bound to its own gemeente.
 */
export function kvsModule(): PartnerModule {
  return {
    id: KVS_PARTNER,
    kind: 'both',
    service: 'gemeente-kvs',
    description: "every chain event to the gemeente's KVS; the KVS's events in",
    stores: [RECEIPTS],
    consumers: consumersOf,
    edge: { optional: true, credentials: kvsCredentials },
    defaults: { concurrency: 16 },
    async start(rt) {
      const declared = consumersOf(rt.config);
      const consumers: ConsumerSpec[] = rt.config.gemeenten.map((gemeente, i) => {
        const logger = rt.logger.child({ gemeente: gemeente.code });
        const client = rt.partnerClient(
          { ...gemeente.kvs, id: gemeente.code },
          { treatAsSuccess: isDuplicateAnswer },
        );
        return {
          ...declared[i]!,
          handler: createKvsDelivery({
            gemeente: gemeente.code,
            client,
            projector: rt.projector,
            processingLog: rt.processingLog,
            logger,
          }),
          flow: (m) => flowName(m.headers?.get(PARTNER_HEADER), KVS_PARTNER),
          describe: describeMessage,
          // While this gemeente's KVS breaker is open, its messages wait in the stream.
          gate: client.gate,
        };
      });
      return {
        consumers,
        routes: async (edge) => {
          const publisher = await rt.edgePublisher();
          registerKvsInboundRoutes(edge, { publish: publisher.accept, logger: rt.logger });
        },
      };
    },
  };
}
