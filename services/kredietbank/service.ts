import { jetstream } from '@nats-io/jetstream';
import {
  KREDIETBANK_PARTNER,
  createAanvraagHandler,
  createBeeindigingHandler,
  createKredietbankClient,
  createPipHandler,
  openTrajectStore,
  registerWebhookRoutes,
} from '@ketenhub/adapter-kredietbank';
import {
  DEFAULT_BACKOFF,
  PARTNER_HEADER,
  STREAMS,
  ConfigError,
  connectNats,
  createHttpEdge,
  edgeOptionsFromConfig,
  createIdentityHandler,
  createLogger,
  createMetrics,
  createProcessingLog,
  createProjector,
  createPseudonymizer,
  credentialFromConfig,
  flowName,
  natsAuth,
  openIdentityStore,
  provisionStreams,
  openEdgePublisher,
  runConsumers,
  servedGemeenten,
  sourceUrn,
  startOpsServer,
  streamLimits,
  type HubConfig,
  type Logger,
  type ConsumerSpec,
} from '@ketenhub/kit';

export interface KredietbankService {
  /** The webhook API (POST /v1/webhooks). */
  url: string;
  opsUrl: string;
  stop(): Promise<void>;
}

/** Same horizon as the DUO adapter's: the identity store is shared. */
const IDENTITY_TTL_DAYS = 5 * 366;
/** A traject runs 6 months, extensions through the PIP; webhooks may come a while after. */
const TRAJECT_TTL_DAYS = 2 * 366;

/**
 * The Kredietbank adapter (financieel ontzorgen): ontzorgen.aangevraagd from the KVS →
 * register or change the traject at the Kredietbank; ontzorgen.beeindiging-aangevraagd → end
 * it early; a pip.vastgesteld with ontzorgen → move its end (all three held while the
 * Kredietbank's breaker is open); the Kredietbank's webhooks → ontzorgen.* chain events to the
 * gemeente's KVS.
 */
export async function startKredietbankService(
  config: HubConfig,
  opts: { logger?: Logger; port?: number; opsPort?: number } = {},
): Promise<KredietbankService> {
  const service = 'kredietbank';
  const logger = opts.logger ?? createLogger(service);
  const metrics = createMetrics(service);
  const settings = config.services.kredietbank;
  const kbConfig = config.kredietbank;
  if (!settings || !kbConfig) {
    throw new ConfigError(
      'the Kredietbank service needs `kredietbank` and `services.kredietbank` in the config',
      { field: 'kredietbank', rule: 'required' },
    );
  }
  const credentials = [credentialFromConfig(config, 'kredietbank')];
  const edgeOptions = edgeOptionsFromConfig(config, service);
  const nc = await connectNats(config.nats.url, service, natsAuth(config));
  await provisionStreams(nc, streamLimits(config));
  const js = jetstream(nc);
  const replicas = config.streams?.replicas ?? 1;
  const identities = await openIdentityStore(nc, { ttlDays: IDENTITY_TTL_DAYS, replicas });
  const trajecten = await openTrajectStore(nc, { ttlDays: TRAJECT_TTL_DAYS, replicas });
  const source = sourceUrn(config.hub.oin, KREDIETBANK_PARTNER);
  const kredietbank = createKredietbankClient({
    baseUrl: kbConfig.baseUrl,
    ...(kbConfig.token ? { token: kbConfig.token } : {}),
    ...(kbConfig.timeoutMs ? { timeoutMs: kbConfig.timeoutMs } : {}),
    ...(settings.breaker ? { breaker: settings.breaker } : {}),
    logger,
    metrics,
  });

  const publisher = await openEdgePublisher(nc, config, KREDIETBANK_PARTNER);

  // Kredietbank-facing: the webhooks.
  const edge = createHttpEdge({ service, logger, metrics, credentials, ...edgeOptions });
  registerWebhookRoutes(edge, {
    gemeenten: servedGemeenten(config),
    trajecten,
    publish: publisher.accept,
    source,
    logger,
  });
  const url = await edge.listen({
    host: settings.host ?? '127.0.0.1',
    port: opts.port ?? settings.port,
  });

  const backoff = settings.retry ?? DEFAULT_BACKOFF;
  const outbound = {
    kredietbank,
    trajecten,
    projector: createProjector(KREDIETBANK_PARTNER),
    processingLog: createProcessingLog(js),
    logger,
  };
  // One consumer per event type: nats-server 2.9 allows one filter subject per consumer. Each
  // waits in the stream while the Kredietbank's breaker is open.
  const consumers: ConsumerSpec[] = [
    {
      // The same identity feed as the DUO adapter's (koppeling, vestiging → BSN), so the
      // Kredietbank adapter does not depend on the DUO adapter running.
      durable: 'kredietbank-identiteiten',
      filter: 'keten.*.inburgeraar.>',
      handler: createIdentityHandler(identities, createPseudonymizer(config.hub.pseudonymKey)),
      bindsPersons: true,
      flow: (m) => flowName(m.headers?.get(PARTNER_HEADER), KREDIETBANK_PARTNER),
    },
    {
      durable: 'kredietbank-aanvragen',
      filter: 'keten.*.ontzorgen.aangevraagd',
      handler: createAanvraagHandler({ ...outbound, identities }),
      flow: 'kvs>kredietbank',
      gate: kredietbank.client.gate,
    },
    {
      durable: 'kredietbank-beeindigingen',
      filter: 'keten.*.ontzorgen.beeindiging-aangevraagd',
      handler: createBeeindigingHandler(outbound),
      flow: 'kvs>kredietbank',
      gate: kredietbank.client.gate,
    },
    {
      // Every PIP passes here; only one that contains ontzorgen reaches the Kredietbank.
      durable: 'kredietbank-pips',
      filter: 'keten.*.pip.vastgesteld',
      handler: createPipHandler(outbound),
      flow: 'kvs>kredietbank',
      gate: kredietbank.client.gate,
    },
  ];
  const running = await runConsumers({
    service,
    partner: KREDIETBANK_PARTNER,
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
  logger.info({ url, ops: ops.url }, 'Kredietbank adapter running');
  return {
    url,
    opsUrl: ops.url,
    async stop() {
      await edge.close();
      await Promise.all(running.map((r) => r.stop()));
      kredietbank.shutdown();
      await ops.close();
      await nc.drain();
    },
  };
}
