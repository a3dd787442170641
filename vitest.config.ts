import { defineConfig } from 'vitest/config';

// One shared dev server per run (global setup); forks because the Temporal worker's native
// bridge does not belong in worker threads. Three suites are their own explicit steps, so that
// `npm test` stays within its 5 minutes: the seeded chaos run (a minute or two of real faults,
// `npm run test:chaos`) and the production-shaped cluster (Temporal from Go on PostgreSQL,
// `npm run test:cluster`), and the package as an app installs it (npm pack, the tarball
// installed with --omit=dev, the example shop end to end: `npm run test:package`, a few minutes
// of builds and installs). VITEST_SUITE selects one; anything else is the default suite.
const SUITES = ['chaos', 'cluster', 'package'] as const;
const suite = SUITES.find((s) => s === process.env.VITEST_SUITE);

export default defineConfig({
  test: {
    pool: 'forks',
    // Two files at a time. Vitest's default in run mode is one fewer than the CPUs, one fork on
    // a 2-core machine, while most files spend their time waiting on the servers: measured on
    // this machine, the default suite took 466 s with one fork, 320 s with two and 308 s with three
    // (more forks mostly add contention, and contention is what makes timing-sensitive tests flaky).
    // The explicit suites keep one file at a time: the chaos run and the signal flood each load
    // the machine on their own, and each cluster file starts its own PostgreSQL and Temporal.
    maxWorkers: suite ? 1 : 2,
    // A fork runs file after file with the modules it has already imported, instead of a fresh
    // process per file: the default suite's ~70 files spent a second or two each on start-up and
    // imports (measured: 304 s isolated, 235 s not). Every file starts and stops its own workers,
    // simulators and clients in its hooks, and no module keeps state from one file to the next
    // (the SDK's Runtime is installed once per process, as `quietRuntime` already allowed).
    isolate: false,
    globalSetup: ['test/global-setup.ts'],
    include: suite ? [`test/${suite}/**/*.test.ts`] : ['test/**/*.test.ts'],
    exclude: suite ? [] : [...SUITES.map((s) => `test/${s}/**`), 'node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: suite === 'cluster' ? 300_000 : 120_000,
    silent: 'passed-only',
  },
});
