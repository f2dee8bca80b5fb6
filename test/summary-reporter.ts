import type { Reporter } from 'vitest/reporters';

type Task = {
  type: string;
  mode?: string;
  result?: { state?: string; errors?: unknown[] };
  tasks?: Task[];
};
export interface Totals {
  passed: number;
  failed: number;
  skipped: number;
}

/**
 * Counts the tests of a run. A test that did not run because its file or suite failed itself (a
 * `beforeAll` that threw, an import error: the suite has errors of its own) counts as failed,
 * not skipped; such a file or suite without any test counts as one failure.
 */
export function countTests(
  tasks: Task[],
  into: Totals = { passed: 0, failed: 0, skipped: 0 },
  parentFailed = false,
): Totals {
  for (const t of tasks) {
    if (t.type !== 'test') {
      const broke = t.result?.state === 'fail' && (t.result.errors?.length ?? 0) > 0;
      const before = into.passed + into.failed + into.skipped;
      countTests(t.tasks ?? [], into, parentFailed || broke);
      if (broke && into.passed + into.failed + into.skipped === before) into.failed++;
      continue;
    }
    const state = t.result?.state;
    if (state === 'pass') into.passed++;
    else if (state === 'fail') into.failed++;
    else if (parentFailed) into.failed++;
    else into.skipped++;
  }
  return into;
}

/**
 * One plain closing line, `N passed, N failed, N skipped`, after vitest's own summary: CI reads
 * it to tell a run that tested something from one that tested nothing.
 */
export default class SummaryReporter implements Reporter {
  onFinished(files: unknown[] = []): void {
    const totals = countTests(files as Task[]);
    process.stdout.write(
      `\n${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped\n`,
    );
  }
}
