import type { ErrorObject } from 'ajv';

/** One violation of a contract: which field, which rule, in words a partner can act on. */
export interface Violation {
  /** Dotted path of the offending field ('' for the document itself), e.g. `persoon.bsn`. */
  field: string;
  /** The rule that failed, e.g. `required`, `pattern`, `format:date`, `elfproef`. */
  rule: string;
  message: string;
}

/** `/persoon/bsn` → `persoon.bsn`; `/kinderen/0/naam` → `kinderen[0].naam`. */
export function pointerToField(pointer: string): string {
  if (pointer === '' || pointer === '/') return '';
  return pointer
    .slice(1)
    .split('/')
    .map((seg) => seg.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, seg) => (/^\d+$/.test(seg) ? `${acc}[${seg}]` : acc ? `${acc}.${seg}` : seg), '');
}

function join(base: string, name: string): string {
  return base ? `${base}.${name}` : name;
}

/** Turns ajv's errors into violations that name the field and the rule. */
export function toViolations(errors: readonly ErrorObject[] | null | undefined): Violation[] {
  if (!errors) return [];
  const out: Violation[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    const at = pointerToField(e.instancePath);
    let field = at;
    let rule = e.keyword;
    let message = e.message ?? e.keyword;
    const p = e.params as Record<string, unknown>;
    switch (e.keyword) {
      case 'required':
        field = join(at, String(p.missingProperty));
        message = 'is required';
        break;
      case 'additionalProperties':
        field = join(at, String(p.additionalProperty));
        message = 'is not allowed here';
        break;
      case 'unevaluatedProperties':
        field = join(at, String(p.unevaluatedProperty));
        rule = 'additionalProperties';
        message = 'is not allowed here';
        break;
      case 'pattern':
        rule = `pattern ${String(p.pattern)}`;
        message = `must match ${String(p.pattern)}`;
        break;
      case 'format':
        rule = `format:${String(p.format)}`;
        message = `must be a valid ${String(p.format)}`;
        break;
      case 'enum':
        message = `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
        break;
      case 'const':
        message = `must be ${JSON.stringify(p.allowedValue)}`;
        break;
      case 'if':
      case 'anyOf':
      case 'oneOf':
      case 'allOf':
        // The branch errors that follow say what is wrong; these add only noise.
        continue;
      default:
        break;
    }
    const key = `${field}\u0000${rule}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ field, rule, message });
  }
  return out;
}
