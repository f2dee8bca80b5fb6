import { jetstream } from '@nats-io/jetstream';
import {
  KVS_PARTNER,
  createKvsDelivery,
  describeMessage,
  isDuplicateAnswer,
  registerKvsInboundRoutes,
} from '@ketenhub/adapter-gemeente-kvs';
import {
  DEFAULT_BACKOFF,
  STREAMS,
  connectNats,
  createLogger,
  createMetrics,
  createHttpEdge,
  edgeOptionsFromConfig,
  createPartnerClient,
  kvsCredentials,
  openEdgePublisher,
  createProcessingLog,
  createProjector,
  natsAuth,
  provisionStreams,
  runService,
  flowName,
  PARTNER_HEADER,
  startOpsServer,
  streamLimits,
  type HubConfig,
  type Logger,
  type PartnerClient,
  type RunningService,
} from '@ketenhub/kit';

export interface KvsService {
  opsUrl: string;
  /** The KVS inbound API (chain events from the KVS to the hub), when configured. */
  url?: string;
  clients: Map<string, PartnerClient>;
  stop(): Promise<void>;
}

/**
 * Delivers chain events to each gemeente's KVS. One durable consumer and one circuit breaker
 * per gemeente, so a KVS that is down holds up only its own gemeente's messages.
 */
export async function startKvsService(
  config: HubConfig,
  opts: { logger?: Logger; opsPort?: number; port?: number } = {},
): Promise<KvsService> {
  const service = 'gemeente-kvs';
  const logger = opts.logger ?? createLogger(service);
  const metrics = createMetrics(service);
  const settings = config.services['gemeente-kvs'];
  const backoff = settings.retry ?? DEFAULT_BACKOFF;
  const nc = await connectNats(config.nats.url, service, natsAuth(config));
  await provisionStreams(nc, streamLimits(config));
  const processingLog = createProcessingLog(jetstream(nc));
  const projector = createProjector(KVS_PARTNER);

  const clients = new Map<string, PartnerClient>();
  const running: RunningService[] = [];
  for (const gemeente of config.gemeenten) {
    const client = createPartnerClient({
      partner: KVS_PARTNER,
      endpoint: gemeente.code,
      baseURL: gemeente.kvs.url,
      timeoutMs: gemeente.kvs.timeoutMs ?? 5000,
      ...(gemeente.kvs.token ? { headers: { authorization: `Bearer ${gemeente.kvs.token}` } } : {}),
      ...(settings.breaker ? { breaker: settings.breaker } : {}),
      treatAsSuccess: isDuplicateAnswer,
      logger: logger.child({ gemeente: gemeente.code }),
      metrics,
    });
    clients.set(gemeente.code, client);
    running.push(
      await runService({
        service,
        partner: KVS_PARTNER,
        flow: (m) => flowName(m.headers?.get(PARTNER_HEADER), KVS_PARTNER),
        nc,
        consumer: {
          stream: STREAMS.keten,
          durable: `${service}-${gemeente.code}`,
          filterSubject: `keten.${gemeente.code}.>`,
          ackWaitMs: settings.ackWaitMs ?? 30_000,
        },
        backoff,
        handler: createKvsDelivery({
          gemeente: gemeente.code,
          client,
          projector,
          processingLog,
          logger,
        }),
        describe: describeMessage,
        // While this gemeente's KVS breaker is open, its messages wait in the stream.
        gate: client.gate,
        logger: logger.child({ gemeente: gemeente.code }),
        metrics,
        concurrency: settings.concurrency ?? 16,
      }),
    );
  }

  // The KVS inbound API: each KVS's credential is bound to its own gemeente.
  const credentials = kvsCredentials(config);
  const edgeOptions = edgeOptionsFromConfig(config, service);
  let edge: ReturnType<typeof createHttpEdge> | undefined;
  let url: string | undefined;
  if (settings.port !== undefined && credentials.length > 0) {
    edge = createHttpEdge({ service, logger, metrics, credentials, ...edgeOptions });
    const publisher = await openEdgePublisher(nc, config, KVS_PARTNER);
    registerKvsInboundRoutes(edge, {
      publish: publisher.accept,
      logger,
    });
    url = await edge.listen({
      host: settings.host ?? '127.0.0.1',
      port: opts.port ?? settings.port,
    });
  }

  const ops = await startOpsServer({
    service,
    // Loopback unless configured: in a pod, probes and scrapes come from outside it.
    ...(settings.host ? { host: settings.host } : {}),
    port: opts.opsPort ?? settings.opsPort,
    registry: metrics.registry,
    checks: { nats: () => !nc.isClosed() },
    logger,
  });
  logger.info({ ops: ops.url, gemeenten: config.gemeenten.length }, 'KVS delivery running');

  return {
    opsUrl: ops.url,
    ...(url ? { url } : {}),
    clients,
    async stop() {
      await edge?.close();
      await Promise.all(running.map((r) => r.stop()));
      for (const c of clients.values()) c.shutdown();
      await ops.close();
      await nc.drain();
    },
  };
}
