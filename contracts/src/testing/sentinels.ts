import fc from 'fast-check';
import { policies, type PolicySet } from '../policies.ts';
import { schemas, type SchemaRegistry } from '../registry.ts';
import { ITEM, eventDataArbitrary, schemaArbitrary, type SchemaSite } from './arbitrary.ts';

/**
 * Sentinels for AVG property tests: schema-valid event data with an unmistakable value in every
 * field a partner must never see, and a check that none of it (value or key) comes out on the
 * partner's side. What is forbidden is read from the contracts, so a new event type, field or
 * policy is covered without touching the tests:
 *
 * - by category: a field some policy files under a category the register does not let reach
 *   the partner (no activity naming it as recipient processes that category), unless the
 *   partner's own policy lets that field out under an allowed category;
 * - by name: any field, in any event type, named like a field filed under such a category
 *   (`bsn`, `iban`, `gezondheid`, ...) unless the partner's own data uses the name;
 * - by `$ref`: any field whose schema is a `$defs` entry only ever filed under such categories
 *   (`Bsn`, `Iban`, `BedragCent`, ...), so a renamed field is still caught;
 * - explicitly: field names the caller adds (e.g. the hub pseudonym a school must not get).
 *
 * Everything below a forbidden field is forbidden too.
 */

/** Plain text that fits most free-text and id patterns. */
export const SENTINEL_TEXT = 'SENTINEL-VERBODEN';

/** Tried in order against a string field's pattern and lengths; the first that fits is used. */
const STRING_SENTINELS = [
  SENTINEL_TEXT,
  'sentinel-verboden',
  'SENTINEL VERBODEN',
  'SENTINEL99',
  'SNTNL9',
  'sentinel',
  '999990019', // BSN-shaped (passes the elfproef), for ^[0-9]{9}$
  '0999990019', // V-nummer-shaped
  'NL91ABNA0417164300', // IBAN with valid check digits
  `ih-${'5e'.repeat(16)}`, // hub pseudonym-shaped
  `tr-${'5e'.repeat(16)}`, // traject pseudonym-shaped
  '1888-08', // a month (YYYY-MM)
  '9999ZZ', // a postcode
  '+31 999 990 019', // a phone number
];

/** By format; dates lie before 1900, which the generator never produces. */
const FORMAT_SENTINELS: Record<string, string> = {
  date: '1888-08-08',
  'date-time': '1888-08-08T08:08:08.888Z',
  uuid: '5e5e5e5e-5e5e-4e5e-8e5e-5e5e5e5e5e5e',
  email: 'sentinel@verboden.example',
  uri: 'https://sentinel.verboden.example/',
};

/** Amounts nobody types by accident. */
const INTEGER_SENTINELS = [987654, 98765, 9876];
const NUMBER_SENTINELS = [987654.25, 987.65, 98.76];

const num = (v: unknown) => (typeof v === 'number' ? v : undefined);

/**
 * A distinctive value that is valid for the leaf schema `schema` (after `$ref`s), or
 * undefined when no such value exists (an enum, a boolean, a small range): such a field is then
 * only checked by its key.
 */
export function sentinelFor(schema: Record<string, unknown>): string | number | undefined {
  if ('enum' in schema || 'const' in schema) return undefined;
  const type = schema.type;
  const isString =
    type === 'string' || (type === undefined && ('pattern' in schema || 'format' in schema));
  if (isString) {
    const min = num(schema.minLength) ?? 0;
    const max = num(schema.maxLength) ?? Infinity;
    const fits = (s: string) => [...s].length >= min && [...s].length <= max;
    if (typeof schema.format === 'string') {
      const s = FORMAT_SENTINELS[schema.format];
      return s !== undefined && fits(s) && schema.pattern === undefined ? s : undefined;
    }
    if (typeof schema.pattern === 'string') {
      const re = new RegExp(schema.pattern, 'u');
      return STRING_SENTINELS.find((s) => re.test(s) && fits(s));
    }
    if (max < 4) return undefined;
    const s = SENTINEL_TEXT.slice(0, max);
    return s + '-'.repeat(Math.max(0, min - s.length));
  }
  if (type === 'integer' || type === 'number') {
    const fits = (v: number) =>
      (num(schema.minimum) === undefined || v >= num(schema.minimum)!) &&
      (num(schema.maximum) === undefined || v <= num(schema.maximum)!) &&
      (num(schema.exclusiveMinimum) === undefined || v > num(schema.exclusiveMinimum)!) &&
      (num(schema.exclusiveMaximum) === undefined || v < num(schema.exclusiveMaximum)!) &&
      (num(schema.multipleOf) === undefined || Number.isInteger(v / num(schema.multipleOf)!));
    const candidates =
      type === 'integer' ? INTEGER_SENTINELS : [...NUMBER_SENTINELS, ...INTEGER_SENTINELS];
    return candidates.find(fits);
  }
  return undefined;
}

/** A field of an event type that the partner must never see. */
export interface ForbiddenSite {
  /** Data path, `[]` for array elements: `vasteLasten[].iban`. */
  path: string;
  /** Why it is forbidden (category, name, $ref or explicit). */
  why: string;
  /** The value planted there, when the schema admits a distinctive one. */
  sentinel?: string | number;
}

/** A sentinel found in generated data. */
export interface Planted {
  /** Where, with indices: `vasteLasten[1].iban`. */
  path: string;
  value: string | number;
}

export interface PrivacyPlanOptions {
  partner: string;
  /** Field names that must never reach the partner, on top of what the contracts say. */
  forbiddenFields?: string[];
  /** Schemas of what the partner is sent: their property names are its own, not forbidden. */
  ownSchemas?: string[];
  set?: PolicySet;
  registry?: SchemaRegistry;
}

export interface PrivacyPlan {
  readonly partner: string;
  /** Register categories no activity naming the partner as recipient processes. */
  readonly forbiddenCategories: readonly string[];
  /** Keys that must not occur anywhere in what the partner gets. */
  readonly forbiddenKeys: ReadonlySet<string>;
  /** `$defs` entries (`id#pointer`) only ever filed under forbidden categories. */
  readonly forbiddenDefs: ReadonlySet<string>;
  /** Schema-valid data of `type` with a sentinel in every forbidden field that can hold one. */
  arbitrary(type: string): fc.Arbitrary<Record<string, unknown>>;
  /** The forbidden fields of `type`, in schema order. */
  sites(type: string): ForbiddenSite[];
  /** The sentinels in a generated `data` of `type` (optional fields may be absent). */
  planted(type: string, data: unknown): Planted[];
  /** What of `planted` or of the forbidden keys occurs in `output`: empty when nothing leaked. */
  leaks(output: unknown, planted: Planted[]): string[];
  /**
   * Fields the partner's policy lets out under an allowed category that another policy files
   * (itself, above or below) under a forbidden one: the sweep does not plant there, so each is
   * a decision a test should list and a reviewer see.
   */
  recategorised(): string[];
}

interface Site {
  path: readonly string[];
  refs: readonly string[];
  direct: string | undefined;
  schema: Record<string, unknown>;
}

const dotted = (path: readonly string[]) => path.filter((s) => s !== ITEM).join('.');
const display = (path: readonly string[]) => path.join('.').replaceAll(`.${ITEM}`, ITEM);
const within = (path: string, field: string) => path === field || path.startsWith(`${field}.`);

/** Every node the generator visits in a schema, with its data path and `$ref` chain. */
function sitesOf(arbitrary: (override: (s: SchemaSite) => undefined) => unknown): Site[] {
  const out: Site[] = [];
  arbitrary((s) => {
    const direct = `${s.schemaId}#${s.pointer}`;
    out.push({
      path: s.path,
      refs: s.refs,
      direct: s.refs.at(-1) === direct ? direct : undefined,
      schema: s.schema,
    });
    return undefined;
  });
  return out;
}

/** Every leaf (string or number) of a JSON value, with its path. */
function leaves(value: unknown, path = ''): Planted[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => leaves(v, `${path}[${i}]`));
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => leaves(v, path ? `${path}.${k}` : k));
  }
  return typeof value === 'string' || typeof value === 'number' ? [{ path, value }] : [];
}

/** Every key of a JSON value, with its path. */
function keys(value: unknown, path = ''): { key: string; path: string }[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => keys(v, `${path}[${i}]`));
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => {
      const p = path ? `${path}.${k}` : k;
      return [{ key: k, path: p }, ...keys(v, p)];
    });
  }
  return [];
}

export function privacyPlan(options: PrivacyPlanOptions): PrivacyPlan {
  const set = options.set ?? policies();
  const registry = options.registry ?? schemas();
  const { partner } = options;
  const own = set.policy(partner).ontvangt;

  const allowed = new Set(
    set.register.activiteiten
      .filter((a) => a.ontvangers.includes(partner))
      .flatMap((a) => a.categorieen),
  );
  const forbiddenCategories = Object.keys(set.register.categorieen)
    .filter((c) => !allowed.has(c))
    .sort();
  const isForbidden = (c: string) => !allowed.has(c);

  /** Categories of the policy fields at or above `path` of `type`, over all partners. */
  const categoriesAt = (type: string, path: string) =>
    new Set(
      [...set.policies.values()].flatMap((p) =>
        Object.entries(p.ontvangt[type]?.velden ?? {})
          .filter(([field]) => within(path, field))
          .map(([, c]) => c),
      ),
    );
  const ownAllows = (type: string, path: string) =>
    Object.entries(own[type]?.velden ?? {}).some(
      ([field, c]) => within(path, field) && !isForbidden(c),
    );

  const types = registry.eventTypes();
  const allSites = new Map(
    types.map((t) => [t, sitesOf((override) => eventDataArbitrary(t, { registry, override }))]),
  );

  const defCategories = new Map<string, Set<string>>();
  for (const [type, sites] of allSites) {
    for (const s of sites) {
      if (!s.direct) continue;
      const cats = defCategories.get(s.direct) ?? new Set();
      for (const c of categoriesAt(type, dotted(s.path))) cats.add(c);
      defCategories.set(s.direct, cats);
    }
  }
  const forbiddenDefs = new Set(
    [...defCategories]
      .filter(([, cats]) => cats.size > 0 && [...cats].every(isForbidden))
      .map(([def]) => def),
  );

  const ownKeys = new Set(
    Object.values(own).flatMap((rule) => Object.keys(rule.velden).flatMap((f) => f.split('.'))),
  );
  for (const id of options.ownSchemas ?? []) {
    for (const s of sitesOf((override) => schemaArbitrary(id, { registry, override }))) {
      for (const seg of s.path) if (seg !== ITEM) ownKeys.add(seg);
    }
  }
  const explicit = new Set(options.forbiddenFields ?? []);
  const forbiddenKeys = new Set([
    ...[...set.policies.values()]
      .flatMap((p) => Object.values(p.ontvangt))
      .flatMap((rule) => Object.entries(rule.velden))
      .filter(([, c]) => isForbidden(c))
      .map(([field]) => field.split('.').at(-1)!)
      .filter((k) => !ownKeys.has(k)),
    ...explicit,
  ]);

  const why = (type: string, site: SchemaSite): string | undefined => {
    const path = dotted(site.path);
    const segs = site.path.filter((s) => s !== ITEM);
    const cats = [...categoriesAt(type, path)].filter(isForbidden);
    if (cats.length > 0 && !ownAllows(type, path)) return `category ${cats.join(', ')}`;
    const named = segs.find((s) => explicit.has(s) || forbiddenKeys.has(s));
    if (named) return `name ${named}`;
    const def = site.refs.find((r) => forbiddenDefs.has(r));
    if (def) return `$ref ${def}`;
    return undefined;
  };

  const built = new Map<
    string,
    { arb: fc.Arbitrary<Record<string, unknown>>; sites: ForbiddenSite[] }
  >();
  const build = (type: string) => {
    let b = built.get(type);
    if (!b) {
      const sites: ForbiddenSite[] = [];
      const arb = eventDataArbitrary(type, {
        registry,
        override: (site) => {
          const reason = why(type, site);
          if (!reason) return undefined;
          const sentinel = sentinelFor(site.schema);
          sites.push({
            path: display(site.path),
            why: reason,
            ...(sentinel !== undefined ? { sentinel } : {}),
          });
          return sentinel === undefined ? undefined : fc.constant(sentinel);
        },
      });
      b = { arb, sites };
      built.set(type, b);
    }
    return b;
  };

  return {
    partner,
    forbiddenCategories,
    forbiddenKeys,
    forbiddenDefs,
    arbitrary: (type) => build(type).arb,
    sites: (type) => build(type).sites,
    planted(type, data) {
      const sentinels = new Map(
        build(type)
          .sites.filter((s) => s.sentinel !== undefined)
          .map((s) => [s.path, s.sentinel]),
      );
      return leaves(data).filter(
        (l) => sentinels.get(l.path.replace(/\[\d+\]/g, ITEM)) === l.value,
      );
    },
    recategorised() {
      const out: string[] = [];
      for (const [type, rule] of Object.entries(own)) {
        for (const [field, category] of Object.entries(rule.velden)) {
          if (isForbidden(category)) continue;
          const elsewhere = new Set(
            [...set.policies.values()]
              .filter((p) => p.partner !== partner)
              .flatMap((p) => Object.entries(p.ontvangt[type]?.velden ?? {}))
              .filter(([f, c]) => (within(field, f) || within(f, field)) && isForbidden(c))
              .map(([, c]) => c),
          );
          if (elsewhere.size > 0) {
            out.push(`${type} ${field}: ${category} here, ${[...elsewhere].join(', ')} elsewhere`);
          }
        }
      }
      return out.sort();
    },
    leaks(output, planted) {
      const found: string[] = [];
      for (const k of keys(output)) {
        if (forbiddenKeys.has(k.key)) found.push(`forbidden key ${k.key} at ${k.path}`);
      }
      for (const l of leaves(output)) {
        for (const p of planted) {
          const hit =
            typeof p.value === 'string' && typeof l.value === 'string'
              ? l.value.includes(p.value)
              : p.value === l.value;
          if (hit) found.push(`sentinel ${JSON.stringify(p.value)} of ${p.path} at ${l.path}`);
        }
      }
      return found;
    },
  };
}
