/**
 * Writes the deployment artefacts generated from the partner modules (scripts/modules.ts) and
 * the shipped configuration: deploy/nats/permissions.conf, and its copy in the ConfigMap of
 * deploy/k8s/nats.yaml.
 *
 *   npm run deploy:gen            # write them
 *   npm run deploy:gen -- --check # exit 1 when a checked-in file differs (what the test does)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_CONFIG, REPO_ROOT, loadHubConfig } from '@ketenhub/kit';
import { natsPermissionsConf, withPermissions } from '@ketenhub/kit/deploy';
import { MODULES } from './modules.ts';

export const PERMISSIONS_FILE = path.join(REPO_ROOT, 'deploy/nats/permissions.conf');
export const K8S_NATS_FILE = path.join(REPO_ROOT, 'deploy/k8s/nats.yaml');

/** The files as the modules and config/ketenhub.yaml say they should be. */
export function generatedFiles(): Map<string, string> {
  // The pseudonym key has no default; its value does not shape any deployment file.
  const config = loadHubConfig(DEFAULT_CONFIG, { KETENHUB_PSEUDONYM_KEY: 'k'.repeat(64) });
  const permissions = natsPermissionsConf(
    MODULES.map((m) => m()),
    config,
  );
  return new Map([
    [PERMISSIONS_FILE, permissions],
    [K8S_NATS_FILE, withPermissions(readFileSync(K8S_NATS_FILE, 'utf8'), permissions)],
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
