export { createAjv } from './ajv.ts';
export { toViolations, pointerToField, type Violation } from './violations.ts';
export { SchemaRegistry, schemas, SCHEMA_DIR, ENVELOPE_ID, type SchemaEntry } from './registry.ts';
export {
  durationDays,
  loadPolicies,
  retentionDays,
  policies,
  schemaHasPath,
  type Activity,
  type Category,
  type PartnerPolicy,
  type PolicyRule,
  type PolicySet,
  type Register,
} from './policies.ts';
export { deliveryViolations } from './delivery.ts';
