// Figure 7, refunds (issue 14): a refund's start→succeeded latency against its charge's, one at
// a time on one worker (each refund of a fresh paid order, so every one takes the order's lock,
// reads the charge and its refunds, and creates), and the history events a refund costs: its
// own workflow's and its share of the order's refund lock.
import { ChargeOutcome } from '../src/client/index.js';
import { refundLockWorkflowId } from '../src/shared/after-charge-ids.js';
import { RefundOutcome } from '../src/shared/refunds.js';
import { median, percentile, progress } from './measure.js';
import { BENCH_TASK_QUEUE, type BenchStack } from './stack.js';

export interface RefundSizes {
  /** Paid orders, each refunded once (one at a time). */
  refunds: number;
}

export interface RefundsResult {
  sizes: RefundSizes;
  chargeP50Ms: number;
  chargeP99Ms: number;
  refundP50Ms: number;
  refundP99Ms: number;
  /** refund p50 ÷ charge p50. */
  p50Ratio: number;
  /** History events of one refund workflow (median), and of one charge workflow (median). */
  refundHistoryEvents: number;
  chargeHistoryEvents: number;
  /** History events the order's refund lock took for one refund (median; one run per order here). */
  lockHistoryEvents: number;
}

export async function benchRefunds(
  stack: BenchStack,
  sizes: RefundSizes,
  runId: string,
): Promise<RefundsResult> {
  const worker = await stack.createWorker(BENCH_TASK_QUEUE);
  return worker.runUntil(async () => {
    const charges: number[] = [];
    const refunds: number[] = [];
    const refundEvents: number[] = [];
    const chargeEvents: number[] = [];
    const lockEvents: number[] = [];
    for (let i = 0; i < sizes.refunds; i++) {
      const orderId = `${runId}-refund-${i}`;
      const t0 = performance.now();
      const charge = await stack.billing.startCharge({
        orderId,
        customerId: stack.customerId,
        amount: 2500,
        currency: 'usd',
        paymentMethodId: 'pm_card_visa',
      });
      const paid = await charge.result();
      const t1 = performance.now();
      if (paid.outcome !== ChargeOutcome.succeeded)
        throw new Error(`${charge.workflowId} ended ${paid.outcome}, not succeeded`);
      const refund = await stack.billing.refund(orderId, {
        refundId: 'bench',
        reason: 'requested_by_customer',
      });
      const result = await refund.result();
      const t2 = performance.now();
      if (result.outcome !== RefundOutcome.succeeded)
        throw new Error(`${refund.workflowId} ended ${result.outcome}: ${result.reason ?? ''}`);
      charges.push(t1 - t0);
      refunds.push(t2 - t1);
      const [refundHistory, chargeHistory, lockHistory] = await Promise.all([
        refund.workflow.fetchHistory(),
        charge.workflow.fetchHistory(),
        stack.client.workflow.getHandle(refundLockWorkflowId(orderId)).fetchHistory(),
      ]);
      refundEvents.push(refundHistory.events?.length ?? 0);
      chargeEvents.push(chargeHistory.events?.length ?? 0);
      // The lock stays open a minute after the last release: count what it has so far.
      lockEvents.push(lockHistory.events?.length ?? 0);
      if ((i + 1) % 10 === 0) progress(`refunds: ${i + 1}/${sizes.refunds}`);
    }
    const refundP50Ms = median(refunds);
    const chargeP50Ms = median(charges);
    return {
      sizes,
      chargeP50Ms,
      chargeP99Ms: percentile(charges, 99),
      refundP50Ms,
      refundP99Ms: percentile(refunds, 99),
      p50Ratio: refundP50Ms / chargeP50Ms,
      refundHistoryEvents: median(refundEvents),
      chargeHistoryEvents: median(chargeEvents),
      lockHistoryEvents: median(lockEvents),
    };
  });
}
