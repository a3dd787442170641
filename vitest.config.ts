import { defineConfig } from 'vitest/config';

// One shared dev server per run (global setup); forks because the Temporal worker's native
// bridge does not belong in worker threads.
export default defineConfig({
  test: {
    pool: 'forks',
    globalSetup: ['test/global-setup.ts'],
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    silent: 'passed-only',
  },
});
