import {
  PERSONS_READ,
  RECEIPTS,
  credentialsOf,
  organisationsWith,
  type ConsumerDecl,
  type HubConfig,
  type PartnerModule,
  organisationConsumers,
} from '@ketenhub/kit';
import { createAanvraagHandler, describeMessage } from './aanvraag.ts';
import { registerWoningcorporatieRoutes } from './routes.ts';
import { WONINGCORPORATIE_PARTNER } from './translate.ts';
import { ZOEKTOCHT_BUCKET, createZoektochtPseudonymizer, openZoektochtStore } from './zoektocht.ts';

/**
 * A zoektocht is kept as long as a person's identity (the inburgeringstermijn plus margin): a
 * lease, a second move after nareizigers arrive, can come long after the aanvraag.
 */
const ZOEKTOCHT_TTL_DAYS = 5 * 366;

/** The corporaties: `partners.woningcorporatie.organisations`, each contracted by `gemeenten`. */
const corporatiesOf = (config: HubConfig) =>
  organisationsWith(config, WONINGCORPORATIE_PARTNER, {
    endpoint: true,
    // A corporatie serves the gemeenten that contracted it, never every gemeente of the hub.
    gemeenten: true,
    what: 'where the hub sends zoektochten',
  });

/** One consumer per corporatie; every one sees every aanvraag and keeps those routed to it. */
function consumersOf(config: HubConfig): ConsumerDecl[] {
  return corporatiesOf(config).map((c) => ({
    durable: `${WONINGCORPORATIE_PARTNER}-${c.id}`,
    filter: 'keten.*.woning.aangevraagd',
  }));
}

/**
 * The woningcorporaties, one per entry of `partners.woningcorporatie.organisations`, each
 * contracted by its `gemeenten`: a gemeente's aanvraag for a home goes as a woningzoektocht to
 * the corporatie it names or else the first one contracted for the gemeente (a durable consumer
 * and a breaker per corporatie, so one that is down holds up only its own zoektochten), and the
 * corporatie API for offers, acceptances, refusals and signed leases, where each corporatie's
 * key is bound to its own zoektochten and gemeenten.
 */
export function woningcorporatieModule(opts: { now?: () => Date } = {}): PartnerModule {
  return {
    id: WONINGCORPORATIE_PARTNER,
    kind: 'both',
    service: 'woningcorporatie',
    description: 'woningzoektochten to each corporatie; offers, answers and signed leases in',
    // One simulator per corporatie, each with its own endpoint, token and key.
    simulator: {
      main: 'simulators/woningcorporatie/src/main.ts',
      perOrganisation: true,
      // The demo asks a home for each household of its cohort, as the gemeente's KVS.
      demo: 'simulators/woningcorporatie/src/demo.ts',
    },
    stores: [PERSONS_READ, RECEIPTS, { bucket: ZOEKTOCHT_BUCKET, access: 'write' }],
    consumers: consumersOf,
    edge: {
      // A corporatie whose credential block is left empty (its variables unset) still gets
      // zoektochten but cannot answer until it has a key.
      credentials: (config) => credentialsOf(config, WONINGCORPORATIE_PARTNER),
    },
    check: (config) => void corporatiesOf(config),
    async start(rt) {
      const zoektochten = await openZoektochtStore(rt.nc, {
        ttlDays: ZOEKTOCHT_TTL_DAYS,
        replicas: rt.replicas,
      });
      const ctx = { source: rt.source, ...(opts.now ? { now: opts.now } : {}) };
      const pseudonyms = createZoektochtPseudonymizer(rt.config.hub.pseudonymKey);
      const corporaties = corporatiesOf(rt.config);
      // While a corporatie's breaker is open, its zoektochten wait in the stream.
      const consumers = organisationConsumers(rt, {
        partner: WONINGCORPORATIE_PARTNER,
        organisations: corporaties,
        declared: consumersOf(rt.config),
        describe: describeMessage,
        handler: (c, client) =>
          createAanvraagHandler({
            corporatie: c.id,
            corporaties,
            client,
            projector: rt.projector,
            processingLog: rt.processingLog,
            pseudonyms,
            zoektochten,
            logger: rt.logger.child({ corporatie: c.id }),
          }),
      });
      return {
        routes: async (edge) => {
          const publisher = await rt.edgePublisher();
          registerWoningcorporatieRoutes(edge, {
            ctx,
            zoektochten,
            publish: publisher.accept,
            logger: rt.logger,
          });
        },
        consumers,
        // An aanvraag about another gemeente's person never reaches the handler.
        persons: await rt.persons(),
      };
    },
  };
}
