// One chaos run, start to finish: plan from the seed, start the stack, arm the simulator's
// faults, drive the load and the disruptions, drain (bounded), let Stripe's pending webhook
// retries land, check, and tear down. `npm run chaos` and the CI test both call `runChaos`.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { BACKFILL_SCHEDULE_ID } from '../src/shared/stripe-events.js';
import { checkRun, listCharges, visibilityGaps } from './check.js';
import { drive } from './driver.js';
import type { ChaosOptions } from './options.js';
import { LEGIT_METHODS, planAdversarial } from './adversarial-plan.js';
import { planChaos } from './plan.js';
import { passed, type ChaosReport } from './report.js';
import { startClusterChaosStack } from './cluster-stack.js';
import { startChaosStack, type Progress } from './stack.js';

/** Simulated time the final flush moves Stripe's clock per step (its retries back off to 10 h). */
const FLUSH_STEP_MS = 3_600_000;
const FLUSH_STEPS = 4 * 24;
/** How often the drain triggers the backfill Schedule. */
const BACKFILL_EVERY_MS = 15_000;
/** How long the check waits for visibility to catch up with persistence. */
const VISIBILITY_BUDGET_MS = 120_000;
/** Wall-clock bound of that flush (deliveries go one at a time). */
const FLUSH_BUDGET_MS = 600_000;

/** Runs the whole chaos suite; the report says whether every invariant held. */
export async function runChaos(
  options: ChaosOptions,
  progress: Progress = () => undefined,
): Promise<ChaosReport & { dir: string }> {
  const started = Date.now();
  const plan = planChaos(options);
  if (options.adversarial) plan.adversarial = planAdversarial(plan.orders, options, plan.loadMs);
  const stack = await (options.cluster ? startClusterChaosStack : startChaosStack)(
    options,
    progress,
  );
  let report: (ChaosReport & { dir: string }) | undefined;
  try {
    for (const rule of plan.apiFaults) stack.sim.faults.add(rule);
    for (const rule of plan.webhookFaults) stack.sim.webhookFaults.add(rule);
    progress(
      `driving ${plan.orders.length} orders over ${(plan.loadMs / 1000).toFixed(0)} s with ${plan.apiFaults.length + plan.webhookFaults.length} fault rules`,
    );
    const driver = await drive(stack, plan, options, progress);

    // Drain: every charge must reach its outcome within the bound, with the stack whole again.
    await stack.settle();
    const drainStarted = Date.now();
    const deadline = driver.loadEndedAt + options.drainSeconds * 1000;
    let running = Infinity;
    let lastBackfill = Date.now();
    const backfill = stack.client.schedule.getHandle(BACKFILL_SCHEDULE_ID);
    while (Date.now() < deadline) {
      // A charge waiting on a lost webhook waits for the backfill: run it every 15 s, not every
      // minute (its interval compressed, as Stripe's clock and dunning are).
      if (Date.now() - lastBackfill > BACKFILL_EVERY_MS) {
        lastBackfill = Date.now();
        await backfill
          .trigger()
          .catch((error: unknown) => progress(`backfill trigger: ${String(error)}`));
      }
      try {
        ({ count: running } = await stack.client.workflow.count(
          `WorkflowType = 'chargeCustomer' AND ExecutionStatus = 'Running'`,
        ));
      } catch (error) {
        progress(`drain: count failed (${String(error)}); retrying`);
      }
      if (running === 0) break;
      progress(`drain: ${running} charge(s) still running`);
      await delay(2000);
    }
    const drainSeconds = (Date.now() - drainStarted) / 1000;

    // Stripe keeps retrying refused deliveries for days: move its clock so they land now.
    const flushDeadline = Date.now() + FLUSH_BUDGET_MS;
    for (let step = 0; step < FLUSH_STEPS && Date.now() < flushDeadline; step++) {
      const pending = stack.sim.events().filter((e) => e.pending_webhooks > 0).length;
      if (pending === 0) break;
      progress(`flush: ${pending} event(s) with deliveries pending; Stripe's clock +1 h`);
      stack.sim.advanceTime(FLUSH_STEP_MS);
      await stack.sim.flushWebhooks();
    }
    // Refund answers, as charges' outcomes, may wait for the drain's backfill and the flush.
    const waiting = driver.refunds.filter((r) => !r.result && !r.error && !r.skipped).length;
    if (waiting > 0) progress(`refunds: waiting for ${waiting} answer(s)`);
    await Promise.all(driver.refundAnswers);
    await backfill.pause('chaos run: checking');

    // Visibility is written behind each shard's queue: wait (bounded) until it lists every order's
    // current run as persistence has it; what still disagrees then is the checker's to count.
    const visibilityStarted = Date.now();
    const startedOrders = plan.orders.map((o) => o.orderId).filter((id) => driver.started.has(id));
    for (;;) {
      const gaps = await visibilityGaps(
        stack.client,
        startedOrders,
        await listCharges(stack.client),
      );
      if (gaps.length === 0 || Date.now() - visibilityStarted > VISIBILITY_BUDGET_MS) break;
      progress(`visibility: ${gaps.length} charge(s) not listed as persistence has them yet`);
      await delay(2000);
    }

    progress('checking');
    const checkStarted = Date.now();
    const check = await checkRun({
      client: stack.client,
      sim: stack.sim,
      taps: stack.tap.records,
      apiTaps: stack.apiTap.records,
      orders: plan.orders,
      forgedEventIds: driver.forgedEventIds,
      forgedMethods: driver.adversary?.forgedMethods ?? [],
      legitMethods: LEGIT_METHODS,
      signalRefusals: driver.adversary?.signalRefusals ?? [],
      refunds: driver.refunds,
    });
    if (options.keep || check.invariants.some((r) => r.count > 0))
      writeEvidence(stack.dir, {
        'stripe-requests.json': stack.sim.requests(),
        'stripe-ledger.json': stack.sim.ledger(),
        'api-tap.json': stack.apiTap.records,
        'webhook-tap.json': stack.tap.records,
        'driver-actions.json': driver.actions,
        'driver-refunds.json': driver.refunds,
        'adversary-steps.json': driver.adversary?.steps ?? [],
      });
    report = {
      options,
      plan,
      check,
      driver,
      disruptions: stack.disruptions,
      crashes: Object.fromEntries(stack.services.map((s) => [s.name, s.crashes])),
      seconds: {
        total: (Date.now() - started) / 1000,
        drain: drainSeconds,
        check: (Date.now() - checkStarted) / 1000,
      },
      dir: stack.dir,
    };
    return report;
  } finally {
    progress('stopping the stack');
    await stack.close();
    if (report && passed(report) && !options.keep)
      rmSync(stack.dir, { recursive: true, force: true });
    else progress(`kept the run directory (db file, logs, outbox): ${stack.dir}`);
  }
}

/** What the simulator, the taps and the driver recorded, for reading a failure after the run. */
function writeEvidence(dir: string, files: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(files))
    writeFileSync(join(dir, name), JSON.stringify(value));
}
