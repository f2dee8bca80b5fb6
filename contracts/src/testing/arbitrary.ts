import fc from 'fast-check';
import type { ValidateFunction } from 'ajv';
import { createAjv } from '../ajv.ts';
import { schemas, type SchemaRegistry } from '../registry.ts';

/**
 * fast-check arbitraries of schema-VALID values, read from the registered JSON Schemas, so
 * property tests can sweep the whole event catalogue (whatever it holds when they run) with data
 * every edge would accept, instead of random objects that the schema refuses before the code
 * under test ever sees them.
 *
 * Lives under contracts/src/testing and is reachable only as `@ketenhub/contracts/testing`: the
 * generator belongs next to the schemas it reads (one place that knows the keywords), and
 * keeping it off the `.` entry means production code never loads fast-check, which stays a
 * devDependency of the workspace root.
 *
 * Valid by construction for the keywords the event schemas use; where validity cannot be
 * constructed (allOf, anyOf/oneOf next to other keywords, if/then/else, a length next to a
 * pattern or format) candidates are checked with ajv and retried a bounded number of times.
 * Anything it does not understand throws an {@link UnsupportedSchemaError} naming the schema
 * and JSON pointer: it never produces data it has not made sure of.
 */

type Schema = Record<string, unknown>;

/** The data-path segment of an array element in {@link SchemaSite.path}. */
export const ITEM = '[]';

export class UnsupportedSchemaError extends Error {
  override readonly name = 'UnsupportedSchemaError';
  readonly retryable = false;
  /** `$id` of the schema document. */
  readonly schemaId: string;
  /** JSON pointer inside that document of the construct that cannot be generated. */
  readonly pointer: string;

  constructor(schemaId: string, pointer: string, reason: string, options?: { cause?: unknown }) {
    super(`${schemaId}#${pointer}: ${reason}`, options);
    this.schemaId = schemaId;
    this.pointer = pointer;
  }
}

/** Where the generator stands, as handed to {@link ArbitraryOptions.override}. */
export interface SchemaSite {
  /** `$id` of the document holding the node. */
  schemaId: string;
  /** JSON pointer of the node in that document (after following `$ref`s). */
  pointer: string;
  /** The node itself. */
  schema: Schema;
  /** Data path: property names, and {@link ITEM} for an array element. */
  path: readonly string[];
  /** `$ref` targets followed from the root to here (absolute, `id#pointer`). */
  refs: readonly string[];
}

export interface ArbitraryOptions {
  registry?: SchemaRegistry;
  /**
   * Replaces the arbitrary of one node (e.g. a sentinel in a field a partner must never see).
   * Called for every node that gets generated; `undefined` keeps the schema's own. What it
   * returns is not checked here: validate the generated value when it matters.
   */
  override?: (site: SchemaSite) => fc.Arbitrary<unknown> | undefined;
  /** Longest array when the schema sets no `maxItems` (default 5). */
  maxItems?: number;
  /** Candidates tried before a checked (filtered) construct gives up (default 1000). */
  maxTries?: number;
}

const ANNOTATIONS = new Set([
  '$schema',
  '$id',
  '$comment',
  '$defs',
  'title',
  'description',
  'default',
  'examples',
  'deprecated',
  'readOnly',
  'writeOnly',
]);
const isAnnotation = (k: string) => ANNOTATIONS.has(k) || k.startsWith('x-');

const COMBINATORS = ['allOf', 'anyOf', 'oneOf', 'if', 'then', 'else'] as const;

/** Every keyword that is generated; anything else is refused with its pointer. */
const SUPPORTED = new Set<string>([
  '$ref',
  'type',
  'enum',
  'const',
  'minLength',
  'maxLength',
  'pattern',
  'format',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'properties',
  'required',
  'additionalProperties',
  'minProperties',
  'maxProperties',
  'items',
  'minItems',
  'maxItems',
  'uniqueItems',
  ...COMBINATORS,
]);

const TYPES = ['string', 'integer', 'number', 'boolean', 'null', 'object', 'array'] as const;
type JsonType = (typeof TYPES)[number];

// Dates stay within 1900–2099: a test can then use a date outside it as a sentinel.
const MIN_DATE = new Date('1900-01-01T00:00:00.000Z');
const MAX_DATE = new Date('2099-12-31T23:59:59.999Z');
const dateTime = fc
  .date({ min: MIN_DATE, max: MAX_DATE, noInvalidDate: true })
  .map((d) => d.toISOString());

const FORMATS: Record<string, fc.Arbitrary<string>> = {
  date: dateTime.map((s) => s.slice(0, 10)),
  'date-time': dateTime,
  uuid: fc.uuid(),
  email: fc.emailAddress({ size: 'small' }),
  uri: fc.webUrl({ size: 'small' }),
};

/** Where a keyword or subschema came from, for error messages and for ajv look-ups. */
interface Loc {
  id: string;
  pointer: string;
}

const escapeSeg = (s: string) => s.replaceAll('~', '~0').replaceAll('/', '~1');
const child = (loc: Loc, ...segs: (string | number)[]): Loc => ({
  id: loc.id,
  pointer: loc.pointer + segs.map((s) => `/${escapeSeg(String(s))}`).join(''),
});

/** Length in code points, as JSON Schema (and ajv) counts it. */
const codePoints = (s: string) => [...s].length;

/** The keywords of one or more schema nodes that must all hold (allOf, a oneOf branch, then). */
interface Merged {
  keywords: Map<string, { value: unknown; loc: Loc }>;
  /** Per property, every subschema that must hold for it (several under allOf, if/then). */
  properties: Map<string, { schema: unknown; loc: Loc }[]>;
  required: Set<string>;
}

/**
 * A filter that gives up: fast-check's own `filter` retries for ever when nothing can pass,
 * which would hang a test instead of telling which schema construct is the problem.
 */
class CheckedArbitrary<T> extends fc.Arbitrary<T> {
  readonly #arb: fc.Arbitrary<T>;
  readonly #ok: (v: T) => boolean;
  readonly #tries: number;
  readonly #where: () => UnsupportedSchemaError;

  constructor(
    arb: fc.Arbitrary<T>,
    ok: (v: T) => boolean,
    tries: number,
    where: () => UnsupportedSchemaError,
  ) {
    super();
    this.#arb = arb;
    this.#ok = ok;
    this.#tries = tries;
    this.#where = where;
  }

  override generate(mrng: fc.Random, biasFactor: number | undefined): fc.Value<T> {
    for (let i = 0; i < this.#tries; i++) {
      const v = this.#arb.generate(mrng, biasFactor);
      if (this.#ok(v.value)) return v;
    }
    throw this.#where();
  }

  override canShrinkWithoutContext(value: unknown): value is T {
    return this.#arb.canShrinkWithoutContext(value) && this.#ok(value);
  }

  override shrink(value: T, context: unknown): fc.Stream<fc.Value<T>> {
    return this.#arb.shrink(value, context).filter((v) => this.#ok(v.value));
  }
}

class Builder {
  readonly #registry: SchemaRegistry;
  readonly #override: ArbitraryOptions['override'];
  readonly #maxItems: number;
  readonly #maxTries: number;
  #ajv: ReturnType<typeof createAjv> | undefined;
  readonly #validators = new Map<string, ValidateFunction>();

  constructor(options: ArbitraryOptions) {
    this.#registry = options.registry ?? schemas();
    this.#override = options.override;
    this.#maxItems = options.maxItems ?? 5;
    this.#maxTries = options.maxTries ?? 1000;
  }

  unsupported(loc: Loc, reason: string, cause?: unknown): UnsupportedSchemaError {
    return new UnsupportedSchemaError(loc.id, loc.pointer, reason, cause ? { cause } : undefined);
  }

  /**
   * ajv for a node inside a document (`id#pointer`), for the constructs checked rather than
   * built; its own instance, since the registry compiles documents, not their inner nodes.
   */
  validator(loc: Loc): ValidateFunction {
    const key = `${loc.id}#${loc.pointer}`;
    let validate = this.#validators.get(key);
    if (!validate) {
      if (!this.#ajv) {
        this.#ajv = createAjv();
        this.#ajv.addVocabulary(['x-event-type']);
        for (const e of this.#registry.entries()) this.#ajv.addSchema(e.schema);
      }
      validate = this.#ajv.getSchema(key);
      if (!validate) throw this.unsupported(loc, 'ajv cannot compile this node');
      this.#validators.set(key, validate);
    }
    return validate;
  }

  checked<T>(arb: fc.Arbitrary<T>, ok: (v: T) => boolean, loc: Loc, what: string) {
    return new CheckedArbitrary(arb, ok, this.#maxTries, () =>
      this.unsupported(loc, `no value satisfying ${what} in ${this.#maxTries} tries`),
    );
  }

  /** The node a `$ref` points to, with its location. */
  resolve(from: Loc, ref: string): { schema: unknown; loc: Loc; key: string } {
    const url = new URL(ref, from.id);
    const id = url.href.replace(/#.*$/, '');
    let doc: unknown;
    try {
      doc = this.#registry.byId(id).schema;
    } catch (err) {
      throw this.unsupported(from, `$ref ${ref}: no registered schema ${id}`, err);
    }
    const pointer = decodeURIComponent(url.hash.replace(/^#/, ''));
    if (pointer !== '' && !pointer.startsWith('/')) {
      throw this.unsupported(from, `$ref ${ref}: anchors are not supported, only JSON pointers`);
    }
    let node = doc;
    for (const seg of pointer.split('/').slice(1)) {
      const key = seg.replaceAll('~1', '/').replaceAll('~0', '~');
      if (!node || typeof node !== 'object' || !(key in node)) {
        throw this.unsupported(from, `$ref ${ref} does not resolve`);
      }
      node = (node as Record<string, unknown>)[key];
    }
    return { schema: node, loc: { id, pointer }, key: `${id}#${pointer}` };
  }

  /** Follows a chain of `$ref`s (whose siblings may only be annotations) to a real node. */
  deref(
    schema: unknown,
    loc: Loc,
    refs: readonly string[],
  ): { schema: Schema; loc: Loc; refs: readonly string[] } {
    let cur = { schema, loc, refs };
    for (;;) {
      const node = cur.schema;
      if (node === true || node === false || !node || typeof node !== 'object') {
        throw this.unsupported(
          cur.loc,
          node === true
            ? 'the schema `true` allows any value; say what to generate'
            : node === false
              ? 'the schema `false` allows no value'
              : 'not a schema object',
        );
      }
      const s = node as Schema;
      if (typeof s.$id === 'string' && cur.loc.pointer !== '') {
        throw this.unsupported(cur.loc, 'an embedded $id is not supported');
      }
      if (s.$ref === undefined) return { schema: s, loc: cur.loc, refs: cur.refs };
      if (typeof s.$ref !== 'string')
        throw this.unsupported(child(cur.loc, '$ref'), 'not a string');
      const extra = Object.keys(s).find((k) => k !== '$ref' && !isAnnotation(k));
      if (extra) {
        throw this.unsupported(child(cur.loc, extra), `"${extra}" next to $ref is not supported`);
      }
      const target = this.resolve(cur.loc, s.$ref);
      if (cur.refs.includes(target.key)) {
        throw this.unsupported(cur.loc, `recursive $ref ${s.$ref} is not supported`);
      }
      cur = { schema: target.schema, loc: target.loc, refs: [...cur.refs, target.key] };
    }
  }

  /** The arbitrary of the node at `loc`, for the data at `path`. */
  build(
    schema: unknown,
    loc: Loc,
    path: readonly string[],
    refs: readonly string[],
  ): fc.Arbitrary<unknown> {
    const site = this.deref(schema, loc, refs);
    const replaced = this.overridden(site, path);
    if (replaced) return replaced;
    const node = site.schema;
    for (const k of Object.keys(node)) {
      if (!isAnnotation(k) && !SUPPORTED.has(k)) {
        throw this.unsupported(child(site.loc, k), `unsupported keyword "${k}"`);
      }
    }
    if (!COMBINATORS.some((k) => k in node)) {
      return this.generate(
        this.merge([{ schema: node, loc: site.loc }]),
        site.loc,
        path,
        site.refs,
      );
    }
    return this.combined(node, site.loc, path, site.refs);
  }

  overridden(
    site: { schema: Schema; loc: Loc; refs: readonly string[] },
    path: readonly string[],
  ): fc.Arbitrary<unknown> | undefined {
    return this.#override?.({
      schemaId: site.loc.id,
      pointer: site.loc.pointer,
      schema: site.schema,
      path,
      refs: site.refs,
    });
  }

  /** A property several combined schemas define: all of them must hold. */
  intersect(
    parts: { schema: unknown; loc: Loc }[],
    path: readonly string[],
    refs: readonly string[],
  ): fc.Arbitrary<unknown> {
    const sites = parts.map((p) => this.deref(p.schema, p.loc, refs));
    const replaced = this.overridden(sites[0]!, path);
    if (replaced) return replaced;
    const arb = this.generate(this.merge(sites), sites[0]!.loc, path, refs);
    const validators = parts.map((p) => this.validator(p.loc));
    return this.checked(
      arb,
      (v) => validators.every((validate) => validate(v) === true),
      parts[0]!.loc,
      'every schema of the property',
    );
  }

  /**
   * allOf / anyOf / oneOf / if-then-else: candidates are built from the node's own keywords
   * merged with those of the branch that should hold, then checked against the whole node.
   */
  combined(
    node: Schema,
    loc: Loc,
    path: readonly string[],
    refs: readonly string[],
  ): fc.Arbitrary<unknown> {
    const list = (k: 'allOf' | 'anyOf' | 'oneOf'): { schema: Schema; loc: Loc }[] => {
      const v = node[k];
      if (v === undefined) return [];
      if (!Array.isArray(v) || v.length === 0) {
        throw this.unsupported(child(loc, k), `${k} must be a non-empty array`);
      }
      return v.map((b, i) => {
        const d = this.deref(b, child(loc, k, i), refs);
        return { schema: d.schema, loc: d.loc };
      });
    };
    const own = Object.fromEntries(
      Object.entries(node).filter(([k]) => !(COMBINATORS as readonly string[]).includes(k)),
    );
    const base = [{ schema: own, loc }, ...list('allOf')];
    const anyOf = list('anyOf');
    const oneOf = list('oneOf');
    if (anyOf.length > 0 && oneOf.length > 0) {
      throw this.unsupported(loc, 'anyOf together with oneOf is not supported');
    }
    let variants: { schema: Schema; loc: Loc }[][] = [base];
    const union = anyOf.length > 0 ? anyOf : oneOf;
    if (union.length > 0) variants = union.map((b) => [...base, b]);
    if ('then' in node || 'else' in node) {
      if (!('if' in node)) throw this.unsupported(loc, 'then/else without if');
      const part = (k: 'if' | 'then' | 'else') =>
        k in node ? [this.deref(node[k], child(loc, k), refs)] : [];
      variants = variants.flatMap((v) => [
        [...v, ...part('if'), ...part('then')],
        [...v, ...part('else')],
      ]);
    }
    const candidates = variants.map((parts) => this.generate(this.merge(parts), loc, path, refs));
    const validate = this.validator(loc);
    const arb = candidates.length === 1 ? candidates[0]! : fc.oneof(...candidates);
    return this.checked(arb, (v) => validate(v) === true, loc, 'allOf/anyOf/oneOf/if');
  }

  /** The keywords of several nodes that must all hold; a conflict is refused. */
  merge(parts: { schema: Schema; loc: Loc }[]): Merged {
    const merged: Merged = { keywords: new Map(), properties: new Map(), required: new Set() };
    for (const { schema, loc } of parts) {
      for (const [k, value] of Object.entries(schema)) {
        if (isAnnotation(k)) continue;
        if ((COMBINATORS as readonly string[]).includes(k) && parts.length > 1) {
          throw this.unsupported(child(loc, k), `nested ${k} inside a combinator is not supported`);
        }
        if (!SUPPORTED.has(k)) throw this.unsupported(child(loc, k), `unsupported keyword "${k}"`);
        if (k === '$ref') {
          throw this.unsupported(child(loc, k), '$ref next to a combinator is not supported');
        }
        if (k === 'required') {
          if (!Array.isArray(value)) throw this.unsupported(child(loc, k), 'not an array');
          for (const r of value) merged.required.add(String(r));
        } else if (k === 'properties') {
          for (const [name, sub] of Object.entries(value as Schema)) {
            const list = merged.properties.get(name) ?? [];
            list.push({ schema: sub, loc: child(loc, k, name) });
            merged.properties.set(name, list);
          }
        } else {
          const prev = merged.keywords.get(k);
          if (prev && JSON.stringify(prev.value) !== JSON.stringify(value)) {
            throw this.unsupported(child(loc, k), `"${k}" conflicts with ${prev.loc.pointer}`);
          }
          merged.keywords.set(k, { value, loc: child(loc, k) });
        }
      }
    }
    return merged;
  }

  generate(
    m: Merged,
    loc: Loc,
    path: readonly string[],
    refs: readonly string[],
  ): fc.Arbitrary<unknown> {
    const kw = (k: string) => m.keywords.get(k)?.value;
    const types = this.types(m, loc);

    if (m.keywords.has('const') || m.keywords.has('enum')) {
      const values = m.keywords.has('const') ? [kw('const')] : kw('enum');
      if (!Array.isArray(values) || values.length === 0) {
        throw this.unsupported(at(m, loc, 'enum'), 'enum must be a non-empty array');
      }
      const others = [...m.keywords.keys()].filter((k) => !['const', 'enum', 'type'].includes(k));
      if (others.length > 0 || m.properties.size > 0 || m.required.size > 0) {
        throw this.unsupported(
          at(m, loc, others[0] ?? 'properties'),
          `"${others[0] ?? 'properties'}" next to enum/const is not supported`,
        );
      }
      const fitting = values.filter((v) => !types || hasType(v, types));
      if (fitting.length === 0) {
        throw this.unsupported(at(m, loc, 'type'), 'no enum/const value has the type');
      }
      const arb = fitting.length === 1 ? fc.constant(fitting[0]) : fc.constantFrom(...fitting);
      // An object or array value is copied, so a test that changes it cannot spoil later runs.
      return fitting.some((v) => v !== null && typeof v === 'object')
        ? arb.map((v) => structuredClone(v))
        : arb;
    }
    if (!types) {
      throw this.unsupported(loc, 'no type, enum or const: cannot tell what to generate');
    }
    const arbs = types.map((t) => this.ofType(t, m, loc, path, refs));
    return arbs.length === 1 ? arbs[0]! : fc.oneof(...arbs);
  }

  /** The declared types, or the one the keywords imply (`properties` → object, ...). */
  types(m: Merged, loc: Loc): JsonType[] | undefined {
    const declared = m.keywords.get('type');
    if (declared) {
      const list = Array.isArray(declared.value) ? declared.value : [declared.value];
      for (const t of list) {
        if (!(TYPES as readonly unknown[]).includes(t)) {
          throw this.unsupported(declared.loc, `unknown type ${String(t)}`);
        }
      }
      // integer ⊂ number: generating both would only weight integers twice.
      const types = list as JsonType[];
      return types.includes('number') ? types.filter((t) => t !== 'integer') : types;
    }
    const has = (...ks: string[]) => ks.some((k) => m.keywords.has(k));
    const implied = new Set<JsonType>();
    if (m.properties.size > 0 || m.required.size > 0 || has('additionalProperties')) {
      implied.add('object');
    }
    if (has('minProperties', 'maxProperties')) implied.add('object');
    if (has('items', 'minItems', 'maxItems', 'uniqueItems')) implied.add('array');
    if (has('pattern', 'format', 'minLength', 'maxLength')) implied.add('string');
    if (has('minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf')) {
      implied.add('number');
    }
    if (implied.size === 1) return [...implied];
    if (implied.size > 1) {
      throw this.unsupported(loc, `no type, and keywords of several types (${[...implied]})`);
    }
    return undefined;
  }

  ofType(
    t: JsonType,
    m: Merged,
    loc: Loc,
    path: readonly string[],
    refs: readonly string[],
  ): fc.Arbitrary<unknown> {
    switch (t) {
      case 'null':
        return fc.constant(null);
      case 'boolean':
        return fc.boolean();
      case 'string':
        return this.string(m, loc);
      case 'integer':
      case 'number':
        return this.number(t, m, loc);
      case 'object':
        return this.object(m, loc, path, refs);
      case 'array':
        return this.array(m, loc, path, refs);
    }
  }

  nonNegative(m: Merged, k: string): number | undefined {
    const e = m.keywords.get(k);
    if (!e) return undefined;
    if (!Number.isInteger(e.value) || (e.value as number) < 0) {
      throw this.unsupported(e.loc, `${k} must be a non-negative integer`);
    }
    return e.value as number;
  }

  string(m: Merged, loc: Loc): fc.Arbitrary<string> {
    const minLength = this.nonNegative(m, 'minLength') ?? 0;
    const maxLength = this.nonNegative(m, 'maxLength');
    if (maxLength !== undefined && maxLength < minLength) {
      throw this.unsupported(loc, 'maxLength below minLength: no string fits');
    }
    const pattern = m.keywords.get('pattern');
    const format = m.keywords.get('format');
    if (pattern && format) {
      throw this.unsupported(format.loc, 'pattern together with format is not supported');
    }
    let arb: fc.Arbitrary<string>;
    if (format) {
      const f = FORMATS[String(format.value)];
      if (!f) throw this.unsupported(format.loc, `unsupported format "${String(format.value)}"`);
      arb = f;
    } else if (pattern) {
      try {
        arb = fc.stringMatching(new RegExp(String(pattern.value), 'u'));
      } catch (err) {
        throw this.unsupported(pattern.loc, `pattern not supported by fc.stringMatching`, err);
      }
    } else {
      // Mostly ASCII, now and then any code point: lengths count code points either way.
      const c = { minLength, ...(maxLength !== undefined ? { maxLength } : {}) };
      return fc.oneof(
        { weight: 4, arbitrary: fc.string({ ...c, unit: 'grapheme-ascii' }) },
        { weight: 1, arbitrary: fc.string({ ...c, unit: 'binary' }) },
      );
    }
    if (minLength === 0 && maxLength === undefined) return arb;
    const fits = (s: string) => {
      const n = codePoints(s);
      return n >= minLength && (maxLength === undefined || n <= maxLength);
    };
    return this.checked(arb, fits, loc, 'minLength/maxLength');
  }

  number(t: 'integer' | 'number', m: Merged, loc: Loc): fc.Arbitrary<number> {
    const num = (k: string): number | undefined => {
      const e = m.keywords.get(k);
      if (!e) return undefined;
      if (typeof e.value !== 'number' || !Number.isFinite(e.value)) {
        throw this.unsupported(e.loc, `${k} must be a finite number`);
      }
      return e.value;
    };
    const minimum = num('minimum');
    const maximum = num('maximum');
    const exMin = num('exclusiveMinimum');
    const exMax = num('exclusiveMaximum');
    const multipleOf = num('multipleOf');
    if (multipleOf !== undefined && multipleOf <= 0) {
      throw this.unsupported(at(m, loc, 'multipleOf'), 'multipleOf must be positive');
    }
    // The tightest bounds; `excl` says whether the bound itself is out.
    let lo: { v: number; excl: boolean } | undefined;
    let hi: { v: number; excl: boolean } | undefined;
    if (minimum !== undefined) lo = { v: minimum, excl: false };
    if (exMin !== undefined && (!lo || exMin >= lo.v)) lo = { v: exMin, excl: true };
    if (maximum !== undefined) hi = { v: maximum, excl: false };
    if (exMax !== undefined && (!hi || exMax <= hi.v)) hi = { v: exMax, excl: true };

    if (t === 'integer' || multipleOf !== undefined) {
      const step = multipleOf ?? 1;
      if (t === 'integer' && !Number.isInteger(step)) {
        throw this.unsupported(at(m, loc, 'multipleOf'), 'a fractional multipleOf of an integer');
      }
      // Value = k * step; k ranges over what keeps it within the bounds.
      const LIMIT = 2 ** 31 - 1;
      let kMin = lo ? Math.ceil(lo.v / step) : -LIMIT;
      let kMax = hi ? Math.floor(hi.v / step) : LIMIT;
      if (lo?.excl && kMin * step <= lo.v) kMin++;
      if (hi?.excl && kMax * step >= hi.v) kMax--;
      kMin = Math.max(kMin, -LIMIT);
      kMax = Math.min(kMax, LIMIT);
      if (kMin > kMax) throw this.unsupported(loc, 'no number fits the bounds and multipleOf');
      const arb = fc.integer({ min: kMin, max: kMax }).map((k) => k * step);
      if (multipleOf === undefined || Number.isInteger(step)) return arb;
      // ajv checks `value / multipleOf` is an integer; float steps can miss by a rounding.
      return this.checked(arb, (v) => Number.isInteger(v / step), loc, 'multipleOf');
    }
    const c: fc.DoubleConstraints = { noNaN: true, noDefaultInfinity: true };
    if (lo) Object.assign(c, { min: lo.v, minExcluded: lo.excl });
    if (hi) Object.assign(c, { max: hi.v, maxExcluded: hi.excl });
    if (lo && hi && (lo.v > hi.v || (lo.v === hi.v && (lo.excl || hi.excl)))) {
      throw this.unsupported(loc, 'no number fits the bounds');
    }
    // Whole numbers now and then, as real data mostly has them.
    const whole =
      (lo ? Math.floor(lo.v) + 1 : -1e6) <= (hi ? Math.ceil(hi.v) - 1 : 1e6)
        ? fc.integer({
            min: lo ? Math.floor(lo.v) + 1 : -1e6,
            max: hi ? Math.ceil(hi.v) - 1 : 1e6,
          })
        : undefined;
    return whole ? fc.oneof(fc.double(c), whole) : fc.double(c);
  }

  object(
    m: Merged,
    loc: Loc,
    path: readonly string[],
    refs: readonly string[],
  ): fc.Arbitrary<Record<string, unknown>> {
    const additional = m.keywords.get('additionalProperties');
    if (additional && typeof additional.value !== 'boolean') {
      throw this.unsupported(additional.loc, 'additionalProperties as a schema is not supported');
    }
    for (const r of m.required) {
      if (!m.properties.has(r)) {
        throw this.unsupported(
          at(m, loc, 'required'),
          additional?.value === false
            ? `required "${r}" is not in properties and additionalProperties is false`
            : `required "${r}" has no schema in properties`,
        );
      }
    }
    // Only the declared properties: extra ones would be allowed where additionalProperties is
    // not false, but no contract relies on them and they would only add noise.
    const names = [...m.properties.keys()];
    const required = names.filter((n) => m.required.has(n));
    const optional = names.filter((n) => !m.required.has(n));
    const minProps = this.nonNegative(m, 'minProperties') ?? 0;
    const maxProps = this.nonNegative(m, 'maxProperties') ?? Infinity;
    const minOptional = Math.max(0, minProps - required.length);
    const maxOptional = Math.min(optional.length, maxProps - required.length);
    if (minOptional > maxOptional) {
      throw this.unsupported(loc, 'minProperties/maxProperties cannot be met by the properties');
    }
    const model: Record<string, fc.Arbitrary<unknown>> = {};
    for (const [name, parts] of m.properties) {
      model[name] =
        parts.length === 1
          ? this.build(parts[0]!.schema, parts[0]!.loc, [...path, name], refs)
          : this.intersect(parts, [...path, name], refs);
    }
    // Every property generated, then the optional ones kept by a subarray: present or absent
    // at random, minProperties honoured, and both halves shrink.
    return fc
      .tuple(
        fc.record(model),
        fc.subarray(optional, { minLength: minOptional, maxLength: maxOptional }),
      )
      .map(([all, chosen]) => {
        const keep = new Set([...required, ...chosen]);
        const out: Record<string, unknown> = {};
        for (const n of names) if (keep.has(n)) out[n] = all[n];
        return out;
      });
  }

  array(
    m: Merged,
    loc: Loc,
    path: readonly string[],
    refs: readonly string[],
  ): fc.Arbitrary<unknown[]> {
    const items = m.keywords.get('items');
    if (!items) throw this.unsupported(loc, 'an array without items: cannot tell what to put in');
    const minLength = this.nonNegative(m, 'minItems') ?? 0;
    const maxLength = this.nonNegative(m, 'maxItems') ?? minLength + this.#maxItems;
    if (maxLength < minLength) throw this.unsupported(loc, 'maxItems below minItems');
    const item = this.build(items.value, items.loc, [...path, ITEM], refs);
    if (m.keywords.get('uniqueItems')?.value === true) {
      return fc.uniqueArray(item, { minLength, maxLength, selector: (v) => JSON.stringify(v) });
    }
    return fc.array(item, { minLength, maxLength });
  }
}

function at(m: Merged, loc: Loc, k: string): Loc {
  return m.keywords.get(k)?.loc ?? child(loc, k);
}

function hasType(v: unknown, types: JsonType[]): boolean {
  if (v === null) return types.includes('null');
  if (Array.isArray(v)) return types.includes('array');
  if (typeof v === 'number') {
    return types.includes('number') || (Number.isInteger(v) && types.includes('integer'));
  }
  return types.includes(typeof v as JsonType);
}

/**
 * Schema-valid values of the registered schema `schemaId` (`$ref`s followed across the
 * registry by `$id`). Throws {@link UnsupportedSchemaError} at once when the schema uses a
 * construct it cannot generate.
 */
export function schemaArbitrary(
  schemaId: string,
  options: ArbitraryOptions = {},
): fc.Arbitrary<unknown> {
  const builder = new Builder(options);
  const registry = options.registry ?? schemas();
  return builder.build(registry.byId(schemaId).schema, { id: schemaId, pointer: '' }, [], []);
}

/**
 * Schema-valid `data` of a chain event type of the catalogue; `T` is the caller's word for its
 * type (e.g. from `@ketenhub/contracts/generated`), which the schema guarantees.
 */
export function eventDataArbitrary<T = Record<string, unknown>>(
  eventType: string,
  options: ArbitraryOptions = {},
): fc.Arbitrary<T> {
  const registry = options.registry ?? schemas();
  const entry = registry.byEventType(eventType);
  if (!entry) throw new Error(`unknown event type ${eventType}`);
  return schemaArbitrary(entry.id, options) as fc.Arbitrary<T>;
}
