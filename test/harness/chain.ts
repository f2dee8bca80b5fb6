import { randomBytes } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { startKvsSimulator, type KvsSimulator } from '@ketenhub/adapter-gemeente-kvs/simulator';
import { KVS_DELIVERY_SCHEMA } from '@ketenhub/adapter-gemeente-kvs';
import { schemas } from '@ketenhub/contracts';
import {
  STREAMS,
  connectNats,
  createLogger,
  generateApiKey,
  hashApiKey,
  type HubConfig,
  type Logger,
} from '@ketenhub/kit';
import { startCoaService, type CoaService } from '../../services/coa/service.ts';
import { startKvsService, type KvsService } from '../../services/gemeente-kvs/service.ts';
import { startTestNats, type TestNats } from './nats.ts';

export const TEST_GEMEENTEN = ['gm0797', 'gm0796', 'gm0865'];

/**
 * A hub configuration for tests: fast retries, every port picked free, and COA's key stored
 * hashed as in production (`coaApiKey` is the key itself; a fresh one per run by default).
 */
export function testConfig(
  natsUrl: string,
  kvs: KvsSimulator,
  coaApiKey: string = generateApiKey(),
): HubConfig {
  return {
    hub: { oin: '00000001234567890000', pseudonymKey: randomBytes(32).toString('hex') },
    nats: { url: natsUrl },
    gemeenten: TEST_GEMEENTEN.map((code) => ({
      code,
      naam: code,
      kvs: { url: kvs.endpointFor(code), timeoutMs: 2000 },
    })) as HubConfig['gemeenten'],
    partners: { coa: { apiKeyHash: hashApiKey(coaApiKey) } },
    services: {
      coa: { port: 0, opsPort: 0 },
      'gemeente-kvs': {
        opsPort: 0,
        concurrency: 16,
        ackWaitMs: 10_000,
        retry: { delaysMs: [100, 200, 400, 800], maxAttempts: 60 },
        breaker: { resetTimeoutMs: 500, volumeThreshold: 5, errorThresholdPercentage: 50 },
      },
    },
  };
}

export interface TestChain {
  nats: TestNats;
  kvs: KvsSimulator;
  coa: CoaService;
  delivery: KvsService;
  config: HubConfig;
  /** The key COA presents; the config holds only its hash. */
  coaApiKey: string;
  /** Messages stored in a stream right now. */
  streamCount(stream?: string): Promise<number>;
  coaPost(path: string, body: unknown, contentType?: string): Promise<Response>;
  stop(): Promise<void>;
}

/** NATS, the KVS simulator (checking the delivery contract), the COA service and KVS delivery. */
export async function startTestChain(opts: { logger?: Logger } = {}): Promise<TestChain> {
  const logger = opts.logger ?? createLogger('test', { level: process.env.LOG_LEVEL ?? 'error' });
  const nats = await startTestNats();
  const kvs = await startKvsSimulator({
    gemeenten: TEST_GEMEENTEN,
    validate: (event) => schemas().validate(KVS_DELIVERY_SCHEMA, event),
  });
  const coaApiKey = generateApiKey();
  const config = testConfig(nats.url, kvs, coaApiKey);
  const coa = await startCoaService(config, { logger });
  const delivery = await startKvsService(config, { logger });
  const nc = await connectNats(nats.url, 'test-observer');
  const jsm = await jetstreamManager(nc);
  return {
    nats,
    kvs,
    coa,
    delivery,
    config,
    coaApiKey,
    async streamCount(stream = STREAMS.keten) {
      return (await jsm.streams.info(stream)).state.messages;
    },
    coaPost(path, body, contentType = 'application/json') {
      return fetch(`${coa.url}${path}`, {
        method: 'POST',
        headers: {
          'content-type': contentType,
          authorization: `Bearer ${coaApiKey}`,
        },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
    },
    async stop() {
      await coa.stop();
      await delivery.stop();
      await nc.drain();
      await kvs.close();
      await nats.stop();
    },
  };
}

/** Polls until `check` returns true or the time is up; returns the last result. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}
