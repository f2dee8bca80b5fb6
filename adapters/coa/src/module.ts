import { RECEIPTS, credentialFromConfig, servedGemeenten, type PartnerModule } from '@ketenhub/kit';
import { COA_PARTNER, registerCoaRoutes } from './routes.ts';

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
    // No simulator: the hub never calls COA, and COA's simulator is a sender the demo drives
    // (@ketenhub/simulator-coa), not a server to start.
    stores: [RECEIPTS],
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
            publish: publisher.accept,
            logger: rt.logger,
          }),
      };
    },
  };
}
