// refundOrder on the time-skipping server: a retried refund create that Stripe refuses as an
// over-refund because its own first attempt made the refund (the answer was lost, and the key was
// no longer Stripe's when Temporal retried: the adversarial chaos run's clock jump past 24 h did
// that between two attempts). The re-read finds this refund id's refund: the result is that
// refund, not `refused`. Before patch `refund-adopt-own-v1` the workflow reported `refused`
// while Stripe held the refund. The Stripe side is a fake (the two attempts must straddle a key's
// pruning, which a real simulator cannot time); the order's lock is the real workflow.
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refundWorkflowId } from '../../src/shared/after-charge-ids.js';
import type { RefundSnapshot } from '../../src/shared/refunds.js';
import { StripeFailureType } from '../../src/shared/stripe-failures.js';
import { REFUND_ADOPT_PATCH, type refundOrder } from '../../src/workflows/refund.js';
import {
  chargedView,
  refundSnapshot,
  startRefundWorker,
  type RefundWorker,
} from './refund-worker.js';

let stack: RefundWorker;
let creates = 0;
let made = false;
const own = refundSnapshot('re_adopt1', 'rf-adopt', 'succeeded', 500);

beforeAll(async () => {
  stack = await startRefundWorker('refund-adopt', () => ({
    readOrderRefunds: () =>
      Promise.resolve(made ? chargedView('adopt1', 800, 500, own) : chargedView('adopt1', 800, 0)),
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
  }));
});

afterAll(async () => {
  await stack?.close();
});

describe('refundOrder: an over-refund that is its own refund', () => {
  it('adopts the refund its lost first attempt made instead of reporting refused', async () => {
    const orderId = `adopt-${Date.now()}`;
    const handle = await stack.env.client.workflow.start<typeof refundOrder>('refundOrder', {
      taskQueue: stack.taskQueue,
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
