/**
 * The hub under deploy/nats/permissions.conf: each process as its own NATS user with only the
 * subjects it needs. A koppeling still travels COA → JetStream → KVS, DUO's notifications, the
 * meldingen to DUO, the Kredietbank's webhooks and the schools' reports still flow, the operator
 * can still do its work, and what a user has no business doing is refused by the server itself.
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
import { startKvsSimulator, type KvsSimulator } from '@ketenhub/simulator-gemeente-kvs';
import { KVS_PARTNER } from '@ketenhub/adapter-gemeente-kvs';
import { vluchtelingenwerkModule } from '@ketenhub/adapter-vluchtelingenwerk';
import { woningcorporatieModule } from '@ketenhub/adapter-woningcorporatie';
import { startVluchtelingenwerkSimulator } from '@ketenhub/simulator-vluchtelingenwerk';
import { startWoningcorporatieSimulator } from '@ketenhub/simulator-woningcorporatie';
import { startDuoSimulator, type DuoSimulator } from '@ketenhub/simulator-duo';
import {
  startKredietbankSimulator,
  type KredietbankSimulator,
} from '@ketenhub/simulator-kredietbank';
import {
  startTaalaanbiederSimulator,
  type TaalaanbiederSimulator,
} from '@ketenhub/simulator-taalaanbieder';
import { AANGEMELD } from '@ketenhub/adapter-taalaanbieder';
import { deliveryViolations, policies } from '@ketenhub/contracts';
import {
  STREAMS,
  buildEvent,
  connectNats,
  createLogger,
  generateApiKey,
  hashApiKey,
  nameBasedUuid,
  provisionStreams,
  streamLimits,
  type HubConfig,
  type PartnerOrganisationConfig,
  runModules,
  type RunningModules,
} from '@ketenhub/kit';
import {
  createPseudonymizer,
  openIdentityStore,
  openPersonRegister,
  testBsn,
} from '@ketenhub/kit/privacy';
import { listDeadLetters } from '@ketenhub/kit/operations';
import { getFreePort, startLocalNats, type LocalNats } from '@ketenhub/kit/processes';
import {
  TEST_DUO_OIN,
  TEST_GEMEENTEN,
  eventually,
  testAdmins,
  testConfig,
  testKvsKey,
} from '../harness/index.ts';
import { adminModule } from '../../services/admin/module.ts';
import { coaModule } from '@ketenhub/adapter-coa';
import { duoModule } from '@ketenhub/adapter-duo';
import { kredietbankModule } from '@ketenhub/adapter-kredietbank';
import { kvsModule } from '@ketenhub/adapter-gemeente-kvs';
import { taalaanbiederModule } from '@ketenhub/adapter-taalaanbieder';

const PERMISSIONS = fileURLToPath(new URL('../../deploy/nats/permissions.conf', import.meta.url));
const SHIPPED_CONFIG = fileURLToPath(new URL('../../config/ketenhub.yaml', import.meta.url));
/** Every user of the generated file: the provisioner and one per deployed service. */
const USERS = [...readFileSync(PERMISSIONS, 'utf8').matchAll(/^\s*user: ([a-z][a-z0-9-]*)$/gm)].map(
  (m) => m[1]!,
);
type User = string;
const passwordVar = (user: User) =>
  `KETENHUB_NATS_PASSWORD_${user.replaceAll('-', '_').toUpperCase()}`;

/** The gemeenten and schools of config/ketenhub.yaml, whose consumers the file must list. */
const shipped = parse(readFileSync(SHIPPED_CONFIG, 'utf8')) as {
  gemeenten: { code: string }[];
  partners: {
    taalaanbieder: { organisations: { id: string }[] };
    woningcorporatie: { organisations: { id: string; gemeenten: string[] }[] };
    vluchtelingenwerk: {
      organisations: { id: string; gemeenten: string[] }[];
      settings: Record<string, unknown>;
    };
  };
};
const shippedSchools = shipped.partners.taalaanbieder.organisations;

/**
 * The subjects `user` may publish (or subscribe to) according to permissions.conf: the quoted
 * entries of its `allow` list, comments left out.
 */
function allowed(user: User, kind: 'publish' | 'subscribe' = 'publish'): string[] {
  const text = readFileSync(PERMISSIONS, 'utf8')
    .split('\n')
    .filter((line) => !line.trim().startsWith('#'))
    .join('\n');
  const start = text.indexOf(`user: ${user}\n`);
  if (start < 0) throw new Error(`no user ${user} in ${PERMISSIONS}`);
  const end = text.indexOf('user: ', start + 1);
  const block = text.slice(start, end < 0 ? undefined : end);
  const from = block.indexOf(`${kind}:`);
  const to = kind === 'publish' ? block.indexOf('subscribe:') : block.length;
  return [...block.slice(from, to).matchAll(/"([^"]+)"/g)].map((m) => m[1]!);
}

/** `nl.inburgering.pip.vastgesteld` → `keten.*.pip.vastgesteld`, for any gemeente. */
const chainSubject = (type: string) => `keten.*.${type.replace(/^nl\.inburgering\./, '')}`;

/**
 * What the DUO adapter publishes besides DUO's own events: the outcome of each melding to DUO
 * (OUTCOME_TYPES in adapters/duo/src/handlers.ts), for the KVS.
 */
const DUO_OUTCOMES = [
  'pip.geregistreerd',
  'pip.afgewezen',
  'pip.ingetrokken-bij-duo',
  'map.geregistreerd',
  'map.afgewezen',
  'pvt.geregistreerd',
  'pvt.afgewezen',
  'zroute.geregistreerd',
  'zroute.afgewezen',
  'leerroute.uren-geregistreerd',
  'leerroute.uren-afgewezen',
].map((t) => `nl.inburgering.${t}`);

const golden = (name: string) =>
  JSON.parse(
    readFileSync(
      fileURLToPath(new URL(`../../adapters/coa/fixtures/golden/${name}`, import.meta.url)),
      'utf8',
    ),
  ) as Record<string, unknown>;

const logger = createLogger('test', { level: process.env.LOG_LEVEL ?? 'error' });
/**
 * nats-server reads each `$KETENHUB_NATS_PASSWORD_…` of permissions.conf from its environment
 * and parses the value as a config value, not as a string: a base64url password that starts
 * with a digit or `-` may be read as a number, and the server does not start (`-B…`: "Expected a
 * digit but got 'B'"; `1e5…`, `123`, `7m` fail too; tried on 2.9.10). A leading letter always
 * makes it a string, so the test does not fail one run in a few.
 */
const newPassword = () => `p${randomBytes(18).toString('base64url')}`;
const passwords = Object.fromEntries(USERS.map((u) => [u, newPassword()])) as Record<User, string>;
const connections: NatsConnection[] = [];
let dir: string;
let serverLog: string;
let nats: LocalNats;
let kvs: KvsSimulator;
let coa: RunningModules | undefined;
let delivery: RunningModules | undefined;
let admin: RunningModules | undefined;
let duo: RunningModules | undefined;
let kredietbank: RunningModules | undefined;
let taalaanbieder: RunningModules | undefined;
let duoSim: DuoSimulator;
let kbSim: KredietbankSimulator;
const schools = new Map<string, { sim: TaalaanbiederSimulator; key: string }>();
let base: HubConfig;
let coaApiKey: string;

/** The simulators' and the DUO rules' today. */
const TODAY = '2026-11-23';

const idOf = (bsn: string) =>
  createPseudonymizer(base.hub.pseudonymKey).inburgeraarId({ bsn, vnummer: '' });

/** Sends a chain event to the hub as the KVS of gm0797 (through gemeente-kvs's inbound API). */
async function kvsSend(type: string, data: Record<string, unknown>, n: string): Promise<void> {
  const event = buildEvent({
    id: nameBasedUuid(`perm-test:${type}:${n}`),
    type,
    source: 'urn:nld:oin:00000001000797000000:systeem:suite4sd',
    gemeente: 'gm0797',
    data: { gemeenteCode: 'gm0797', ...data },
  });
  const res = await fetch(`${delivery!.url}/v1/events`, {
    method: 'POST',
    headers: {
      'content-type': 'application/cloudevents+json',
      authorization: `Bearer ${testKvsKey('gm0797')}`,
    },
    body: JSON.stringify(event),
  });
  expect(res.status, await res.text()).toBe(202);
}

/** The chain events of `type` about `inburgeraarId` the KVS of gm0797 received. */
const kvsGot = (type: string, inburgeraarId: string) =>
  kvs
    .received('gm0797')
    .filter(
      (e) =>
        e.type === `nl.inburgering.${type}` &&
        (e.event as { data: { inburgeraarId: string } }).data.inburgeraarId === inburgeraarId,
    );

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
    validate: (event) => deliveryViolations(KVS_PARTNER, event),
  });
  coaApiKey = generateApiKey();
  const config = testConfig(nats.url, kvs, coaApiKey);

  // DUO, the Kredietbank and the schools of the shipped config (their consumers are the ones
  // permissions.conf lists), each a simulator wired to the hub's adapter.
  const duoApiKey = generateApiKey();
  const duoPort = await getFreePort();
  duoSim = await startDuoSimulator({
    oin: TEST_DUO_OIN,
    gemeenten: Object.fromEntries(config.gemeenten.map((g) => [g.code, g.oin!])),
    hubNotificatieUrl: `http://127.0.0.1:${duoPort}/v1`,
    hubApiKey: duoApiKey,
    processingDelayMs: 50,
  });
  const kbApiKey = generateApiKey();
  const kbToken = generateApiKey();
  const kbPort = await getFreePort();
  kbSim = await startKredietbankSimulator({
    hubWebhookUrl: `http://127.0.0.1:${kbPort}/v1/webhooks`,
    hubApiKey: kbApiKey,
    token: kbToken,
    webhookRetryDelayMs: 100,
    today: TODAY,
  });
  const organisations: PartnerOrganisationConfig[] = [];
  for (const { id } of shippedSchools) {
    const token = generateApiKey();
    const key = generateApiKey();
    const sim = await startTaalaanbiederSimulator({ id, token });
    schools.set(id, { sim, key });
    organisations.push({
      id,
      naam: id,
      endpoint: { url: sim.url, token, timeoutMs: 3000 },
      credential: { apiKeyHash: hashApiKey(key) },
    });
  }
  const fast = {
    opsPort: 0,
    concurrency: 4,
    ackWaitMs: 10_000,
    retry: { delaysMs: [100, 200, 400] as [number, ...number[]], maxAttempts: 30 },
    breaker: { resetTimeoutMs: 500, volumeThreshold: 5, errorThresholdPercentage: 50 },
  };
  base = {
    ...config,
    partners: {
      ...config.partners,
      duo: {
        endpoint: { url: duoSim.baseUrl, timeoutMs: 3000 },
        credential: { apiKey: duoApiKey },
        settings: { oin: TEST_DUO_OIN },
      },
      kredietbank: {
        endpoint: { url: kbSim.baseUrl, token: kbToken, timeoutMs: 3000 },
        credential: { apiKey: kbApiKey },
      },
      taalaanbieder: { organisations },
    },
    services: {
      ...config.services,
      duo: { ...fast, port: duoPort },
      kredietbank: { ...fast, port: kbPort },
      taalaanbieder: { ...fast, port: 0 },
    },
  };
});

afterAll(async () => {
  await admin?.stop();
  await coa?.stop();
  await duo?.stop();
  await kredietbank?.stop();
  await taalaanbieder?.stop();
  await delivery?.stop();
  for (const nc of connections) await nc.close().catch(() => undefined);
  await duoSim?.close();
  await kbSim?.close();
  for (const { sim } of schools.values()) await sim.close();
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
    coa = await runModules(configAs('coa'), [coaModule()], { logger });
    delivery = await runModules(configAs('gemeente-kvs'), [kvsModule()], { logger });
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
    admin = await runModules(
      { ...configAs('admin'), admins: testAdmins({ all: key, gm0796: generateApiKey() }) },
      [adminModule()],
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
    kvs.injectFault({ kind: 'status', status: 400, count: 1, scope: { gemeente: 'gm0797' } });
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

  it('runs DUO, the Kredietbank and the schools under their own users, without a violation', async () => {
    const before = violations().length;
    // The Kredietbank first: it creates the shared identity bucket, the DUO adapter finds it.
    kredietbank = await runModules(configAs('kredietbank'), [kredietbankModule()], { logger });
    duo = await runModules(configAs('duo'), [duoModule({ today: () => TODAY })], { logger });
    taalaanbieder = await runModules(configAs('taalaanbieder'), [taalaanbiederModule()], {
      logger,
    });
    for (const { sim, key } of schools.values()) sim.setHub(taalaanbieder.url!, key);

    // The KVS reports the vestiging (with the BSN): both identity consumers store it.
    const bsn = testBsn(900);
    const id = idOf(bsn);
    const seeded = await fetch(`${duoSim.url}/_sim/personen`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        bsn,
        vNummer: Number(bsn.slice(1)),
        gemeentecode: '0797',
        vestigingsdatum: '2026-09-01',
      }),
    });
    expect(seeded.status).toBe(201);
    await kvsSend(
      'nl.inburgering.inburgeraar.gevestigd',
      { inburgeraarId: id, vestigingsdatum: '2026-09-01', bsn },
      'v',
    );
    await new Promise((r) => setTimeout(r, 300));

    // DUO notifies, the adapter pulls the details from DUO and tells the KVS.
    const notified = await fetch(`${duoSim.url}/_sim/notify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ bsn, gebeurtenisId: 'SS101' }),
    });
    expect(notified.status).toBe(202);
    expect(await eventually(() => kvsGot('inburgeringsplicht.gewijzigd', id).length === 1)).toBe(
      true,
    );

    // A PIP naming a school of the shipped config: registered at DUO, the aanmelding to the
    // school; the school then reports progress, hours and absence.
    const school = shippedSchools[0]!.id;
    await kvsSend(
      'nl.inburgering.pip.vastgesteld',
      {
        inburgeraarId: id,
        pipId: 'PIP-PERM',
        dagtekening: '2026-10-15',
        leerroute: 'b1-route',
        niveau: 'B1',
        taalaanbieder: school,
        startdatumLeerroute: '2026-11-02',
        urenPerWeek: 12,
        deelnemer: { voornamen: 'Amal', geslachtsnaam: 'Haddad' },
      },
      'p',
    );
    expect(await eventually(() => kvsGot('pip.geregistreerd', id).length === 1)).toBe(true);
    expect(await eventually(() => kvsGot('leerroute.aangemeld', id).length === 1)).toBe(true);
    const sim = schools.get(school)!.sim;
    expect(sim.aanmeldingen()).toHaveLength(1);
    expect(await sim.tick({ verzuimAll: true })).toMatchObject({ voortgang: { accepted: 1 } });
    expect(await eventually(() => kvsGot('leerroute.voortgang', id).length === 1)).toBe(true);

    // Financieel ontzorgen: the KVS asks, the Kredietbank registers, its webhook comes back as
    // ontzorgen.gestart.
    await kvsSend(
      'nl.inburgering.ontzorgen.aangevraagd',
      {
        inburgeraarId: id,
        trajectId: 'OZ-PERM',
        client: {
          voornamen: 'Amal',
          geslachtsnaam: 'Haddad',
          adres: { straat: 'Markt', huisnummer: 12, postcode: '5211JV', woonplaats: 'Oss' },
          iban: 'NL91ABNA0417164300',
        },
        uitkeringBedragCent: 140_000,
        vasteLasten: [
          {
            soort: 'huur',
            crediteur: 'Zayaz',
            iban: 'NL44RABO0123456789',
            bedragCent: 65_000,
            kenmerk: 'HUUR 2026-0042',
          },
        ],
        startdatum: '2026-12-01',
        einddatum: '2027-06-01',
      },
      'a',
    );
    expect(
      await eventually(() => kbSim.trajecten().some((t) => t.aanvraag.referentie === 'OZ-PERM')),
    ).toBe(true);
    kbSim.advance(10);
    await kbSim.idle();
    expect(await eventually(() => kvsGot('ontzorgen.gestart', id).length === 1)).toBe(true);

    await new Promise((r) => setTimeout(r, 300));
    expect(violations().slice(before)).toEqual([]);
  });

  it('runs the woningcorporatie and VluchtelingenWerk under their own users, without a violation', async () => {
    const before = violations().length;
    // The organisations of the shipped config (their consumers are the ones permissions.conf
    // lists), each a simulator; the person of the test above, bound to gm0797.
    const id = idOf(testBsn(900));
    const corporaties = await Promise.all(
      shipped.partners.woningcorporatie.organisations.map(async (o) => ({
        o,
        sim: await startWoningcorporatieSimulator({ id: o.id, today: TODAY }),
        key: generateApiKey(),
      })),
    );
    const offices = await Promise.all(
      shipped.partners.vluchtelingenwerk.organisations.map(async (o) => ({
        o,
        sim: await startVluchtelingenwerkSimulator({ id: o.id, today: TODAY }),
        key: generateApiKey(),
      })),
    );
    const orgs = (list: typeof corporaties | typeof offices) =>
      list.map(({ o, sim, key }) => ({
        id: o.id,
        gemeenten: o.gemeenten,
        endpoint: { url: sim.url, timeoutMs: 3000 },
        credential: { apiKeyHash: hashApiKey(key) },
      }));
    const fast = { opsPort: 0, port: 0, ackWaitMs: 10_000, concurrency: 4 };
    const config = (user: User): HubConfig => ({
      ...configAs(user),
      partners: {
        ...base.partners,
        woningcorporatie: { organisations: orgs(corporaties) },
        vluchtelingenwerk: {
          organisations: orgs(offices),
          settings: shipped.partners.vluchtelingenwerk.settings,
        },
      },
      services: { ...base.services, woningcorporatie: fast, vluchtelingenwerk: fast },
    });
    const woning = await runModules(config('woningcorporatie'), [woningcorporatieModule()], {
      logger,
    });
    const vwn = await runModules(config('vluchtelingenwerk'), [vluchtelingenwerkModule()], {
      logger,
    });
    try {
      for (const c of corporaties) c.sim.setHub(woning.url!, c.key);
      for (const o of offices) o.sim.setHub(vwn.url!, o.key);
      await kvsSend(
        'nl.inburgering.woning.aangevraagd',
        {
          inburgeraarId: id,
          aanvraagId: 'WA-PERM',
          huishouden: { omvang: 1, leden: [{ rol: 'hoofdpersoon', leeftijd: 34 }] },
          nareizigers: { aantal: 0 },
          contactpersoon: { naam: 'consulent', email: 'consulent@gm0797.example' },
        },
        'w',
      );
      await kvsSend(
        'nl.inburgering.begeleiding.aangevraagd',
        {
          inburgeraarId: id,
          aanvraagId: 'VW-PERM',
          onderdelen: ['maatschappelijke-begeleiding', 'pvt'],
          startwens: TODAY,
          pvtUiterlijk: '2027-11-23',
          huishouden: { leden: [{ rol: 'hoofdpersoon', leeftijd: 34 }], nareizigers: 0 },
          contactpersoon: { naam: 'consulent', email: 'consulent@gm0797.example' },
        },
        'b',
      );
      expect(
        await eventually(() => corporaties.some((c) => c.sim.zoektochten().length === 1)),
      ).toBe(true);
      expect(await eventually(() => offices.some((o) => o.sim.begeleidingen().length === 1))).toBe(
        true,
      );
      for (const { sim } of [...corporaties, ...offices]) sim.advance(100);
      expect(await eventually(() => kvsGot('woning.aangeboden', id).length >= 1)).toBe(true);
      expect(await eventually(() => kvsGot('begeleiding.gestart', id).length === 1)).toBe(true);
      await new Promise((r) => setTimeout(r, 300));
      expect(violations().slice(before)).toEqual([]);
    } finally {
      await woning.stop();
      await vwn.stop();
      for (const { sim } of [...corporaties, ...offices]) await sim.close();
    }
  });

  it('refuses taalaanbieder a Kredietbank event and the identity store (no BSN for schools)', async () => {
    const asSchools = await connectAs('taalaanbieder');
    await expect(
      jetstream(asSchools).publish('keten.gm0797.ontzorgen.gestart', JSON.stringify({})),
    ).rejects.toThrow(/Permissions Violation for Publish to "keten.gm0797.ontzorgen.gestart"/);
    const identities = await openIdentityStore(await connectAs('taalaanbieder'), { ttlDays: 1 });
    await expect(identities.binding.get(idOf(testBsn(900)))).rejects.toThrow(
      /identity store unavailable/,
    );
    expect(
      await eventually(() =>
        violations().some((v) =>
          v.startsWith(
            'Publish Violation - User "taalaanbieder", Subject "$JS.API.DIRECT.GET.KV_IDENTITEITEN.',
          ),
        ),
      ),
    ).toBe(true);
  });

  it("lets taalaanbieder read the person register but not bind a person, and no edge touch another partner's receipts", async () => {
    const asSchools = await connectAs('taalaanbieder');
    const persons = await openPersonRegister(asSchools, { ttlDays: 1 });
    expect(await persons.bindingOf(idOf(testBsn(901)))).toBeUndefined();
    await expect(persons.bind(idOf(testBsn(901)), 'gm0797', 'gemeente-kvs')).rejects.toThrow(
      /person register unavailable/,
    );
    const asCoa = await connectAs('coa');
    await expect(
      asCoa.request('$KV.ONTVANGSTEN.gemeente-kvs.gm0797.x', '{}', { timeout: 1000 }),
    ).rejects.toThrow(/Permissions Violation|timeout/i);
    expect(
      await eventually(
        () =>
          violations().some((v) =>
            v.startsWith('Publish Violation - User "taalaanbieder", Subject "$KV.PERSONEN.'),
          ) &&
          violations().some((v) =>
            v.startsWith('Publish Violation - User "coa", Subject "$KV.ONTVANGSTEN.gemeente-kvs.'),
          ),
      ),
    ).toBe(true);
  });

  it('refuses kredietbank the processing log and KETEN through any consumer but its own', async () => {
    const asKb = await connectAs('kredietbank');
    const sub = asKb.subscribe('verwerking.>');
    expect(String(await sub.closed)).toContain(
      'Permissions Violation for Subscription to "verwerking.>"',
    );
    const jsm = await jetstreamManager(await connectAs('kredietbank'));
    // A consumer of its own name but reading everything, and one under a name not its own.
    for (const durable of ['kredietbank-pips', 'kredietbank-alles']) {
      await expect(
        jsm.consumers.add(STREAMS.keten, {
          durable_name: durable,
          filter_subject: 'keten.>',
          ack_policy: AckPolicy.Explicit,
        }),
      ).rejects.toThrow(/Permissions Violation for Publish/);
    }
    // Another service's consumer.
    const js = jetstream(await connectAs('kredietbank'));
    await expect(js.consumers.get(STREAMS.keten, 'duo-pip')).rejects.toThrow(
      /Permissions Violation for Publish to "\$JS.API.CONSUMER.INFO.KETEN.duo-pip"/,
    );
    expect(
      await eventually(() =>
        violations().some((v) =>
          v.startsWith('Subscription Violation - User "kredietbank", Subject "verwerking.>"'),
        ),
      ),
    ).toBe(true);
  });

  it("refuses duo a school's event", async () => {
    const js = jetstream(await connectAs('duo'));
    await expect(
      js.publish('keten.gm0797.leerroute.voortgang', JSON.stringify({ forged: true })),
    ).rejects.toThrow(/Permissions Violation for Publish to "keten.gm0797.leerroute.voortgang"/);
    expect(
      await eventually(() =>
        violations().includes(
          'Publish Violation - User "duo", Subject "keten.gm0797.leerroute.voortgang"',
        ),
      ),
    ).toBe(true);
  });

  it.each([
    ['gemeente-kvs', []],
    ['duo', DUO_OUTCOMES],
    ['kredietbank', []],
    // leerroute.aangemeld: the hub's report of an aanmelding the school accepted.
    ['taalaanbieder', [AANGEMELD]],
  ] as const)('lets %s publish exactly the chain events of its policy `levert`', (user, extra) => {
    const expected = new Set([...policies().policy(user).levert, ...extra].map(chainSubject));
    const granted = allowed(user).filter((s) => s.startsWith('keten.'));
    expect(granted.sort()).toEqual([...expected].sort());
  });

  it('has the consumers of every gemeente of the shipped config', () => {
    const granted = allowed('gemeente-kvs');
    for (const { code } of shipped.gemeenten) {
      const durable = `gemeente-kvs-${code}`;
      expect(granted).toEqual(
        expect.arrayContaining([
          `$JS.API.CONSUMER.INFO.KETEN.${durable}`,
          `$JS.API.CONSUMER.CREATE.KETEN.${durable}.keten.${code}.>`,
          `$JS.API.CONSUMER.MSG.NEXT.KETEN.${durable}`,
          `$JS.ACK.KETEN.${durable}.>`,
        ]),
      );
    }
  });

  it('has the consumers of every school of the shipped config', () => {
    const granted = allowed('taalaanbieder');
    for (const { id } of shippedSchools) {
      const durable = `taalaanbieder-${id}`;
      expect(granted, id).toEqual(
        expect.arrayContaining([
          `$JS.API.CONSUMER.INFO.KETEN.${durable}`,
          `$JS.API.CONSUMER.CREATE.KETEN.${durable}.keten.*.pip.vastgesteld`,
          `$JS.API.CONSUMER.MSG.NEXT.KETEN.${durable}`,
          `$JS.ACK.KETEN.${durable}.>`,
        ]),
      );
    }
  });

  it('lets each user subscribe to its own inbox only', () => {
    for (const user of USERS) expect(allowed(user, 'subscribe')).toEqual([`_INBOX_${user}.>`]);
  });
});
