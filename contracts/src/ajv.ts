import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { ErrorObject } from 'ajv';

/**
 * The one way the hub builds an ajv instance: JSON Schema 2020-12, formats, every error
 * reported (a partner wants all its mistakes at once), strict so a typo in a schema fails at
 * start-up instead of silently allowing everything.
 */
export function createAjv(): Ajv2020 {
  const ajv = new Ajv2020({
    allErrors: true,
    strict: true,
    strictRequired: false,
    allowUnionTypes: true,
  });
  addFormats.default(ajv);
  return ajv;
}

export type { ErrorObject };
