/**
 * Configuration: one YAML file for the whole hub, validated by a JSON Schema at start-up so a bad
 * value stops the process with its path instead of failing on the first message. Secrets are
 * not in the file: it says `${COA_API_KEY}` and the value comes from the environment.
 */

import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { createAjv, toViolations } from '@ketenhub/contracts';
import { ConfigError } from './errors.ts';

export interface LoadConfigOptions {
  /** Default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

// `${NAME}` or `${NAME:-default}`; `$${` stays a literal `${`.
const REFERENCE = /\$(\$)?\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

function joinPath(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  return base ? `${base}.${key}` : key;
}

function substitute(
  value: unknown,
  path: string,
  env: NodeJS.ProcessEnv,
  problems: string[],
): unknown {
  if (typeof value === 'string') {
    return value.replace(
      REFERENCE,
      (whole, escaped: string | undefined, name: string, fallback: string | undefined) => {
        if (escaped) return whole.slice(1);
        const set = env[name];
        // As in the shell: `:-` also applies when the variable is set but empty.
        if (set !== undefined && (set !== '' || fallback === undefined)) return set;
        if (fallback !== undefined) return fallback;
        problems.push(`${path || '(root)'}: environment variable ${name} is not set`);
        return '';
      },
    );
  }
  if (Array.isArray(value))
    return value.map((v, i) => substitute(v, joinPath(path, i), env, problems));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value))
      out[k] = substitute(v, joinPath(path, k), env, problems);
    return out;
  }
  return value;
}

/**
 * Reads, substitutes and validates a YAML config file. Every problem is reported at once, as
 * `<file>: <dotted path>: <message>`, in one ConfigError.
 *
 * Substituted values are strings; declare env-fed numbers in the schema as strings (or give them
 * a literal value in the file), since the hub's ajv does not coerce types.
 */
export function loadConfig<T>(file: string, schema: object, opts: LoadConfigOptions = {}): T {
  const env = opts.env ?? process.env;

  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${file}: cannot read config file: ${(err as Error).message}`, {
      cause: err,
    });
  }

  let raw: unknown;
  try {
    raw = parse(text, { prettyErrors: true });
  } catch (err) {
    throw new ConfigError(`${file}: not valid YAML: ${(err as Error).message}`, { cause: err });
  }

  const problems: string[] = [];
  const data = substitute(raw ?? {}, '', env, problems);
  if (problems.length > 0) {
    throw new ConfigError(
      `invalid configuration:\n${problems.map((p) => `${file}: ${p}`).join('\n')}`,
    );
  }

  const validate = createAjv().compile(schema);
  if (!validate(data)) {
    const violations = toViolations(validate.errors);
    const lines = violations.map((v) => `${file}: ${v.field || '(root)'}: ${v.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`, {
      field: violations[0]?.field,
      rule: violations[0]?.rule,
    });
  }
  return data as T;
}

/** A required environment variable; a missing or empty one is a ConfigError. */
export function requireEnv(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name];
  if (value === undefined || value === '') {
    throw new ConfigError(`environment variable ${name} is not set`, {
      field: name,
      rule: 'required',
    });
  }
  return value;
}
