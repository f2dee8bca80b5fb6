import { jetstreamManager } from '@nats-io/jetstream';
import {
  startTaalaanbiederSimulator,
  type TaalaanbiederSimulator,
} from '@ketenhub/simulator-taalaanbieder';
import {
  DEFAULT_BACKOFF,
  STREAMS,
  connectNats,
  createLogger,
  generateApiKey,
  hashApiKey,
  runService,
  type HubConfig,
  type Logger,
  type PartnerOrganisationConfig,
  runModules,
  type RunningModules,
} from '@ketenhub/kit';
import {
  createIdentityHandler,
  createPseudonymizer,
  openIdentityStore,
} from '@ketenhub/kit/privacy';
import { startTestChain, type TestChain } from './chain.ts';
import { taalaanbiederModule } from '@ketenhub/adapter-taalaanbieder';

export const TEST_SCHOOLS = ['taalschool-noord', 'taalschool-zuid'] as const;

export interface TaalaanbiederTestChain extends TestChain {
  schools: Map<string, TaalaanbiederSimulator>;
  schoolKeys: Map<string, string>;
  taalaanbieder: RunningModules;
  /** Calls the hub's school API as `school` (undefined: without a key). */
  schoolPost(
    school: string | undefined,
    path: string,
    body: unknown,
    contentType?: string,
  ): Promise<Response>;
  /** The data of the last event stored on `subject` in the KETEN stream, if any. */
  lastOnSubject(subject: string): Promise<unknown>;
  /** The last processing-log record on `subject` (stream VERWERKINGEN), if any. */
  lastRecord(subject: string): Promise<Record<string, unknown> | undefined>;
}

/** The test chain plus two taalaanbieder simulators and the hub's taalaanbieder adapter. */
export async function startTaalaanbiederTestChain(
  opts: { logger?: Logger } = {},
): Promise<TaalaanbiederTestChain> {
  const logger = opts.logger ?? createLogger('test', { level: process.env.LOG_LEVEL ?? 'error' });
  const chain = await startTestChain({ logger });
  const schools = new Map<string, TaalaanbiederSimulator>();
  const schoolKeys = new Map<string, string>();
  const organisations: PartnerOrganisationConfig[] = [];
  for (const id of TEST_SCHOOLS) {
    const token = generateApiKey();
    const sim = await startTaalaanbiederSimulator({ id, token });
    const key = generateApiKey();
    schools.set(id, sim);
    schoolKeys.set(id, key);
    organisations.push({
      id,
      naam: id,
      endpoint: { url: sim.url, token, timeoutMs: 3000 },
      credential: { apiKeyHash: hashApiKey(key) },
    });
  }
  const config: HubConfig = {
    ...chain.config,
    partners: { ...chain.config.partners, taalaanbieder: { organisations } },
    services: {
      ...chain.config.services,
      taalaanbieder: {
        port: 0,
        opsPort: 0,
        concurrency: 8,
        ackWaitMs: 10_000,
        retry: { delaysMs: [100, 200, 400], maxAttempts: 30 },
        breaker: { resetTimeoutMs: 500, volumeThreshold: 5, errorThresholdPercentage: 50 },
      },
    },
  };
  const taalaanbieder = await runModules(config, [taalaanbiederModule()], { logger });
  for (const [id, sim] of schools) sim.setHub(taalaanbieder.url!, schoolKeys.get(id)!);
  const nc = await connectNats(chain.nats.url, 'test-taalaanbieder-observer');
  // The schools get aanmeldingen only for persons the hub knows for the PIP's gemeente; the DUO
  // and Kredietbank services bind them from the koppeling and the vestiging. This chain runs
  // neither, so it runs their identity consumer itself.
  const identities = await runService({
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
      createPseudonymizer(config.hub.pseudonymKey),
    ),
    logger,
  });
  const jsm = await jetstreamManager(nc);
  return {
    ...chain,
    config,
    schools,
    schoolKeys,
    taalaanbieder,
    schoolPost(school, path, body, contentType = 'application/json') {
      const key = school ? schoolKeys.get(school) : undefined;
      return fetch(`${taalaanbieder.url}${path}`, {
        method: 'POST',
        headers: {
          'content-type': contentType,
          ...(key ? { authorization: `Bearer ${key}` } : {}),
        },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
    },
    async lastOnSubject(subject) {
      const m = await jsm.streams
        .getMessage(STREAMS.keten, { last_by_subj: subject })
        .catch(() => null);
      return m ? (m.json<{ data: unknown }>().data as unknown) : undefined;
    },
    async lastRecord(subject) {
      const m = await jsm.streams
        .getMessage(STREAMS.processingLog, { last_by_subj: subject })
        .catch(() => null);
      return m ? m.json<Record<string, unknown>>() : undefined;
    },
    async stop() {
      await taalaanbieder.stop();
      await identities.stop();
      await nc.drain();
      for (const sim of schools.values()) await sim.close();
      await chain.stop();
    },
  };
}
