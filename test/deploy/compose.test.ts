import { describe, expect, it } from 'vitest';
import { duoModule, type DuoSettings } from '@ketenhub/adapter-duo';
import {
  organisationsOf,
  parseApiKeyHash,
  partnerBlock,
  partnerSettings,
  verifyApiKey,
  type HubConfig,
} from '@ketenhub/kit';
import {
  SECRET_NAME,
  composeEnvironment,
  composeReferences,
  composeVariables,
  configReferences,
  envFileKeys,
  flag,
  flags,
  loadConfigWith,
  loadDeployedConfig,
  natsPasswordVars,
  natsUsers,
  readCompose,
  readComposeConfig,
  readEnvExample,
  serviceMain,
  serviceNames,
  serviceNeeds,
  standInDotenv,
} from './manifests.ts';

const compose = readCompose();
const services = compose.services;
const NATS_NODES = ['nats-1', 'nats-2', 'nats-3'];
const configText = readComposeConfig();
const envExample = readEnvExample();
const SERVICES = serviceNames();
const composeVars = composeVariables(compose);
const dotenv = standInDotenv(compose, envExample);
const environmentOf = (name: string) => composeEnvironment(services[name]!, dotenv);

/** The hub config as the process `name` loads it in its container. */
const configOf = (name: string): HubConfig => loadConfigWith(configText, environmentOf(name));

/** The config without any service's secrets: for names, ports and URLs. */
const config = loadDeployedConfig(configText);
const schools = organisationsOf(config, 'taalaanbieder').map((t) => t.id);
const corporaties = organisationsOf(config, 'woningcorporatie').map((c) => c.id);
const vwnOffices = organisationsOf(config, 'vluchtelingenwerk').map((v) => v.id);
const SIMULATORS = [
  'kvs-simulator',
  'duo-simulator',
  'kredietbank-simulator',
  ...schools.map((id) => `taalaanbieder-simulator-${id}`),
  ...corporaties.map((id) => `woningcorporatie-simulator-${id}`),
  ...vwnOffices.map((id) => `vluchtelingenwerk-simulator-${id}`),
];

const settingsOf = (name: string) =>
  (config.services as Record<string, { host?: string; port?: number; opsPort: number }>)[name]!;

// `docker compose config` is not available here (no compose plugin, no engine), so the file
// is checked by parsing it.
describe('deploy/compose.yaml', () => {
  it('runs every configured service of services/, NATS, provisioning and simulators', () => {
    expect(SERVICES.length).toBeGreaterThan(0);
    for (const name of SERVICES) {
      expect(services[name]?.command, `services/${name} is not in compose.yaml`).toEqual([
        'node',
        serviceMain(name),
      ]);
    }
    expect(Object.keys(services).sort()).toEqual(
      [...NATS_NODES, 'provision', ...SERVICES, ...SIMULATORS].sort(),
    );
  });

  it('gives every long-running service a healthcheck (the one-shot provisioner is awaited)', () => {
    for (const [name, s] of Object.entries(services)) {
      if (s.restart === 'no') {
        // One-shot: the services wait for it with service_completed_successfully.
        for (const service of SERVICES) {
          expect(services[service]!.depends_on?.[name]?.condition, service).toBe(
            'service_completed_successfully',
          );
        }
        continue;
      }
      expect(s.healthcheck?.test?.[0], `${name} healthcheck`).toBe('CMD');
      expect(s.healthcheck?.disable, name).not.toBe(true);
    }
  });

  it('has no secret literal: every secret comes from the environment (deploy/.env)', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const [key, value] of Object.entries(s.environment ?? {})) {
        if (!SECRET_NAME.test(key)) continue;
        expect(String(value), `${name}.${key}`).toMatch(/^\$\{[A-Z0-9_]+(:[-?][^}]*)?\}$/);
        // Keys, their hashes and NATS passwords fail the start when missing instead of running
        // with an empty one; tokens may be empty (the partner demands none).
        if (/(PASSWORD|API_KEY|API_KEY_HASH|PSEUDONYM_KEY)$/.test(key)) {
          expect(String(value), `${name}.${key}`).toMatch(/:\?/);
        }
      }
    }
    expect(envExample).not.toMatch(/^[A-Z_]+=\S/m);
  });

  it('documents every variable it reads in compose.env.example, and nothing it does not read', () => {
    expect([...composeVars.keys()].sort()).toEqual([...envFileKeys(envExample)].sort());
  });

  it('publishes ports on the host loopback only', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const port of s.ports ?? []) expect(port, name).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
    }
  });

  it('runs a JetStream cluster of three with routes to every node and a volume each', () => {
    for (const node of NATS_NODES) {
      const cmd = services[node]!.command ?? [];
      expect(cmd).toContain('-js');
      expect(cmd[cmd.indexOf('--server_name') + 1]).toBe(node);
      expect(cmd[cmd.indexOf('--routes') + 1]!.split(',')).toEqual(
        NATS_NODES.map((n) => `nats://${n}:6222`),
      );
      expect(cmd[cmd.indexOf('-c') + 1]).toBe('/etc/nats/permissions.conf');
      expect(services[node]!.volumes).toContain(`${node}-data:/data`);
      expect(compose.volumes).toHaveProperty(`${node}-data`);
    }
  });

  it('gives the NATS nodes every password permissions.conf reads, each required', () => {
    const vars = natsPasswordVars();
    expect(vars.length).toBeGreaterThan(0);
    for (const node of NATS_NODES) {
      const env = services[node]!.environment ?? {};
      for (const v of vars) {
        expect(composeReferences(String(env[v] ?? '')), `${node} ${v}`).toEqual([
          { name: v, required: true },
        ]);
      }
    }
    // …and compose.env.example asks for each of them.
    for (const v of vars) expect(envFileKeys(envExample), v).toContain(v);
  });

  it('runs each Node process as its own NATS user of permissions.conf, against all three nodes', () => {
    const users = natsUsers();
    const processes: Record<string, string> = {
      provision: 'provisioner',
      ...Object.fromEntries(SERVICES.map((s) => [s, s])),
    };
    for (const [name, user] of Object.entries(processes)) {
      const env = services[name]!.environment ?? {};
      expect(env.NATS_USER, name).toBe(user);
      expect(users.has(user), `no user ${user} in deploy/nats/permissions.conf`).toBe(true);
      expect(composeReferences(String(env.NATS_PASSWORD)), name).toEqual([
        { name: users.get(user), required: true },
      ]);
      expect(String(env.NATS_URL).split(',')).toHaveLength(3);
      expect(env.KETENHUB_CONFIG).toBe('/app/deploy/compose/ketenhub.yaml');
    }
  });

  it('gives each service every variable its config needs and the secrets of its partners', () => {
    const required = configReferences(configText)
      .filter((r) => r.required)
      .map((r) => r.name);
    expect(required).toContain('KETENHUB_PSEUDONYM_KEY');
    for (const name of ['provision', ...SERVICES]) {
      const env = environmentOf(name);
      for (const v of required) expect(env[v], `${name} lacks ${v}`).toBeTruthy();
      // Loads with exactly the container's environment, then builds what the service builds.
      const loaded = configOf(name);
      expect(loaded.nats.user).toBe(env.NATS_USER);
      if (name !== 'provision') serviceNeeds(name, loaded);
    }
  });

  it('listens on all interfaces of the container and checks /health on the ops port', () => {
    for (const name of SERVICES) {
      const s = services[name]!;
      const { host, port, opsPort } = settingsOf(name);
      expect(host, name).toBe('0.0.0.0');
      expect(s.ports, name).toContain(`127.0.0.1:${opsPort}:${opsPort}`);
      if (port !== undefined) expect(s.ports, name).toContain(`127.0.0.1:${port}:${port}`);
      expect(s.healthcheck?.test?.join(' '), name).toContain(
        `fetch('http://127.0.0.1:${opsPort}/health')`,
      );
    }
  });

  it('starts each service after the simulators it calls are healthy, listening where it calls', () => {
    for (const name of SERVICES) {
      for (const url of serviceNeeds(name, configOf(name)).partnerUrls) {
        const { hostname, port } = new URL(url);
        const sim = services[hostname];
        expect(sim, `${name} calls ${url}: no such compose service`).toBeDefined();
        expect(services[name]!.depends_on?.[hostname]?.condition, `${name} → ${hostname}`).toBe(
          'service_healthy',
        );
        expect(flag(sim!.command ?? [], '--host'), hostname).toBe('0.0.0.0');
        expect(flag(sim!.command ?? [], '--port'), hostname).toBe(port);
        expect(sim!.ports, hostname).toContain(`127.0.0.1:${port}:${port}`);
      }
    }
  });

  it('points each simulator at its service, with the key whose hash the service has', async () => {
    const sim = (name: string) => services[name]!.command ?? [];
    const settings = (name: string) => settingsOf(name);
    const codes = config.gemeenten.map((g) => g.code);

    expect(flag(sim('kvs-simulator'), '--gemeenten')?.split(',')).toEqual(codes);

    expect(flag(sim('duo-simulator'), '--hub-url')).toBe(`http://duo:${settings('duo').port}/v1`);
    expect(flag(sim('duo-simulator'), '--oin')).toBe(
      partnerSettings<DuoSettings>(config, duoModule()).oin,
    );
    expect(flags(sim('duo-simulator'), '--gemeente')).toEqual(
      config.gemeenten.map((g) => `${g.code.slice(2)}:${g.oin}`),
    );
    expect(flag(sim('kredietbank-simulator'), '--hub-url')).toBe(
      `http://kredietbank:${settings('kredietbank').port}/v1/webhooks`,
    );
    for (const id of schools) {
      const cmd = sim(`taalaanbieder-simulator-${id}`);
      expect(flag(cmd, '--id')).toBe(id);
      expect(flag(cmd, '--hub-url')).toBe(`http://taalaanbieder:${settings('taalaanbieder').port}`);
    }

    // The key a simulator presents must match the hash its service holds for that partner, and
    // the token it demands must be the one the service presents.
    const pairs: {
      sim: string;
      service: string;
      hash: (c: HubConfig) => string | undefined;
      token?: (c: HubConfig) => string | undefined;
    }[] = [
      {
        sim: 'duo-simulator',
        service: 'duo',
        hash: (c) => partnerBlock(c, 'duo').credential?.apiKeyHash,
      },
      {
        sim: 'kredietbank-simulator',
        service: 'kredietbank',
        hash: (c) => partnerBlock(c, 'kredietbank').credential?.apiKeyHash,
        token: (c) => partnerBlock(c, 'kredietbank').endpoint?.token,
      },
      ...schools.map((id) => {
        const school = (c: HubConfig) =>
          organisationsOf(c, 'taalaanbieder').find((t) => t.id === id)!;
        return {
          sim: `taalaanbieder-simulator-${id}`,
          service: 'taalaanbieder',
          hash: (c: HubConfig) => school(c).credential?.apiKeyHash,
          token: (c: HubConfig) => school(c).endpoint?.token,
        };
      }),
    ];
    for (const p of pairs) {
      const cmd = sim(p.sim);
      const simEnv = environmentOf(p.sim);
      const keyVar = flag(cmd, '--hub-api-key-env')!;
      expect(keyVar, p.sim).toBeDefined();
      const serviceConfig = configOf(p.service);
      const hash = p.hash(serviceConfig);
      expect(hash, `${p.service}'s hash of ${p.sim}'s key`).toBeTruthy();
      expect(await verifyApiKey(simEnv[keyVar]!, parseApiKeyHash(hash!)), p.sim).toBe(true);
      if (p.token) {
        const tokenVar = flag(cmd, '--token-env');
        expect(tokenVar, p.sim).toBeDefined();
        expect(simEnv[tokenVar!] ?? '', `${p.sim} token`).toBe(p.token(serviceConfig) ?? '');
      }
    }
  });

  it('bounds the memory of every Node process: heap cap, reservation and limit', () => {
    for (const [name, s] of Object.entries(services)) {
      if (s.image !== 'node:24-slim') continue;
      expect(String(s.environment?.NODE_OPTIONS), name).toMatch(/--max-old-space-size=\d+/);
      const limit = s.deploy?.resources?.limits?.memory;
      const reservation = s.deploy?.resources?.reservations?.memory;
      expect(limit, name).toMatch(/^\d+M$/);
      expect(reservation, name).toMatch(/^\d+M$/);
      expect(parseInt(limit!, 10), name).toBeLessThanOrEqual(200);
      expect(parseInt(reservation!, 10), name).toBeLessThanOrEqual(parseInt(limit!, 10));
    }
  });

  it('mounts a hub config that passes the config contract, with R3 streams', () => {
    expect(config.streams?.replicas).toBe(3);
    expect(config.nats.url.split(',')).toHaveLength(3);
    expect(config.services.coa!.host).toBe('0.0.0.0');
    const kvss = organisationsOf(config, 'gemeente-kvs');
    expect(kvss.flatMap((k) => k.gemeenten)).toEqual(config.gemeenten.map((g) => g.code));
    for (const k of kvss) expect(k.endpoint?.url).toContain('http://kvs-simulator:4310/');
  });
});
