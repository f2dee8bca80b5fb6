import { describe, expect, it } from 'vitest';
import { countTests } from './summary-reporter.ts';

const broken = { state: 'fail', errors: [new Error('beforeAll threw')] };
const test = (state?: string, mode = 'run') => ({
  type: 'test',
  mode,
  ...(state ? { result: { state } } : {}),
});

describe('the closing line of a test run', () => {
  it('counts passed, failed and deliberately skipped tests', () => {
    const files = [
      {
        type: 'suite',
        // Failed because a test failed: its skipped tests were skipped on purpose.
        result: { state: 'fail' },
        tasks: [
          test('pass'),
          test('fail'),
          { type: 'suite', tasks: [test(undefined, 'skip'), test(undefined, 'todo')] },
        ],
      },
    ];
    expect(countTests(files)).toEqual({ passed: 1, failed: 1, skipped: 2 });
  });

  it('counts the tests of a file whose beforeAll failed as failed, not skipped', () => {
    const files = [
      {
        type: 'suite',
        result: broken,
        tasks: [test('skip', 'skip'), test('skip', 'skip')],
      },
      { type: 'suite', result: { state: 'pass' }, tasks: [test('pass'), test(undefined, 'skip')] },
    ];
    expect(countTests(files)).toEqual({ passed: 1, failed: 2, skipped: 1 });
  });

  it('counts a file that failed before any test was collected as one failure', () => {
    expect(countTests([{ type: 'suite', result: broken, tasks: [] }])).toEqual({
      passed: 0,
      failed: 1,
      skipped: 0,
    });
  });
});
