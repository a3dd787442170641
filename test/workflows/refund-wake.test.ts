// refundOrder on the time-skipping server: a refund event that arrives after the create reached
// Stripe but before the pending wait begins (the cluster chaos run saw it land while the order's
// lock was released) wakes the wait at once. Before patch `refund-wake-v2` the wait cleared it,
// and the refund sat until its 12-hour re-read. The Stripe side is a fake here (a workflow test:
// the webhook must land inside one activity, which a real simulator cannot time); the order's
// lock is the real workflow and activity.
import { Context } from '@temporalio/activity';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStripeClient } from '../../src/activities/stripe-client.js';
import { refundWorkflowId } from '../../src/shared/after-charge-ids.js';
import type { OrderRefundsView, RefundSnapshot } from '../../src/shared/refunds.js';
import { stripeEventSignal } from '../../src/workflows/messages.js';
import type { refundOrder } from '../../src/workflows/refund.js';
import {
  createTimeSkippingEnv,
  createTimeSkippingWorker,
  scratchActivities,
  uniqueTaskQueue,
} from '../helpers/temporal.js';

let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;
let close: () => Promise<void>;
const taskQueue = uniqueTaskQueue('refund-wake');
let retrieves: string[] = [];

const snapshot = (status: RefundSnapshot['status']): RefundSnapshot => ({
  id: 're_wake1',
  status,
  amount: 500,
  currency: 'usd',
  chargeId: 'ch_wake1',
  refundId: 'rf-wake',
  failureReason: undefined,
});

beforeAll(async () => {
  env = await createTimeSkippingEnv();
  // Unused by the activities below; the lock's activity is the real one.
  const scratch = scratchActivities(
    createStripeClient({ secretKey: 'sk_test_wake', apiBase: 'http://127.0.0.1:9' }),
  );
  close = () => scratch.close();
  worker = await createTimeSkippingWorker(env, taskQueue, {
    activities: {
      ...scratch.activities,
      async readOrderRefunds(): Promise<OrderRefundsView> {
        return {
          kind: 'charged',
          paymentIntentId: 'pi_wake1',
          chargeId: 'ch_wake1',
          customerId: 'cus_wake1',
          currency: 'usd',
          captured: 2000,
          refunded: 0,
          existing: undefined,
        };
      },
      async createRefund(): Promise<RefundSnapshot> {
        // Stripe made the refund pending and the bank settled it at once: its webhook reaches
        // the workflow before this answer (with the status as it was at the create) does.
        const { workflowId } = Context.current().info.workflowExecution!;
        await env.client.workflow.getHandle(workflowId).signal(stripeEventSignal, {
          id: 'evt_wake1',
          type: 'refund.updated',
          created: 1,
          objectId: 're_wake1',
        });
        return snapshot('pending');
      },
      async retrieveRefund(id: string): Promise<RefundSnapshot> {
        retrieves.push(id);
        return snapshot('succeeded');
      },
    },
  });
  running = worker.run();
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await close?.();
  await env?.teardown();
});

describe('refundOrder: a wake-up before the pending wait', () => {
  it('re-reads the refund at once, without starting the 12-hour re-read timer', async () => {
    retrieves = [];
    const orderId = `wake-${Date.now()}`;
    const handle = await env.client.workflow.start<typeof refundOrder>('refundOrder', {
      taskQueue,
      workflowId: refundWorkflowId(orderId, 'rf-wake'),
      args: [{ orderId, refundId: 'rf-wake', amount: 500, reason: 'requested_by_customer' }],
    });
    expect(await handle.result()).toMatchObject({ outcome: 'succeeded', amount: 500 });
    expect(retrieves).toEqual(['re_wake1']);
    const events = (await handle.fetchHistory()).events ?? [];
    // The lock's re-ask wait is a timer too (2 minutes); the 12-hour re-read is the one not started.
    const timers = events
      .map((e) => Number(e.timerStartedEventAttributes?.startToFireTimeout?.seconds ?? -1))
      .filter((seconds) => seconds >= 0);
    expect(timers).not.toContain(12 * 3600);
    const read = events.find(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'retrieveRefund',
    );
    expect(read?.userMetadata?.summary?.data?.toString()).toContain('a webhook arrived');
  });
});
