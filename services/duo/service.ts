import { jetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import {
  DUO_APIS,
  DUO_PARTNER,
  createDuoClient,
  createMapHandler,
  createNotificationHandler,
  createPipHandler,
  createPipIntrekkingHandler,
  createPvtHandler,
  createUrenHandler,
  registerNotificatieRoutes,
  type DuoApi,
} from '@ketenhub/adapter-duo';
import {
  DEFAULT_BACKOFF,
  PARTNER_HEADER,
  STREAMS,
  ConfigError,
  combineGates,
  connectNats,
  createHttpEdge,
  edgeOptionsFromConfig,
  createLogger,
  createMetrics,
  createProcessingLog,
  createProjector,
  createIdentityHandler,
  createPseudonymizer,
  credentialFromConfig,
  flowName,
  natsAuth,
  openIdentityStore,
  provisionStreams,
  createPublisher,
  runConsumers,
  sourceUrn,
  startOpsServer,
  streamLimits,
  type HubConfig,
  type Logger,
  type ConsumerGate,
  type ConsumerSpec,
} from '@ketenhub/kit';

export interface DuoService {
  url: string;
  opsUrl: string;
  stop(): Promise<void>;
}

const DEDUP_BUCKET = 'DUO_BERICHTEN';
/** The identity store must outlive the inburgering: 3 years of termijn plus extensions. */
const IDENTITY_TTL_DAYS = 5 * 366;

/**
 * The DUO adapter: DUO's notifications in (Notificatie API per gemeente, pull the details,
 * chain events out to the KVS), and the gemeente's meldingen out (PIP, MAP/PVT, hours), with
 * DUO's business rules checked first. One consumer per melding type, each held while the
 * breaker of the DUO API it calls is open.
 */
export async function startDuoService(
  config: HubConfig,
  opts: { logger?: Logger; port?: number; opsPort?: number; today?: () => string } = {},
): Promise<DuoService> {
  const service = 'duo';
  const logger = opts.logger ?? createLogger(service);
  const metrics = createMetrics(service);
  const settings = config.services.duo;
  const duoConfig = config.duo;
  if (!settings || !duoConfig) {
    throw new ConfigError('the DUO service needs `duo` and `services.duo` in the config', {
      field: 'duo',
      rule: 'required',
    });
  }
  const oins = new Map(config.gemeenten.map((g) => [g.code, g.oin]));
  const missing = config.gemeenten.filter((g) => !g.oin).map((g) => g.code);
  if (missing.length > 0) {
    throw new ConfigError(
      `gemeenten ${missing.join(', ')} have no oin; DUO addresses gemeenten by OIN`,
      {
        field: 'gemeenten[].oin',
        rule: 'required',
      },
    );
  }
  const credentials = [credentialFromConfig(config, 'duo' as keyof HubConfig['partners'])];
  const edgeOptions = edgeOptionsFromConfig(config, service);
  const nc = await connectNats(config.nats.url, service, natsAuth(config));
  await provisionStreams(nc, streamLimits(config));
  const js = jetstream(nc);
  const identities = await openIdentityStore(nc, {
    ttlDays: IDENTITY_TTL_DAYS,
    replicas: config.streams?.replicas ?? 1,
  });
  const seenBucket = await new Kvm(nc).create(DEDUP_BUCKET, {
    history: 1,
    ttl: (duoConfig.notificatieDedupDays ?? 30) * 24 * 60 * 60 * 1000,
    replicas: config.streams?.replicas ?? 1,
  });
  const source = sourceUrn(config.hub.oin, DUO_PARTNER);
  // DUO's notifications are deduplicated by berichtId (DEDUP_BUCKET); every event this service
  // publishes is made by the hub.
  const { publish } = createPublisher({ js, partner: DUO_PARTNER });
  const duo = createDuoClient({
    baseUrl: duoConfig.baseUrl,
    duoOin: duoConfig.oin,
    ...(duoConfig.token ? { token: duoConfig.token } : {}),
    ...(duoConfig.timeoutMs ? { timeoutMs: duoConfig.timeoutMs } : {}),
    ...(settings.breaker ? { breaker: settings.breaker } : {}),
    ...(duoConfig.apiVersions ? { versions: duoConfig.apiVersions } : {}),
    logger,
    metrics,
  });

  const pseudonymizer = createPseudonymizer(config.hub.pseudonymKey);

  // DUO-facing: the Notificatie API.
  const edge = createHttpEdge({ service, logger, metrics, credentials, ...edgeOptions });
  registerNotificatieRoutes(edge, {
    duoOin: duoConfig.oin,
    gemeenteByOin: new Map(config.gemeenten.map((g) => [g.oin!, g.code])),
    pseudonymizer,
    identities,
    seen: async (id) => (await seenBucket.get(id.toLowerCase()))?.operation === 'PUT',
    remember: async (id) => {
      await seenBucket.put(id.toLowerCase(), new Date().toISOString());
    },
    publish,
    source,
    logger,
  });
  const url = await edge.listen({
    host: settings.host ?? '127.0.0.1',
    port: opts.port ?? settings.port,
  });

  const deps = {
    duo,
    identities,
    oinOf: (g: string) => oins.get(g)!,
    publish,
    projector: createProjector(DUO_PARTNER),
    processingLog: createProcessingLog(js),
    js,
    source,
    logger,
    ...(opts.today ? { today: opts.today } : {}),
  };
  const backoff = settings.retry ?? DEFAULT_BACKOFF;
  const consumers: ConsumerSpec[] = [
    {
      durable: 'duo-identiteiten',
      filter: 'keten.*.inburgeraar.>',
      handler: createIdentityHandler(identities, pseudonymizer),
      bindsPersons: true,
      flow: (m) => flowName(m.headers?.get(PARTNER_HEADER), 'duo'),
    },
    {
      durable: 'duo-notificaties',
      filter: 'keten.*.duo.notificatie-ontvangen',
      handler: createNotificationHandler(deps),
      flow: 'duo>kvs',
      // It reads whichever DUO APIs the notification needs: wait while any of them is down.
      gate: combineGates(DUO_APIS.map(gateOf)),
    },
    {
      durable: 'duo-pip',
      filter: 'keten.*.pip.vastgesteld',
      handler: createPipHandler(deps),
      flow: 'kvs>duo',
      gate: gateOf('PIP'),
    },
    {
      durable: 'duo-pip-intrekking',
      filter: 'keten.*.pip.ingetrokken',
      handler: createPipIntrekkingHandler(deps),
      flow: 'kvs>duo',
      gate: gateOf('PIP'),
    },
    {
      durable: 'duo-map',
      filter: 'keten.*.map.afgerond',
      handler: createMapHandler(deps),
      flow: 'kvs>duo',
      gate: gateOf('MAP-PVT-Zroute'),
    },
    {
      durable: 'duo-pvt',
      filter: 'keten.*.pvt.ondertekend',
      handler: createPvtHandler(deps),
      flow: 'kvs>duo',
      gate: gateOf('MAP-PVT-Zroute'),
    },
    {
      durable: 'duo-uren',
      filter: 'keten.*.leerroute.uren',
      handler: createUrenHandler(deps),
      flow: 'kvs>duo',
      gate: gateOf('GevolgdeUren'),
    },
  ];
  function gateOf(api: DuoApi): ConsumerGate {
    return duo.client(api).gate;
  }
  const running = await runConsumers({
    service,
    partner: DUO_PARTNER,
    nc,
    stream: STREAMS.keten,
    consumers,
    backoff,
    ackWaitMs: settings.ackWaitMs ?? 60_000,
    concurrency: settings.concurrency ?? 8,
    persons: identities.persons,
    logger,
    metrics,
  });

  const ops = await startOpsServer({
    service,
    ...(settings.host ? { host: settings.host } : {}),
    port: opts.opsPort ?? settings.opsPort,
    registry: metrics.registry,
    checks: { nats: () => !nc.isClosed() },
    logger,
  });
  logger.info({ url, ops: ops.url }, 'DUO adapter running');
  return {
    url,
    opsUrl: ops.url,
    async stop() {
      await edge.close();
      await Promise.all(running.map((r) => r.stop()));
      duo.shutdown();
      await ops.close();
      await nc.drain();
    },
  };
}
