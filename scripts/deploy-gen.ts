/**
 * Writes the deployment artefacts generated from the partner modules (scripts/modules.ts) and
 * the shipped configuration: deploy/nats/permissions.conf, its copy in the ConfigMap of
 * deploy/k8s/nats.yaml, and the workspaces deploy/Dockerfile installs.
 *
 *   npm run deploy:gen            # write them
 *   npm run deploy:gen -- --check # exit 1 when a checked-in file differs (what the test does)
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_CONFIG, REPO_ROOT, loadHubConfig, type HubConfig } from '@ketenhub/kit';
import { natsPermissionsConf, withPermissions } from '@ketenhub/kit/deploy';
import { MODULES } from './modules.ts';

export const PERMISSIONS_FILE = path.join(REPO_ROOT, 'deploy/nats/permissions.conf');
export const K8S_NATS_FILE = path.join(REPO_ROOT, 'deploy/k8s/nats.yaml');
export const DOCKERFILE = path.join(REPO_ROOT, 'deploy/Dockerfile');

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

/** The files as the modules and config/ketenhub.yaml say they should be. */
export function generatedFiles(): Map<string, string> {
  // The pseudonym key has no default; its value does not shape any deployment file.
  const config = loadHubConfig(DEFAULT_CONFIG, { KETENHUB_PSEUDONYM_KEY: 'k'.repeat(64) });
  const permissions = natsPermissionsConf(
    MODULES.map((m) => m()),
    config,
  );
  const deployed = deployedServices(config);
  return new Map([
    [PERMISSIONS_FILE, permissions],
    [K8S_NATS_FILE, withPermissions(readFileSync(K8S_NATS_FILE, 'utf8'), permissions)],
    [DOCKERFILE, withWorkspaces(readFileSync(DOCKERFILE, 'utf8'), runtimeWorkspaces(deployed))],
  ]);
}

if (import.meta.main) {
  const check = process.argv.includes('--check');
  const stale: string[] = [];
  for (const [file, text] of generatedFiles()) {
    if (readFileSync(file, 'utf8') === text) continue;
    stale.push(path.relative(REPO_ROOT, file));
    if (!check) writeFileSync(file, text);
  }
  if (check && stale.length > 0) {
    console.error(`deploy:gen: out of date: ${stale.join(', ')} (run npm run deploy:gen)`);
    process.exit(1);
  }
  console.log(
    stale.length === 0 ? 'deploy:gen: up to date' : `deploy:gen: wrote ${stale.join(', ')}`,
  );
}
