// Figure 5, test-time travel: the full default dunning campaign (a card that always declines,
// Stripe's Smart Retries-like schedule of about two weeks) on the time-skipping server, with the
// real activities against the simulator, as scripts/campaign-timeline.ts runs it.
import { join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../src/activities/index.js';
import { createStripeClient } from '../src/activities/stripe-client.js';
import { BillingClient, ChargeOutcome } from '../src/client/index.js';
import { testServerExecutable } from '../src/embedded/servers.js';
import { OutboxNotifier } from '../src/notifications/index.js';
import { startSimulator } from '../src/simulator/index.js';
import { progress } from './measure.js';
import type { BenchStack } from './stack.js';
import { registerSearchAttributes } from '../test/helpers/temporal.js';

export interface TimeTravelResult {
  /** Wall seconds from the start of the charge to its result. */
  campaignWallSeconds: number;
  /** Wall seconds including the time-skipping server's start. */
  totalWallSeconds: number;
  /** The campaign's span on the server's (skipped) clock. */
  simulatedSeconds: number;
  attempts: number;
  historyEvents: number;
}

export async function benchTimeTravel(stack: BenchStack): Promise<TimeTravelResult> {
  progress('time travel: the default campaign on the time-skipping server');
  const t0 = performance.now();
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: testServerExecutable() },
  });
  const sim = await startSimulator({ port: 0, seed: 7 });
  let notifier: OutboxNotifier | undefined;
  try {
    // The time-skipping server takes search attributes at run time, not at start-up.
    await registerSearchAttributes(env);
    const stripe = createStripeClient({ secretKey: 'sk_test_bench_travel', apiBase: sim.url });
    notifier = new OutboxNotifier({ path: join(stack.dir, 'travel-outbox.jsonl') });
    const customerId = (await stripe.customers.create({ email: 'travel@example.com' })).id;
    const taskQueue = 'bench-time-travel';
    const worker = await Worker.create({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue,
      workflowBundle: { codePath: stack.bundlePath },
      activities: createActivities({ stripe, notifier }),
    });
    const billing = new BillingClient(env.client, { taskQueue });
    const t1 = performance.now();
    const handle = await billing.startCharge({
      orderId: 'bench-time-travel',
      customerId,
      amount: 2900,
      currency: 'usd',
      paymentMethodId: 'pm_card_chargeDeclinedInsufficientFunds',
    });
    const result = await worker.runUntil(handle.result());
    const t2 = performance.now();
    if (result.outcome !== ChargeOutcome.failed)
      throw new Error(`the default campaign ended ${result.outcome}, expected failed`);
    const [description, history] = await Promise.all([
      handle.workflow.describe(),
      handle.workflow.fetchHistory(),
    ]);
    const simulatedMs = (description.closeTime?.getTime() ?? NaN) - description.startTime.getTime();
    return {
      campaignWallSeconds: (t2 - t1) / 1000,
      totalWallSeconds: (t2 - t0) / 1000,
      simulatedSeconds: simulatedMs / 1000,
      attempts: result.attempts,
      historyEvents: history.events?.length ?? 0,
    };
  } finally {
    await notifier?.close();
    await sim.close();
    await env.teardown();
  }
}
