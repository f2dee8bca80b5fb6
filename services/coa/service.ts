import { jetstream } from '@nats-io/jetstream';
import { registerCoaRoutes } from '@ketenhub/adapter-coa';
import {
  connectNats,
  createHttpEdge,
  createLogger,
  createMetrics,
  createPseudonymizer,
  credentialFromConfig,
  edgeTlsFromConfig,
  natsAuth,
  provisionStreams,
  publishEvent,
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
  const tls = edgeTlsFromConfig(settings.tls, 'services.coa.tls');
  const nc = await connectNats(config.nats.url, service, natsAuth(config));
  await provisionStreams(nc, streamLimits(config));
  const js = jetstream(nc);

  const edge = createHttpEdge({
    service,
    logger,
    metrics,
    credentials,
    ...(tls ? { tls } : {}),
    ...(settings.bodyLimitBytes ? { bodyLimitBytes: settings.bodyLimitBytes } : {}),
    ...(settings.csvBodyLimitBytes ? { csvBodyLimitBytes: settings.csvBodyLimitBytes } : {}),
  });
  registerCoaRoutes(edge, {
    ctx: {
      pseudonymizer: createPseudonymizer(config.hub.pseudonymKey),
      servedGemeenten: servedGemeenten(config),
      source: sourceUrn(config.hub.oin, 'coa'),
      production: config.hub.production === true,
    },
    publish: async (event, traceparent) => {
      await publishEvent(js, event, JSON.stringify(event), { traceparent, partner: 'coa' });
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
