import { policies, type PolicySet } from './policies.ts';
import { schemas, type SchemaRegistry } from './registry.ts';
import type { Violation } from './violations.ts';

/**
 * The dotted paths in `value` that no allowed path covers (a path allows its whole subtree),
 * each named at the highest level that is wholly outside.
 */
function fieldsOutside(value: unknown, allowed: Set<string>, path = ''): string[] {
  if (path && allowed.has(path)) return [];
  if (path && ![...allowed].some((a) => a.startsWith(`${path}.`))) return [path];
  if (Array.isArray(value)) {
    return [...new Set(value.flatMap((v) => fieldsOutside(v, allowed, path)))];
  }
  if (value === null || typeof value !== 'object') return path ? [path] : [];
  return Object.entries(value).flatMap(([key, v]) =>
    fieldsOutside(v, allowed, path ? `${path}.${key}` : key),
  );
}

/**
 * What a partner receives, checked against its contract and its policy, for every type the
 * policy lets out to it (also those another partner's policy added): the whole chain event
 * (envelope, a catalogued type, `data` valid against the type's schema), the partner's own
 * delivery schema when its policy names one (`leveringsschema`), a type its policy lets out,
 * and no data field outside the policy's allow-list. Empty when it may be delivered.
 */
export function deliveryViolations(
  partner: string,
  event: unknown,
  set: PolicySet = policies(),
  registry: SchemaRegistry = schemas(),
): Violation[] {
  const policy = set.policy(partner);
  const violations = [
    ...registry.validateEvent(event),
    ...(policy.leveringsschema ? registry.validate(policy.leveringsschema, event) : []),
  ];
  if (violations.length > 0) return violations;
  const { type, data } = event as { type: string; data: unknown };
  const rule = policy.ontvangt[type];
  if (!rule) {
    return [{ field: 'type', rule: 'policy', message: `${type} is not delivered to ${partner}` }];
  }
  return fieldsOutside(data, new Set(Object.keys(rule.velden))).map((field) => ({
    field: `data.${field}`,
    rule: 'policy',
    message: `not in the ${partner} policy for ${type}`,
  }));
}
