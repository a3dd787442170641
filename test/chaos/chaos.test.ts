// CI's chaos run: the small seeded configuration (60 orders, 2 worker processes, one dev server
// restart, 3 worker kills) through the real stack, checked by the independent checker: every
// invariant must be 0. The full run is `npm run chaos` (docs/chaos.md).
import { afterAll, describe, expect, it } from 'vitest';
import { CI_OPTIONS } from '../../chaos/options.js';
import { killChildren } from '../../chaos/processes.js';
import { renderReport } from '../../chaos/report.js';
import { runChaos } from '../../chaos/run.js';

// A failed run must not leave its dev server or workers behind.
afterAll(() => killChildren());

describe('chaos (CI configuration)', () => {
  it(`60 orders under API and webhook faults, worker kills and a dev server restart: no double charge, no lost outcome, no lost event, no forged signal (seed ${CI_OPTIONS.seed})`, async () => {
    const report = await runChaos(CI_OPTIONS);
    const table = renderReport(report);
    const violated = report.check.invariants.filter((row) => row.count > 0);
    // On failure the message carries the whole table, the seed and the kept run directory.
    expect(violated, `${table}\nrun directory: ${report.dir}`).toEqual([]);
    expect(report.check.invariants.map((row) => row.count)).toEqual(
      report.check.invariants.map(() => 0),
    );
    // The run really was chaotic: it restarted the server, killed workers and saw faults.
    expect(report.disruptions.filter((d) => d.what.includes('dev server'))).toHaveLength(1);
    expect(report.disruptions.filter((d) => d.what.includes('worker'))).toHaveLength(3);
    expect(report.check.observations['activity attempts after the first']).toBeGreaterThan(0);
    expect(report.check.observations['webhook delivery attempts']).toBeGreaterThan(
      report.check.observations['  acknowledged by the receiver (validly signed, 2xx)'] ?? 0,
    );
  }, 240_000);
});
