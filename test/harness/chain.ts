import { randomBytes } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { startKvsSimulator, type KvsSimulator } from '@ketenhub/simulator-gemeente-kvs';
import { KVS_PARTNER } from '@ketenhub/adapter-gemeente-kvs';
import { deliveryViolations } from '@ketenhub/contracts';
import {
  STREAMS,
  connectNats,
  createLogger,
  generateApiKey,
  hashApiKey,
  type HubConfig,
  type Logger,
  runModules,
  type RunningModules,
} from '@ketenhub/kit';
import { startTestNats, type TestNats } from './nats.ts';
import { adminModule } from '../../services/admin/module.ts';
import { coaModule } from '@ketenhub/adapter-coa';
import { kvsModule } from '@ketenhub/adapter-gemeente-kvs';

export const TEST_GEMEENTEN = ['gm0797', 'gm0796', 'gm0865'];

/** The key each test KVS presents at the hub's KVS inbound API (bound to its own gemeente). */
export function testKvsKey(gemeente: string): string {
  return `test-kvs-key-${gemeente}-0123456789`;
}

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
      oin: `0000000100${code.slice(2)}000000`,
    })) as HubConfig['gemeenten'],
    partners: {
      coa: { credential: { apiKeyHash: hashApiKey(coaApiKey) } },
      'gemeente-kvs': {
        organisations: TEST_GEMEENTEN.map((code) => ({
          id: `kvs-${code}`,
          gemeenten: [code],
          endpoint: { url: kvs.endpointFor(code), timeoutMs: 10_000 },
          credential: { apiKey: testKvsKey(code) },
        })),
      },
    },
    services: {
      coa: { port: 0, opsPort: 0 },
      admin: { port: 0, opsPort: 0 },
      'gemeente-kvs': {
        opsPort: 0,
        port: 0,
        concurrency: 16,
        ackWaitMs: 10_000,
        retry: { delaysMs: [100, 200, 400, 800], maxAttempts: 60 },
        breaker: { resetTimeoutMs: 500, volumeThreshold: 5, errorThresholdPercentage: 50 },
      },
    },
  };
}

/** The keys of the test administrators: `all` sees every gemeente, `gm0796` only its own. */
export interface TestAdminKeys {
  all: string;
  gm0796: string;
}

/** `admins` of a test config: `beheer` for every gemeente, `fg-gm0796` bound to gm0796. */
export function testAdmins(keys: TestAdminKeys): NonNullable<HubConfig['admins']> {
  return [
    { id: 'beheer', credential: { apiKeyHash: hashApiKey(keys.all) } },
    { id: 'fg-gm0796', credential: { apiKeyHash: hashApiKey(keys.gm0796), gemeenten: ['gm0796'] } },
  ];
}

export interface TestChain {
  nats: TestNats;
  kvs: KvsSimulator;
  coa: RunningModules;
  delivery: RunningModules;
  config: HubConfig;
  /** The key COA presents; the config holds only its hash. */
  coaApiKey: string;
  /** Messages stored in a stream right now. */
  streamCount(stream?: string): Promise<number>;
  coaPost(path: string, body: unknown, contentType?: string): Promise<Response>;
  /** The admin API, when started with `admin: true`. */
  admin?: RunningModules;
  adminKeys?: TestAdminKeys;
  /** Calls the admin API with `key` (none: unauthenticated); a body is sent as JSON. */
  adminCall(
    key: string | undefined,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<Response>;
  /** Sends a chain event to the hub as the KVS of gemeente `as` (with that KVS's own key). */
  kvsPost(as: string, event: unknown): Promise<Response>;
  stop(): Promise<void>;
}

/** NATS, the KVS simulator (checking the delivery contract), the COA service and KVS delivery. */
export async function startTestChain(
  opts: { logger?: Logger; admin?: boolean } = {},
): Promise<TestChain> {
  const logger = opts.logger ?? createLogger('test', { level: process.env.LOG_LEVEL ?? 'error' });
  const nats = await startTestNats();
  const kvs = await startKvsSimulator({
    gemeenten: TEST_GEMEENTEN,
    validate: (event) => deliveryViolations(KVS_PARTNER, event),
  });
  const coaApiKey = generateApiKey();
  const config = testConfig(nats.url, kvs, coaApiKey);
  const adminKeys = opts.admin ? { all: generateApiKey(), gm0796: generateApiKey() } : undefined;
  if (adminKeys) config.admins = testAdmins(adminKeys);
  const coa = await runModules(config, [coaModule()], { logger });
  const delivery = await runModules(config, [kvsModule()], { logger });
  const admin = adminKeys ? await runModules(config, [adminModule()], { logger }) : undefined;
  const nc = await connectNats(nats.url, 'test-observer');
  const jsm = await jetstreamManager(nc);
  return {
    nats,
    kvs,
    coa,
    delivery,
    config,
    coaApiKey,
    ...(admin ? { admin } : {}),
    ...(adminKeys ? { adminKeys } : {}),
    adminCall(key, method, path, body) {
      if (!admin) throw new Error('start the test chain with admin: true');
      return fetch(`${admin.url}${path}`, {
        method,
        headers: {
          ...(key ? { authorization: `Bearer ${key}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    },
    async streamCount(stream = STREAMS.keten) {
      return (await jsm.streams.info(stream)).state.messages;
    },
    kvsPost(as, event) {
      return fetch(`${delivery.url}/v1/events`, {
        method: 'POST',
        headers: {
          'content-type': 'application/cloudevents+json',
          authorization: `Bearer ${testKvsKey(as)}`,
        },
        body: JSON.stringify(event),
      });
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
      await admin?.stop();
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
