/**
 * What compose and Kubernetes deploy per service, worked out from the partner modules and a
 * deployed configuration (deploy/compose/ketenhub.yaml, the ConfigMap of
 * deploy/k8s/ketenhub-config.yaml): the ports from the service's `services.<name>` block, its
 * environment from the `${VAR}` references of the blocks its module reads, and the hosts it calls.
 *
 * The configuration is read as text, not loaded: the plan needs where each reference stands and
 * whether it has a fallback, which loading substitutes away. The tests load the same files
 * against the config contract.
 */
import { parse } from 'yaml';
import type { PartnerModule } from '@ketenhub/kit';

/** A path in the configuration, as kit's loader names it: `partners.duo.endpoint.url`. */
export type ConfigPath = (string | number)[];

export const formatPath = (p: ConfigPath): string =>
  p.reduce<string>(
    (out, k) => (typeof k === 'number' ? `${out}[${k}]` : out ? `${out}.${k}` : k),
    '',
  );

/** `${NAME}` or `${NAME:-fallback}`; `$${` is a literal (kit/src/config.ts). */
const REFERENCE = /\$(\$)?\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

interface Leaf {
  path: ConfigPath;
  value: string;
}

function leaves(value: unknown, path: ConfigPath = []): Leaf[] {
  if (typeof value === 'string') return [{ path, value }];
  if (Array.isArray(value)) return value.flatMap((v, i) => leaves(v, [...path, i]));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => leaves(v, [...path, k]));
  }
  return [];
}

/** A string value with every reference replaced by its fallback, as with an empty environment. */
const withFallbacks = (value: string) =>
  value.replace(REFERENCE, (whole, escaped: string | undefined, _n: string, fallback?: string) =>
    escaped ? whole.slice(1) : (fallback ?? ''),
  );

/** A variable of a process's environment. */
export interface EnvVar {
  name: string;
  /** The process must not start without it (compose `:?`, a Secret key without `optional`). */
  required: boolean;
  /** The configuration fields that read it; empty for one the module reads itself. */
  fields: string[];
  /** What a field falls back to when it is empty (`${VAR:-fallback}`), when not empty. */
  fallback?: string;
  /** Why the process has it, for one the configuration does not name. */
  why?: string;
}

/** Where a variable is read, for the comment above it: its fields, their fallback, and why. */
export function describeVar(v: EnvVar): string {
  const fields = v.fields.join(', ');
  const fallback = v.fallback ? ` (empty: ${v.fallback})` : '';
  if (!fields) return v.why ? v.why[0]!.toUpperCase() + v.why.slice(1) : '';
  return `${fields}${fallback}${v.why ? `: ${v.why}` : ''}`;
}

/** `text` as `#` comment lines of at most 100 characters, indented. */
export function comment(text: string, indent = '', hanging = ''): string[] {
  const lines: string[] = [];
  let line = '';
  const prefix = () => `${indent}# ${lines.length > 0 ? hanging : ''}`;
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && prefix().length + line.length + 1 + word.length > 100) {
      lines.push(prefix() + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(prefix() + line);
  return lines;
}

/** One deployed service: what compose and the Kubernetes manifests are generated from. */
export interface ServicePlan {
  module: PartnerModule;
  service: string;
  /** Its partner API's port: the module has an edge and its block a `port`. */
  port?: number;
  opsPort: number;
  /** Its environment beyond what every process gets (the template's). */
  env: EnvVar[];
  /** Hosts of the URLs in its blocks (fallbacks taken): compose waits for those it runs. */
  calls: string[];
}

/**
 * Top-level blocks a module reads besides `partners.<id>` and `services.<name>`, with its id: the
 * administrators of the admin API.
 */
const OTHER_BLOCKS: Record<string, string> = { admins: 'admin' };

/**
 * What a module's environment needs that neither its declaration nor the configuration says:
 * variables the module reads itself, and variables the configuration reads with a fallback that
 * the deployment must set all the same. kit's PartnerModule has no field for either yet; until it
 * has, they are listed here, by module id.
 */
const MODULE_ENVIRONMENT: Record<
  string,
  { reads?: { name: string; why: string }[]; demands?: { name: string; why: string }[] }
> = {
  admin: {
    reads: [
      {
        name: 'KETENHUB_PSEUDONYM_KEY_PREVIOUS',
        why: 'only during a rotation of the pseudonym key: the previous one, for the inzage',
      },
    ],
  },
  kredietbank: {
    demands: [
      {
        name: 'KETENHUB_KREDIETBANK_TOKEN',
        why: "the Kredietbank (and its simulator) refuses the hub's calls without it",
      },
    ],
  },
};

/**
 * A key, a key's digest, a password: without it the partner (or the process) cannot
 * authenticate, so the process refuses to start rather than run with an empty one. The same
 * rule test/deploy/compose.test.ts holds compose to.
 */
const CREDENTIAL = /(PASSWORD|API_KEY|API_KEY_HASH|PSEUDONYM_KEY)$/;

/**
 * Whose block a configuration path is in: a deployed module's, every process's (`hub`, `nats`),
 * a module's that is not deployed (`other`), or none.
 */
function ownerOf(
  path: ConfigPath,
  deployed: PartnerModule[],
): PartnerModule | 'every' | 'other' | 'none' {
  const [top, name] = path;
  if (top === 'hub' || top === 'nats') return 'every';
  if (top === 'services') return deployed.find((m) => m.service === name) ?? 'other';
  if (top === 'partners') return deployed.find((m) => m.id === name) ?? 'other';
  const id = typeof top === 'string' ? OTHER_BLOCKS[top] : undefined;
  if (id !== undefined) return deployed.find((m) => m.id === id) ?? 'other';
  return 'none';
}

export class DeployPlanError extends Error {}

export interface PlanOptions {
  /** The file the configuration text is from, for messages. */
  file: string;
  /** The variables the template gives every process (its config reads them in `hub`, `nats`). */
  shared: readonly string[];
}

/**
 * The plan of every module of `modules` whose service is in `services`, in the modules' order,
 * under the configuration `text`. Throws a DeployPlanError naming the file and the field when the
 * configuration cannot be deployed as it stands.
 */
export function servicePlans(
  modules: PartnerModule[],
  services: string[],
  text: string,
  opts: PlanOptions,
): ServicePlan[] {
  const fail = (msg: string): never => {
    throw new DeployPlanError(`${opts.file}: ${msg}`);
  };
  const deployed = modules.filter((m) => services.includes(m.service));
  for (const s of services) {
    if (!deployed.some((m) => m.service === s)) fail(`services.${s}: no registered module runs it`);
  }
  const config = (parse(text) ?? {}) as Record<string, unknown>;
  const all = leaves(config);
  const refs = all.flatMap((leaf) =>
    [...leaf.value.matchAll(REFERENCE)]
      .filter((m) => !m[1])
      .map((m) => ({ leaf, name: m[2]!, fallback: m[3] })),
  );
  const owned = new Map<PartnerModule, typeof refs>(deployed.map((m) => [m, []]));
  for (const ref of refs) {
    const owner = ownerOf(ref.leaf.path, deployed);
    const where = `${formatPath(ref.leaf.path)} reads \${${ref.name}}`;
    if (owner === 'every') {
      if (!opts.shared.includes(ref.name)) {
        fail(
          `${where}: every process reads it, and deploy:gen gives every process only ${opts.shared.join(', ')}`,
        );
      }
    } else if (owner === 'none') {
      fail(`${where}, which is in no module's block (partners.<id>, services.<name>)`);
    } else if (owner !== 'other') {
      owned.get(owner)!.push(ref);
    }
  }

  const rawServices = (config.services ?? {}) as Record<string, Record<string, unknown>>;
  const defaults = (config.serviceDefaults ?? {}) as Record<string, unknown>;
  return deployed.map((module) => {
    const block = rawServices[module.service];
    const field = `services.${module.service}`;
    if (!block) return fail(`${field}: missing; the ${module.id} module is deployed`);
    const settings = { ...defaults, ...block };
    if (settings.host !== '0.0.0.0') {
      fail(`${field}.host: must be 0.0.0.0, or nothing outside the container reaches it`);
    }
    if (typeof settings.opsPort !== 'number') {
      fail(`${field}.opsPort: required; the probes and healthchecks need a fixed port`);
    }
    const port = typeof settings.port === 'number' && module.edge ? settings.port : undefined;

    const env = new Map<string, EnvVar>();
    for (const { leaf, name, fallback } of owned.get(module)!) {
      if (opts.shared.includes(name)) continue;
      const v = env.get(name) ?? { name, required: false, fields: [] };
      v.required ||= fallback === undefined || CREDENTIAL.test(name);
      v.fields.push(formatPath(leaf.path));
      if (fallback) v.fallback = fallback;
      env.set(name, v);
    }
    const facts = MODULE_ENVIRONMENT[module.id] ?? {};
    for (const { name, why } of facts.demands ?? []) {
      const v = env.get(name);
      if (v) Object.assign(v, { required: true, why });
    }
    for (const { name, why } of facts.reads ?? []) {
      if (!env.has(name)) env.set(name, { name, required: false, fields: [], why });
    }

    const mine = all.filter((leaf) => ownerOf(leaf.path, deployed) === module);
    const calls = new Set<string>();
    for (const leaf of mine) {
      const value = withFallbacks(leaf.value);
      if (!/^https?:\/\//.test(value)) continue;
      try {
        calls.add(new URL(value).hostname);
      } catch {
        fail(`${formatPath(leaf.path)}: not a URL: ${value}`);
      }
    }
    return {
      module,
      service: module.service,
      ...(port !== undefined ? { port } : {}),
      opsPort: settings.opsPort as number,
      env: [...env.values()],
      calls: [...calls],
    };
  });
}

/** The NATS users of the plans: the provisioner, then one per service. */
export const natsUsers = (plans: ServicePlan[]) => ['provisioner', ...plans.map((p) => p.service)];

/**
 * `text` with the lines between `# BEGIN deploy:gen <name>` and `# END deploy:gen <name>`
 * replaced by `body` (the marker lines stay as they are).
 */
export function replaceRegion(text: string, name: string, body: string[], file: string): string {
  const lines = text.split('\n');
  const begin = lines.findIndex((l) => l.trim().startsWith(`# BEGIN deploy:gen ${name}`));
  const end = lines.findIndex((l, i) => i > begin && l.trim() === `# END deploy:gen ${name}`);
  if (begin < 0 || end < 0) {
    throw new DeployPlanError(
      `${file}: no "# BEGIN deploy:gen ${name}" … "# END deploy:gen ${name}" lines to fill`,
    );
  }
  lines.splice(begin + 1, end - begin - 1, ...body);
  return lines.join('\n');
}
