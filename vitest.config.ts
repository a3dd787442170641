import { defineConfig } from 'vitest/config';

// One shared dev server per run (global setup); forks because the Temporal worker's native
// bridge does not belong in worker threads. The seeded chaos run (a minute or two of real
// faults) is its own step, `npm run test:chaos`, so `npm test` stays within its 5 minutes.
const chaos = process.env.VITEST_SUITE === 'chaos';

export default defineConfig({
  test: {
    pool: 'forks',
    globalSetup: ['test/global-setup.ts'],
    include: chaos ? ['test/chaos/**/*.test.ts'] : ['test/**/*.test.ts'],
    exclude: chaos ? [] : ['test/chaos/**', 'node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    silent: 'passed-only',
  },
});
