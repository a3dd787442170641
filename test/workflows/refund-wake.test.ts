// refundOrder on the time-skipping server: a refund event that arrives after the create reached
// Stripe but before the pending wait begins (the cluster chaos run saw it land while the order's
// lock was released) wakes the wait at once. Before patch `refund-wake-v2` the wait cleared it,
// and the refund sat until its 12-hour re-read. The Stripe side is a fake here (a workflow test:
// the webhook must land inside one activity, which a real simulator cannot time); the order's
// lock is the real workflow and activity.
import { Context } from '@temporalio/activity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refundWorkflowId } from '../../src/shared/after-charge-ids.js';
import type { RefundSnapshot } from '../../src/shared/refunds.js';
import { stripeEventSignal } from '../../src/workflows/messages.js';
import type { refundOrder } from '../../src/workflows/refund.js';
import {
  chargedView,
  refundSnapshot,
  startRefundWorker,
  type RefundWorker,
} from './refund-worker.js';

let stack: RefundWorker;
let retrieves: string[] = [];

const snapshot = (status: RefundSnapshot['status']) =>
  refundSnapshot('re_wake1', 'rf-wake', status, 500);

beforeAll(async () => {
  stack = await startRefundWorker('refund-wake', (env) => ({
    readOrderRefunds: () => Promise.resolve(chargedView('wake1', 2000, 0)),
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
  }));
});

afterAll(async () => {
  await stack?.close();
});

describe('refundOrder: a wake-up before the pending wait', () => {
  it('re-reads the refund at once, without starting the 12-hour re-read timer', async () => {
    retrieves = [];
    const orderId = `wake-${Date.now()}`;
    const handle = await stack.env.client.workflow.start<typeof refundOrder>('refundOrder', {
      taskQueue: stack.taskQueue,
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
