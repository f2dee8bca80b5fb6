/**
 * Walks a JSON value from a partner property by property, for the checks a schema cannot make
 * (an IBAN's check digits, a BSN's elfproef) wherever the field sits. Without recursion and to a
 * bounded depth: a body nested a hundred thousand levels deep costs a loop that stops, never a
 * stack overflow (a 500).
 */

import type { Violation } from '@ketenhub/contracts';

/** Deepest nesting of objects and arrays a walk goes into; a chain event needs far less. */
export const MAX_WALK_DEPTH = 64;

interface Frame {
  key: string;
  /** `key` as a field segment: `.key`, or `[i]` for an array item. */
  segment: string;
  value: unknown;
  parent: Frame | undefined;
  depth: number;
}

/** The field name of a frame, as schema violations name it (`data.vasteLasten[1].iban`). */
function fieldOf(frame: Frame | undefined, base: string): string {
  const segments: string[] = [];
  for (let f = frame; f; f = f.parent) segments.push(f.segment);
  let field = base;
  for (const segment of segments.reverse()) {
    field = segment.startsWith('[') || field === '' ? `${field}${segment}` : `${field}.${segment}`;
  }
  return field;
}

function childrenOf(frame: Frame | undefined, value: object, depth: number): Frame[] {
  const entries: [string, string, unknown][] = Array.isArray(value)
    ? value.map((item, i) => [String(i), `[${i}]`, item])
    : Object.entries(value).map(([key, child]) => [key, key, child]);
  return entries.map(([key, segment, child]) => ({
    key,
    segment,
    value: child,
    parent: frame,
    depth,
  }));
}

/**
 * Calls `visit` for every property and array item of `value`, depth first in document order,
 * with its key and its field name (built only when asked for). `visit` returns true to walk into
 * the value. Returns the violation `max depth` naming the field where the walk stopped, when the
 * value nests deeper than MAX_WALK_DEPTH, else undefined. Anything that is not an object or an
 * array (null, a string) has no properties: nothing is visited.
 */
export function walkJson(
  value: unknown,
  base: string,
  visit: (key: string, child: unknown, field: () => string) => boolean,
): Violation | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const stack = childrenOf(undefined, value, 1).reverse();
  while (stack.length > 0) {
    const frame = stack.pop()!;
    if (!visit(frame.key, frame.value, () => fieldOf(frame, base))) continue;
    const child = frame.value;
    if (child === null || typeof child !== 'object') continue;
    if (frame.depth >= MAX_WALK_DEPTH) {
      return {
        field: fieldOf(frame, base),
        rule: 'max depth',
        message: `nests objects and arrays deeper than ${MAX_WALK_DEPTH} levels`,
      };
    }
    // One at a time: spreading an array of 100,000 items into push overflows the stack too.
    const children = childrenOf(frame, child, frame.depth + 1);
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
  }
  return undefined;
}
