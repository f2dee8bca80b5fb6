/**
 * Checks HTTP exchanges against DUO's published OpenAPI 3.0 files for the gemeente M2M APIs
 * (`duonl/gemeente-m2m-inburgering`), read at run time from a folder: the files are reference
 * data and are not copied into this repository.
 *
 * Independent of the simulator, so the hub's conformance test can check every request its DUO
 * adapter sends (and the answers the hub's Notificatie API gives) with the same code the
 * simulator uses on what it receives and answers.
 *
 * OpenAPI 3.0 schema objects are close to JSON Schema but not equal: `nullable`, boolean
 * `exclusiveMinimum`/`exclusiveMaximum`, the `int32`/`int64` formats and `x-` extensions are
 * translated here, and `#/components/schemas/...` references are resolved by registering each
 * file's schemas under an `$id` of their own, so the hub's ajv conventions (contracts'
 * `createAjv`: strict, all errors, formats) apply unchanged.
 */

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAjv, toViolations } from '@ketenhub/contracts';
import type { Violation } from '@ketenhub/contracts';
import { parse as parseYaml } from 'yaml';

/**
 * `../shared/reference/duo-m2m` next to the repository, where the project keeps DUO's files
 * (three levels up from here is the repository root), unless `DUO_SPEC_DIR` names another
 * folder: CI can point it elsewhere, or at nothing to run the tests the way a machine without
 * the files would.
 */
export const DEFAULT_DUO_SPEC_DIR =
  process.env.DUO_SPEC_DIR ||
  resolve(fileURLToPath(new URL('../../../', import.meta.url)), '../shared/reference/duo-m2m');

export type SpecLocation = 'operation' | 'path' | 'query' | 'header' | 'body' | 'status';

/** One way an exchange departs from DUO's spec. `field` names the parameter, header or body field. */
export interface SpecViolation extends Violation {
  in: SpecLocation;
}

export interface DuoApiInfo {
  /** The file name without `.openapi.yml`, e.g. `PIP`, `MAP-PVT-Zroute`, `GevolgdeUren`. */
  name: string;
  title: string;
  /** `info.version`, the value every response's `API-Version` header must carry. */
  version: string;
  file: string;
}

export interface DuoOperationInfo {
  api: DuoApiInfo;
  /** Upper case. */
  method: string;
  /** The spec's path template, without the `/v{major}` base path, e.g. `/personen/{bsn}/PIP`. */
  path: string;
  operationId: string;
}

export interface DuoOperationMatch extends DuoOperationInfo {
  /** Decoded path parameters, e.g. `{ bsn: '999990019' }`. */
  pathParams: Record<string, string>;
}

/** Node's `IncomingHttpHeaders`, a plain record, or a fetch `Headers`. */
export type HeaderBag = Headers | Record<string, string | string[] | number | undefined>;

export interface ValidateResponseOptions {
  /**
   * Accept a body on a response whose spec entry documents none (DUO documents none for 400 and
   * 404, and none for the Notificatie API's 201). Default false: such a body is a violation.
   */
  allowUndocumentedBody?: boolean;
  /** Require `API-Version` to equal the file's `info.version` exactly. Default true. */
  exactApiVersion?: boolean;
}

export interface LoadDuoSpecsOptions {
  /**
   * Treat a body field the spec does not name as a violation. DUO's schemas leave
   * `additionalProperties` open, so strictly such a field is allowed; but the hub never has a
   * reason to send one, and "Minor versions of these specs have renamed fields": a field under
   * its old name is exactly what this catches. Default true.
   */
  rejectUnknownFields?: boolean;
}

export interface DuoSpecs {
  dir: string;
  apis: readonly DuoApiInfo[];
  operations: readonly DuoOperationInfo[];
  /** The API a path belongs to, with or without the `/v{major}` base path; query ignored. */
  apiOf(path: string): DuoApiInfo | undefined;
  operationOf(method: string, path: string): DuoOperationMatch | undefined;
  /**
   * `body` is the parsed JSON body, `undefined` when there is none. `path` may carry the base
   * path (`/v1/...`) and a query string.
   */
  validateRequest(method: string, path: string, headers: HeaderBag, body: unknown): SpecViolation[];
  validateResponse(
    method: string,
    path: string,
    status: number,
    headers: HeaderBag,
    body: unknown,
    options?: ValidateResponseOptions,
  ): SpecViolation[];
}

type Json = Record<string, unknown>;
type Validator = (value: unknown) => Violation[];

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required: boolean;
  schema?: Json;
}

interface CompiledOperation extends DuoOperationInfo {
  pattern: RegExp;
  paramNames: string[];
  literalLength: number;
  major: string;
  parameters: Parameter[];
  requestBody?: { required: boolean; content: Record<string, Json> };
  responses: Record<string, Json>;
  specId: string;
  spec: Json;
}

const SPEC_SUFFIX = '.openapi.yml';
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];
/** Keywords of an OpenAPI 3.0 schema object that JSON Schema does not have or means otherwise. */
const DROPPED_KEYWORDS = new Set(['nullable', 'discriminator', 'xml', 'externalDocs', 'example']);

function isJson(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * ajv compiles patterns with the `u` flag (DUO's Contactpersoon needs it for `\p{L}`), under
 * which an escaped character that needs no escape is a syntax error. DUO's Leerbaarheidstoets
 * writes its score pattern as `^(\d{1,3}\,\d{2})$`: `\,` means `,` everywhere except in
 * unicode mode. Such escapes of punctuation are unescaped; anything else that still fails is
 * reported at load time.
 */
function unicodePattern(pattern: string, where: string): string {
  const valid = (p: string): boolean => {
    try {
      new RegExp(p, 'u');
      return true;
    } catch {
      return false;
    }
  };
  if (valid(pattern)) return pattern;
  // Pairwise, so an escaped backslash (`\\`) stays what it is.
  const fixed = pattern.replace(/\\(.)/gsu, (all, ch: string) =>
    /^[,;:'"!@#%&=<>`~ _]$/.test(ch) ? ch : all,
  );
  if (valid(fixed)) return fixed;
  throw new Error(`${where}: pattern '${pattern}' is not a valid unicode regular expression`);
}

/** The semver pattern of `API-Version` is 200 characters; naming it is enough. */
function shorten(violations: Violation[]): Violation[] {
  return violations.map((v) =>
    v.rule.startsWith('pattern ') && v.rule.length > 48
      ? { ...v, rule: 'pattern', message: "must match the spec's pattern for this field" }
      : v,
  );
}

/** True when `dir` holds at least one DUO OpenAPI file. */
export function duoSpecsAvailable(dir: string = DEFAULT_DUO_SPEC_DIR): boolean {
  try {
    return statSync(dir).isDirectory() && readdirSync(dir).some((f) => f.endsWith(SPEC_SUFFIX));
  } catch {
    return false;
  }
}

function specId(name: string, version: string): string {
  // .invalid never resolves, so nothing can try to fetch it.
  return `https://duo-m2m.invalid/${encodeURIComponent(name)}/${version}.json`;
}

/**
 * OpenAPI 3.0 schema object → JSON Schema (2020-12, as contracts' ajv speaks it). Walks only
 * the keywords whose values are schemas, so a property that happens to be called `example` or
 * `nullable` keeps its name. With `closed`, an object schema that lists its properties and says
 * nothing about others gets `additionalProperties: false` (see `rejectUnknownFields`); not inside
 * a composition, where closing one branch would reject the other branches' fields.
 */
function convertSchema(node: unknown, base: string, where: string, closed: boolean): unknown {
  if (!isJson(node)) return node;
  const sub = (value: unknown, at: string, keepClosed = closed): unknown =>
    convertSchema(value, base, at, keepClosed);
  const out: Json = {};
  for (const [key, value] of Object.entries(node)) {
    if (key.startsWith('x-') || DROPPED_KEYWORDS.has(key)) continue;
    switch (key) {
      case '$ref': {
        const ref = String(value);
        const m = /^#\/components\/schemas\/(.+)$/.exec(ref);
        if (!m?.[1]) throw new Error(`${where}: unsupported $ref '${ref}'`);
        out.$ref = `${base}#/$defs/${m[1]}`;
        break;
      }
      case 'properties':
      case 'patternProperties': {
        const props: Json = {};
        for (const [name, schema] of Object.entries(value as Json)) {
          props[name] = sub(schema, `${where}.${name}`);
        }
        out[key] = props;
        break;
      }
      case 'items':
      case 'not':
      case 'additionalProperties':
        out[key] = isJson(value) ? sub(value, `${where}.${key}`) : value;
        break;
      case 'allOf':
      case 'anyOf':
      case 'oneOf':
        out[key] = (value as unknown[]).map((s, i) => sub(s, `${where}.${key}[${i}]`, false));
        break;
      case 'exclusiveMinimum':
      case 'exclusiveMaximum':
        // OpenAPI 3.0 (draft 4) makes these booleans modifying minimum/maximum.
        if (value === true) {
          out[key] = node[key === 'exclusiveMinimum' ? 'minimum' : 'maximum'];
        } else if (typeof value === 'number') {
          out[key] = value;
        }
        break;
      case 'pattern':
        out.pattern = unicodePattern(String(value), where);
        break;
      default:
        out[key] = value;
    }
  }
  if (node.exclusiveMinimum === true) delete out.minimum;
  if (node.exclusiveMaximum === true) delete out.maximum;
  if (
    closed &&
    isJson(out.properties) &&
    out.additionalProperties === undefined &&
    out.patternProperties === undefined &&
    out.allOf === undefined &&
    out.anyOf === undefined &&
    out.oneOf === undefined
  ) {
    out.additionalProperties = false;
  }
  if (node.nullable === true) {
    if (typeof out.type === 'string') out.type = [out.type, 'null'];
    if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
    if (out.$ref !== undefined) return { anyOf: [out, { type: 'null' }] };
  }
  return out;
}

function resolveComponent(spec: Json, value: unknown, kind: string, where: string): Json {
  if (!isJson(value)) throw new Error(`${where}: expected an object`);
  const ref = value.$ref;
  if (typeof ref !== 'string') return value;
  const m = new RegExp(`^#/components/${kind}/(.+)$`).exec(ref);
  const components = isJson(spec.components) ? spec.components : {};
  const group = isJson(components[kind]) ? components[kind] : {};
  const target = m?.[1] === undefined ? undefined : group[m[1]];
  if (!isJson(target)) throw new Error(`${where}: cannot resolve $ref '${ref}'`);
  return resolveComponent(spec, target, kind, where);
}

function compileTemplate(template: string): { pattern: RegExp; names: string[]; literal: number } {
  const names: string[] = [];
  let literal = 0;
  const source = template
    .split('/')
    .map((segment) => {
      const m = /^\{(.+)\}$/.exec(segment);
      if (m?.[1]) {
        names.push(m[1]);
        return '([^/]+)';
      }
      literal += segment.length;
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return { pattern: new RegExp(`^${source}$`), names, literal };
}

/** Splits `/v1/personen/x?y=1` into the spec-relative path, the base-path major and the query. */
function splitPath(path: string): { rel: string; major?: string; query: URLSearchParams } {
  const q = path.indexOf('?');
  const pathname = q === -1 ? path : path.slice(0, q);
  const query = new URLSearchParams(q === -1 ? '' : path.slice(q + 1));
  const m = /^\/v(\d+)(\/.*)$/.exec(pathname);
  if (m?.[1] && m[2]) return { rel: m[2], major: m[1], query };
  return { rel: pathname, query };
}

function headerValue(headers: HeaderBag, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== lower || value === undefined) continue;
    return Array.isArray(value) ? value.join(', ') : String(value);
  }
  return undefined;
}

function mediaType(headers: HeaderBag): string | undefined {
  return headerValue(headers, 'content-type')?.split(';')[0]?.trim().toLowerCase();
}

/** Path and query values arrive as text; the schema may want a number or boolean. */
function coerce(value: string, schema: Json | undefined): unknown {
  const type = schema?.type;
  if ((type === 'integer' || type === 'number') && /^-?\d+(\.\d+)?$/.test(value)) {
    return Number(value);
  }
  if (type === 'boolean' && (value === 'true' || value === 'false')) return value === 'true';
  return value;
}

export function loadDuoSpecs(
  dir: string = DEFAULT_DUO_SPEC_DIR,
  options: LoadDuoSpecsOptions = {},
): DuoSpecs {
  const closed = options.rejectUnknownFields !== false;
  if (!existsSync(dir)) throw new Error(`DUO spec folder '${dir}' does not exist`);
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(SPEC_SUFFIX))
    .sort();
  if (files.length === 0) throw new Error(`DUO spec folder '${dir}' holds no *${SPEC_SUFFIX}`);

  const ajv = createAjv();
  // OpenAPI's own formats; DUO uses int32 and int64.
  ajv.addFormat('int32', {
    type: 'number',
    validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n <= 2 ** 31 - 1,
  });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) });
  ajv.addFormat('float', { type: 'number', validate: () => true });
  ajv.addFormat('double', { type: 'number', validate: () => true });
  ajv.addFormat('byte', /^[A-Za-z0-9+/]*={0,2}$/);
  ajv.addFormat('binary', () => true);
  ajv.addFormat('password', () => true);

  const apis: DuoApiInfo[] = [];
  const operations: CompiledOperation[] = [];

  for (const file of files) {
    const name = file.slice(0, -SPEC_SUFFIX.length);
    const spec = parseYaml(readFileSync(join(dir, file), 'utf8')) as unknown;
    if (!isJson(spec) || !isJson(spec.info) || !isJson(spec.paths)) {
      throw new Error(`${file}: not an OpenAPI document`);
    }
    if (typeof spec.openapi !== 'string' || !spec.openapi.startsWith('3.0')) {
      throw new Error(`${file}: expected OpenAPI 3.0, got '${String(spec.openapi)}'`);
    }
    const version = String(spec.info.version);
    const api: DuoApiInfo = { name, title: String(spec.info.title ?? name), version, file };
    apis.push(api);
    const id = specId(name, version);
    const components = isJson(spec.components) ? spec.components : {};
    const defs: Json = {};
    for (const [schemaName, schema] of Object.entries(
      isJson(components.schemas) ? components.schemas : {},
    )) {
      defs[schemaName] = convertSchema(
        schema,
        id,
        `${file}#/components/schemas/${schemaName}`,
        closed,
      );
    }
    ajv.addSchema({ $id: id, $defs: defs });

    for (const [template, item] of Object.entries(spec.paths)) {
      if (!isJson(item)) continue;
      const shared = Array.isArray(item.parameters) ? item.parameters : [];
      for (const method of HTTP_METHODS) {
        const op = item[method];
        if (!isJson(op)) continue;
        const where = `${file} ${method.toUpperCase()} ${template}`;
        const byKey = new Map<string, Parameter>();
        for (const raw of [...shared, ...(Array.isArray(op.parameters) ? op.parameters : [])]) {
          const p = resolveComponent(spec, raw, 'parameters', where);
          const param: Parameter = {
            name: String(p.name),
            in: p.in as Parameter['in'],
            required: p.required === true || p.in === 'path',
            ...(isJson(p.schema)
              ? { schema: convertSchema(p.schema, id, `${where} ${String(p.name)}`, false) as Json }
              : {}),
          };
          // An operation's parameter overrides a path-level one with the same name and place.
          byKey.set(`${param.in}:${param.name.toLowerCase()}`, param);
        }
        let requestBody: CompiledOperation['requestBody'];
        if (op.requestBody !== undefined) {
          const rb = resolveComponent(spec, op.requestBody, 'requestBodies', where);
          const content: Record<string, Json> = {};
          for (const [mt, media] of Object.entries(isJson(rb.content) ? rb.content : {})) {
            content[mt.toLowerCase()] = isJson(media) && isJson(media.schema) ? media.schema : {};
          }
          requestBody = { required: rb.required === true, content };
        }
        const responses: Record<string, Json> = {};
        for (const [code, resp] of Object.entries(isJson(op.responses) ? op.responses : {})) {
          responses[code.toUpperCase()] = resolveComponent(spec, resp, 'responses', where);
        }
        const { pattern, names, literal } = compileTemplate(template);
        operations.push({
          api,
          method: method.toUpperCase(),
          path: template,
          operationId: String(op.operationId ?? `${method} ${template}`),
          pattern,
          paramNames: names,
          literalLength: literal,
          major: version.split('.')[0] ?? '',
          parameters: [...byKey.values()],
          ...(requestBody ? { requestBody } : {}),
          responses,
          specId: id,
          spec,
        });
      }
    }
  }
  // The template with the most literal text wins when two match the same path.
  operations.sort((a, b) => b.literalLength - a.literalLength);

  const compiled = new Map<string, Validator>();
  function validator(key: string, op: CompiledOperation, schema: Json): Validator {
    let v = compiled.get(key);
    if (!v) {
      const converted = convertSchema(schema, op.specId, key, closed) as Json;
      const fn = ajv.compile(converted);
      v = (value) => (fn(value) ? [] : shorten(toViolations(fn.errors)));
      compiled.set(key, v);
    }
    return v;
  }
  function paramValidator(op: CompiledOperation, p: Parameter): Validator {
    const key = `${op.api.name} ${op.method} ${op.path} ${p.in}:${p.name}`;
    let v = compiled.get(key);
    if (!v) {
      const fn = p.schema ? ajv.compile(p.schema) : undefined;
      v = (value) => (fn === undefined || fn(value) ? [] : shorten(toViolations(fn?.errors)));
      compiled.set(key, v);
    }
    return v;
  }

  function match(method: string | undefined, path: string) {
    const { rel, major, query } = splitPath(path);
    const upper = method?.toUpperCase();
    let pathOnly: CompiledOperation | undefined;
    for (const op of operations) {
      const m = op.pattern.exec(rel);
      if (!m) continue;
      if (upper !== undefined && op.method !== upper) {
        pathOnly ??= op;
        continue;
      }
      const pathParams: Record<string, string> = {};
      op.paramNames.forEach((n, i) => {
        const raw = m[i + 1] ?? '';
        try {
          pathParams[n] = decodeURIComponent(raw);
        } catch {
          pathParams[n] = raw;
        }
      });
      return { op, pathParams, major, query, pathOnly: undefined };
    }
    return { op: undefined, pathParams: {}, major, query, pathOnly };
  }

  function noOperation(method: string, path: string, pathOnly?: CompiledOperation): SpecViolation {
    const { rel } = splitPath(path);
    return {
      in: 'operation',
      field: '',
      rule: 'operation',
      message: pathOnly
        ? `${method.toUpperCase()} is not defined for ${pathOnly.path} in ${pathOnly.api.file}`
        : `no DUO API defines ${method.toUpperCase()} ${rel}`,
    };
  }

  function checkBasePath(op: CompiledOperation, major: string | undefined): SpecViolation[] {
    if (major === undefined || major === op.major) return [];
    return [
      {
        in: 'path',
        field: '',
        rule: 'base-path',
        message: `base path /v${major} does not match ${op.api.name} ${op.api.version} (/v${op.major})`,
      },
    ];
  }

  function validateRequest(
    method: string,
    path: string,
    headers: HeaderBag,
    body: unknown,
  ): SpecViolation[] {
    const { op, pathParams, major, query, pathOnly } = match(method, path);
    if (!op) return [noOperation(method, path, pathOnly)];
    const out: SpecViolation[] = checkBasePath(op, major);

    for (const p of op.parameters) {
      if (p.in === 'cookie') continue;
      let raw: string | undefined;
      if (p.in === 'path') raw = pathParams[p.name];
      else if (p.in === 'query') raw = query.get(p.name) ?? undefined;
      else raw = headerValue(headers, p.name);
      if (raw === undefined) {
        if (p.required) {
          out.push({ in: p.in, field: p.name, rule: 'required', message: `${p.in} is required` });
        }
        continue;
      }
      for (const v of paramValidator(op, p)(coerce(raw, p.schema))) {
        out.push({ in: p.in, field: p.name, rule: v.rule, message: v.message });
      }
    }

    const rb = op.requestBody;
    if (body === undefined) {
      if (rb?.required) {
        out.push({
          in: 'body',
          field: '',
          rule: 'required',
          message: 'a request body is required',
        });
      }
      return out;
    }
    if (!rb) {
      out.push({
        in: 'body',
        field: '',
        rule: 'no-body',
        message: `${op.method} ${op.path} takes no request body`,
      });
      return out;
    }
    const mt = mediaType(headers);
    const schema = mt === undefined ? undefined : rb.content[mt];
    if (schema === undefined) {
      out.push({
        in: 'header',
        field: 'content-type',
        rule: 'media-type',
        message: `must be one of ${Object.keys(rb.content).join(', ')}, got '${mt ?? ''}'`,
      });
      return out;
    }
    const key = `${op.api.name} ${op.method} ${op.path} request ${mt}`;
    for (const v of validator(key, op, schema)(body)) out.push({ in: 'body', ...v });
    return out;
  }

  function validateResponse(
    method: string,
    path: string,
    status: number,
    headers: HeaderBag,
    body: unknown,
    options: ValidateResponseOptions = {},
  ): SpecViolation[] {
    const { op, major, pathOnly } = match(method, path);
    if (!op) return [noOperation(method, path, pathOnly)];
    const out: SpecViolation[] = checkBasePath(op, major);
    const code = String(status);
    // The entry that documents this status: exact, a range like 4XX, or default.
    const entry = [code, `${code[0] ?? ''}XX`, 'DEFAULT'].find((k) => op.responses[k]);
    const response = entry === undefined ? undefined : op.responses[entry];
    if (!response || entry === undefined) {
      out.push({
        in: 'status',
        field: '',
        rule: 'status',
        message: `${status} is not documented for ${op.method} ${op.path} (documented: ${Object.keys(op.responses).join(', ')})`,
      });
      return out;
    }

    for (const [name, raw] of Object.entries(isJson(response.headers) ? response.headers : {})) {
      const h = resolveComponent(op.spec, raw, 'headers', `${op.api.file} ${name}`);
      const value = headerValue(headers, name);
      if (value === undefined) {
        if (h.required === true) {
          out.push({ in: 'header', field: name, rule: 'required', message: 'header is required' });
        }
        continue;
      }
      if (isJson(h.schema)) {
        const key = `${op.api.name} ${op.method} ${op.path} ${entry} header ${name}`;
        for (const v of validator(key, op, h.schema)(coerce(value, h.schema))) {
          out.push({ in: 'header', field: name, rule: v.rule, message: v.message });
        }
      }
      if (
        name.toLowerCase() === 'api-version' &&
        options.exactApiVersion !== false &&
        value !== op.api.version
      ) {
        out.push({
          in: 'header',
          field: name,
          rule: 'api-version',
          message: `must be ${op.api.version} (${op.api.name}), got '${value}'`,
        });
      }
    }

    const content = isJson(response.content) ? response.content : undefined;
    if (body === undefined) {
      if (content && Object.keys(content).length > 0) {
        out.push({
          in: 'body',
          field: '',
          rule: 'required',
          message: `a ${code} of ${op.method} ${op.path} carries a ${Object.keys(content).join(' or ')} body`,
        });
      }
      return out;
    }
    if (!content) {
      if (options.allowUndocumentedBody !== true) {
        out.push({
          in: 'body',
          field: '',
          rule: 'no-body',
          message: `DUO documents no body for a ${code} of ${op.method} ${op.path}`,
        });
      }
      return out;
    }
    const mt = mediaType(headers);
    const mediaKey = Object.keys(content).find((k) => k.toLowerCase() === mt);
    const media = mediaKey === undefined ? undefined : content[mediaKey];
    if (!isJson(media)) {
      out.push({
        in: 'header',
        field: 'content-type',
        rule: 'media-type',
        message: `must be one of ${Object.keys(content).join(', ')}, got '${mt ?? ''}'`,
      });
      return out;
    }
    if (isJson(media.schema)) {
      const key = `${op.api.name} ${op.method} ${op.path} ${entry} ${mt ?? ''}`;
      for (const v of validator(key, op, media.schema)(body)) out.push({ in: 'body', ...v });
    }
    return out;
  }

  // Compile everything now, so a schema ajv cannot handle fails at start-up with its place in
  // the file, not as a 500 in the middle of a test.
  for (const op of operations) {
    for (const p of op.parameters) paramValidator(op, p);
    for (const [mt, schema] of Object.entries(op.requestBody?.content ?? {})) {
      validator(`${op.api.name} ${op.method} ${op.path} request ${mt}`, op, schema);
    }
    for (const [code, response] of Object.entries(op.responses)) {
      for (const [name, raw] of Object.entries(isJson(response.headers) ? response.headers : {})) {
        const h = resolveComponent(op.spec, raw, 'headers', `${op.api.file} ${name}`);
        if (isJson(h.schema)) {
          validator(`${op.api.name} ${op.method} ${op.path} ${code} header ${name}`, op, h.schema);
        }
      }
      for (const [mt, media] of Object.entries(isJson(response.content) ? response.content : {})) {
        if (isJson(media) && isJson(media.schema)) {
          validator(
            `${op.api.name} ${op.method} ${op.path} ${code} ${mt.toLowerCase()}`,
            op,
            media.schema,
          );
        }
      }
    }
  }

  const publicOps: DuoOperationInfo[] = operations.map((o) => ({
    api: o.api,
    method: o.method,
    path: o.path,
    operationId: o.operationId,
  }));

  return {
    dir,
    apis,
    operations: publicOps,
    apiOf(path) {
      return match(undefined, path).op?.api;
    },
    operationOf(method, path) {
      const { op, pathParams } = match(method, path);
      if (!op) return undefined;
      return {
        api: op.api,
        method: op.method,
        path: op.path,
        operationId: op.operationId,
        pathParams,
      };
    },
    validateRequest,
    validateResponse,
  };
}
