import { describe, expect, it } from 'vitest';
import type { HubConfig } from './hub-config.ts';
import {
  moduleSubjects,
  natsPasswordVariable,
  natsPermissionsConf,
  withPermissions,
} from './deploy.ts';
import type { PartnerModule } from './module.ts';

const config = {
  gemeenten: [{ code: 'gm0797' }, { code: 'gm0796' }],
  services: { 'gemeente-kvs': { opsPort: 0 } },
} as unknown as HubConfig;

const module: PartnerModule = {
  id: 'gemeente-kvs',
  kind: 'both',
  service: 'gemeente-kvs',
  description: 'test',
  stores: [
    { bucket: 'ONTVANGSTEN', access: 'write', ownKeys: true },
    { bucket: 'PERSONEN', access: 'read' },
  ],
  consumers: (c) =>
    c.gemeenten.map((g) => ({ durable: `kvs-${g.code}`, filter: `keten.${g.code}.>` })),
  alsoPublishes: ['nl.inburgering.pip.geregistreerd'],
  start: async () => ({}),
};

describe('NATS permissions from a module', () => {
  const subjects = moduleSubjects(module, config).flatMap((g) => g.subjects);

  it('lets each declared consumer be created only with its own filter', () => {
    expect(subjects).toContain('$JS.API.CONSUMER.CREATE.KETEN.kvs-gm0797.keten.gm0797.>');
    expect(subjects).toContain('$JS.ACK.KETEN.kvs-gm0796.>');
    expect(subjects.filter((s) => s.startsWith('$JS.API.CONSUMER.CREATE'))).toHaveLength(2);
  });

  it('writes a store only where the module writes, under its own keys where it says so', () => {
    expect(subjects).toContain('$KV.ONTVANGSTEN.gemeente-kvs.>');
    expect(subjects).not.toContain('$KV.ONTVANGSTEN.>');
    expect(subjects).toContain('$JS.API.DIRECT.GET.KV_PERSONEN.$KV.PERSONEN.>');
    expect(subjects.some((s) => s.startsWith('$KV.PERSONEN'))).toBe(false);
  });

  it("publishes its policy's events and its declared outcomes, nothing else of the chain", () => {
    const chain = subjects.filter((s) => s.startsWith('keten.'));
    expect(chain).toContain('keten.*.pip.vastgesteld');
    expect(chain).toContain('keten.*.pip.geregistreerd');
    expect(chain).not.toContain('keten.*.inburgeraar.gekoppeld');
    expect(chain).not.toContain('keten.>');
  });

  it('gives a module without consumers no processing log, dead letters or alerts', () => {
    const inbound = moduleSubjects({ ...module, consumers: undefined }, config).flatMap(
      (g) => g.subjects,
    );
    expect(inbound.some((s) => /^(verwerking|dlq|alert)\./.test(s))).toBe(false);
  });

  it('writes one user per configured module with its password variable, and a provisioner', () => {
    const conf = natsPermissionsConf(
      [module, { ...module, id: 'nieuw', service: 'nieuw' }],
      config,
    );
    expect(conf).toContain('user: provisioner');
    expect(conf).toContain(`password: $${natsPasswordVariable('gemeente-kvs')}`);
    // Not configured yet (no services.nieuw): not deployed, no user.
    expect(conf).not.toContain('user: nieuw');
    expect(natsPasswordVariable('gemeente-kvs')).toBe('KETENHUB_NATS_PASSWORD_GEMEENTE_KVS');
  });

  it('puts the permissions into the ConfigMap block of the NATS manifest, and only there', () => {
    const manifest = 'data:\n  nats.conf: |\n    a\n  permissions.conf: |\n    old\n\nkind: X\n';
    expect(withPermissions(manifest, 'new\n\nlines\n')).toBe(
      'data:\n  nats.conf: |\n    a\n  permissions.conf: |\n    new\n\n    lines\n\nkind: X\n',
    );
    expect(() => withPermissions('kind: X', 'x')).toThrow('permissions.conf');
  });
});
