import type { ServiceBlockConfig } from '@ketenhub/contracts/generated';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  DEFAULT_BACKOFF,
  STREAMS,
  connectNats,
  generateApiKey,
  hashApiKey,
  runService,
  type Logger,
  type PartnerOrganisationConfig,
} from '@ketenhub/kit';
import {
  createIdentityHandler,
  createPseudonymizer,
  openIdentityStore,
} from '@ketenhub/kit/privacy';

/** A partner's service block for tests: a free port, short retries, a breaker that trips fast. */
export const TEST_SERVICE: ServiceBlockConfig = {
  port: 0,
  opsPort: 0,
  concurrency: 8,
  ackWaitMs: 10_000,
  retry: { delaysMs: [100, 200, 400], maxAttempts: 30 },
  breaker: { resetTimeoutMs: 500, volumeThreshold: 5, errorThresholdPercentage: 50 },
};

/** A simulator of one organisation that answers the hub once it knows where the hub is. */
interface OrganisationSim {
  url: string;
  setHub(url: string, apiKey: string): void;
}

/**
 * One simulator per organisation, each contracted by its gemeenten (none given: not bound to
 * any), with its own token (what the hub presents) and key (what it presents at the hub): the
 * partner's `organisations` for the hub configuration, the keys, and `connect` to tell every
 * simulator the hub's URL once it runs.
 */
export async function startOrganisations<I extends string, S extends OrganisationSim>(
  contracted: Record<I, readonly string[] | undefined>,
  start: (o: { id: I; token: string }) => Promise<S>,
): Promise<{
  sims: Map<I, S>;
  keys: Map<I, string>;
  organisations: PartnerOrganisationConfig[];
  connect(hubUrl: string): void;
}> {
  const sims = new Map<I, S>();
  const keys = new Map<I, string>();
  const organisations: PartnerOrganisationConfig[] = [];
  for (const [id, gemeenten] of Object.entries(contracted) as [
    I,
    readonly string[] | undefined,
  ][]) {
    const token = generateApiKey();
    const key = generateApiKey();
    const sim = await start({ id, token });
    sims.set(id, sim);
    keys.set(id, key);
    organisations.push({
      id,
      naam: id,
      ...(gemeenten ? { gemeenten: [...gemeenten] } : {}),
      endpoint: { url: sim.url, token, timeoutMs: 3000 },
      credential: { apiKeyHash: hashApiKey(key) },
    });
  }
  return {
    sims,
    keys,
    organisations,
    connect(hubUrl) {
      for (const [id, sim] of sims) sim.setHub(hubUrl, keys.get(id)!);
    },
  };
}

/**
 * The identity consumer (koppeling, vestiging → the person bound to their gemeente), for a test
 * chain that runs neither the DUO nor the Kredietbank module, which bind persons in production:
 * partners get requests only about persons the hub knows for the gemeente. Its connection is
 * returned for the test's own reads.
 */
export async function startIdentityFeed(
  natsUrl: string,
  pseudonymKey: string,
  logger: Logger,
): Promise<{ nc: NatsConnection; stop(): Promise<void> }> {
  const nc = await connectNats(natsUrl, 'test-identiteiten');
  const service = await runService({
    service: 'test-identiteiten',
    partner: 'test',
    flow: 'test',
    nc,
    consumer: {
      stream: STREAMS.keten,
      durable: 'test-identiteiten',
      filterSubject: 'keten.*.inburgeraar.>',
      ackWaitMs: 10_000,
    },
    backoff: { ...DEFAULT_BACKOFF, delaysMs: [100, 200, 400] },
    handler: createIdentityHandler(
      await openIdentityStore(nc, { ttlDays: 1 }),
      createPseudonymizer(pseudonymKey),
    ),
    logger,
  });
  return {
    nc,
    async stop() {
      await service.stop();
      await nc.drain();
    },
  };
}
