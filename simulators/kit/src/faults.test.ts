import { describe, expect, it } from 'vitest';
import { FaultInputError, createFaultTable } from './faults.ts';
import type { FaultTarget } from './faults.ts';

const GET_PIP: FaultTarget = { method: 'GET', path: '/v1/personen/1/PIP', api: 'PIP' };

function violationsOf(fn: () => unknown): { field: string; rule: string }[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(FaultInputError);
    return (err as FaultInputError).violations.map(({ field, rule }) => ({ field, rule }));
  }
  throw new Error('expected the fault to be refused');
}

describe('fault table', () => {
  it('applies faults in the order added, each to its next `count` matching requests', () => {
    const table = createFaultTable();
    table.add({ kind: 'status', count: 2 });
    table.add({ kind: 'reset', count: 1 });
    const kinds = [1, 2, 3, 4].map(() => table.take(GET_PIP)?.kind);
    expect(kinds).toEqual(['status', 'status', 'reset', undefined]);
    expect(table.list()).toEqual([]);
  });

  it('defaults a status fault to 503 and lists what is left of each fault', () => {
    const table = createFaultTable({ now: () => Date.parse('2027-01-01T00:00:00Z') });
    const added = table.add({ kind: 'status', retryAfterSeconds: 2, count: 3, durationMs: 60_000 });
    expect(added).toEqual({
      id: 1,
      kind: 'status',
      status: 503,
      retryAfterSeconds: 2,
      scope: {},
      count: 3,
      durationMs: 60_000,
      remaining: 3,
      expiresAt: '2027-01-01T00:01:00.000Z',
    });
    expect(table.take(GET_PIP)).toMatchObject({ id: 1, remaining: 2 });
    expect(table.list()).toEqual([{ ...added, remaining: 2 }]);
  });

  it('stops a timed fault once its duration has passed', () => {
    let clock = 1_000_000;
    const table = createFaultTable({ now: () => clock });
    table.add({ kind: 'hang', durationMs: 5_000 });
    expect(table.take(GET_PIP)?.kind).toBe('hang');
    clock += 4_999;
    expect(table.take(GET_PIP)?.kind).toBe('hang');
    clock += 1;
    expect(table.take(GET_PIP)).toBeUndefined();
    expect(table.list()).toEqual([]);
  });

  it('matches on gemeente, API, method and path prefix; an absent key matches anything', () => {
    const table = createFaultTable({ scopes: { gemeente: {}, api: {} } });
    table.add({ kind: 'status', status: 500, scope: { gemeente: 'gm0797' } });
    table.add({ kind: 'status', status: 501, scope: { api: 'PIP', method: 'POST' } });
    table.add({ kind: 'status', status: 502, scope: { path: '/v1/instellingen' } });
    const status = (t: FaultTarget) => {
      const f = table.take(t);
      return f?.kind === 'status' ? f.status : undefined;
    };
    expect(status({ method: 'POST', path: '/e', gemeente: 'gm0797' })).toBe(500);
    expect(status({ method: 'POST', path: '/e', gemeente: 'gm0363' })).toBeUndefined();
    expect(status({ ...GET_PIP, method: 'post' })).toBe(501);
    expect(status(GET_PIP)).toBeUndefined();
    expect(status({ method: 'GET', path: '/v1/instellingen' })).toBe(502);
    expect(status({ method: 'GET', path: '/v1/instellingen/1' })).toBe(502);
    // A prefix is a whole path segment.
    expect(status({ method: 'GET', path: '/v1/instellingenx' })).toBeUndefined();
  });

  it('clears', () => {
    const table = createFaultTable();
    table.add({ kind: 'reset' });
    table.clear();
    expect(table.take(GET_PIP)).toBeUndefined();
  });

  it('keeps a copy of what it was given', () => {
    const table = createFaultTable();
    const input = { kind: 'status' as const, body: { a: 1 }, scope: { method: 'GET' } };
    table.add(input);
    input.body.a = 2;
    input.scope.method = 'PUT';
    expect(table.take(GET_PIP)).toMatchObject({ body: { a: 1 }, scope: { method: 'GET' } });
  });
});

describe('fault validation', () => {
  const table = createFaultTable({
    scopes: { api: { values: ['PIP', 'GevolgdeUren'] }, gemeente: { pattern: '^gm[0-9]{4}$' } },
  });

  it('refuses what is not a fault of one of the four kinds', () => {
    expect(violationsOf(() => table.add('503'))).toEqual([{ field: '', rule: 'type' }]);
    expect(violationsOf(() => table.add({ status: 503 }))).toContainEqual({
      field: 'kind',
      rule: 'required',
    });
    expect(violationsOf(() => table.add({ kind: 'slow' }))).toEqual([
      { field: 'kind', rule: 'enum' },
    ]);
  });

  it('names a field another kind has, or no kind, instead of ignoring it', () => {
    expect(violationsOf(() => table.add({ kind: 'hang', status: 503 }))).toEqual([
      { field: 'status', rule: 'additionalProperties' },
    ]);
    expect(violationsOf(() => table.add({ kind: 'reset', mode: 'reset', untilMs: 5 }))).toEqual([
      { field: 'mode', rule: 'additionalProperties' },
      { field: 'untilMs', rule: 'additionalProperties' },
    ]);
  });

  it('checks each field of each kind', () => {
    expect(violationsOf(() => table.add({ kind: 'status', status: 42 }))).toEqual([
      { field: 'status', rule: 'minimum' },
    ]);
    expect(
      violationsOf(() => table.add({ kind: 'status', retryAfterSeconds: -1, count: 0 })),
    ).toEqual([
      { field: 'retryAfterSeconds', rule: 'minimum' },
      { field: 'count', rule: 'minimum' },
    ]);
    expect(violationsOf(() => table.add({ kind: 'hang', delayMs: 1.5 }))).toEqual([
      { field: 'delayMs', rule: 'type' },
    ]);
    expect(violationsOf(() => table.add({ kind: 'version' }))).toEqual([
      { field: 'apiVersion', rule: 'required' },
    ]);
    expect(violationsOf(() => table.add({ kind: 'version', apiVersion: 'v2' }))).toEqual([
      { field: 'apiVersion', rule: 'pattern ^[0-9]+\\.[0-9]+\\.[0-9]+$' },
    ]);
    expect(violationsOf(() => table.add({ kind: 'reset', durationMs: 0 }))).toEqual([
      { field: 'durationMs', rule: 'minimum' },
    ]);
  });

  it('checks the scope against what this simulator can tell from a request', () => {
    expect(
      violationsOf(() =>
        table.add({
          kind: 'reset',
          scope: { api: 'Nope', gemeente: '0797', method: 'get', path: 'v1', x: 1 },
        }),
      ),
    ).toEqual([
      { field: 'scope.x', rule: 'additionalProperties' },
      { field: 'scope.method', rule: 'enum' },
      { field: 'scope.path', rule: 'pattern ^/' },
      { field: 'scope.gemeente', rule: 'pattern ^gm[0-9]{4}$' },
      { field: 'scope.api', rule: 'enum' },
    ]);
    // A table without gemeenten cannot scope by one.
    expect(
      violationsOf(() => createFaultTable().add({ kind: 'reset', scope: { gemeente: 'gm0797' } })),
    ).toEqual([{ field: 'scope.gemeente', rule: 'additionalProperties' }]);
  });

  it('says what is wrong in the error message too', () => {
    expect(() => table.add({ kind: 'status', status: 42 })).toThrow(
      'invalid fault: status must be >= 200',
    );
  });
});
