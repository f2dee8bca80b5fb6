import { jetstream } from '@nats-io/jetstream';
import {
  TAALAANBIEDER_PARTNER,
  createAanmeldingHandler,
  createTrajectPseudonymizer,
  describeMessage,
  openTrajectStore,
  registerTaalaanbiederRoutes,
} from '@ketenhub/adapter-taalaanbieder';
import {
  DEFAULT_BACKOFF,
  PARTNER_HEADER,
  STREAMS,
  ConfigError,
  connectNats,
  createHttpEdge,
  createLogger,
  createMetrics,
  createPartnerClient,
  createProcessingLog,
  createProjector,
  edgeOptionsFromConfig,
  flowName,
  natsAuth,
  provisionStreams,
  openEdgePublisher,
  openPersonRegister,
  runService,
  sourceUrn,
  startOpsServer,
  streamLimits,
  toCredential,
  type HubConfig,
  type Logger,
  type PartnerClient,
  type RunningService,
} from '@ketenhub/kit';

export interface TaalaanbiederService {
  /** The school-facing API (voortgang, uren, verzuim). */
  url: string;
  opsUrl: string;
  /** The partner client per school id. */
  clients: Map<string, PartnerClient>;
  stop(): Promise<void>;
}

/** A traject outlives the inburgeringstermijn (3 years plus extensions), like the identities. */
const TRAJECT_TTL_DAYS = 5 * 366;
/** The person register lives as long as the identities it binds (services/duo, kredietbank). */
const PERSON_TTL_DAYS = 5 * 366;

/**
 * The taalaanbieder adapter, one instance per school of `taalaanbieders`: a durable consumer
 * and a circuit breaker per school, so a school that is down holds up only its own
 * aanmeldingen; and the school API, where each school's key is bound to that school.
 */
export async function startTaalaanbiederService(
  config: HubConfig,
  opts: { logger?: Logger; port?: number; opsPort?: number; now?: () => Date } = {},
): Promise<TaalaanbiederService> {
  const service = 'taalaanbieder';
  const logger = opts.logger ?? createLogger(service);
  const metrics = createMetrics(service);
  const settings = config.services.taalaanbieder;
  const schools = config.taalaanbieders ?? [];
  if (!settings || schools.length === 0) {
    throw new ConfigError(
      'the taalaanbieder service needs `taalaanbieders` and `services.taalaanbieder`',
      { field: 'taalaanbieders', rule: 'required' },
    );
  }
  // A school whose credential block is left empty (its environment variables unset) still gets
  // aanmeldingen but cannot report back until it has a key.
  const given = (c: (typeof schools)[number]['credential']) =>
    !!(c.apiKey || c.apiKeyHash || c.mtls);
  // For the hours spreadsheet (`POST /v1/uren.csv`).
  const edgeOptions = edgeOptionsFromConfig(config, service, { csv: true });
  const credentials = schools.flatMap((s, i) =>
    given(s.credential)
      ? [
          toCredential(config, s.credential, `taalaanbieders[${i}].credential`, {
            id: s.id,
            kind: TAALAANBIEDER_PARTNER,
          }),
        ]
      : [],
  );
  const nc = await connectNats(config.nats.url, service, natsAuth(config));
  await provisionStreams(nc, streamLimits(config));
  const js = jetstream(nc);
  const trajecten = await openTrajectStore(nc, {
    ttlDays: TRAJECT_TTL_DAYS,
    replicas: config.streams?.replicas ?? 1,
  });
  // Which gemeente each person belongs to (no BSN): an aanmelding only for the PIP's own person.
  const persons = await openPersonRegister(nc, {
    ttlDays: PERSON_TTL_DAYS,
    replicas: config.streams?.replicas ?? 1,
  });
  const ctx = {
    source: sourceUrn(config.hub.oin, TAALAANBIEDER_PARTNER),
    ...(opts.now ? { now: opts.now } : {}),
  };
  const publisher = await openEdgePublisher(nc, config, TAALAANBIEDER_PARTNER);

  const edge = createHttpEdge({
    service,
    logger,
    metrics,
    credentials,
    ...edgeOptions,
  });
  registerTaalaanbiederRoutes(edge, { ctx, trajecten, publish: publisher.accept, logger });
  const url = await edge.listen({
    host: settings.host ?? '127.0.0.1',
    port: opts.port ?? settings.port,
  });

  const projector = createProjector(TAALAANBIEDER_PARTNER);
  const processingLog = createProcessingLog(js);
  const pseudonyms = createTrajectPseudonymizer(config.hub.pseudonymKey);
  const backoff = settings.retry ?? DEFAULT_BACKOFF;
  const clients = new Map<string, PartnerClient>();
  const running: RunningService[] = [];
  for (const school of schools) {
    const client = createPartnerClient({
      partner: TAALAANBIEDER_PARTNER,
      endpoint: school.id,
      baseURL: school.url,
      timeoutMs: school.timeoutMs ?? 5000,
      ...(school.token ? { headers: { authorization: `Bearer ${school.token}` } } : {}),
      ...(settings.breaker ? { breaker: settings.breaker } : {}),
      logger: logger.child({ taalaanbieder: school.id }),
      metrics,
    });
    clients.set(school.id, client);
    running.push(
      await runService({
        service,
        partner: TAALAANBIEDER_PARTNER,
        flow: (m) => flowName(m.headers?.get(PARTNER_HEADER), TAALAANBIEDER_PARTNER),
        nc,
        consumer: {
          stream: STREAMS.keten,
          durable: `${service}-${school.id}`,
          // Every school's consumer sees every PIP and keeps those that name it.
          filterSubject: 'keten.*.pip.vastgesteld',
          ackWaitMs: settings.ackWaitMs ?? 30_000,
        },
        backoff,
        handler: createAanmeldingHandler({
          taalaanbieder: school.id,
          client,
          projector,
          processingLog,
          pseudonyms,
          trajecten,
          persons,
          publish: publisher.publish,
          ctx,
          logger,
        }),
        describe: describeMessage,
        // While this school's breaker is open, its aanmeldingen wait in the stream.
        gate: client.gate,
        persons,
        logger: logger.child({ taalaanbieder: school.id }),
        metrics,
        concurrency: settings.concurrency ?? 8,
      }),
    );
  }

  const ops = await startOpsServer({
    service,
    ...(settings.host ? { host: settings.host } : {}),
    port: opts.opsPort ?? settings.opsPort,
    registry: metrics.registry,
    checks: { nats: () => !nc.isClosed() },
    logger,
  });
  logger.info({ url, ops: ops.url, schools: schools.map((s) => s.id) }, 'taalaanbieder adapter');
  return {
    url,
    opsUrl: ops.url,
    clients,
    async stop() {
      await edge.close();
      await Promise.all(running.map((r) => r.stop()));
      for (const c of clients.values()) c.shutdown();
      await ops.close();
      await nc.drain();
    },
  };
}
