/**
 * Helpers for the deploy/ tests: there is no container engine or cluster in CI, so the files
 * are parsed and checked for what would otherwise only fail at `up` or `apply` time.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { deployedServices } from '../../scripts/deploy-gen.ts';
import { MODULES } from '../../scripts/modules.ts';
import {
  DEFAULT_CONFIG,
  REPO_ROOT,
  createLogger,
  credentialFromConfig,
  generateApiKey,
  hashApiKey,
  loadHubConfig,
  organisationsOf,
  partnerSettings,
  settingsOf,
  type HubConfig,
} from '@ketenhub/kit';

export const DEPLOY = path.join(REPO_ROOT, 'deploy');
export const PERMISSIONS = path.join(DEPLOY, 'nats/permissions.conf');

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
  const config = loadConfigWith(text, {
    KETENHUB_PSEUDONYM_KEY: 'k'.repeat(64),
    KETENHUB_COA_API_KEY_HASH: hashApiKey('a-test-key-of-coa-0123456789abcdef'),
    NATS_USER: 'coa',
    NATS_PASSWORD: 'test-password',
    ...env,
  });
  credentialFromConfig(config, 'coa');
  return config;
}

/** Loads a hub config text with exactly `env`: nothing is filled in. */
export function loadConfigWith(text: string, env: NodeJS.ProcessEnv): HubConfig {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ketenhub-deploy-test-'));
  try {
    const file = path.join(dir, 'ketenhub.yaml');
    writeFileSync(file, text);
    return loadHubConfig(file, env);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Names that hold secrets; their values must come from the environment or a Secret. */
export const SECRET_NAME = /(KEY|PASSWORD|TOKEN|SECRET|HASH)/i;

/** Every string value of a parsed YAML tree (comments are not values). */
export function stringsOf(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsOf);
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(stringsOf);
  return [];
}

/**
 * The `${VAR}` / `${VAR:-default}` references of a hub config, as kit's loader substitutes them
 * (values only, comments left out). `required` when there is no default: the loader then
 * refuses to start without the variable.
 */
export function configReferences(text: string): { name: string; required: boolean }[] {
  const found = new Map<string, boolean>();
  for (const s of stringsOf(parse(text))) {
    for (const m of s.matchAll(/\$(\$)?\{([A-Za-z_][A-Za-z0-9_]*)(:-[^}]*)?\}/g)) {
      if (m[1]) continue;
      found.set(m[2]!, (found.get(m[2]!) ?? false) || m[3] === undefined);
    }
  }
  return [...found].map(([name, required]) => ({ name, required }));
}

/** The services of services/ that are deployed (deploy:gen's `deployedServices`). */
export function serviceNames(): string[] {
  return deployedServices(
    loadHubConfig(DEFAULT_CONFIG, { KETENHUB_PSEUDONYM_KEY: 'k'.repeat(64) }),
  );
}

/** A service's command, as compose and the Deployments give it. */
export const serviceMain = (name: string) => `services/${name}/main.ts`;

/** deploy/nats/permissions.conf without its comment lines. */
function permissionsText(): string {
  return readFileSync(PERMISSIONS, 'utf8')
    .split('\n')
    .filter((line) => !line.trim().startsWith('#'))
    .join('\n');
}

/** The users of permissions.conf, each with the environment variable its password comes from. */
export function natsUsers(): Map<string, string> {
  const users = new Map<string, string>();
  let user: string | undefined;
  for (const line of permissionsText().split('\n')) {
    const u = /^\s*user:\s*([A-Za-z0-9_-]+)\s*$/.exec(line);
    if (u) user = u[1];
    const p = /^\s*password:\s*\$([A-Z0-9_]+)\s*$/.exec(line);
    if (p && user) users.set(user, p[1]!);
  }
  return users;
}

/** Every `$KETENHUB_NATS_PASSWORD_*` variable permissions.conf reads. */
export function natsPasswordVars(): string[] {
  const refs = permissionsText().matchAll(/\$(KETENHUB_NATS_PASSWORD_[A-Z0-9_]+)/g);
  return [...new Set([...refs].map((m) => m[1]!))].sort();
}

/** The Secret key of a NATS password variable: KETENHUB_NATS_PASSWORD_GEMEENTE_KVS → nats-password-gemeente-kvs. */
export const natsPasswordKey = (variable: string) =>
  variable
    .replace(/^KETENHUB_/, '')
    .toLowerCase()
    .replace(/_/g, '-');

/**
 * What `services/<name>` needs of the config beyond what every process needs, checked the way
 * the runner checks it at start for each of the service's modules (its block, its settings, its
 * own check, its credentials); a service started with a config that passes here gets past its
 * configuration. Returns the partner URLs the service calls.
 */
export function serviceNeeds(name: string, config: HubConfig): { partnerUrls: string[] } {
  const modules = MODULES.map((m) => m()).filter((m) => m.service === name);
  if (modules.length === 0) throw new Error(`no module runs as services/${name}`);
  const logger = createLogger('deploy-test', { level: 'silent' });
  const partnerUrls: string[] = [];
  for (const module of modules) {
    const settings = settingsOf(config, module);
    // Health checks and probes need a fixed ops port.
    if (!settings.opsPort) throw new Error(`services/${name} needs services.${name}.opsPort`);
    partnerSettings(config, module);
    module.check?.(config, logger);
    module.edge?.credentials(config, logger);
    for (const o of organisationsOf(config, module.id)) {
      if (o.endpoint) partnerUrls.push(o.endpoint.url);
    }
  }
  return { partnerUrls };
}

/**
 * A stand-in for a secret, by the name of its variable or Secret key: a NATS password starting
 * with a letter, a pseudonym key of 64 characters, an API key, or (for a hash) the digest of
 * `keyOf(name without the hash suffix)`, so a key and its hash belong together.
 */
export function standInSecrets(names: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  const hashes = names.filter((n) => /(_|-)HASH$/i.test(n));
  for (const name of names.filter((n) => !hashes.includes(n))) {
    if (/PASSWORD/i.test(name)) out[name] = `p${randomBytes(24).toString('hex')}`;
    else if (/PSEUDONYM/i.test(name)) out[name] = randomBytes(32).toString('hex');
    else if (/API(_|-)KEY$/i.test(name)) out[name] = generateApiKey();
    else out[name] = randomBytes(16).toString('hex');
  }
  for (const name of hashes) {
    const keyName = name.replace(/(_|-)HASH$/i, '');
    out[keyName] ??= generateApiKey();
    out[name] = hashApiKey(out[keyName]);
  }
  return out;
}

/**
 * A compose value with `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}` and
 * `${VAR?error}` substituted from `env`, as `docker compose` does with deploy/.env; a missing
 * required variable throws.
 */
export function composeInterpolate(value: string, env: Record<string, string>): string {
  return value.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}/g,
    (_whole, name: string, op: string | undefined, arg: string | undefined) => {
      const v = env[name];
      switch (op) {
        case ':-':
          return v ? v : (arg ?? '');
        case '-':
          return v ?? arg ?? '';
        case ':?':
          if (!v) throw new Error(`${name}: ${arg ?? 'required'}`);
          return v;
        case '?':
          if (v === undefined) throw new Error(`${name}: ${arg ?? 'required'}`);
          return v;
        default:
          return v ?? '';
      }
    },
  );
}

/** The variables a compose value reads, and whether it demands them (`:?`). */
export function composeReferences(value: string): { name: string; required: boolean }[] {
  return [...value.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-?])?[^}]*\}/g)].map((m) => ({
    name: m[1]!,
    required: m[2] === ':?' || m[2] === '?',
  }));
}

/** The keys of an env file (`NAME=` lines), in order. */
export function envFileKeys(text: string): string[] {
  return [...text.matchAll(/^([A-Za-z_][A-Za-z0-9_]*)=/gm)].map((m) => m[1]!);
}

/** The value following `flag` in a command line; undefined when absent. */
export function flag(cmd: readonly string[], name: string): string | undefined {
  const i = cmd.indexOf(name);
  return i < 0 ? undefined : cmd[i + 1];
}

/** Every value of a repeatable flag. */
export function flags(cmd: readonly string[], name: string): string[] {
  return cmd.flatMap((arg, i) => (arg === name && cmd[i + 1] !== undefined ? [cmd[i + 1]!] : []));
}

export interface ComposeService {
  image?: string;
  command?: string[];
  environment?: Record<string, string | number | boolean | null>;
  healthcheck?: { test?: string[]; disable?: boolean };
  ports?: string[];
  volumes?: string[];
  restart?: string;
  depends_on?: Record<string, { condition: string }>;
  deploy?: { resources?: { limits?: { memory?: string }; reservations?: { memory?: string } } };
}

export interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes: Record<string, unknown>;
}

export const readCompose = (): ComposeFile =>
  parseYaml(readFileSync(path.join(DEPLOY, 'compose.yaml'), 'utf8')) as ComposeFile;
export const readComposeConfig = (): string =>
  readFileSync(path.join(DEPLOY, 'compose/ketenhub.yaml'), 'utf8');
export const readEnvExample = (): string =>
  readFileSync(path.join(DEPLOY, 'compose.env.example'), 'utf8');

/** Every variable compose.yaml reads, and whether it demands it (`:?`) anywhere. */
export function composeVariables(compose: ComposeFile): Map<string, boolean> {
  const vars = new Map<string, boolean>();
  for (const s of stringsOf(compose)) {
    for (const { name, required } of composeReferences(s)) {
      vars.set(name, (vars.get(name) ?? false) || required);
    }
  }
  return vars;
}

/**
 * deploy/.env filled in as compose.env.example asks: every required variable set to a stand-in
 * (a partner's key and its hash belonging together), the optional ones empty. Also holds the key
 * of every hash it sets (e.g. KETENHUB_COA_API_KEY), as the one who filled it in would have.
 */
export function standInDotenv(compose: ComposeFile, envExample: string): Record<string, string> {
  const required = [...composeVariables(compose)].filter(([, r]) => r).map(([name]) => name);
  return {
    ...Object.fromEntries(envFileKeys(envExample).map((k) => [k, ''])),
    ...standInSecrets(required),
  };
}

/** A service's environment as compose hands it to the container with that deploy/.env. */
export function composeEnvironment(
  service: ComposeService,
  dotenv: Record<string, string>,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(service.environment ?? {}).map(([k, v]) => [
      k,
      composeInterpolate(String(v ?? ''), dotenv),
    ]),
  );
}
