import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REPO_ROOT } from '@ketenhub/kit';
import { runtimeWorkspaces } from '../../scripts/deploy-gen.ts';
import {
  DEPLOY,
  SECRET_NAME,
  configReferences,
  loadConfigWith,
  loadDeployedConfig,
  natsPasswordKey,
  natsPasswordVars,
  natsUsers,
  parseDocuments,
  serviceMain,
  serviceNames,
  serviceNeeds,
  standInSecrets,
} from './manifests.ts';

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

const SERVICES = serviceNames();
const configText: string = named('ConfigMap', 'ketenhub-config')!.data['ketenhub.yaml'];

/** The pods' specs: Deployments, the StatefulSet and the Job. */
const workloads = resources
  .filter((m) => ['Deployment', 'StatefulSet', 'Job'].includes(m.kind))
  .map((m) => ({ name: m.metadata.name as string, spec: m.spec.template.spec }));

/** Every key of ketenhub-secrets a container reads, and whether it may be missing. */
const secretRefs = new Map<string, boolean>();
for (const { spec } of workloads) {
  for (const c of spec.containers) {
    for (const e of c.env ?? []) {
      const ref = e.valueFrom?.secretKeyRef;
      if (ref?.name !== 'ketenhub-secrets') continue;
      secretRefs.set(ref.key, (secretRefs.get(ref.key) ?? true) && ref.optional === true);
    }
  }
}

/** The Secret as an operator creates it after secret.template.yaml: only the required keys. */
const secretKeys = (list: 'required-keys' | 'optional-keys'): string[] =>
  String(named('Secret', 'ketenhub-secrets')!.metadata.annotations[`ketenhub.nl/${list}`] ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k !== '');
const secret = standInSecrets(secretKeys('required-keys'));

/** A container's environment as the kubelet builds it from that Secret (and literal values). */
function environmentOf(container: Manifest): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of container.env ?? []) {
    if (e.value !== undefined) env[e.name] = String(e.value);
    const ref = e.valueFrom?.secretKeyRef;
    if (ref && secret[ref.key] !== undefined) env[e.name] = secret[ref.key]!;
    else if (ref && !ref.optional) throw new Error(`${e.name}: Secret key ${ref.key} is missing`);
  }
  return env;
}

const deployment = (name: string) => named('Deployment', name);
const containerOf = (name: string) => deployment(name)!.spec.template.spec.containers[0];

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
  });

  it('deploys every configured service of services/, and no simulator', () => {
    expect(SERVICES.length).toBeGreaterThan(0);
    for (const name of SERVICES) {
      expect(deployment(name), `services/${name} has no Deployment`).toBeDefined();
      expect(containerOf(name).command, name).toEqual(['node', serviceMain(name)]);
      expect(named('Service', name), `services/${name} has no Service`).toBeDefined();
    }
    expect(
      byKind('Deployment')
        .map((d) => d.metadata.name)
        .sort(),
    ).toEqual(SERVICES);
    for (const { name, spec } of workloads) {
      for (const c of spec.containers) {
        expect((c.command ?? []).join(' '), name).not.toMatch(/simulator/);
      }
    }
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
    expect(embedded.trimEnd(), 'run `npm run deploy:gen`').toBe(original.trimEnd());
  });

  it('gives every Deployment /health probes, scrape annotations and bounded resources', () => {
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
      const heap = container.env.find((e: Manifest) => e.name === 'NODE_OPTIONS')?.value;
      expect(heap, name).toMatch(/--max-old-space-size=\d+/);
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
    for (const { name, spec } of workloads) {
      for (const c of spec.containers) {
        for (const e of c.env ?? []) {
          if (!SECRET_NAME.test(e.name) || e.name === 'NATS_USER') continue;
          expect(e.value, `${name} ${e.name}`).toBeUndefined();
          expect(e.valueFrom?.secretKeyRef?.name, `${name} ${e.name}`).toBe('ketenhub-secrets');
        }
      }
    }
  });

  it('gives the NATS pods every password permissions.conf reads, from the Secret', () => {
    const vars = natsPasswordVars();
    expect(vars.length).toBeGreaterThan(0);
    const env = named('StatefulSet', 'nats')!.spec.template.spec.containers[0].env as Manifest[];
    for (const v of vars) {
      const e = env.find((x) => x.name === v);
      expect(e?.valueFrom?.secretKeyRef, v).toEqual({
        name: 'ketenhub-secrets',
        key: natsPasswordKey(v),
      });
    }
  });

  it('runs each service as its own NATS user of permissions.conf', () => {
    const users = natsUsers();
    const processes: [string, Manifest, string][] = [
      [
        'provision',
        named('Job', 'ketenhub-provision')!.spec.template.spec.containers[0],
        'provisioner',
      ],
      ...SERVICES.map((s): [string, Manifest, string] => [s, containerOf(s), s]),
    ];
    for (const [name, container, user] of processes) {
      const env = container.env as Manifest[];
      expect(env.find((e) => e.name === 'NATS_USER')?.value, name).toBe(user);
      expect(users.has(user), `no user ${user} in deploy/nats/permissions.conf`).toBe(true);
      expect(env.find((e) => e.name === 'NATS_PASSWORD')?.valueFrom?.secretKeyRef, name).toEqual({
        name: 'ketenhub-secrets',
        key: natsPasswordKey(users.get(user)!),
      });
    }
  });

  it('documents in secret.template.yaml exactly the keys the manifests read', () => {
    const required = [...secretRefs].filter(([, optional]) => !optional).map(([k]) => k);
    const optional = [...secretRefs].filter(([, optional]) => optional).map(([k]) => k);
    expect(secretKeys('required-keys').sort()).toEqual(required.sort());
    expect(secretKeys('optional-keys').sort()).toEqual(optional.sort());
    for (const v of natsPasswordVars()) expect(required, v).toContain(natsPasswordKey(v));
    // The example command creates every required key; NATS passwords start with a letter.
    const template = readFileSync(path.join(K8S, 'secret.template.yaml'), 'utf8');
    const literals = new Map(
      [...template.matchAll(/--from-literal=([a-z0-9-]+)=(\S+)/g)].map((m) => [m[1]!, m[2]!]),
    );
    expect([...literals.keys()].sort()).toEqual(required.sort());
    for (const [key, value] of literals) {
      if (key.startsWith('nats-password-')) expect(value, key).toMatch(/^"p\$\(openssl/);
    }
  });

  it('gives each service every variable its config needs and the secrets of its partners', () => {
    const required = configReferences(configText)
      .filter((r) => r.required)
      .map((r) => r.name);
    expect(required).toContain('KETENHUB_PSEUDONYM_KEY');
    const processes: [string, Manifest][] = [
      ['provision', named('Job', 'ketenhub-provision')!.spec.template.spec.containers[0]],
      ...SERVICES.map((s): [string, Manifest] => [s, containerOf(s)]),
    ];
    for (const [name, container] of processes) {
      const env = environmentOf(container);
      for (const v of required) expect(env[v], `${name} lacks ${v}`).toBeTruthy();
      // Loads with exactly the pod's environment, then builds what the service builds.
      const config = loadConfigWith(configText, env);
      if (name !== 'provision') serviceNeeds(name, config);
    }
  });

  it("exposes each service's ports as its config has them, and calls the partners themselves", () => {
    const config = loadDeployedConfig(configText);
    for (const name of SERVICES) {
      const settings = (config.services as Record<string, Manifest>)[name]!;
      expect(settings.host, name).toBe('0.0.0.0');
      const ports = containerOf(name).ports as Manifest[];
      expect(ports.find((p) => p.name === 'ops')?.containerPort, name).toBe(settings.opsPort);
      if (settings.port !== undefined) {
        expect(ports.find((p) => p.name === 'api')?.containerPort, name).toBe(settings.port);
        const svc = named('Service', name)!;
        expect(
          svc.spec.ports.some((p: Manifest) => p.targetPort === 'api'),
          name,
        ).toBe(true);
      }
      // No simulator in the cluster: every partner is reached at an address of its own.
      const own = loadConfigWith(configText, environmentOf(containerOf(name)));
      for (const url of serviceNeeds(name, own).partnerUrls) {
        const { protocol, hostname } = new URL(url);
        expect(protocol, url).toBe('https:');
        expect(hostname, url).not.toMatch(/simulator|^127\.|^localhost$/);
      }
    }
    // The simulators' settings belong to npm start and compose.
    expect((parse(configText) as Manifest).simulators).toBeUndefined();
  });

  it('ships a hub config that passes the contract: R3, every NATS pod, ops on all interfaces', () => {
    const config = loadDeployedConfig(configText);
    expect(config.streams?.replicas).toBe(3);
    expect(config.nats.url.split(',')).toEqual(
      [0, 1, 2].map((i) => `nats://nats-${i}.nats-headless:4222`),
    );
    expect(config.services.coa?.host).toBe('0.0.0.0');
    expect(config.services['gemeente-kvs']?.host).toBe('0.0.0.0');
    expect(config.services.coa?.opsPort).toBe(9301);
    expect(config.services['gemeente-kvs']?.opsPort).toBe(9302);
    expect(config.hub.production).toBe(true);
  });
});

describe('deploy/Dockerfile', () => {
  /** The workspaces its `npm ci` installs the runtime dependencies of. */
  const dockerfile = readFileSync(path.join(DEPLOY, 'Dockerfile'), 'utf8');
  const installed = new Set([...dockerfile.matchAll(/-w (\S+)/g)].map((m) => m[1]!));
  /** What BuildKit leaves out of the build context, one pattern a line. */
  const ignored = readFileSync(path.join(DEPLOY, 'Dockerfile.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const workspaceDirs = [
    'contracts',
    'kit',
    ...['adapters', 'services', 'simulators'].flatMap((parent) =>
      readdirSync(path.join(REPO_ROOT, parent), { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => `${parent}/${d.name}`),
    ),
  ];
  /** The services and every workspace they need at run time (the generator's closure). */
  const runtime = () => new Set(runtimeWorkspaces(SERVICES));

  it('installs every service and the workspaces it depends on, so each Deployment runs', () => {
    const needed = runtime();
    expect(needed.size).toBeGreaterThan(SERVICES.length);
    for (const dir of needed) {
      expect(installed, `${dir} is not installed by deploy/Dockerfile`).toContain(dir);
    }
  });

  it('ships no simulator: none installed, none in the build context, none a service needs', () => {
    expect(workspaceDirs.filter((d) => d.startsWith('simulators/')).length).toBeGreaterThan(1);
    expect([...installed].filter((dir) => dir.startsWith('simulators'))).toEqual([]);
    expect(ignored).toContain('simulators');
    expect([...runtime()].filter((dir) => dir.startsWith('simulators/'))).toEqual([]);
  });
});
