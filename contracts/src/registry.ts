import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ValidateFunction } from 'ajv';
import { createAjv } from './ajv.ts';
import { toViolations, type Violation } from './violations.ts';

export const SCHEMA_DIR = fileURLToPath(new URL('../schemas/', import.meta.url));
export const ENVELOPE_ID = 'https://contracts.ketenhub.nl/envelope/cloudevent.schema.json';

export interface SchemaEntry {
  id: string;
  /** Path below contracts/schemas, e.g. `coa/koppeling.schema.json`. */
  file: string;
  title: string;
  /** The chain event types whose `data` this schema describes (several share one shape). */
  eventTypes?: string[];
  schema: Record<string, unknown>;
}

function listSchemaFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((d) => d.isFile() && d.name.endsWith('.schema.json'))
    .map((d) => join(d.parentPath, d.name))
    .sort();
}

/**
 * Every schema of the hub, loaded and compiled once when the process starts: a message is
 * never validated by a validator built on the fly. Look-ups by `$id` and by event type.
 */
export class SchemaRegistry {
  readonly #ajv = createAjv();
  readonly #entries = new Map<string, SchemaEntry>();
  readonly #byEventType = new Map<string, SchemaEntry>();
  readonly #validators = new Map<string, ValidateFunction>();

  constructor(dir: string = SCHEMA_DIR) {
    // Annotation-only keyword: ties an event data schema to its CloudEvents type.
    this.#ajv.addVocabulary(['x-event-type']);
    for (const path of listSchemaFiles(dir)) {
      const schema = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
      const id = schema.$id;
      if (typeof id !== 'string') throw new Error(`${path}: schema has no $id`);
      if (this.#entries.has(id)) throw new Error(`${path}: duplicate $id ${id}`);
      const declared = schema['x-event-type'];
      const eventTypes =
        typeof declared === 'string'
          ? [declared]
          : Array.isArray(declared)
            ? (declared as string[])
            : [];
      const entry: SchemaEntry = {
        id,
        file: relative(dir, path),
        title: typeof schema.title === 'string' ? schema.title : id,
        schema,
        ...(eventTypes.length > 0 ? { eventTypes } : {}),
      };
      this.#entries.set(id, entry);
      for (const type of eventTypes) {
        if (this.#byEventType.has(type))
          throw new Error(`${path}: event type ${type} has two schemas`);
        this.#byEventType.set(type, entry);
      }
      this.#ajv.addSchema(schema);
    }
    for (const id of this.#entries.keys()) {
      const validate = this.#ajv.getSchema(id);
      if (!validate) throw new Error(`schema ${id} did not compile`);
      this.#validators.set(id, validate);
    }
  }

  entries(): SchemaEntry[] {
    return [...this.#entries.values()];
  }

  byId(id: string): SchemaEntry {
    const entry = this.#entries.get(id);
    if (!entry) throw new Error(`unknown schema ${id}`);
    return entry;
  }

  /** The data schema of a chain event type, or undefined when the type is not in the catalogue. */
  byEventType(type: string): SchemaEntry | undefined {
    return this.#byEventType.get(type);
  }

  eventTypes(): string[] {
    return [...this.#byEventType.keys()].sort();
  }

  /** Violations of `value` against schema `id`; empty when valid. */
  validate(id: string, value: unknown): Violation[] {
    const validate = this.#validators.get(id);
    if (!validate) throw new Error(`unknown schema ${id}`);
    return validate(value) ? [] : toViolations(validate.errors);
  }

  /**
   * A whole chain event: the envelope, a known type, `dataschema` naming the type's schema,
   * and `data` valid against it. Violations name fields relative to the event (`data.x.y`).
   */
  validateEvent(event: unknown): Violation[] {
    const violations = this.validate(ENVELOPE_ID, event);
    if (violations.length > 0) return violations;
    const { type, dataschema, data } = event as { type: string; dataschema: string; data: unknown };
    const entry = this.#byEventType.get(type);
    if (!entry)
      return [{ field: 'type', rule: 'catalogue', message: `unknown event type ${type}` }];
    if (dataschema !== entry.id) {
      return [{ field: 'dataschema', rule: 'const', message: `must be ${entry.id} for ${type}` }];
    }
    return this.validate(entry.id, data).map((v) => ({
      ...v,
      field: v.field ? `data.${v.field}` : 'data',
    }));
  }
}

let shared: SchemaRegistry | undefined;

/** The process-wide registry, built on first use. */
export function schemas(): SchemaRegistry {
  shared ??= new SchemaRegistry();
  return shared;
}
