import {
  ConfigError,
  PERSONS_READ,
  RECEIPTS,
  credentialsOf,
  organisationsWith,
  partnerSettings,
  type ConsumerDecl,
  type HubConfig,
  type PartnerModule,
  organisationConsumers,
} from '@ketenhub/kit';
import { createAanvraagHandler, describeMessage } from './aanvraag.ts';
import {
  BEGELEIDING_BUCKET,
  createBegeleidingPseudonymizer,
  openBegeleidingStore,
} from './begeleiding.ts';
import { registerVluchtelingenwerkRoutes } from './routes.ts';
import {
  VLUCHTELINGENWERK_SETTINGS_SCHEMA,
  checkPvtGemeenten,
  pvtBevestigingFor,
  type VluchtelingenwerkSettings,
} from './settings.ts';
import { VLUCHTELINGENWERK_PARTNER } from './translate.ts';

/**
 * A begeleiding is kept as long as a person's identity (the inburgeringstermijn plus margin):
 * the begeleiding runs about 1.5 years, and a late signing of the PVT can come after that.
 */
const BEGELEIDING_TTL_DAYS = 5 * 366;

/**
 * The offices: `partners.vluchtelingenwerk.organisations`, each with an endpoint and the
 * gemeenten it is contracted by, one office per gemeente (an aanvraag has exactly one office to
 * go to).
 */
function vestigingenOf(config: HubConfig) {
  const vestigingen = organisationsWith(config, VLUCHTELINGENWERK_PARTNER, {
    endpoint: true,
    // An office serves the gemeenten of its region that contracted it, never every gemeente.
    gemeenten: true,
    what: 'where the hub sends aanvragen',
  });
  const officeOf = new Map<string, string>();
  for (const v of vestigingen) {
    for (const gemeente of v.gemeenten) {
      const other = officeOf.get(gemeente);
      if (other) {
        throw new ConfigError(`${v.where}.gemeenten: ${gemeente} is served by ${other} already`, {
          field: `${v.where}.gemeenten`,
          rule: 'one office per gemeente',
        });
      }
      officeOf.set(gemeente, v.id);
    }
  }
  return vestigingen;
}

const settingsOf = (config: HubConfig) =>
  partnerSettings<VluchtelingenwerkSettings>(config, {
    id: VLUCHTELINGENWERK_PARTNER,
    settingsSchema: VLUCHTELINGENWERK_SETTINGS_SCHEMA,
  });

/** One consumer per office; every one sees every aanvraag and keeps those of its gemeenten. */
function consumersOf(config: HubConfig): ConsumerDecl[] {
  return vestigingenOf(config).map((v) => ({
    durable: `${VLUCHTELINGENWERK_PARTNER}-${v.id}`,
    filter: 'keten.*.begeleiding.aangevraagd',
  }));
}

/**
 * VluchtelingenWerk, one office per entry of `partners.vluchtelingenwerk.organisations`, each
 * contracted by the gemeenten of its region: a gemeente's aanvraag for maatschappelijke
 * begeleiding and the PVT goes to its office under a begeleiding pseudonym (a durable consumer
 * and a breaker per office, so one that is down holds up only its own), and the office API for
 * the start, contact moments and end of the begeleiding, the workshop parts and the signing of
 * the participatieverklaring, which goes on to DUO or to the gemeente by the gemeente's rule
 * (`settings.pvtBevestiging`). Each office's key is bound to its own begeleidingen and gemeenten.
 */
export function vluchtelingenwerkModule(opts: { now?: () => Date } = {}): PartnerModule {
  return {
    id: VLUCHTELINGENWERK_PARTNER,
    kind: 'both',
    service: 'vluchtelingenwerk',
    description:
      'begeleiding and PVT aanvragen to each VluchtelingenWerk office; its reports and the PVT signing in',
    // One simulator per office, each with its own endpoint, token and key.
    simulator: {
      main: 'simulators/vluchtelingenwerk/src/main.ts',
      perOrganisation: true,
      // The demo assigns begeleiding and the PVT to each adult of its cohort, as the KVS.
      demo: 'simulators/vluchtelingenwerk/src/demo.ts',
    },
    stores: [PERSONS_READ, RECEIPTS, { bucket: BEGELEIDING_BUCKET, access: 'write' }],
    consumers: consumersOf,
    settingsSchema: VLUCHTELINGENWERK_SETTINGS_SCHEMA,
    edge: {
      // An office whose credential block is left empty (its variables unset) still gets
      // aanvragen but cannot report until it has a key.
      credentials: (config) => credentialsOf(config, VLUCHTELINGENWERK_PARTNER),
    },
    check: (config) => {
      vestigingenOf(config);
      checkPvtGemeenten(config, settingsOf(config));
    },
    async start(rt) {
      const settings = settingsOf(rt.config);
      const begeleidingen = await openBegeleidingStore(rt.nc, {
        ttlDays: BEGELEIDING_TTL_DAYS,
        replicas: rt.replicas,
      });
      const ctx = { source: rt.source, ...(opts.now ? { now: opts.now } : {}) };
      const pseudonyms = createBegeleidingPseudonymizer(rt.config.hub.pseudonymKey);
      const vestigingen = vestigingenOf(rt.config);
      // While an office's breaker is open, its aanvragen wait in the stream.
      const consumers = organisationConsumers(rt, {
        partner: VLUCHTELINGENWERK_PARTNER,
        organisations: vestigingen,
        declared: consumersOf(rt.config),
        describe: describeMessage,
        handler: (v, client) =>
          createAanvraagHandler({
            vestiging: v.id,
            vestigingen,
            client,
            projector: rt.projector,
            processingLog: rt.processingLog,
            pseudonyms,
            begeleidingen,
            logger: rt.logger.child({ vestiging: v.id }),
          }),
      });
      return {
        routes: async (edge) => {
          const publisher = await rt.edgePublisher();
          registerVluchtelingenwerkRoutes(edge, {
            ctx,
            begeleidingen,
            pvtBevestiging: (gemeente) => pvtBevestigingFor(settings, gemeente),
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
