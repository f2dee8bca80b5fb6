import { readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { schemas, type SchemaRegistry } from './registry.ts';

const CONTRACTS_DIR = fileURLToPath(new URL('../', import.meta.url));
const POLICY_SCHEMA = 'https://contracts.ketenhub.nl/policy.schema.json';
const REGISTER_SCHEMA = 'https://contracts.ketenhub.nl/verwerkingsregister.schema.json';

export interface Category {
  naam: string;
  bijzonder: boolean;
}

export interface Activity {
  id: string;
  naam: string;
  doel: string;
  grondslag: { wet: string; avg?: string; dpv: string };
  bewaartermijn: string;
  categorieen: string[];
  ontvangers: string[];
}

export interface Register {
  logboek: { bewaartermijn: string };
  categorieen: Record<string, Category>;
  activiteiten: Activity[];
}

/** Days in an ISO 8601 duration of years, months and days (a month counts 31, a year 366). */
export function durationDays(iso: string): number {
  const m = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?$/.exec(iso);
  if (!m) throw new Error(`not an ISO 8601 duration of Y/M/D: ${iso}`);
  return Number(m[1] ?? 0) * 366 + Number(m[2] ?? 0) * 31 + Number(m[3] ?? 0);
}

/**
 * How long the hub may keep what it holds, from the register: chain events and dead letters
 * as long as the longest activity's bewaartermijn, the processing log as the register says.
 * Rounded up, so a stream never drops data before the register allows.
 */
export function retentionDays(register: Register): { keten: number; processingLog: number } {
  return {
    keten: Math.max(...register.activiteiten.map((a) => durationDays(a.bewaartermijn))),
    processingLog: durationDays(register.logboek.bewaartermijn),
  };
}

export interface PolicyRule {
  activiteit: string;
  /** Allowed data field path (dotted) → data category. */
  velden: Record<string, string>;
}

export interface PartnerPolicy {
  partner: string;
  naam: string;
  leveringsschema?: string;
  levert: string[];
  ontvangt: Record<string, PolicyRule>;
  /** Its own data categories, merged into the register (`Register.categorieen`). */
  categorieen?: Record<string, Category>;
  /** Its own register entries, merged into the register (`Register.activiteiten`). */
  activiteiten?: Activity[];
  /**
   * What its flows add to other partners' policies (e.g. the KVS's side of a new partner's
   * flows), merged into them; an addition never changes what a policy already says.
   */
  aanvullingen?: Record<string, { levert?: string[]; ontvangt?: Record<string, PolicyRule> }>;
}

export interface PolicySet {
  register: Register;
  policies: Map<string, PartnerPolicy>;
  activity(id: string): Activity;
  policy(partner: string): PartnerPolicy;
}

function readYaml(path: string): unknown {
  return parse(readFileSync(path, 'utf8'));
}

function failIfInvalid(registry: SchemaRegistry, schemaId: string, value: unknown, file: string) {
  const violations = registry.validate(schemaId, value);
  if (violations.length > 0) {
    const list = violations.map((v) => `${file}: ${v.field || '(root)'}: ${v.message}`);
    throw new Error(`invalid contract file\n${list.join('\n')}`);
  }
}

/** Resolves a (local or relative) $ref to the schema it points to. */
function resolveRef(
  registry: SchemaRegistry,
  baseId: string,
  ref: string,
): { id: string; schema: Record<string, unknown> } {
  const url = new URL(ref, baseId);
  const id = url.href.replace(/#.*$/, '');
  let node: unknown = registry.byId(id).schema;
  const pointer = decodeURIComponent(url.hash.replace(/^#/, ''));
  for (const seg of pointer.split('/').filter(Boolean)) {
    node = (node as Record<string, unknown>)[seg];
  }
  return { id, schema: node as Record<string, unknown> };
}

/** True when the data schema of `eventType` declares the dotted `path`. */
export function schemaHasPath(registry: SchemaRegistry, eventType: string, path: string): boolean {
  const entry = registry.byEventType(eventType);
  if (!entry) return false;
  let cur = { id: entry.id, schema: entry.schema };
  for (const seg of path.split('.')) {
    while (typeof cur.schema.$ref === 'string') cur = resolveRef(registry, cur.id, cur.schema.$ref);
    const props = cur.schema.properties as Record<string, Record<string, unknown>> | undefined;
    const next = props?.[seg];
    if (!next) return false;
    cur = { id: cur.id, schema: next };
  }
  return true;
}

/**
 * Loads the processing register and every partner policy, and refuses to start when they do
 * not fit together: a policy naming an unknown activity, category, event type or field, or an
 * activity that does not list the partner as a recipient or the category as processed.
 */
export function loadPolicies(
  dir: string = CONTRACTS_DIR,
  registry: SchemaRegistry = schemas(),
): PolicySet {
  const registerFile = join(dir, 'verwerkingsactiviteiten.yaml');
  const register = readYaml(registerFile) as Register;
  failIfInvalid(registry, REGISTER_SCHEMA, register, registerFile);
  const activities = new Map(register.activiteiten.map((a) => [a.id, a]));
  const problems: string[] = [];
  for (const a of register.activiteiten) {
    for (const c of a.categorieen) {
      if (!register.categorieen[c]) problems.push(`register ${a.id}: unknown category ${c}`);
    }
  }

  const policies = new Map<string, PartnerPolicy>();
  const policyDir = join(dir, 'policies');
  const files = readdirSync(policyDir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((name) => ({ name, file: join(policyDir, name) }))
    .map(({ name, file }) => ({ name, policy: readYaml(file) as PartnerPolicy, file }));
  // A partner's own categories and register entries, kept with its policy, join the register
  // first: the categories before any activity, which may name another policy's category.
  for (const { name, policy, file } of files) {
    failIfInvalid(registry, POLICY_SCHEMA, policy, file);
    for (const [id, category] of Object.entries(policy.categorieen ?? {})) {
      if (register.categorieen[id]) {
        problems.push(`policies/${name}: category ${id} exists already`);
        continue;
      }
      register.categorieen[id] = category;
    }
  }
  for (const { name, policy } of files) {
    for (const a of policy.activiteiten ?? []) {
      if (activities.has(a.id)) problems.push(`policies/${name}: activity ${a.id} exists already`);
      for (const c of a.categorieen) {
        if (!register.categorieen[c])
          problems.push(`policies/${name} ${a.id}: unknown category ${c}`);
      }
      register.activiteiten.push(a);
      activities.set(a.id, a);
    }
  }
  // The other side of each partner's flows, kept in its own file, joins the policies it names.
  const byPartner = new Map(files.map((f) => [f.policy.partner, f.policy]));
  // Where an added rule was written, for the problems found in it.
  const addedIn = new Map<string, string>();
  for (const { name, policy } of files) {
    for (const [target, adds] of Object.entries(policy.aanvullingen ?? {})) {
      const where = `policies/${name}: aanvullingen.${target}`;
      const other = byPartner.get(target);
      if (!other || target === policy.partner) {
        problems.push(`${where}: no other partner ${target}`);
        continue;
      }
      for (const type of adds.levert ?? []) {
        if (other.levert.includes(type)) problems.push(`${where}: levert ${type} already`);
        else other.levert.push(type);
        addedIn.set(`${target} levert ${type}`, where);
      }
      for (const [type, rule] of Object.entries(adds.ontvangt ?? {})) {
        if (other.ontvangt[type]) problems.push(`${where}: ontvangt ${type} already`);
        else other.ontvangt[type] = rule;
        addedIn.set(`${target} ontvangt ${type}`, where);
      }
    }
  }
  for (const { name, policy } of files) {
    const where = `policies/${name}`;
    if (basename(name, '.yaml') !== policy.partner) {
      problems.push(`${where}: partner must be ${basename(name, '.yaml')}`);
    }
    for (const type of policy.levert) {
      const at = addedIn.get(`${policy.partner} levert ${type}`) ?? where;
      if (!registry.byEventType(type)) problems.push(`${at}: levert unknown event type ${type}`);
    }
    for (const [type, rule] of Object.entries(policy.ontvangt)) {
      const where = addedIn.get(`${policy.partner} ontvangt ${type}`) ?? `policies/${name}`;
      if (!registry.byEventType(type))
        problems.push(`${where}: ontvangt unknown event type ${type}`);
      const activity = activities.get(rule.activiteit);
      if (!activity) {
        problems.push(`${where}: ${type}: activity ${rule.activiteit} is not in the register`);
        continue;
      }
      if (!activity.ontvangers.includes(policy.partner)) {
        problems.push(`${where}: ${type}: activity ${activity.id} does not list ${policy.partner}`);
      }
      for (const [field, category] of Object.entries(rule.velden)) {
        if (!register.categorieen[category]) {
          problems.push(`${where}: ${type}: ${field}: unknown category ${category}`);
        } else if (!activity.categorieen.includes(category)) {
          problems.push(`${where}: ${type}: ${field}: category ${category} not in ${activity.id}`);
        }
        if (registry.byEventType(type) && !schemaHasPath(registry, type, field)) {
          problems.push(`${where}: ${type}: field ${field} does not exist in the event schema`);
        }
      }
    }
    policies.set(policy.partner, policy);
  }
  if (problems.length > 0) throw new Error(`contracts do not fit together\n${problems.join('\n')}`);

  return {
    register,
    policies,
    activity(id) {
      const a = activities.get(id);
      if (!a) throw new Error(`unknown processing activity ${id}`);
      return a;
    },
    policy(partner) {
      const p = policies.get(partner);
      if (!p) throw new Error(`no policy for partner ${partner}`);
      return p;
    },
  };
}

let shared: PolicySet | undefined;

/** The process-wide policy set, loaded and checked on first use. */
export function policies(): PolicySet {
  shared ??= loadPolicies();
  return shared;
}
