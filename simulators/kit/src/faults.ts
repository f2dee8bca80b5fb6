/**
 * The fault model every partner simulator shares: what a simulator can be told to do wrong to
 * the requests it gets, so the hub's retries, timeouts, breakers and version checks can be
 * exercised. One fault is one of four kinds:
 *
 * - `status`: answer with a status (default 503), optionally `Retry-After` and a body of choice;
 * - `hang`: never answer, or with `delayMs`, answer as usual but that much later;
 * - `reset`: destroy the connection with a TCP RST;
 * - `version`: handle the request as usual but answer with another API version header.
 *
 * A fault can be scoped to a gemeente, an API, a method and a path prefix (each absent = any),
 * and limited to the next `count` matching requests and/or `durationMs` from when it was added.
 * Faults apply in the order they were added: the first one that matches a request takes it, so
 * "two 503s, then a reset" is two faults.
 */

import { createAjv, toViolations } from '@ketenhub/contracts';
import type { Violation } from '@ketenhub/contracts';
import { ValidationError } from '@ketenhub/kit';

export const FAULT_KINDS = ['status', 'hang', 'reset', 'version'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export const FAULT_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/** Answered by a `status` fault that names no status. */
export const DEFAULT_FAULT_STATUS = 503;

export interface FaultScope {
  /** The gemeente the request is for, as the simulator names it (`gm0797`, `0797`). */
  gemeente?: string;
  /** The partner API the request belongs to (DUO: `PIP`, `MAP-PVT-Zroute`, ...). */
  api?: string;
  /** Upper case. */
  method?: string;
  /** The request's path is this or below it (`/v1/personen` matches `/v1/personen/1/PIP`). */
  path?: string;
}

interface FaultLimits {
  scope?: FaultScope;
  /** Only the next `count` matching requests. */
  count?: number;
  /** Only for this many milliseconds from when the fault was added. */
  durationMs?: number;
}

export type FaultAction =
  | {
      kind: 'status';
      /** 200–599; default 503. */
      status?: number;
      /** Sent as `Retry-After` (seconds). */
      retryAfterSeconds?: number;
      /** Sent as JSON instead of the simulator's own answer to a fault. */
      body?: unknown;
    }
  /** Without `delayMs` the request is never answered (until the simulator closes). */
  | { kind: 'hang'; delayMs?: number }
  | { kind: 'reset' }
  /** A version such as `1.3.0`, in the simulator's API version header. */
  | { kind: 'version'; apiVersion: string };

/** What a caller adds: `injectFault()` in-process, `POST /_sim/faults` over HTTP. */
export type FaultInput = FaultAction & FaultLimits;

/** A fault in a table, as `GET /_sim/faults` lists it and as a request that met it sees it. */
export type Fault = (
  | { kind: 'status'; status: number; retryAfterSeconds?: number; body?: unknown }
  | { kind: 'hang'; delayMs?: number }
  | { kind: 'reset' }
  | { kind: 'version'; apiVersion: string }
) & {
  id: number;
  scope: FaultScope;
  count?: number;
  durationMs?: number;
  /** Matching requests it still takes, when it has a `count`. */
  remaining?: number;
  /** When it stops, when it has a `durationMs`. */
  expiresAt?: string;
};

/** What a fault is matched against: the request, as the simulator reads it. */
export interface FaultTarget {
  method: string;
  /** Without the query string. */
  path: string;
  gemeente?: string;
  api?: string;
}

/** The values a scope key may take in one simulator; neither = any non-empty string. */
export interface ScopeRule {
  values?: readonly string[];
  /** A regular expression (JSON Schema `pattern`). */
  pattern?: string;
}

export interface FaultTableOptions {
  /**
   * The scopes this simulator can tell from a request besides method and path. A fault scoped
   * by a key not listed here would never match, so it is refused.
   */
  scopes?: { gemeente?: ScopeRule; api?: ScopeRule };
  /** Clock for `durationMs`; injectable for tests. */
  now?: () => number;
}

export interface FaultTable {
  /** Validates and appends a fault; throws a ValidationError naming each bad field. */
  add(input: unknown): Fault;
  /** The faults still active, in the order they apply. */
  list(): Fault[];
  clear(): void;
  /** The first active fault matching `target`, counted as used; undefined when none. */
  take(target: FaultTarget): Fault | undefined;
}

interface Entry {
  fault: Fault;
  remaining?: number;
  expiresAtMs?: number;
}

function scopeSchema(scopes: NonNullable<FaultTableOptions['scopes']>): object {
  const properties: Record<string, object> = {
    method: { type: 'string', enum: [...FAULT_METHODS] },
    path: { type: 'string', pattern: '^/' },
  };
  for (const key of ['gemeente', 'api'] as const) {
    const rule = scopes[key];
    if (!rule) continue;
    properties[key] = rule.values
      ? { type: 'string', enum: [...rule.values] }
      : { type: 'string', minLength: 1, ...(rule.pattern ? { pattern: rule.pattern } : {}) };
  }
  return { type: 'object', properties, additionalProperties: false };
}

function kindIs(kind: FaultKind): object {
  return { type: 'object', required: ['kind'], properties: { kind: { const: kind } } };
}

/**
 * JSON Schema of a fault in this simulator. `unevaluatedProperties` refuses a field of another
 * kind (a `status` on a `hang` fault) as well as a misspelt one, instead of ignoring it.
 */
function faultSchema(scopes: NonNullable<FaultTableOptions['scopes']>): object {
  return {
    type: 'object',
    required: ['kind'],
    properties: {
      kind: { type: 'string', enum: [...FAULT_KINDS] },
      scope: scopeSchema(scopes),
      count: { type: 'integer', minimum: 1 },
      durationMs: { type: 'integer', minimum: 1 },
    },
    allOf: [
      {
        if: kindIs('status'),
        then: {
          type: 'object',
          properties: {
            status: { type: 'integer', minimum: 200, maximum: 599 },
            retryAfterSeconds: { type: 'integer', minimum: 0 },
            body: true,
          },
        },
      },
      {
        if: kindIs('hang'),
        then: { type: 'object', properties: { delayMs: { type: 'integer', minimum: 1 } } },
      },
      {
        if: kindIs('version'),
        then: {
          type: 'object',
          required: ['apiVersion'],
          properties: { apiVersion: { type: 'string', pattern: '^[0-9]+\\.[0-9]+\\.[0-9]+$' } },
        },
      },
    ],
    unevaluatedProperties: false,
  };
}

/** Thrown by `add` for a fault this simulator cannot apply; `violations` name the fields. */
export class FaultInputError extends ValidationError {
  constructor(violations: Violation[]) {
    super(
      `invalid fault: ${violations.map((v) => `${v.field || '(fault)'} ${v.message}`).join('; ')}`,
      violations,
    );
  }
}

/**
 * A field that breaks its kind's rule is also left unevaluated by the failed branch; the rule
 * it broke is the one to report, not that it is "not allowed".
 */
function violationsOf(errors: Parameters<typeof toViolations>[0]): Violation[] {
  const all = toViolations(errors);
  const broken = new Set(all.filter((v) => v.rule !== 'additionalProperties').map((v) => v.field));
  return all.filter((v) => v.rule !== 'additionalProperties' || !broken.has(v.field));
}

function matches(scope: FaultScope, target: FaultTarget): boolean {
  if (scope.gemeente !== undefined && scope.gemeente !== target.gemeente) return false;
  if (scope.api !== undefined && scope.api !== target.api) return false;
  if (scope.method !== undefined && scope.method !== target.method.toUpperCase()) return false;
  if (scope.path !== undefined) {
    const prefix = scope.path.endsWith('/') ? scope.path : `${scope.path}/`;
    if (target.path !== scope.path && !target.path.startsWith(prefix)) return false;
  }
  return true;
}

export function createFaultTable(opts: FaultTableOptions = {}): FaultTable {
  const now = opts.now ?? Date.now;
  const validate = createAjv().compile(faultSchema(opts.scopes ?? {}));
  let entries: Entry[] = [];
  let nextId = 1;

  function view(e: Entry): Fault {
    return {
      ...structuredClone(e.fault),
      ...(e.remaining === undefined ? {} : { remaining: e.remaining }),
      ...(e.expiresAtMs === undefined ? {} : { expiresAt: new Date(e.expiresAtMs).toISOString() }),
    };
  }

  function prune(): void {
    const t = now();
    entries = entries.filter((e) => e.expiresAtMs === undefined || e.expiresAtMs > t);
  }

  return {
    add(input) {
      if (!validate(input)) throw new FaultInputError(violationsOf(validate.errors));
      const f = structuredClone(input) as FaultInput;
      const { scope = {}, count, durationMs } = f;
      const limits = {
        id: nextId++,
        scope,
        ...(count === undefined ? {} : { count }),
        ...(durationMs === undefined ? {} : { durationMs }),
      };
      let fault: Fault;
      switch (f.kind) {
        case 'status':
          fault = {
            kind: 'status',
            status: f.status ?? DEFAULT_FAULT_STATUS,
            ...(f.retryAfterSeconds === undefined
              ? {}
              : { retryAfterSeconds: f.retryAfterSeconds }),
            ...(f.body === undefined ? {} : { body: f.body }),
            ...limits,
          };
          break;
        case 'hang':
          fault = {
            kind: 'hang',
            ...(f.delayMs === undefined ? {} : { delayMs: f.delayMs }),
            ...limits,
          };
          break;
        case 'reset':
          fault = { kind: 'reset', ...limits };
          break;
        case 'version':
          fault = { kind: 'version', apiVersion: f.apiVersion, ...limits };
          break;
      }
      const entry: Entry = {
        fault,
        ...(count === undefined ? {} : { remaining: count }),
        ...(durationMs === undefined ? {} : { expiresAtMs: now() + durationMs }),
      };
      entries.push(entry);
      return view(entry);
    },
    list() {
      prune();
      return entries.map(view);
    },
    clear() {
      entries = [];
    },
    take(target) {
      prune();
      const e = entries.find((x) => matches(x.fault.scope, target));
      if (!e) return undefined;
      if (e.remaining !== undefined) {
        e.remaining -= 1;
        if (e.remaining === 0) entries = entries.filter((x) => x !== e);
      }
      return view(e);
    },
  };
}
