import { Kvm } from '@nats-io/kv';
import {
  ConfigError,
  IDENTITIES,
  UREN_LEDGER,
  PARTNER_HEADER,
  PERSONS,
  combineGates,
  credentialFromConfig,
  endpointOf,
  flowName,
  partnerSettings,
  type ConsumerDecl,
  type ConsumerGate,
  type ConsumerSpec,
  type PartnerModule,
  openUrenLedger,
} from '@ketenhub/kit';
import { createIdentityHandler } from '@ketenhub/kit/privacy';
import { DUO_APIS, createDuoClient, type DuoApi } from './duo-client.ts';
import {
  DUO_PARTNER,
  MELDING_OUTCOMES,
  createMapHandler,
  createPipHandler,
  createPipIntrekkingHandler,
  createPvtHandler,
  createUrenHandler,
} from './handlers.ts';
import { createZrouteHandler } from './zroute.ts';
import {
  createNotificationHandler,
  createOntheffingenOpgevraagdHandler,
  registerNotificatieRoutes,
} from './notificaties.ts';

/** DUO's notifications already taken, by berichtId (DUO may send one again). */
export const DUO_DEDUP_BUCKET = 'DUO_BERICHTEN';

/** One consumer per melding type (nats-server 2.9: one filter subject per consumer). */
const DUO_CONSUMERS: ConsumerDecl[] = [
  { durable: 'duo-identiteiten', filter: 'keten.*.inburgeraar.>' },
  { durable: 'duo-notificaties', filter: 'keten.*.duo.notificatie-ontvangen' },
  { durable: 'duo-pip', filter: 'keten.*.pip.vastgesteld' },
  { durable: 'duo-pip-intrekking', filter: 'keten.*.pip.ingetrokken' },
  { durable: 'duo-map', filter: 'keten.*.map.afgerond' },
  { durable: 'duo-pvt', filter: 'keten.*.pvt.ondertekend' },
  { durable: 'duo-zroute', filter: 'keten.*.zroute.afgerond' },
  { durable: 'duo-uren', filter: 'keten.*.leerroute.uren' },
  { durable: 'duo-ontheffingen-opgevraagd', filter: 'keten.*.ontheffingen.opgevraagd' },
];

/** DUO's own settings (`partners.duo.settings`); the schema below is their spec. */
export interface DuoSettings {
  /** DUO's OIN: doel of the hub's calls, bron of DUO's notifications. */
  oin: string;
  /** How long a berichtId of DUO is remembered (a repeat is accepted once, not processed twice). */
  notificatieDedupDays?: number;
  /** Pinned API-Version per DUO API (major.minor must match DUO's answers). */
  apiVersions?: Record<string, string>;
}

const DUO_SETTINGS_SCHEMA = {
  type: 'object',
  required: ['oin'],
  properties: {
    oin: {
      description: "DUO's OIN: doel of the hub's calls, bron of DUO's notifications.",
      type: 'string',
      pattern: '^[0-9]{20}$',
    },
    notificatieDedupDays: {
      description:
        'How long a berichtId of DUO is remembered, so a repeat is accepted once and not processed twice; default 30.',
      type: 'integer',
      minimum: 1,
      maximum: 365,
    },
    apiVersions: {
      description: "Pinned API-Version per DUO API (major.minor must match DUO's answers).",
      type: 'object',
      additionalProperties: { type: 'string', pattern: '^[0-9]+\\.[0-9]+\\.[0-9]+$' },
    },
  },
  additionalProperties: false,
};

/**
 * DUO: its notifications in (the Notificatie API per gemeente, the details pulled, chain
 * events out to the KVS), and the gemeente's meldingen out (PIP, MAP/PVT, hours), with DUO's
 * business rules checked first. One consumer per melding type, each held while the breaker of
 * the DUO API it calls is open.
 */
export function duoModule(opts: { today?: () => string } = {}): PartnerModule {
  return {
    id: DUO_PARTNER,
    kind: 'both',
    service: 'duo',
    description: "DUO's notifications in; PIP, MAP, PVT and hours to DUO's M2M APIs",
    simulator: { main: 'simulators/duo/src/main.ts' },
    stores: [IDENTITIES, PERSONS, UREN_LEDGER, { bucket: DUO_DEDUP_BUCKET, access: 'write' }],
    consumers: () => DUO_CONSUMERS,
    // The outcome of each melding to DUO, for the KVS.
    alsoPublishes: MELDING_OUTCOMES,
    edge: { credentials: (config) => [credentialFromConfig(config, DUO_PARTNER)] },
    settingsSchema: DUO_SETTINGS_SCHEMA,
    defaults: { ackWaitMs: 60_000 },
    check(config) {
      endpointOf(config, DUO_PARTNER);
      const missing = config.gemeenten.filter((g) => !g.oin).map((g) => g.code);
      if (missing.length > 0) {
        throw new ConfigError(
          `gemeenten ${missing.join(', ')} have no oin; DUO addresses gemeenten by OIN`,
          { field: 'gemeenten[].oin', rule: 'required' },
        );
      }
    },
    async start(rt) {
      const settings = partnerSettings<DuoSettings>(rt.config, {
        id: DUO_PARTNER,
        settingsSchema: DUO_SETTINGS_SCHEMA,
      });
      const endpoint = endpointOf(rt.config, DUO_PARTNER);
      const oins = new Map(rt.config.gemeenten.map((g) => [g.code, g.oin!]));
      const identities = await rt.identities();
      const uren = await openUrenLedger(rt.nc, { replicas: rt.replicas });
      const seenBucket = await new Kvm(rt.nc).create(DUO_DEDUP_BUCKET, {
        history: 1,
        ttl: (settings.notificatieDedupDays ?? 30) * 24 * 60 * 60 * 1000,
        replicas: rt.replicas,
      });
      const duo = createDuoClient({
        baseUrl: endpoint.url,
        duoOin: settings.oin,
        ...(endpoint.token ? { token: endpoint.token } : {}),
        ...(endpoint.timeoutMs ? { timeoutMs: endpoint.timeoutMs } : {}),
        ...(rt.settings.breaker ? { breaker: rt.settings.breaker } : {}),
        ...(settings.apiVersions ? { versions: settings.apiVersions } : {}),
        logger: rt.logger,
        metrics: rt.metrics,
      });
      const gateOf = (api: DuoApi): ConsumerGate => duo.client(api).gate;
      // DUO's notifications are deduplicated by berichtId (DUO_DEDUP_BUCKET); every event this
      // module publishes is made by the hub, so it needs no receipts.
      const deps = {
        duo,
        identities,
        uren,
        oinOf: (g: string) => oins.get(g)!,
        publish: rt.publish,
        projector: rt.projector,
        processingLog: rt.processingLog,
        js: rt.js,
        source: rt.source,
        logger: rt.logger,
        ...(opts.today ? { today: opts.today } : {}),
      };
      const runs: Record<string, Omit<ConsumerSpec, 'durable' | 'filter'>> = {
        'duo-identiteiten': {
          handler: createIdentityHandler(identities, rt.pseudonymizer),
          bindsPersons: true,
          flow: (m) => flowName(m.headers?.get(PARTNER_HEADER), DUO_PARTNER),
        },
        // It reads whichever DUO APIs the notification needs: wait while any is down.
        'duo-notificaties': {
          handler: createNotificationHandler(deps),
          flow: 'duo>kvs',
          gate: combineGates(DUO_APIS.map(gateOf)),
        },
        'duo-pip': { handler: createPipHandler(deps), flow: 'kvs>duo', gate: gateOf('PIP') },
        'duo-pip-intrekking': {
          handler: createPipIntrekkingHandler(deps),
          flow: 'kvs>duo',
          gate: gateOf('PIP'),
        },
        'duo-map': {
          handler: createMapHandler(deps),
          flow: 'kvs>duo',
          gate: gateOf('MAP-PVT-Zroute'),
        },
        'duo-pvt': {
          handler: createPvtHandler(deps),
          flow: 'kvs>duo',
          gate: gateOf('MAP-PVT-Zroute'),
        },
        'duo-zroute': {
          handler: createZrouteHandler(deps),
          flow: 'kvs>duo',
          gate: gateOf('MAP-PVT-Zroute'),
        },
        'duo-ontheffingen-opgevraagd': {
          handler: createOntheffingenOpgevraagdHandler(deps),
          flow: 'kvs>duo',
          gate: combineGates([gateOf('Ontheffing'), gateOf('Vrijstelling')]),
        },
        'duo-uren': {
          handler: createUrenHandler(deps),
          flow: 'kvs>duo',
          gate: gateOf('GevolgdeUren'),
        },
      };
      return {
        routes: (edge) =>
          registerNotificatieRoutes(edge, {
            duoOin: settings.oin,
            gemeenteByOin: new Map(rt.config.gemeenten.map((g) => [g.oin!, g.code])),
            pseudonymizer: rt.pseudonymizer,
            identities,
            seen: async (id) => (await seenBucket.get(id.toLowerCase()))?.operation === 'PUT',
            remember: async (id) => {
              await seenBucket.put(id.toLowerCase(), new Date().toISOString());
            },
            publish: rt.publish,
            source: rt.source,
            logger: rt.logger,
          }),
        consumers: DUO_CONSUMERS.map((c) => ({ ...c, ...runs[c.durable]! })),
        persons: identities.persons,
        stop: () => duo.shutdown(),
      };
    },
  };
}
