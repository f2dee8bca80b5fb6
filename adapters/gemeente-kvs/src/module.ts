import {
  ConfigError,
  PARTNER_HEADER,
  RECEIPTS,
  credentialsOf,
  flowName,
  organisationsOf,
  type ConsumerDecl,
  type ConsumerSpec,
  type HubConfig,
  type PartnerModule,
  type PartnerOrganisation,
} from '@ketenhub/kit';
import { KVS_PARTNER, createKvsDelivery, describeMessage, isDuplicateAnswer } from './deliver.ts';
import { registerKvsInboundRoutes } from './inbound.ts';

/** A KVS: one of `partners.gemeente-kvs.organisations`, serving exactly one gemeente. */
interface Kvs extends PartnerOrganisation {
  gemeente: string;
  endpoint: NonNullable<PartnerOrganisation['endpoint']>;
}

/**
 * The KVS of every served gemeente, one organisation each, with the gemeente as its only
 * `gemeenten` entry (its credential is bound to it) and an endpoint to deliver to.
 */
function kvssOf(config: HubConfig): Kvs[] {
  const kvss = organisationsOf(config, KVS_PARTNER);
  const where = `partners.${KVS_PARTNER}.organisations`;
  const byGemeente = new Map<string, Kvs>();
  for (const o of kvss) {
    if (o.gemeenten?.length !== 1) {
      throw new ConfigError(`${o.where}.gemeenten: a KVS serves exactly one gemeente`, {
        field: `${o.where}.gemeenten`,
        rule: 'one gemeente',
      });
    }
    if (!o.endpoint) {
      throw new ConfigError(`${o.where}.endpoint: required (where the hub delivers)`, {
        field: `${o.where}.endpoint`,
        rule: 'required',
      });
    }
    const gemeente = o.gemeenten[0]!;
    if (byGemeente.has(gemeente)) {
      throw new ConfigError(`${o.where}.gemeenten: ${gemeente} has a KVS already`, {
        field: `${o.where}.gemeenten`,
        rule: 'one KVS per gemeente',
      });
    }
    byGemeente.set(gemeente, { ...o, gemeente, endpoint: o.endpoint });
  }
  return config.gemeenten.map((g) => {
    const kvs = byGemeente.get(g.code);
    if (!kvs) {
      throw new ConfigError(`${where}: gemeente ${g.code} has no KVS`, {
        field: where,
        rule: 'a KVS per gemeente',
      });
    }
    return kvs;
  });
}

/** One consumer per gemeente, on that gemeente's subjects only: the tenant is its filter. */
function consumersOf(config: HubConfig): ConsumerDecl[] {
  return kvssOf(config).map((k) => ({
    durable: `${KVS_PARTNER}-${k.gemeente}`,
    filter: `keten.${k.gemeente}.>`,
  }));
}

/**
 * Each gemeente's KVS: every chain event of the gemeente delivered to its KVS (one durable
 * consumer and one breaker per gemeente, so a KVS that is down holds up only its own
 * gemeente's messages), and, when `services.gemeente-kvs.port` is set, the KVS inbound API
 * where each KVS's credential is bound to its own gemeente. Each KVS is one of
 * `partners.gemeente-kvs.organisations`.
 */
export function kvsModule(): PartnerModule {
  return {
    id: KVS_PARTNER,
    kind: 'both',
    service: 'gemeente-kvs',
    description: "every chain event to the gemeente's KVS; the KVS's events in",
    // One simulator plays every gemeente's KVS (/gemeenten/<code>/events).
    simulator: { main: 'simulators/gemeente-kvs/src/main.ts' },
    stores: [RECEIPTS],
    consumers: consumersOf,
    edge: { optional: true, credentials: (config) => credentialsOf(config, KVS_PARTNER) },
    defaults: { concurrency: 16 },
    check: (config) => void kvssOf(config),
    async start(rt) {
      const declared = consumersOf(rt.config);
      const consumers: ConsumerSpec[] = kvssOf(rt.config).map((kvs, i) => {
        const logger = rt.logger.child({ gemeente: kvs.gemeente });
        const client = rt.partnerClient(
          { ...kvs.endpoint, id: kvs.gemeente },
          { treatAsSuccess: isDuplicateAnswer },
        );
        return {
          ...declared[i]!,
          handler: createKvsDelivery({
            gemeente: kvs.gemeente,
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
