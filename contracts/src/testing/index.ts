// Test-only helpers (`@ketenhub/contracts/testing`): they import fast-check, a devDependency,
// so nothing under the `.` entry may import this folder.
export {
  ITEM,
  UnsupportedSchemaError,
  eventDataArbitrary,
  schemaArbitrary,
  type ArbitraryOptions,
  type SchemaSite,
} from './arbitrary.ts';
export {
  SENTINEL_TEXT,
  privacyPlan,
  sentinelFor,
  type ForbiddenSite,
  type Planted,
  type PrivacyPlan,
  type PrivacyPlanOptions,
} from './sentinels.ts';
