import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEPLOY, SECRET_NAME, loadDeployedConfig, parseYaml } from './manifests.ts';

interface ComposeService {
  image?: string;
  command?: string[];
  environment?: Record<string, string | number | boolean | null>;
  healthcheck?: { test?: string[]; disable?: boolean };
  ports?: string[];
  volumes?: string[];
  restart?: string;
  depends_on?: Record<string, { condition: string }>;
}

const compose = parseYaml(readFileSync(path.join(DEPLOY, 'compose.yaml'), 'utf8')) as {
  services: Record<string, ComposeService>;
  volumes: Record<string, unknown>;
};
const services = compose.services;
const NATS_NODES = ['nats-1', 'nats-2', 'nats-3'];

// `docker compose config` is not available here (no compose plugin, no engine), so the file
// is checked by parsing it.
describe('deploy/compose.yaml', () => {
  it('has the 3-node NATS cluster, the provisioner, both services and the KVS simulator', () => {
    expect(Object.keys(services).sort()).toEqual(
      [...NATS_NODES, 'provision', 'coa', 'gemeente-kvs', 'kvs-simulator'].sort(),
    );
  });

  it('gives every long-running service a healthcheck (the one-shot provisioner is awaited)', () => {
    for (const [name, s] of Object.entries(services)) {
      if (s.restart === 'no') {
        // One-shot: the services wait for it with service_completed_successfully.
        expect(services.coa!.depends_on?.[name]?.condition).toBe('service_completed_successfully');
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
      }
    }
    // Required secrets fail the start when missing instead of running with an empty one.
    expect(services.coa!.environment?.KETENHUB_PSEUDONYM_KEY).toMatch(/^\$\{KETENHUB_[A-Z_]+:\?/);
    expect(services.coa!.environment?.KETENHUB_COA_API_KEY_HASH).toMatch(/:\?/);
    expect(readFileSync(path.join(DEPLOY, 'compose.env.example'), 'utf8')).not.toMatch(
      /^[A-Z_]+=\S/m,
    );
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

  it('runs each Node process as its own NATS user, against all three nodes', () => {
    const users = { provision: 'provisioner', coa: 'coa', 'gemeente-kvs': 'gemeente-kvs' };
    for (const [name, user] of Object.entries(users)) {
      const env = services[name]!.environment ?? {};
      expect(env.NATS_USER, name).toBe(user);
      expect(String(env.NATS_URL).split(',')).toHaveLength(3);
      expect(env.KETENHUB_CONFIG).toBe('/app/deploy/compose/ketenhub.yaml');
    }
  });

  it('mounts a hub config that passes the config contract, with R3 streams', () => {
    const config = loadDeployedConfig(
      readFileSync(path.join(DEPLOY, 'compose/ketenhub.yaml'), 'utf8'),
    );
    expect(config.streams?.replicas).toBe(3);
    expect(config.nats.url.split(',')).toHaveLength(3);
    expect(config.services.coa.host).toBe('0.0.0.0');
    for (const g of config.gemeenten) expect(g.kvs.url).toContain('http://kvs-simulator:4310/');
  });
});
