import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    reporters: ['default', './test/summary-reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['**/*.test.ts'],
          exclude: ['**/node_modules/**', '**/*.int.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['**/*.int.test.ts'],
          exclude: ['**/node_modules/**'],
          // Each integration file starts its own NATS server (test/harness), so files are
          // isolated; the timeouts cover server start-up and delivery retries.
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
