/**
 * Writes the deployment artefacts generated from the partner modules (scripts/modules.ts) and
 * the configurations (deploy/README.md, "What is generated"):
 *
 * - deploy/nats/permissions.conf (from config/ketenhub.yaml), its copy in the ConfigMap of
 *   deploy/k8s/nats.yaml, and the NATS pods' password variables there;
 * - the workspaces deploy/Dockerfile installs;
 * - deploy/compose.yaml's services and its NATS nodes' password variables, and the services'
 *   variables in deploy/compose.env.example (from deploy/compose/ketenhub.yaml);
 * - deploy/k8s/<service>.yaml, kustomization.yaml and secret.template.yaml (from the ConfigMap
 *   of deploy/k8s/ketenhub-config.yaml).
 *
 * The services deployed are those of config/ketenhub.yaml (`deployedServices`); each needs its
 * block in both deployed configurations too.
 *
 *   npm run deploy:gen            # write them
 *   npm run deploy:gen -- --check # exit 1 when a checked-in file differs (what the test does)
 */
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import prettier from 'prettier';
import { parse } from 'yaml';
import {
  DEFAULT_CONFIG,
  REPO_ROOT,
  loadHubConfig,
  type HubConfig,
  type PartnerModule,
} from '@ketenhub/kit';
import { natsPermissionsConf, withPermissions } from '@ketenhub/kit/deploy';
import {
  COMPOSE_SHARED,
  withComposeEnvExample,
  withComposeServices,
} from './deploy-gen/compose.ts';
import {
  GENERATED,
  K8S_SHARED,
  k8sServiceManifest,
  kustomization,
  secretTemplate,
  withNatsPasswordEnv,
} from './deploy-gen/k8s.ts';
import { servicePlans } from './deploy-gen/plan.ts';
import { MODULES } from './modules.ts';

export const PERMISSIONS_FILE = path.join(REPO_ROOT, 'deploy/nats/permissions.conf');
export const K8S_NATS_FILE = path.join(REPO_ROOT, 'deploy/k8s/nats.yaml');
export const DOCKERFILE = path.join(REPO_ROOT, 'deploy/Dockerfile');
export const COMPOSE_FILE = path.join(REPO_ROOT, 'deploy/compose.yaml');
export const COMPOSE_ENV_EXAMPLE = path.join(REPO_ROOT, 'deploy/compose.env.example');
export const COMPOSE_CONFIG = path.join(REPO_ROOT, 'deploy/compose/ketenhub.yaml');
export const K8S_DIR = path.join(REPO_ROOT, 'deploy/k8s');
export const K8S_CONFIG = path.join(K8S_DIR, 'ketenhub-config.yaml');

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
}
const manifestOf = (dir: string) =>
  JSON.parse(readFileSync(path.join(REPO_ROOT, dir, 'package.json'), 'utf8')) as Manifest;

/** Every workspace directory, by package name. */
function workspaces(): Map<string, string> {
  const root = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
    workspaces: string[];
  };
  const dirs = root.workspaces.flatMap((w) =>
    w.endsWith('/*')
      ? readdirSync(path.join(REPO_ROOT, w.slice(0, -2)), { withFileTypes: true })
          .filter(
            (d) =>
              d.isDirectory() &&
              existsSync(path.join(REPO_ROOT, w.slice(0, -2), d.name, 'package.json')),
          )
          .map((d) => `${w.slice(0, -2)}/${d.name}`)
      : [w],
  );
  return new Map(dirs.map((dir) => [manifestOf(dir).name, dir]));
}

/**
 * The workspaces the deployed services need at run time: each service's and, following their
 * dependencies (not devDependencies), every workspace they load, in a stable order.
 */
export function runtimeWorkspaces(services: string[]): string[] {
  const byName = workspaces();
  const todo = services.map((s) => `services/${s}`);
  const seen = new Set<string>();
  while (todo.length > 0) {
    const dir = todo.pop()!;
    if (seen.has(dir)) continue;
    seen.add(dir);
    for (const dep of Object.keys(manifestOf(dir).dependencies ?? {})) {
      const ws = byName.get(dep);
      if (ws) todo.push(ws);
    }
  }
  const order = (d: string) =>
    ['contracts', 'kit', 'adapters', 'services'].indexOf(d.split('/')[0]!);
  return [...seen].sort((a, b) => order(a) - order(b) || a.localeCompare(b));
}

/** The Dockerfile with `workspaces` as the `-w` list of its runtime install. */
export function withWorkspaces(dockerfile: string, list: string[]): string {
  const lines = dockerfile.split('\n');
  const start = lines.findIndex((l) => l.startsWith('RUN npm ci --omit=dev'));
  const end = lines.findIndex((l, i) => i > start && l.trimStart().startsWith('&& '));
  if (start < 0 || end < 0) throw new Error('deploy/Dockerfile: no runtime npm ci to fill');
  const wrapped: string[] = [];
  let line = '     ';
  for (const w of list.map((d) => ` -w ${d}`)) {
    if (line.length + w.length > 96) {
      wrapped.push(`${line} \\`);
      line = '     ';
    }
    line += w;
  }
  wrapped.push(`${line} \\`);
  lines.splice(start + 1, end - start - 1, ...wrapped);
  return lines.join('\n');
}

/**
 * The services that are deployed: a process of their own (services/<name>/main.ts) with a block
 * in the configuration. A module just written by `npm run new:partner` has none yet.
 */
export function deployedServices(config: HubConfig): string[] {
  return Object.keys(config.services)
    .filter((s) => existsSync(path.join(REPO_ROOT, 'services', s, 'main.ts')))
    .sort();
}

/** The hub configuration in the ConfigMap of deploy/k8s/ketenhub-config.yaml, as text. */
export function k8sConfigText(manifest: string): string {
  const text = (parse(manifest) as { data?: Record<string, string> }).data?.['ketenhub.yaml'];
  if (text === undefined) throw new Error('deploy/k8s/ketenhub-config.yaml: no data ketenhub.yaml');
  return text;
}

/** A YAML file as prettier writes it (npm test checks the format of every file). */
async function formatYaml(file: string, text: string): Promise<string> {
  const options = (await prettier.resolveConfig(file)) ?? {};
  return prettier.format(text, { ...options, parser: 'yaml', filepath: file });
}

/**
 * The compose and Kubernetes files for `modules` deployed as `services`, from the files as
 * `read` gives them (the hand-written parts, the deployed configurations): by absolute path.
 */
export async function deploymentFiles(
  modules: PartnerModule[],
  services: string[],
  read: (file: string) => string = (file) => readFileSync(file, 'utf8'),
): Promise<Map<string, string>> {
  const rel = (file: string) => path.relative(REPO_ROOT, file);
  const compose = servicePlans(modules, services, read(COMPOSE_CONFIG), {
    file: rel(COMPOSE_CONFIG),
    shared: COMPOSE_SHARED,
  });
  const k8s = servicePlans(modules, services, k8sConfigText(read(K8S_CONFIG)), {
    file: rel(K8S_CONFIG),
    shared: K8S_SHARED,
  });
  const files = new Map<string, string>([
    [COMPOSE_FILE, withComposeServices(read(COMPOSE_FILE), compose, rel(COMPOSE_FILE))],
    [
      COMPOSE_ENV_EXAMPLE,
      withComposeEnvExample(read(COMPOSE_ENV_EXAMPLE), compose, rel(COMPOSE_ENV_EXAMPLE)),
    ],
    [K8S_NATS_FILE, withNatsPasswordEnv(read(K8S_NATS_FILE), k8s, rel(K8S_NATS_FILE))],
    ...k8s.map((p): [string, string] => [
      path.join(K8S_DIR, `${p.service}.yaml`),
      k8sServiceManifest(p),
    ]),
    [path.join(K8S_DIR, 'kustomization.yaml'), kustomization(k8s)],
    [path.join(K8S_DIR, 'secret.template.yaml'), secretTemplate(k8s)],
  ]);
  for (const [file, text] of files) {
    if (file.endsWith('.yaml')) files.set(file, await formatYaml(file, text));
  }
  return files;
}

/**
 * The files as the modules and the configurations say they should be; `null` for a file
 * deploy:gen wrote before that should no longer exist (the manifest of a service no longer
 * deployed).
 */
export async function generatedFiles(): Promise<Map<string, string | null>> {
  // The pseudonym key has no default; its value does not shape any deployment file.
  const config = loadHubConfig(DEFAULT_CONFIG, { KETENHUB_PSEUDONYM_KEY: 'k'.repeat(64) });
  const modules = MODULES.map((m) => m());
  const permissions = natsPermissionsConf(modules, config);
  const deployed = deployedServices(config);
  const files = new Map<string, string | null>([
    [PERMISSIONS_FILE, permissions],
    [DOCKERFILE, withWorkspaces(readFileSync(DOCKERFILE, 'utf8'), runtimeWorkspaces(deployed))],
  ]);
  for (const [file, text] of await deploymentFiles(modules, deployed)) {
    files.set(file, file === K8S_NATS_FILE ? withPermissions(text, permissions) : text);
  }
  for (const name of readdirSync(K8S_DIR)) {
    const file = path.join(K8S_DIR, name);
    if (!files.has(file) && readFileSync(file, 'utf8').startsWith(GENERATED)) files.set(file, null);
  }
  return files;
}

if (import.meta.main) {
  const check = process.argv.includes('--check');
  const stale: string[] = [];
  const removed: string[] = [];
  for (const [file, text] of await generatedFiles()) {
    const current = existsSync(file) ? readFileSync(file, 'utf8') : null;
    if (current === text) continue;
    (text === null ? removed : stale).push(path.relative(REPO_ROOT, file));
    if (check) continue;
    if (text === null) rmSync(file);
    else writeFileSync(file, text);
  }
  if (check && stale.length + removed.length > 0) {
    const extra = removed.length > 0 ? `; no longer generated: ${removed.join(', ')}` : '';
    console.error(
      `deploy:gen: out of date: ${stale.join(', ') || '-'}${extra} (run npm run deploy:gen)`,
    );
    process.exit(1);
  }
  const done = [
    ...(stale.length > 0 ? [`wrote ${stale.join(', ')}`] : []),
    ...(removed.length > 0 ? [`removed ${removed.join(', ')}`] : []),
  ];
  console.log(`deploy:gen: ${done.length === 0 ? 'up to date' : done.join('; ')}`);
}
