// A refundOrder worker on the time-skipping server with fake Stripe activities for the refund
// (the order's lock stays the real workflow and activity): the refund workflow tests whose
// Stripe side must be timed in ways a real simulator cannot.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { createStripeClient } from '../../src/activities/stripe-client.js';
import type { BillingActivities } from '../../src/activities/index.js';
import type { OrderRefundsView, RefundSnapshot } from '../../src/shared/refunds.js';
import {
  createTimeSkippingEnv,
  createTimeSkippingWorker,
  scratchActivities,
  uniqueTaskQueue,
} from '../helpers/temporal.js';

export interface RefundWorker {
  env: TestWorkflowEnvironment;
  taskQueue: string;
  close(): Promise<void>;
}

/** A refund snapshot of `status`, with the fields the fakes share. */
export function refundSnapshot(
  id: string,
  refundId: string,
  status: RefundSnapshot['status'],
  amount: number,
): RefundSnapshot {
  const chargeId = `ch_${id.slice(3)}`;
  return { id, status, amount, currency: 'usd', chargeId, refundId, failureReason: undefined };
}

/** What `readOrderRefunds` answers for a charged order `name` (`pi_<name>`, `ch_<name>`). */
export function chargedView(
  name: string,
  captured: number,
  refunded: number,
  existing?: RefundSnapshot,
): OrderRefundsView {
  return {
    kind: 'charged',
    paymentIntentId: `pi_${name}`,
    chargeId: `ch_${name}`,
    customerId: `cus_${name}`,
    currency: 'usd',
    captured,
    refunded,
    existing,
  };
}

/** Starts the env and a running worker whose Stripe activities are `fakes` over the real rest. */
export async function startRefundWorker(
  name: string,
  fakes: (env: TestWorkflowEnvironment) => Partial<BillingActivities>,
): Promise<RefundWorker> {
  const env = await createTimeSkippingEnv();
  const taskQueue = uniqueTaskQueue(name);
  // Unused by the fakes; the lock's activity is the real one.
  const scratch = scratchActivities(
    createStripeClient({ secretKey: `sk_test_${name}`, apiBase: 'http://127.0.0.1:9' }),
  );
  const worker: Worker = await createTimeSkippingWorker(env, taskQueue, {
    activities: { ...scratch.activities, ...fakes(env) },
  });
  const running = worker.run();
  return {
    env,
    taskQueue,
    async close() {
      worker.shutdown();
      await running;
      await scratch.close();
      await env.teardown();
    },
  };
}
