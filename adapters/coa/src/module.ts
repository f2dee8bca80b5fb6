import {
  RECEIPT_BUCKET,
  credentialFromConfig,
  servedGemeenten,
  type PartnerModule,
} from '@ketenhub/kit';
import { registerCoaRoutes } from './routes.ts';

export const COA_PARTNER = 'coa';

/**
 * COA: its JSON pushes and its nightly TVS CSV export in, chain events out to
 * `keten.<gemeente>.inburgeraar.*`. A 2xx answer means the event is stored in JetStream.
 */
export function coaModule(): PartnerModule {
  return {
    id: COA_PARTNER,
    kind: 'inbound',
    service: 'coa',
    description: 'COA koppelingen and warme overdrachten (JSON and the TVS CSV export) in',
    stores: [RECEIPT_BUCKET],
    // The TVS export is the only CSV this edge takes.
    edge: { csv: true, credentials: (config) => [credentialFromConfig(config, COA_PARTNER)] },
    async start(rt) {
      const publisher = await rt.edgePublisher();
      return {
        routes: (edge) =>
          registerCoaRoutes(edge, {
            ctx: {
              pseudonymizer: rt.pseudonymizer,
              servedGemeenten: servedGemeenten(rt.config),
              source: rt.source,
              production: rt.config.hub.production === true,
            },
            // Once per COA id: the same koppeling again (also from the nightly CSV after a JSON
            // push) is accepted again; other content under the same id is a 409. `bron`
            // (channel, message id) is how it came, not what it says.
            publish: async (event, traceparent) => {
              const { bron: _bron, ...content } = event.data as { bron?: unknown } & Record<
                string,
                unknown
              >;
              const [field, value] =
                typeof content.koppelingId === 'string'
                  ? ['koppelingId', content.koppelingId]
                  : ['overdrachtId', String(content.overdrachtId)];
              await publisher.accept(event, traceparent, {
                id: { field, value },
                content: { type: event.type, gemeente: event.gemeente, data: content },
              });
            },
            logger: rt.logger,
          }),
      };
    },
  };
}
