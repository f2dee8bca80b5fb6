/**
 * The hub under deploy/nats/permissions.conf: each process as its own NATS user with only the
 * subjects it needs. A koppeling still travels COA → JetStream → KVS, the operator can still do
 * its work, and what a user has no business doing is refused by the server itself.
 *
 * Always a local nats-server started with that file (not the harness's choice of server): the
 * point is the server's own configuration.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startKvsSimulator, type KvsSimulator } from '@ketenhub/adapter-gemeente-kvs/simulator';
import { KVS_DELIVERY_SCHEMA } from '@ketenhub/adapter-gemeente-kvs';
import { schemas } from '@ketenhub/contracts';
import {
  STREAMS,
  connectNats,
  createLogger,
  generateApiKey,
  listDeadLetters,
  provisionStreams,
  startLocalNats,
  streamLimits,
  type HubConfig,
  type LocalNats,
} from '@ketenhub/kit';
import { startCoaService, type CoaService } from '../../services/coa/service.ts';
import { startKvsService, type KvsService } from '../../services/gemeente-kvs/service.ts';
import { startAdminService, type AdminService } from '../../services/admin/service.ts';
import { TEST_GEMEENTEN, eventually, testAdmins, testConfig } from '../harness/index.ts';

const PERMISSIONS = fileURLToPath(new URL('../../deploy/nats/permissions.conf', import.meta.url));
const SHIPPED_CONFIG = fileURLToPath(new URL('../../config/ketenhub.yaml', import.meta.url));
const USERS = ['provisioner', 'coa', 'gemeente-kvs', 'admin'] as const;
type User = (typeof USERS)[number];
const passwordVar = (user: User) =>
  `KETENHUB_NATS_PASSWORD_${user.replace('-', '_').toUpperCase()}`;

const golden = (name: string) =>
  JSON.parse(
    readFileSync(
      fileURLToPath(new URL(`../../adapters/coa/fixtures/golden/${name}`, import.meta.url)),
      'utf8',
    ),
  ) as Record<string, unknown>;

const logger = createLogger('test', { level: process.env.LOG_LEVEL ?? 'error' });
const passwords = Object.fromEntries(
  USERS.map((u) => [u, randomBytes(18).toString('base64url')]),
) as Record<User, string>;
const connections: NatsConnection[] = [];
let dir: string;
let serverLog: string;
let nats: LocalNats;
let kvs: KvsSimulator;
let coa: CoaService | undefined;
let delivery: KvsService | undefined;
let admin: AdminService | undefined;
let base: HubConfig;
let coaApiKey: string;

/** The hub config as `user` would load it: NATS_USER / NATS_PASSWORD of that process. */
function configAs(user: User): HubConfig {
  return { ...base, nats: { url: nats.url, user, password: passwords[user] } };
}

async function connectAs(user: User): Promise<NatsConnection> {
  const nc = await connectNats(nats.url, `test-${user}`, { user, password: passwords[user] });
  connections.push(nc);
  return nc;
}

/** The violations the server logged: `Publish Violation - User "x", Subject "y"` lines. */
function violations(): string[] {
  return readFileSync(serverLog, 'utf8')
    .split('\n')
    .map((line) => /(\w+ Violation - User .*)$/.exec(line)?.[1])
    .filter((v): v is string => v !== undefined);
}

beforeAll(async () => {
  // nats-server reads the passwords from its environment (the `$VAR`s in permissions.conf);
  // the child inherits this process's environment.
  for (const u of USERS) process.env[passwordVar(u)] = passwords[u];
  dir = mkdtempSync(join(tmpdir(), 'ketenhub-perm-'));
  serverLog = join(dir, 'nats.log');
  // The shipped file as it is, plus a log file to read the violations from.
  const conf = join(dir, 'nats.conf');
  writeFileSync(conf, `logfile: "${serverLog}"\n${readFileSync(PERMISSIONS, 'utf8')}`);
  nats = await startLocalNats({ configFile: conf });

  kvs = await startKvsSimulator({
    gemeenten: TEST_GEMEENTEN,
    validate: (event) => schemas().validate(KVS_DELIVERY_SCHEMA, event),
  });
  coaApiKey = generateApiKey();
  base = testConfig(nats.url, kvs, coaApiKey);
});

afterAll(async () => {
  await admin?.stop();
  await coa?.stop();
  await delivery?.stop();
  for (const nc of connections) await nc.close().catch(() => undefined);
  await kvs?.close();
  await nats?.stop();
  for (const u of USERS) delete process.env[passwordVar(u)];
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('NATS users per service (deploy/nats/permissions.conf)', () => {
  it('refuses a connection without or with a wrong password', async () => {
    await expect(connectNats(nats.url, 'anonymous')).rejects.toThrow(/cannot connect/);
    await expect(
      connectNats(nats.url, 'intruder', { user: 'coa', password: 'not-the-password' }),
    ).rejects.toThrow(/as coa/);
  });

  it('lets only the provisioner create the streams', async () => {
    const asCoa = await connectAs('coa');
    await expect(provisionStreams(asCoa, streamLimits(base))).rejects.toThrow(
      /may not create it; run `npm run provision`/,
    );
    await provisionStreams(await connectAs('provisioner'), streamLimits(base));
    // Now the service user finds them as configured and only reads them.
    await provisionStreams(asCoa, streamLimits(base));
  });

  it('delivers a koppeling from COA to the KVS with each service under its own user', async () => {
    coa = await startCoaService(configAs('coa'), { logger });
    delivery = await startKvsService(configAs('gemeente-kvs'), { logger });
    const res = await fetch(`${coa.url}/v1/koppelingen`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${coaApiKey}` },
      body: JSON.stringify(golden('koppeling-hoofdpersoon.input.json')),
    });
    expect(res.status).toBe(202);
    const { eventId } = (await res.json()) as { eventId: string };
    expect(await eventually(() => kvs.received('gm0797').some((e) => e.id === eventId))).toBe(true);

    // The operator reads what it needs: the processing log has the disclosure, no dead letters.
    const admin = await connectAs('admin');
    const jsm = await jetstreamManager(admin);
    expect(
      await eventually(
        async () => (await jsm.streams.info(STREAMS.processingLog)).state.messages >= 2,
      ),
    ).toBe(true);
    expect(await listDeadLetters(jetstream(admin), jsm)).toEqual([]);
    // The whole flow ran without touching a forbidden subject: the one violation is the
    // provisioning attempt of the test above.
    expect(violations()).toEqual([
      'Publish Violation - User "coa", Subject "$JS.API.STREAM.CREATE.KETEN"',
    ]);
  });

  it('refuses gemeente-kvs a chain event, and another consumer filter than its own', async () => {
    const asKvs = await connectAs('gemeente-kvs');
    const js = jetstream(asKvs);
    const before = (await (await jetstreamManager(await connectAs('admin'))).streams.info('KETEN'))
      .state.messages;
    await expect(
      js.publish('keten.gm0797.inburgeraar.gekoppeld', JSON.stringify({ forged: true })),
    ).rejects.toThrow(/Permissions Violation for Publish to "keten.gm0797.inburgeraar.gekoppeld"/);
    // Its own durable, but reading every gemeente: the filter is in the create subject.
    const jsm = await jetstreamManager(asKvs);
    await expect(
      jsm.consumers.add(STREAMS.keten, {
        durable_name: 'gemeente-kvs-gm0797',
        filter_subject: 'keten.>',
        ack_policy: AckPolicy.Explicit,
      }),
    ).rejects.toThrow(/Permissions Violation for Publish/);
    const after = (await (await jetstreamManager(await connectAs('admin'))).streams.info('KETEN'))
      .state.messages;
    expect(after).toBe(before);
    expect(
      await eventually(() =>
        violations().includes(
          'Publish Violation - User "gemeente-kvs", Subject "keten.gm0797.inburgeraar.gekoppeld"',
        ),
      ),
    ).toBe(true);
  });

  it('refuses coa the processing log, the chain events and the inbox of another user', async () => {
    const asCoa = await connectAs('coa');
    for (const subject of ['verwerking.>', '_INBOX_admin.>']) {
      const sub = asCoa.subscribe(subject);
      const closedWith = await sub.closed;
      expect(String(closedWith)).toContain(
        `Permissions Violation for Subscription to "${subject}"`,
      );
    }
    const jsm = await jetstreamManager(asCoa);
    await expect(jsm.streams.getMessage(STREAMS.keten, { seq: 1 })).rejects.toThrow(
      /Permissions Violation for Publish/,
    );
    expect(
      await eventually(() =>
        violations().some((v) =>
          v.startsWith('Subscription Violation - User "coa", Subject "verwerking.>"'),
        ),
      ),
    ).toBe(true);
  });

  it('refuses the operator the chain events themselves', async () => {
    const jsm = await jetstreamManager(await connectAs('admin'));
    await expect(jsm.streams.getMessage(STREAMS.keten, { seq: 1 })).rejects.toThrow(
      /Permissions Violation for Publish to "\$JS.API.STREAM.MSG.GET.KETEN"/,
    );
  });

  it('serves every admin API route as the admin user, within its permissions', async () => {
    const key = generateApiKey();
    admin = await startAdminService(
      { ...configAs('admin'), admins: testAdmins({ all: key, gm0796: generateApiKey() }) },
      { logger },
    );
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${admin!.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${key}`,
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      return { status: res.status, body: (await res.json()) as any };
    };
    // A dead letter to list, show and replay: the KVS refuses one koppeling.
    kvs.injectFault({ gemeente: 'gm0797', status: 400, count: 1 });
    const res = await fetch(`${coa!.url}/v1/koppelingen`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${coaApiKey}` },
      body: JSON.stringify({
        ...golden('koppeling-hoofdpersoon.input.json'),
        koppelingId: 'KOP-P',
      }),
    });
    expect(res.status).toBe(202);
    const jsm = await jetstreamManager(await connectAs('admin'));
    expect(
      await eventually(
        async () => (await jsm.streams.info(STREAMS.deadLetters)).state.messages === 1,
      ),
    ).toBe(true);
    const before = violations().length;

    const inzage = await call('POST', '/api/inzage', { bsn: '999990019' });
    expect(inzage.status).toBe(200);
    expect(inzage.body.count).toBeGreaterThanOrEqual(1);
    const listed = await call('GET', '/api/dead-letters');
    expect(listed.body.count).toBe(1);
    const seq = listed.body.deadLetters[0].seq as number;
    expect((await call('GET', `/api/dead-letters/${seq}`)).status).toBe(200);
    expect((await call('GET', '/api/alerts')).status).toBe(200);
    const flows = await call('GET', '/api/flows');
    expect(flows.body.consumers.map((c: { name: string }) => c.name)).toContain(
      'gemeente-kvs-gm0797',
    );
    expect(await call('POST', '/api/dead-letters/replay', { seqs: [seq] })).toMatchObject({
      status: 200,
      body: { replayed: [seq], failed: [] },
    });
    // The server logs a violation as it refuses; give the log a moment before reading it.
    await new Promise((r) => setTimeout(r, 300));
    expect(violations().slice(before)).toEqual([]);
  });

  it('has the consumers of every gemeente of the shipped config', () => {
    const text = readFileSync(PERMISSIONS, 'utf8');
    const shipped = parse(readFileSync(SHIPPED_CONFIG, 'utf8')) as {
      gemeenten: { code: string }[];
    };
    for (const { code } of shipped.gemeenten) {
      const durable = `gemeente-kvs-${code}`;
      expect(text).toContain(`"$JS.API.CONSUMER.INFO.KETEN.${durable}"`);
      expect(text).toContain(`"$JS.API.CONSUMER.CREATE.KETEN.${durable}.keten.${code}.>"`);
      expect(text).toContain(`"$JS.API.CONSUMER.MSG.NEXT.KETEN.${durable}"`);
      expect(text).toContain(`"$JS.ACK.KETEN.${durable}.>"`);
    }
  });
});
