/**
 * One HTTP call to an edge and the checks every refusal must pass: a 4xx (never a 5xx) with the
 * expected status, `application/problem+json` with `type`, `title` and `status`, for a 400 an
 * `errors[]` naming field and rule (capped), and none of the personal data that was sent.
 */
import { expect } from 'vitest';

export interface Answer {
  status: number;
  contentType: string;
  text: string;
  json: unknown;
}

export interface Call {
  method?: string;
  url: string;
  headers?: Headers | Record<string, string>;
  body?: string | Buffer;
}

export async function call(c: Call): Promise<Answer> {
  const res = await fetch(c.url, {
    method: c.method ?? 'POST',
    ...(c.headers ? { headers: c.headers } : {}),
    ...(c.body !== undefined ? { body: c.body } : {}),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', text, json };
}

/** The most `errors[]` entries a problem may carry: a partner needs the first ones to fix. */
export const MAX_ERRORS = 100;

export interface Expected {
  status: number | number[];
  /** An entry `errors[]` must contain (string: equal; RegExp: matching). */
  error?: { field?: string | RegExp; rule?: string | RegExp };
  /** Personal data that was sent; the answer must contain none of it. */
  personalData?: string[];
}

const matcher = (v: string | RegExp) => (typeof v === 'string' ? v : expect.stringMatching(v));

interface ProblemBody {
  type?: unknown;
  title?: unknown;
  status?: unknown;
  errors?: { field?: unknown; rule?: unknown }[];
}

export function expectProblem(answer: Answer, expected: Expected): void {
  const statuses = Array.isArray(expected.status) ? expected.status : [expected.status];
  const where = `${answer.status} ${answer.text.slice(0, 300)}`;
  expect(answer.status, where).toBeLessThan(500);
  expect(statuses, where).toContain(answer.status);
  expect(answer.contentType, where).toMatch(/^application\/problem\+json/);
  const body = answer.json as ProblemBody;
  expect(body, where).toMatchObject({
    type: expect.any(String),
    title: expect.any(String),
    status: answer.status,
  });
  if (answer.status === 400 || expected.error) {
    // A partner must be told what to fix: the field and the rule, for every kind of bad input.
    expect(Array.isArray(body.errors) && body.errors.length > 0, where).toBe(true);
    expect(body.errors!.length, where).toBeLessThanOrEqual(MAX_ERRORS);
    for (const e of body.errors!) {
      expect(e, where).toMatchObject({ field: expect.any(String), rule: expect.any(String) });
    }
  }
  if (expected.error) {
    expect(body.errors, where).toContainEqual(
      expect.objectContaining({
        ...(expected.error.field !== undefined ? { field: matcher(expected.error.field) } : {}),
        ...(expected.error.rule !== undefined ? { rule: matcher(expected.error.rule) } : {}),
      }),
    );
  }
  for (const value of expected.personalData ?? []) {
    expect(answer.text.includes(value), `the answer echoes ${value}: ${where}`).toBe(false);
  }
}
