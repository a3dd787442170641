// refundOrder on the time-skipping server: a retried refund create that Stripe refuses as an
// over-refund because its own first attempt made the refund (the answer was lost, and the key was
// no longer Stripe's when Temporal retried: the adversarial chaos run's clock jump past 24 h did
// that between two attempts). The re-read finds this refund id's refund: the result is that
// refund, not `refused`. Before patch `refund-adopt-own-v1` the workflow reported `refused`
// while Stripe held the refund. The Stripe side is a fake (the two attempts must straddle a key's
// pruning, which a real simulator cannot time); the order's lock is the real workflow.
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStripeClient } from '../../src/activities/stripe-client.js';
import { refundWorkflowId } from '../../src/shared/after-charge-ids.js';
import type { OrderRefundsView, RefundSnapshot } from '../../src/shared/refunds.js';
import { StripeFailureType } from '../../src/shared/stripe-failures.js';
import { REFUND_ADOPT_PATCH, type refundOrder } from '../../src/workflows/refund.js';
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
const taskQueue = uniqueTaskQueue('refund-adopt');
let creates = 0;
let made = false;

const own: RefundSnapshot = {
  id: 're_adopt1',
  status: 'succeeded',
  amount: 500,
  currency: 'usd',
  chargeId: 'ch_adopt1',
  refundId: 'rf-adopt',
  failureReason: undefined,
};

beforeAll(async () => {
  env = await createTimeSkippingEnv();
  const scratch = scratchActivities(
    createStripeClient({ secretKey: 'sk_test_adopt', apiBase: 'http://127.0.0.1:9' }),
  );
  close = () => scratch.close();
  worker = await createTimeSkippingWorker(env, taskQueue, {
    activities: {
      ...scratch.activities,
      async readOrderRefunds(): Promise<OrderRefundsView> {
        return {
          kind: 'charged',
          paymentIntentId: 'pi_adopt1',
          chargeId: 'ch_adopt1',
          customerId: 'cus_adopt1',
          currency: 'usd',
          captured: 800,
          refunded: made ? 500 : 0,
          existing: made ? own : undefined,
        };
      },
      async createRefund(): Promise<RefundSnapshot> {
        creates++;
        // The first attempt made the refund and lost its answer; the retry, with a key Stripe
        // no longer had, was checked afresh against what remains (300 of 800).
        made = true;
        throw ApplicationFailure.create({
          type: StripeFailureType.invalidRequest,
          message: 'Refund amount ($5.00) is greater than unrefunded amount on charge ($3.00)',
          nonRetryable: true,
          details: [{ statusCode: 400, code: 'amount_too_large', message: 'over-refund' }],
        });
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

describe('refundOrder: an over-refund that is its own refund', () => {
  it('adopts the refund its lost first attempt made instead of reporting refused', async () => {
    const orderId = `adopt-${Date.now()}`;
    const handle = await env.client.workflow.start<typeof refundOrder>('refundOrder', {
      taskQueue,
      workflowId: refundWorkflowId(orderId, 'rf-adopt'),
      args: [{ orderId, refundId: 'rf-adopt', amount: 500, reason: 'requested_by_customer' }],
    });
    expect(await handle.result()).toMatchObject({ outcome: 'succeeded', amount: 500 });
    expect(creates).toBe(1);
    const markers = ((await handle.fetchHistory()).events ?? [])
      .map((e) => e.markerRecordedEventAttributes?.details?.['patch-data']?.payloads?.[0]?.data)
      .filter((data) => data !== undefined && data !== null)
      .map((data) => Buffer.from(data).toString());
    expect(markers.some((m) => m.includes(REFUND_ADOPT_PATCH))).toBe(true);
  });
});
