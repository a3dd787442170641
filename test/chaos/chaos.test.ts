// CI's chaos runs: the small seeded configuration (60 orders, 2 worker processes, one dev server
// restart, 3 worker kills) through the real stack, then the small adversarial one (40 orders,
// most attacked by callers that bypass the client), each checked by the independent checker:
// every invariant must be 0. The full runs are `npm run chaos [-- --adversarial]` (README, Chaos).
import { afterAll, describe, expect, it } from 'vitest';
import { CI_ADVERSARIAL_OPTIONS, CI_OPTIONS } from '../../chaos/options.js';
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

  it(`40 orders attacked by raw starts with every id policy, wrong ids, terminate + restart, resets, restarts after Stripe pruned the keys, forged and junk signals, a flood, retryNow storms and cancels at every phase: every invariant holds (seed ${CI_ADVERSARIAL_OPTIONS.seed})`, async () => {
    const report = await runChaos(CI_ADVERSARIAL_OPTIONS);
    const table = renderReport(report);
    const violated = report.check.invariants.filter((row) => row.count > 0);
    expect(violated, `${table}\nrun directory: ${report.dir}`).toEqual([]);
    // The attacks really happened: each kind on some order, callers bypassed the client, the
    // clock jumped, the flood went in, and conflicting and wrongly named runs failed as typed.
    const attacks = new Set(report.plan.orders.map((o) => o.attack?.kind).filter(Boolean));
    expect(attacks.size, table).toBeGreaterThanOrEqual(12);
    const record = report.driver.adversary!;
    expect(record.clockJumps.length).toBeGreaterThanOrEqual(1);
    expect(record.signalsSent).toBeGreaterThan(1000);
    expect(
      report.check.observations[
        'adversarial: runs asked other parameters than the order (ChargeConflict)'
      ],
    ).toBeGreaterThan(0);
    expect(
      report.check.observations['adversarial: runs under a wrong workflow id (WrongWorkflowId)'],
    ).toBeGreaterThan(0);
    expect(report.check.observations['adversarial: runs continued as new']).toBeGreaterThan(0);
  }, 420_000);
});
