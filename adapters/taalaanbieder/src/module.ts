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
import { createAanmeldingHandler, describeMessage } from './aanmelding.ts';
import { registerTaalaanbiederRoutes } from './routes.ts';
import { TRAJECT_BUCKET, createTrajectPseudonymizer, openTrajectStore } from './traject.ts';
import { TAALAANBIEDER_PARTNER } from './translate.ts';

/** A traject outlives the inburgeringstermijn (3 years plus extensions), like the identities. */
const TRAJECT_TTL_DAYS = 5 * 366;

/** The schools: `partners.taalaanbieder.organisations`, each with the endpoint of its API. */
const schoolsOf = (config: HubConfig) =>
  organisationsWith(config, TAALAANBIEDER_PARTNER, {
    endpoint: true,
    what: 'where the hub registers learners',
  });

/** One consumer per school; every one sees every PIP and keeps those that name it. */
function consumersOf(config: HubConfig): ConsumerDecl[] {
  return schoolsOf(config).map((s) => ({
    durable: `${TAALAANBIEDER_PARTNER}-${s.id}`,
    filter: 'keten.*.pip.vastgesteld',
  }));
}

/**
 * The language schools (taalaanbieders), one per entry of `partners.taalaanbieder.organisations`: a PIP's aanmelding
 * to the school it names (a durable consumer and a breaker per school, so a school that is down
 * holds up only its own aanmeldingen), and the school API for voortgang, uren and verzuim,
 * where each school's key is bound to that school.
 */
export function taalaanbiederModule(opts: { now?: () => Date } = {}): PartnerModule {
  return {
    id: TAALAANBIEDER_PARTNER,
    kind: 'both',
    service: 'taalaanbieder',
    description: "aanmeldingen to each school; the schools' voortgang, uren and verzuim in",
    // One simulator per school, each with its own endpoint, token and key.
    simulator: { main: 'simulators/taalaanbieder/src/main.ts', perOrganisation: true },
    stores: [PERSONS_READ, RECEIPTS, { bucket: TRAJECT_BUCKET, access: 'write' }],
    consumers: consumersOf,
    // The hub's report to the KVS that a school accepted an aanmelding.
    alsoPublishes: ['nl.inburgering.leerroute.aangemeld'],
    edge: {
      // For the hours spreadsheet (`POST /v1/uren.csv`).
      csv: true,
      // A school whose credential block is left empty (its environment variables unset) still
      // gets aanmeldingen but cannot report back until it has a key.
      credentials: (config) => credentialsOf(config, TAALAANBIEDER_PARTNER),
    },
    check: (config) => void schoolsOf(config),
    async start(rt) {
      const trajecten = await openTrajectStore(rt.nc, {
        ttlDays: TRAJECT_TTL_DAYS,
        replicas: rt.replicas,
      });
      // Which gemeente each person belongs to (no BSN): an aanmelding only for the PIP's own
      // person.
      const persons = await rt.persons();
      const ctx = { source: rt.source, ...(opts.now ? { now: opts.now } : {}) };
      const publisher = await rt.edgePublisher();
      const pseudonyms = createTrajectPseudonymizer(rt.config.hub.pseudonymKey);
      // While a school's breaker is open, its aanmeldingen wait in the stream.
      const consumers = organisationConsumers(rt, {
        partner: TAALAANBIEDER_PARTNER,
        organisations: schoolsOf(rt.config),
        declared: consumersOf(rt.config),
        describe: describeMessage,
        handler: (school, client) =>
          createAanmeldingHandler({
            taalaanbieder: school.id,
            client,
            projector: rt.projector,
            processingLog: rt.processingLog,
            pseudonyms,
            trajecten,
            persons,
            publish: publisher.publish,
            ctx,
            logger: rt.logger,
          }),
      });
      return {
        routes: (edge) =>
          registerTaalaanbiederRoutes(edge, {
            ctx,
            trajecten,
            publish: publisher.accept,
            logger: rt.logger,
          }),
        consumers,
        persons,
      };
    },
  };
}
