export { createAjv } from './ajv.ts';
export { toViolations, pointerToField, type Violation } from './violations.ts';
