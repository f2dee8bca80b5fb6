import { policies, type PolicySet } from '@ketenhub/contracts';

/**
 * The outbound side of data minimisation: a partner gets an event only when its policy lists
 * the event type, and then only the fields on the policy's allow-list. Everything else is
 * dropped here, before the partner schema (additionalProperties: false) checks the result.
 */

type Json = unknown;

interface PathTree {
  [segment: string]: PathTree | true;
}

function buildTree(paths: string[]): PathTree {
  const root: PathTree = {};
  for (const path of paths) {
    const segs = path.split('.');
    let node = root;
    segs.forEach((seg, i) => {
      if (node[seg] === true) return; // an ancestor is already allowed whole
      if (i === segs.length - 1) node[seg] = true;
      else node = (node[seg] ??= {}) as PathTree;
    });
  }
  return root;
}

/**
 * Deep copy of a JSON value, what events are made of; several times cheaper than
 * structuredClone for the small objects of an event (bench/README.md). Anything that is not a
 * plain object or array (a Date, a Map) still goes through structuredClone.
 */
function copyJson(value: Json): Json {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(copyJson);
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return structuredClone(value);
  const out: Record<string, Json> = {};
  for (const key of Object.keys(value)) {
    const v = copyJson((value as Record<string, Json>)[key]);
    // A parsed `__proto__` key is an own property; assigning it would set the prototype.
    if (key === '__proto__') {
      Object.defineProperty(out, key, { value: v, enumerable: true, writable: true });
    } else out[key] = v;
  }
  return out;
}

function projectValue(value: Json, tree: PathTree): Json {
  if (Array.isArray(value)) return value.map((v) => projectValue(v, tree));
  if (value === null || typeof value !== 'object') return undefined;
  const out: Record<string, Json> = {};
  for (const [key, sub] of Object.entries(tree)) {
    const v = (value as Record<string, Json>)[key];
    if (v === undefined) continue;
    if (sub === true) out[key] = copyJson(v);
    else {
      const projected = projectValue(v, sub);
      if (projected !== undefined) out[key] = projected;
    }
  }
  return out;
}

/** Keeps only the allowed dotted paths of `data`; a path allows its whole subtree. */
export function projectFields<T>(data: T, allowed: string[]): Partial<T> {
  return (projectValue(data, buildTree(allowed)) ?? {}) as Partial<T>;
}

/** The dotted leaf-or-allowed paths actually present in `data`, for category lookup. */
function presentAllowedPaths(data: Json, allowed: string[]): string[] {
  return allowed.filter((path) => {
    let cur: Json = data;
    for (const seg of path.split('.')) {
      if (Array.isArray(cur)) cur = cur.find((e) => e && typeof e === 'object' && seg in e);
      if (cur === null || typeof cur !== 'object') return false;
      cur = (cur as Record<string, Json>)[seg];
    }
    return cur !== undefined;
  });
}

export interface Disclosure<E> {
  /** The event as the partner may see it. */
  event: E;
  /** Processing activity (register id) this disclosure falls under. */
  activity: string;
  /** Data categories actually disclosed (only for fields present in this event). */
  categories: string[];
}

export interface Projector {
  readonly partner: string;
  /** Event types this partner may receive. */
  readonly eventTypes: string[];
  /** The partner's view of the event, or undefined when the partner may not receive it. */
  project<E extends { type: string; data: Json }>(event: E): Disclosure<E> | undefined;
}

export function createProjector(partner: string, set: PolicySet = policies()): Projector {
  const policy = set.policy(partner);
  const rules = new Map(
    Object.entries(policy.ontvangt).map(([type, rule]) => {
      const fields = Object.keys(rule.velden);
      return [type, { rule, fields, tree: buildTree(fields) }] as const;
    }),
  );
  return {
    partner,
    eventTypes: [...rules.keys()],
    project(event) {
      const entry = rules.get(event.type);
      if (!entry) return undefined;
      const data = projectValue(event.data, entry.tree) ?? {};
      const categories = [
        ...new Set(presentAllowedPaths(data, entry.fields).map((f) => entry.rule.velden[f]!)),
      ].sort();
      return { event: { ...event, data }, activity: entry.rule.activiteit, categories };
    },
  };
}

/**
 * Inbound side: a partner's credential is bound to the event types its policy says it
 * delivers (`levert`); anything else is refused before it is translated.
 */
export function mayProduce(partner: string, type: string, set: PolicySet = policies()): boolean {
  return set.policies.get(partner)?.levert.includes(type) ?? false;
}
