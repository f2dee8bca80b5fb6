import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEPLOY, SECRET_NAME, loadDeployedConfig, parseDocuments } from './manifests.ts';

type Manifest = Record<string, any>;

const K8S = path.join(DEPLOY, 'k8s');
const files = readdirSync(K8S).filter((f) => f.endsWith('.yaml'));
const manifests: (Manifest & { file: string })[] = files.flatMap((file) =>
  parseDocuments(readFileSync(path.join(K8S, file), 'utf8')).map((m) => ({ ...m, file })),
);
const resources = manifests.filter((m) => m.kind !== 'Kustomization');
const byKind = (kind: string) => resources.filter((m) => m.kind === kind);
const named = (kind: string, name: string) =>
  resources.find((m) => m.kind === kind && m.metadata?.name === name);

/** The Mi value of a Kubernetes memory quantity (Mi, Gi, M). */
function mebibytes(q: string): number {
  const m = /^(\d+)(Mi|Gi|M)$/.exec(q);
  if (!m) throw new Error(`unexpected memory quantity ${q}`);
  const n = Number(m[1]);
  return m[2] === 'Gi' ? n * 1024 : m[2] === 'M' ? (n * 1e6) / 2 ** 20 : n;
}

describe('deploy/k8s manifests', () => {
  it('parse, and each resource has apiVersion, kind and name', () => {
    expect(resources.length).toBeGreaterThan(0);
    for (const m of resources) {
      expect(m.apiVersion, m.file).toBeTruthy();
      expect(m.kind, m.file).toBeTruthy();
      expect(m.metadata?.name, m.file).toBeTruthy();
    }
  });

  it('has the kinds a cluster deployment needs', () => {
    const kinds = new Set(resources.map((m) => m.kind));
    for (const k of [
      'Namespace',
      'StatefulSet',
      'Service',
      'ConfigMap',
      'Secret',
      'Deployment',
      'Job',
      'PodDisruptionBudget',
    ]) {
      expect(kinds, k).toContain(k);
    }
    expect(
      byKind('Deployment')
        .map((d) => d.metadata.name)
        .sort(),
    ).toEqual(['coa', 'gemeente-kvs']);
  });

  it('kustomization lists every file but the Secret template', () => {
    const k = manifests.find((m) => m.kind === 'Kustomization')!;
    const expected = files.filter((f) => f !== 'kustomization.yaml' && !f.includes('template'));
    expect([...k.resources].sort()).toEqual(expected.sort());
  });

  it('runs NATS as a 3-replica JetStream StatefulSet with routes over a headless Service', () => {
    const sts = named('StatefulSet', 'nats')!;
    expect(sts.spec.replicas).toBe(3);
    expect(sts.spec.volumeClaimTemplates[0].metadata.name).toBe('data');
    const headless = named('Service', sts.spec.serviceName)!;
    expect(headless.spec.clusterIP).toBe('None');
    expect(headless.spec.publishNotReadyAddresses).toBe(true);
    const container = sts.spec.template.spec.containers[0];
    for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
      expect(container[probe]?.httpGet?.path, probe).toMatch(/^\/healthz/);
    }
    const conf: string = named('ConfigMap', 'nats-config')!.data['nats.conf'];
    expect(conf).toMatch(/server_name: \$POD_NAME/);
    expect(conf).toMatch(/store_dir: \/data/);
    for (let i = 0; i < 3; i++) {
      expect(conf).toContain(`nats-route://nats-${i}.${sts.spec.serviceName}:6222`);
    }
    expect(conf).toContain('include permissions.conf');
  });

  it("embeds deploy/nats/permissions.conf unchanged in NATS' ConfigMap", () => {
    const embedded: string = named('ConfigMap', 'nats-config')!.data['permissions.conf'];
    const original = readFileSync(path.join(DEPLOY, 'nats/permissions.conf'), 'utf8');
    expect(embedded.trimEnd(), 'run `npm run k8s:sync`').toBe(original.trimEnd());
  });

  it('gives coa and gemeente-kvs /health probes, scrape annotations and bounded resources', () => {
    for (const d of byKind('Deployment')) {
      const name = d.metadata.name;
      const pod = d.spec.template;
      const container = pod.spec.containers[0];
      const ops = container.ports.find((p: Manifest) => p.name === 'ops');
      expect(ops, name).toBeDefined();
      for (const probe of ['livenessProbe', 'readinessProbe']) {
        expect(container[probe]?.httpGet, `${name} ${probe}`).toEqual({
          path: '/health',
          port: 'ops',
        });
      }
      expect(pod.metadata.annotations).toEqual({
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': String(ops.containerPort),
        'prometheus.io/path': '/metrics',
      });
      const { requests, limits } = container.resources;
      expect(mebibytes(requests.memory), name).toBeLessThanOrEqual(150);
      expect(mebibytes(limits.memory), name).toBeGreaterThanOrEqual(mebibytes(requests.memory));
      expect(mebibytes(limits.memory), name).toBeLessThanOrEqual(200);
      expect(limits.cpu, name).toBeDefined();
      expect(container.securityContext.readOnlyRootFilesystem, name).toBe(true);
      // The Service reaches the ops port by name.
      const svc = named('Service', name)!;
      expect(
        svc.spec.ports.some((p: Manifest) => p.targetPort === 'ops'),
        name,
      ).toBe(true);
    }
  });

  it('has no Secret with literal data, and takes every secret env from a Secret', () => {
    for (const s of byKind('Secret')) {
      for (const field of ['data', 'stringData']) {
        for (const [k, v] of Object.entries(s[field] ?? {})) {
          expect(v, `${s.metadata.name}.${field}.${k}`).toBe('');
        }
      }
    }
    const pods = resources
      .filter((m) => ['Deployment', 'StatefulSet', 'Job'].includes(m.kind))
      .map((m) => ({ name: m.metadata.name, spec: m.spec.template.spec }));
    for (const { name, spec } of pods) {
      for (const c of spec.containers) {
        for (const e of c.env ?? []) {
          if (!SECRET_NAME.test(e.name) || e.name === 'NATS_USER') continue;
          expect(e.value, `${name} ${e.name}`).toBeUndefined();
          expect(e.valueFrom?.secretKeyRef?.name, `${name} ${e.name}`).toBe('ketenhub-secrets');
        }
      }
    }
  });

  it('ships a hub config that passes the contract: R3, every NATS pod, ops on all interfaces', () => {
    const text: string = named('ConfigMap', 'ketenhub-config')!.data['ketenhub.yaml'];
    const config = loadDeployedConfig(text);
    expect(config.streams?.replicas).toBe(3);
    expect(config.nats.url.split(',')).toEqual(
      [0, 1, 2].map((i) => `nats://nats-${i}.nats-headless:4222`),
    );
    expect(config.services.coa.host).toBe('0.0.0.0');
    expect(config.services['gemeente-kvs'].host).toBe('0.0.0.0');
    expect(config.services.coa.opsPort).toBe(9301);
    expect(config.services['gemeente-kvs'].opsPort).toBe(9302);
    expect(config.hub.production).toBe(true);
  });
});
