/**
 * Helpers for the deploy/ tests: there is no container engine or cluster in CI, so the files
 * are parsed and checked for what would otherwise only fail at `up` or `apply` time.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import {
  REPO_ROOT,
  credentialFromConfig,
  hashApiKey,
  loadHubConfig,
  type HubConfig,
} from '@ketenhub/kit';

export const DEPLOY = path.join(REPO_ROOT, 'deploy');

/** One YAML document, with `<<` merge keys resolved as compose resolves them. */
export function parseYaml(text: string): unknown {
  return parse(text, { merge: true });
}

/** Every non-empty document of a multi-document file. */
export function parseDocuments(text: string): Record<string, unknown>[] {
  return parseAllDocuments(text)
    .map((d) => {
      if (d.errors.length > 0) throw new Error(d.errors.map((e) => e.message).join('; '));
      return d.toJS() as Record<string, unknown> | null;
    })
    .filter((d): d is Record<string, unknown> => d !== null);
}

/**
 * Loads a hub config text the way a service does at start (schema, `${VAR}` references), with
 * stand-ins for the secrets, and builds COA's credential as services/coa does: a config that
 * passes here starts.
 */
export function loadDeployedConfig(text: string, env: NodeJS.ProcessEnv = {}): HubConfig {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ketenhub-deploy-test-'));
  try {
    const file = path.join(dir, 'ketenhub.yaml');
    writeFileSync(file, text);
    const config = loadHubConfig(file, {
      KETENHUB_PSEUDONYM_KEY: 'k'.repeat(64),
      KETENHUB_COA_API_KEY_HASH: hashApiKey('a-test-key-of-coa-0123456789'),
      NATS_USER: 'coa',
      NATS_PASSWORD: 'test-password',
      ...env,
    });
    credentialFromConfig(config, 'coa');
    return config;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Names that hold secrets; their values must come from the environment or a Secret. */
export const SECRET_NAME = /(KEY|PASSWORD|TOKEN|SECRET|HASH)/i;
