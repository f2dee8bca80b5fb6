/**
 * The whole hub in one process for the security suite: one NATS server (test/harness), every
 * service on free loopback ports (COA, gemeente-kvs with the KVS inbound API, DUO, Kredietbank,
 * taalaanbieder, admin) and every partner simulator (KVS, DUO, Kredietbank, two schools), so a
 * test can send hostile input to every edge and check that nothing reached a partner. Every key
 * is a fresh random one stored hashed, as in production; retries are fast.
 */
import { expect } from 'vitest';
import { randomBytes } from 'node:crypto';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { startDuoSimulator, type DuoSimulator } from '@ketenhub/simulator-duo';
import { KVS_PARTNER } from '@ketenhub/adapter-gemeente-kvs';
import { startKvsSimulator, type KvsSimulator } from '@ketenhub/simulator-gemeente-kvs';
import {
  startKredietbankSimulator,
  type KredietbankSimulator,
} from '@ketenhub/simulator-kredietbank';
import {
  startTaalaanbiederSimulator,
  type TaalaanbiederSimulator,
} from '@ketenhub/simulator-taalaanbieder';
import { deliveryViolations } from '@ketenhub/contracts';
import {
  STREAMS,
  connectNats,
  createLogger,
  generateApiKey,
  hashApiKey,
  type HubConfig,
  type PartnerOrganisationConfig,
  type Logger,
  runModules,
  type RunningModules,
} from '@ketenhub/kit';
import { createPseudonymizer } from '@ketenhub/kit/privacy';
import { getFreePort } from '@ketenhub/kit/processes';
import { startTestNats, type TestNats } from '../harness/nats.ts';
import { adminModule } from '../../services/admin/module.ts';
import { coaModule } from '@ketenhub/adapter-coa';
import { duoModule } from '@ketenhub/adapter-duo';
import { kredietbankModule } from '@ketenhub/adapter-kredietbank';
import { kvsModule } from '@ketenhub/adapter-gemeente-kvs';
import { taalaanbiederModule } from '@ketenhub/adapter-taalaanbieder';

export const GEMEENTEN = ['gm0797', 'gm0796', 'gm0865'] as const;
export type Gemeente = (typeof GEMEENTEN)[number];
export const SCHOOLS = ['taalschool-noord', 'taalschool-zuid'] as const;
export type School = (typeof SCHOOLS)[number];
export const HUB_OIN = '00000001234567890000';
export const DUO_OIN = '00000001003214345000';
/** The day the DUO adapter checks DUO's rules against (dates in the suite lie before it). */
export const TODAY = '2026-11-23';

export const oinOf = (gemeente: string) => `0000000100${gemeente.slice(2)}000000`;

/** Every key a partner presents; the config holds only their hashes. */
export interface Keys {
  coa: string;
  duo: string;
  kredietbank: string;
  kvs: Record<Gemeente, string>;
  school: Record<School, string>;
  /** `beheer` sees every gemeente; `gm0796` and `gm0865` are bound to that gemeente. */
  admin: { beheer: string; gm0796: string; gm0865: string };
}

export interface SecurityChain {
  nats: TestNats;
  config: HubConfig;
  keys: Keys;
  jsm: JetStreamManager;
  js: ReturnType<typeof jetstream>;
  /** Partner simulators. */
  sims: {
    kvs: KvsSimulator;
    duo: DuoSimulator;
    kredietbank: KredietbankSimulator;
    schools: Record<School, TaalaanbiederSimulator>;
  };
  /** Hub services. */
  services: {
    coa: RunningModules;
    kvs: RunningModules;
    duo: RunningModules;
    kredietbank: RunningModules;
    taalaanbieder: RunningModules;
    admin: RunningModules;
  };
  /** Base URL of each partner-facing edge. */
  edges: {
    coa: string;
    kvs: string;
    duo: string;
    kredietbank: string;
    school: string;
    admin: string;
  };
  /** The pseudonym the hub gives a person known by BSN. */
  idOf(bsn: string): string;
  stop(): Promise<void>;
}

const retry = { delaysMs: [100, 200, 400] as [number, ...number[]], maxAttempts: 30 };
const breaker = { resetTimeoutMs: 500, volumeThreshold: 5, errorThresholdPercentage: 50 };

export async function startSecurityChain(
  opts: { logger?: Logger; oneProcess?: boolean } = {},
): Promise<SecurityChain> {
  const logger =
    opts.logger ?? createLogger('security', { level: process.env.LOG_LEVEL ?? 'error' });
  const nats = await startTestNats();
  const keys: Keys = {
    coa: generateApiKey(),
    duo: generateApiKey(),
    kredietbank: generateApiKey(),
    kvs: { gm0797: generateApiKey(), gm0796: generateApiKey(), gm0865: generateApiKey() },
    school: { 'taalschool-noord': generateApiKey(), 'taalschool-zuid': generateApiKey() },
    admin: { beheer: generateApiKey(), gm0796: generateApiKey(), gm0865: generateApiKey() },
  };
  const kvsSim = await startKvsSimulator({
    gemeenten: [...GEMEENTEN],
    validate: (event) => deliveryViolations(KVS_PARTNER, event),
  });
  const duoPort = await getFreePort();
  const kbPort = await getFreePort();
  const duoSim = await startDuoSimulator({
    oin: DUO_OIN,
    gemeenten: Object.fromEntries(GEMEENTEN.map((g) => [g, oinOf(g)])),
    hubNotificatieUrl: `http://127.0.0.1:${duoPort}/v1`,
    hubApiKey: keys.duo,
    processingDelayMs: 50,
  });
  const kbToken = generateApiKey();
  const kbSim = await startKredietbankSimulator({
    hubWebhookUrl: `http://127.0.0.1:${kbPort}/v1/webhooks`,
    hubApiKey: keys.kredietbank,
    token: kbToken,
    webhookRetryDelayMs: 100,
    today: TODAY,
  });
  const schoolSims = {} as Record<School, TaalaanbiederSimulator>;
  const schools: PartnerOrganisationConfig[] = [];
  for (const id of SCHOOLS) {
    const token = generateApiKey();
    const sim = await startTaalaanbiederSimulator({ id, token });
    schoolSims[id] = sim;
    schools.push({
      id,
      naam: id,
      endpoint: { url: sim.url, token, timeoutMs: 3000 },
      credential: { apiKeyHash: hashApiKey(keys.school[id]) },
    });
  }

  const config: HubConfig = {
    hub: { oin: HUB_OIN, pseudonymKey: randomBytes(32).toString('hex') },
    nats: { url: nats.url },
    gemeenten: GEMEENTEN.map((code) => ({
      code,
      naam: code,
      oin: oinOf(code),
    })) as HubConfig['gemeenten'],
    partners: {
      coa: { credential: { apiKeyHash: hashApiKey(keys.coa) } },
      'gemeente-kvs': {
        organisations: GEMEENTEN.map((code) => ({
          id: `kvs-${code}`,
          gemeenten: [code],
          endpoint: { url: kvsSim.endpointFor(code), timeoutMs: 10_000 },
          credential: { apiKeyHash: hashApiKey(keys.kvs[code]) },
        })),
      },
      duo: {
        endpoint: { url: duoSim.baseUrl, timeoutMs: 3000 },
        credential: { apiKeyHash: hashApiKey(keys.duo) },
        settings: { oin: DUO_OIN },
      },
      kredietbank: {
        endpoint: { url: kbSim.baseUrl, token: kbToken, timeoutMs: 3000 },
        credential: { apiKeyHash: hashApiKey(keys.kredietbank) },
      },
      taalaanbieder: { organisations: schools },
    },
    admins: [
      { id: 'beheer', credential: { apiKeyHash: hashApiKey(keys.admin.beheer) } },
      {
        id: 'fg-gm0796',
        credential: { apiKeyHash: hashApiKey(keys.admin.gm0796), gemeenten: ['gm0796'] },
      },
      {
        id: 'fg-gm0865',
        credential: { apiKeyHash: hashApiKey(keys.admin.gm0865), gemeenten: ['gm0865'] },
      },
    ],
    services: {
      coa: { port: 0, opsPort: 0 },
      admin: { port: 0, opsPort: 0 },
      'gemeente-kvs': {
        port: 0,
        opsPort: 0,
        concurrency: 16,
        ackWaitMs: 10_000,
        retry: { delaysMs: [100, 200, 400, 800], maxAttempts: 60 },
        breaker,
      },
      duo: { port: duoPort, opsPort: 0, concurrency: 8, ackWaitMs: 10_000, retry, breaker },
      kredietbank: { port: kbPort, opsPort: 0, concurrency: 4, ackWaitMs: 10_000, retry, breaker },
      taalaanbieder: { port: 0, opsPort: 0, concurrency: 8, ackWaitMs: 10_000, retry, breaker },
    },
  };

  const modules = {
    coa: coaModule(),
    kvs: kvsModule(),
    duo: duoModule({ today: () => TODAY }),
    kredietbank: kredietbankModule(),
    taalaanbieder: taalaanbiederModule(),
    admin: adminModule(),
  };
  // Every module in its own process as deployed, or all of them in one (the runner's other
  // shape): the guarantees must not depend on which.
  let hub: RunningModules | undefined;
  const services = {} as Record<keyof typeof modules, RunningModules>;
  if (opts.oneProcess) {
    const one = (hub = await runModules(config, Object.values(modules), { logger }));
    for (const [name, m] of Object.entries(modules)) {
      services[name as keyof typeof modules] = { ...one, url: one.urls[m.id]! };
    }
  } else {
    for (const [name, m] of Object.entries(modules)) {
      services[name as keyof typeof modules] = await runModules(config, [m], { logger });
    }
  }
  const { coa, kvs, duo, kredietbank, taalaanbieder, admin } = services;
  for (const id of SCHOOLS) schoolSims[id].setHub(taalaanbieder.url!, keys.school[id]);

  const nc = await connectNats(nats.url, 'security-observer');
  const jsm = await jetstreamManager(nc);
  const pseudonyms = createPseudonymizer(config.hub.pseudonymKey);
  return {
    nats,
    config,
    keys,
    jsm,
    js: jetstream(nc),
    sims: { kvs: kvsSim, duo: duoSim, kredietbank: kbSim, schools: schoolSims },
    services,
    edges: {
      coa: coa.url!,
      kvs: kvs.url!,
      duo: duo.url!,
      kredietbank: kredietbank.url!,
      school: taalaanbieder.url!,
      admin: admin.url!,
    },
    idOf: (bsn) => pseudonyms.inburgeraarId({ bsn, vnummer: '' }),
    async stop() {
      if (hub) await hub.stop();
      else for (const service of Object.values(services).reverse()) await service.stop();
      await nc.drain();
      for (const sim of Object.values(schoolSims)) await sim.close();
      await kbSim.close();
      await duoSim.close();
      await kvsSim.close();
      await nats.stop();
    },
  };
}

/** What the partner simulators have received so far: equal counts = nothing reached them. */
export interface PartnerCounts {
  kvs: number;
  duo: number;
  kredietbank: number;
  schools: number;
}

export function partnerCounts(chain: SecurityChain): PartnerCounts {
  const kb = chain.sims.kredietbank.stats();
  return {
    kvs: chain.sims.kvs.stats().total.received,
    duo: chain.sims.duo.stats().requests,
    // Every call the hub can make there: register, change, extend, end, and the refused ones.
    kredietbank:
      kb.registraties +
      kb.wijzigingen +
      kb.looptijdWijzigingen +
      kb.beeindigingen +
      kb.duplicates +
      kb.rejected,
    schools: SCHOOLS.reduce((n, id) => n + chain.sims.schools[id].deliveries(), 0),
  };
}

/** The sequence of the last message stored in KETEN: unchanged = nothing was accepted. */
export async function ketenLastSeq(chain: SecurityChain): Promise<number> {
  return (await chain.jsm.streams.info(STREAMS.keten)).state.last_seq;
}

/** Polls until `check` holds or the time is up; returns the last result. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 15_000,
): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return check();
}

/**
 * Waits until the chain is quiet: no new message in KETEN and no partner receiving anything for
 * `quietMs` (messages still being retried show up as one or the other within that time).
 */
export async function settle(chain: SecurityChain, quietMs = 1500, timeoutMs = 30_000) {
  const until = Date.now() + timeoutMs;
  let last = JSON.stringify([await ketenLastSeq(chain), partnerCounts(chain)]);
  let since = Date.now();
  while (Date.now() < until) {
    await new Promise((r) => setTimeout(r, 100));
    const now = JSON.stringify([await ketenLastSeq(chain), partnerCounts(chain)]);
    if (now !== last) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) return;
  }
  throw new Error('the chain did not become quiet');
}

/** Every message on `subject` (wildcards allowed) in `stream`, oldest first, with its subject. */
export async function messagesOn<T>(
  chain: SecurityChain,
  stream: string,
  subject: string,
): Promise<{ subject: string; seq: number; data: T }[]> {
  const info = await chain.jsm.streams
    .info(stream, { subjects_filter: subject })
    .catch(() => undefined);
  const total = Object.values(info?.state.subjects ?? {}).reduce((a, b) => a + b, 0);
  const out: { subject: string; seq: number; data: T }[] = [];
  if (total === 0) return out;
  const consumer = await chain.js.consumers.get(stream, { filter_subjects: subject });
  try {
    while (out.length < total) {
      const batch = await consumer.fetch({ max_messages: total - out.length, expires: 2000 });
      let got = 0;
      for await (const m of batch) {
        got++;
        out.push({ subject: m.subject, seq: m.seq, data: m.json<T>() });
      }
      if (got === 0) break;
    }
  } finally {
    await consumer.delete().catch(() => undefined);
  }
  return out;
}

/** The value of a key in a NATS KV bucket, read from its stream; undefined when absent. */
export async function kvValue<T>(
  chain: SecurityChain,
  bucket: string,
  key: string,
): Promise<T | undefined> {
  const m = await chain.jsm.streams
    .getMessage(`KV_${bucket}`, { last_by_subj: `$KV.${bucket}.${key}` })
    .catch(() => null);
  if (!m || m.data.length === 0) return undefined;
  return m.json<T>();
}

/** Asserts that every service of the chain answers its /health with status ok. */
export async function expectServicesHealthy(chain: SecurityChain): Promise<void> {
  for (const service of Object.values(chain.services)) {
    const res = await fetch(`${service.opsUrl}/health`);
    expect(res.status, service.opsUrl).toBe(200);
    expect(await res.json(), service.opsUrl).toMatchObject({ status: 'ok' });
  }
}
