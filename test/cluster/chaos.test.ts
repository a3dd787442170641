// The cluster's chaos run in small (CLUSTER_TEST_OPTIONS: 80 orders, seeded): the same driver,
// faults, refunds and checker as `npm run chaos`, on the production shape from a fresh data
// directory, with each cluster fault once (`kill -9` of a history host, of the frontend and of
// Temporal's worker service, a PostgreSQL stop and start) and two worker-host kills: every
// invariant must be 0. The full run is `npm run chaos -- --cluster` (docs/chaos.md).
import { afterAll, describe, expect, it } from 'vitest';
import { CLUSTER_TEST_OPTIONS } from '../../chaos/options.js';
import { killChildren } from '../../chaos/processes.js';
import { renderReport } from '../../chaos/report.js';
import { runChaos } from '../../chaos/run.js';

// A failed run must not leave its PostgreSQL, Temporal services or workers behind.
afterAll(() => killChildren());

describe('chaos on the cluster (small configuration)', () => {
  it(`80 orders under API and webhook faults, worker-host kills, a history host, the frontend and the worker service killed and PostgreSQL restarted: every invariant holds (seed ${CLUSTER_TEST_OPTIONS.seed})`, async () => {
    const report = await runChaos(CLUSTER_TEST_OPTIONS);
    const table = renderReport(report);
    const violated = report.check.invariants.filter((row) => row.count > 0);
    // On failure the message carries the whole table, the seed and the kept run directory.
    expect(violated, `${table}\nrun directory: ${report.dir}`).toEqual([]);
    // The run really was chaotic: each cluster fault happened once, on the cluster.
    const kinds = report.disruptions.map((d) => d.kind).sort();
    expect(kinds, table).toEqual([
      'frontend',
      'history',
      'postgres',
      'temporal_worker',
      'worker',
      'worker',
    ]);
    expect(report.check.observations['activity attempts after the first']).toBeGreaterThan(0);
    expect(report.check.observations['orders charged (ledger)']).toBeGreaterThan(0);
  }, 420_000);
});
