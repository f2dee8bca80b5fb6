import { registerCoaRoutes } from '@ketenhub/adapter-coa';
import {
  connectNats,
  createHttpEdge,
  createLogger,
  createMetrics,
  createPseudonymizer,
  credentialFromConfig,
  edgeOptionsFromConfig,
  natsAuth,
  provisionStreams,
  openEdgePublisher,
  servedGemeenten,
  sourceUrn,
  streamLimits,
  startOpsServer,
  type HubConfig,
  type Logger,
} from '@ketenhub/kit';

export interface CoaService {
  url: string;
  opsUrl: string;
  stop(): Promise<void>;
}

/**
 * The COA inbound service: COA's JSON pushes and TVS CSV export in, chain events out to
 * `keten.<gemeente>.inburgeraar.*`. A 2xx answer means the event is stored in JetStream.
 */
export async function startCoaService(
  config: HubConfig,
  opts: { logger?: Logger; port?: number; opsPort?: number } = {},
): Promise<CoaService> {
  const service = 'coa';
  const logger = opts.logger ?? createLogger(service);
  const metrics = createMetrics(service);
  const settings = config.services.coa;
  // Credentials and certificates first: a bad one stops the start before anything connects.
  const credentials = [credentialFromConfig(config, 'coa')];
  // The TVS export is the only CSV this edge takes.
  const edgeOptions = edgeOptionsFromConfig(config, service, { csv: true });
  const nc = await connectNats(config.nats.url, service, natsAuth(config));
  await provisionStreams(nc, streamLimits(config));
  const publisher = await openEdgePublisher(nc, config, 'coa');

  const edge = createHttpEdge({
    service,
    logger,
    metrics,
    credentials,
    ...edgeOptions,
  });
  registerCoaRoutes(edge, {
    ctx: {
      pseudonymizer: createPseudonymizer(config.hub.pseudonymKey),
      servedGemeenten: servedGemeenten(config),
      source: sourceUrn(config.hub.oin, 'coa'),
      production: config.hub.production === true,
    },
    // Once per COA id: the same koppeling again (also from the nightly CSV after a JSON push)
    // is accepted again; other content under the same id is a 409. `bron` (channel, message id)
    // is how it came, not what it says.
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
    logger,
  });
  const host = settings.host ?? '127.0.0.1';
  const url = await edge.listen({ host, port: opts.port ?? settings.port });
  const ops = await startOpsServer({
    service,
    host,
    port: opts.opsPort ?? settings.opsPort,
    registry: metrics.registry,
    checks: { nats: () => !nc.isClosed() },
    logger,
  });
  logger.info({ url, ops: ops.url }, 'COA service listening');

  return {
    url,
    opsUrl: ops.url,
    async stop() {
      await edge.close();
      await ops.close();
      await nc.drain();
    },
  };
}
