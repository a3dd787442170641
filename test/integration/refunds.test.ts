// Refunds end to end on the real servers (issue 14): the dev server, the real activities and
// stripe-node against the Stripe simulator, webhooks over HTTP through the real receiver. Every
// test checks what Stripe holds: the charge's refunds and the simulator's request log.
import { WorkflowFailedError, WorkflowIdReusePolicy } from '@temporalio/client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { refundWorkflowId } from '../../src/shared/after-charge-ids.js';
import type { RefundInput, RefundResult } from '../../src/shared/refunds.js';
import type { refundOrder } from '../../src/workflows/refund.js';
import { startAfterChargeStack, type AfterChargeStack } from '../helpers/after-charge-stack.js';
import { temporal } from '../helpers/temporal-cli.js';

let stack: AfterChargeStack;
beforeAll(async () => {
  stack = await startAfterChargeStack('refunds');
});
afterAll(async () => {
  await stack?.close();
});
afterEach(() => {
  stack.sim.faults.clear();
  stack.sim.webhookFaults.clear();
  stack.sim.refunds.rules.clear();
});

const REFUNDS = '/v1/refunds';

/** The Stripe refunds of the order's charge. */
async function refundsOf(paymentIntentId: string) {
  const intent = await stack.stripe.paymentIntents.retrieve(paymentIntentId);
  const charge = intent.latest_charge as string;
  const list = await stack.stripe.refunds.list({ charge, limit: 100 });
  return { charge: await stack.stripe.charges.retrieve(charge), refunds: list.data };
}

/** The refund creates Stripe received for `orderId`: key, executed, replayed, dropped. */
function refundCreates(orderId: string) {
  return stack.sim
    .requests({ order_id: orderId, method: 'POST', path: REFUNDS })
    .map(({ idempotencyKey, executed, replayed, dropped, status, faults }) => ({
      idempotencyKey,
      executed,
      replayed,
      dropped: dropped ?? false,
      status,
      faults: faults ?? [],
    }));
}

let refunds = 0;
const refundId = () => `rf-${Date.now()}-${refunds++}`;

describe('refundOrder against the Stripe simulator', () => {
  it('refunds part of a charge once, and says what remains', async () => {
    const { orderId, paymentIntentId } = await stack.charged();
    const id = refundId();
    const result = await (
      await stack.billing.refund(orderId, {
        refundId: id,
        amount: 500,
        reason: 'requested_by_customer',
      })
    ).result();
    expect(result).toMatchObject({
      outcome: 'succeeded',
      amount: 500,
      currency: 'usd',
      remaining: 1500,
      paymentIntentId,
    });
    const { charge, refunds: made } = await refundsOf(paymentIntentId);
    expect(made).toHaveLength(1);
    expect(made[0]?.metadata).toMatchObject({ refund_id: id, order_id: orderId });
    expect(charge.amount_refunded).toBe(500);
    expect(refundCreates(orderId).map((r) => r.idempotencyKey)).toEqual([
      `db/${refundWorkflowId(orderId, id)}/refund/0`,
    ]);
  });

  it('a lost refund response is retried with the same key and makes one refund', async () => {
    const { orderId, paymentIntentId } = await stack.charged();
    // Twice: stripe-node's own single retry absorbs one drop; the second makes Temporal retry.
    stack.sim.faults.add({ kind: 'drop_after', method: 'POST', path: REFUNDS, times: 2 });
    const id = refundId();
    const result = await (
      await stack.billing.refund(orderId, { refundId: id, reason: 'duplicate' })
    ).result();
    expect(result).toMatchObject({ outcome: 'succeeded', amount: 2000, remaining: 0 });
    expect((await refundsOf(paymentIntentId)).refunds).toHaveLength(1);
    // What Stripe received: one key; the first request ran and its answer was lost (twice),
    // the retry was answered from Stripe's saved result.
    const creates = refundCreates(orderId);
    const key = `db/${refundWorkflowId(orderId, id)}/refund/0`;
    expect(new Set(creates.map((c) => c.idempotencyKey))).toEqual(new Set([key]));
    expect(creates.filter((c) => c.executed && !c.replayed)).toHaveLength(1);
    expect(creates[0]).toMatchObject({ executed: true, dropped: true });
    expect(creates.at(-1)).toMatchObject({ replayed: true, dropped: false, status: 200 });
  });

  it('a 5xx after the refund was made is reconciled by metadata.refund_id: no second refund', async () => {
    const { orderId, paymentIntentId } = await stack.charged();
    stack.sim.faults.add({ kind: 'error_500_after', method: 'POST', path: REFUNDS });
    const id = refundId();
    const handle = await stack.billing.refund(orderId, {
      refundId: id,
      amount: 700,
      reason: 'duplicate',
    });
    const result = await handle.result();
    expect(result).toMatchObject({ outcome: 'succeeded', amount: 700, remaining: 1300 });
    const { refunds: made, charge } = await refundsOf(paymentIntentId);
    expect(made).toHaveLength(1);
    expect(made[0]?.id).toBe(result.stripeRefundId);
    expect(charge.amount_refunded).toBe(700);
    // Stripe got one key: its create ran and answered 500 (stripe-node's own retry got the saved
    // 500 replayed). The workflow then read the charge's refunds, found its own by refund id,
    // and never sent a second key.
    const creates = refundCreates(orderId);
    expect(new Set(creates.map((c) => c.idempotencyKey))).toEqual(
      new Set([`db/${refundWorkflowId(orderId, id)}/refund/0`]),
    );
    expect(creates[0]).toMatchObject({ executed: true, status: 500, faults: ['error_500_after'] });
    expect(creates.filter((c) => c.executed)).toHaveLength(1);
    expect(creates.every((c) => c.status === 500)).toBe(true);
    const history = await handle.workflow.fetchHistory();
    const activities = (history.events ?? [])
      .map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name)
      .filter(Boolean);
    expect(activities).toContain('findRefund');
  });

  it('a 5xx before the refund ran moves to a new key only after the read found nothing', async () => {
    const { orderId, paymentIntentId } = await stack.charged();
    stack.sim.faults.add({ kind: 'error_500_before', method: 'POST', path: REFUNDS });
    const id = refundId();
    const result = await (
      await stack.billing.refund(orderId, { refundId: id, amount: 300, reason: 'duplicate' })
    ).result();
    expect(result).toMatchObject({ outcome: 'succeeded', amount: 300 });
    expect((await refundsOf(paymentIntentId)).refunds).toHaveLength(1);
    // Key 0 never ran (its 500 saved, replayed to stripe-node's own retry); the read found no
    // refund with this refund id, and only then key 1 was sent, once.
    const base = `db/${refundWorkflowId(orderId, id)}/refund`;
    const creates = refundCreates(orderId);
    expect([...new Set(creates.map((c) => c.idempotencyKey))]).toEqual([`${base}/0`, `${base}/1`]);
    expect(creates.filter((c) => c.executed).map((c) => c.idempotencyKey)).toEqual([`${base}/1`]);
  });

  it('two concurrent refunds that together exceed the capture: one is made, the other refused with what remains', async () => {
    const { orderId, paymentIntentId } = await stack.charged({ amount: 2000 });
    const [a, b] = await Promise.all([
      stack.billing.refund(orderId, {
        refundId: refundId(),
        amount: 1500,
        reason: 'requested_by_customer',
      }),
      stack.billing.refund(orderId, {
        refundId: refundId(),
        amount: 1500,
        reason: 'requested_by_customer',
      }),
    ]);
    const results = await Promise.all([a.result(), b.result()]);
    const outcomes = results.map((r) => r.outcome).sort();
    expect(outcomes).toEqual(['refused', 'succeeded']);
    const refused = results.find((r) => r.outcome === 'refused')!;
    expect(refused.remaining).toBe(500);
    expect(refused.reason).toMatch(/500 usd of the 2000 captured remains/);
    const { refunds: made, charge } = await refundsOf(paymentIntentId);
    expect(made).toHaveLength(1);
    expect(charge.amount_refunded).toBe(1500);
    // Refused by our check under the lock: Stripe never saw a second create.
    expect(refundCreates(orderId)).toHaveLength(1);
  });

  it('a repeated refund id returns the first result, whoever starts it and with any id policy', async () => {
    const { orderId, paymentIntentId } = await stack.charged();
    const id = refundId();
    const first = await (
      await stack.billing.refund(orderId, { refundId: id, amount: 400, reason: 'duplicate' })
    ).result();
    expect(first.outcome).toBe('succeeded');
    // Through the client again, asking for something else: the first request's result.
    const again = await (
      await stack.billing.refund(orderId, { refundId: id, amount: 900, reason: 'fraudulent' })
    ).result();
    expect(again).toEqual(first);

    // A raw SDK start of the ended id with ALLOW_DUPLICATE makes a new run: it reads Stripe's
    // refunds of the charge by refund id and adopts the one made.
    const workflowId = refundWorkflowId(orderId, id);
    const input: RefundInput = { orderId, refundId: id, amount: 900, reason: 'fraudulent' };
    const raw = await stack.client.workflow.start<typeof refundOrder>('refundOrder', {
      taskQueue: stack.taskQueue,
      workflowId,
      args: [input],
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
    });
    const adopted = await raw.result();
    expect(adopted).toMatchObject({
      outcome: 'succeeded',
      stripeRefundId: first.stripeRefundId,
      amount: 400,
    });

    // The Temporal CLI's default reuse policy allows a re-run too: the same answer.
    const cli = await temporal([
      'workflow',
      'execute',
      '--type',
      'refundOrder',
      '--task-queue',
      stack.taskQueue,
      '--workflow-id',
      workflowId,
      '--input',
      JSON.stringify(input),
      '--output',
      'json',
    ]);
    expect(cli.code, cli.stderr).toBe(0);
    const printed = JSON.parse(cli.stdout) as { result?: RefundResult };
    expect(printed.result).toMatchObject({ stripeRefundId: first.stripeRefundId, amount: 400 });

    // Another workflow id for the same refund id: the run refuses to act.
    const wrong = await stack.client.workflow.start<typeof refundOrder>('refundOrder', {
      taskQueue: stack.taskQueue,
      workflowId: `not-${workflowId}`,
      args: [input],
    });
    const failure = await wrong.result().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect((failure as WorkflowFailedError).cause).toMatchObject({ type: 'WrongWorkflowId' });

    const { refunds: made, charge } = await refundsOf(paymentIntentId);
    expect(made).toHaveLength(1);
    expect(charge.amount_refunded).toBe(400);
    expect(refundCreates(orderId)).toHaveLength(1);
  });

  it('a refund that fails later is reported failed and the customer is told (refund_failed)', async () => {
    const { orderId, paymentIntentId } = await stack.charged();
    stack.sim.refunds.rules.add({ status: 'pending', order_id: orderId });
    const id = refundId();
    const handle = await stack.billing.refund(orderId, {
      refundId: id,
      amount: 600,
      reason: 'requested_by_customer',
    });
    // Pending: Stripe took it, the bank has not answered.
    for (let i = 0; i < 200 && (await handle.status()).state !== 'pending'; i++)
      await new Promise((resolve) => setTimeout(resolve, 50));
    const pending = await handle.status();
    expect(pending).toMatchObject({ state: 'pending', refund: { status: 'pending' } });
    // The bank fails it: refund.failed reaches the workflow through the receiver.
    stack.sim.refunds.settle(pending.refund!.id, {
      status: 'failed',
      failure_reason: 'expired_or_canceled_card',
    });
    const result = await handle.result();
    expect(result).toMatchObject({
      outcome: 'failed',
      amount: 600,
      reason: 'expired_or_canceled_card',
      remaining: 2000,
    });
    const told = (await stack.outbox()).filter((e) => e.notification.orderId === orderId);
    expect(told.map((e) => e.notification.kind)).toEqual(['refund_failed']);
    expect(told[0]?.notification).toMatchObject({
      amount: 600,
      declineCode: 'expired_or_canceled_card',
    });
    // The workflow woke on the webhook, not the 12-hour poll.
    const history = await handle.workflow.fetchHistory();
    const signals = (history.events ?? []).filter(
      (e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'stripeEvent',
    );
    expect(signals.length).toBeGreaterThan(0);
    const { charge } = await refundsOf(paymentIntentId);
    expect(charge.amount_refunded).toBe(0);
  });

  it('a card refund that fails after it succeeded, its workflow ended, is followed by a new run that tells the customer; the refund id then answers failed', async () => {
    const { orderId, paymentIntentId } = await stack.charged();
    const id = refundId();
    const request = { refundId: id, amount: 700, reason: 'requested_by_customer' } as const;
    const first = await (await stack.billing.refund(orderId, request)).result();
    expect(first).toMatchObject({ outcome: 'succeeded', amount: 700, remaining: 1300 });
    const workflowId = refundWorkflowId(orderId, id);
    const firstRun = (await stack.client.workflow.getHandle(workflowId).describe()).runId;
    // Days later the bank fails it (a closed card): refund.failed reaches the receiver, three
    // times (Stripe redelivers), before and after the follow run ends.
    stack.sim.webhookFaults.add({ kind: 'duplicate', eventType: 'refund.failed', copies: 3 });
    stack.sim.refunds.settle(first.stripeRefundId!, {
      status: 'failed',
      failure_reason: 'expired_or_canceled_card',
    });
    await stack.sim.flushWebhooks();
    const latest = stack.client.workflow.getHandle<typeof refundOrder>(workflowId);
    const followed = await latest.result();
    expect(followed).toMatchObject({
      outcome: 'failed',
      stripeRefundId: first.stripeRefundId,
      amount: 700,
      reason: 'expired_or_canceled_card',
      remaining: 2000,
    });
    const told = (await stack.outbox()).filter((e) => e.notification.orderId === orderId);
    expect(told.map((e) => e.notification.kind)).toEqual(['refund_failed']);
    expect(told[0]?.notification).toMatchObject({
      amount: 700,
      declineCode: 'expired_or_canceled_card',
    });
    // The follow run sent Stripe nothing that moves money: one refund create in all.
    expect(refundCreates(orderId)).toHaveLength(1);
    expect((await latest.describe()).runId).not.toBe(firstRun);
    // Asking again with the same refund id answers what Stripe now shows.
    expect(await (await stack.billing.refund(orderId, request)).result()).toMatchObject({
      outcome: 'failed',
    });
    expect((await refundsOf(paymentIntentId)).charge.amount_refunded).toBe(0);
  });

  it('a follow run started by hand for a refund id Stripe has no refund under creates nothing and is refused', async () => {
    const { orderId, paymentIntentId } = await stack.charged();
    const other = refundId();
    const made = await (
      await stack.billing.refund(orderId, { refundId: other, amount: 300, reason: 'duplicate' })
    ).result();
    const id = refundId();
    // A raw start (any caller) naming another request's refund: Stripe says it is not this one.
    const result = await stack.client.workflow.execute<typeof refundOrder>('refundOrder', {
      taskQueue: stack.taskQueue,
      workflowId: refundWorkflowId(orderId, id),
      args: [{ orderId, refundId: id, reason: 'duplicate', followRefund: made.stripeRefundId }],
    });
    expect(result.outcome).toBe('refused');
    expect(result.reason).toContain(`Stripe has no refund under refund id ${id}`);
    expect(refundCreates(orderId)).toHaveLength(1);
    expect((await refundsOf(paymentIntentId)).charge.amount_refunded).toBe(300);
  });

  it('refuses orders chargeCustomer did not charge, with the reason', async () => {
    // An intent made outside the workflow, tagged only with an order id.
    const orderId = stack.order().orderId;
    const intent = await stack.stripe.paymentIntents.create({
      amount: 1000,
      currency: 'usd',
      customer: stack.customerId,
      payment_method: 'pm_card_visa',
      confirm: true,
      off_session: true,
      metadata: { order_id: orderId },
    });
    expect(intent.status).toBe('succeeded');
    const result = await (
      await stack.billing.refund(orderId, { refundId: refundId(), reason: 'duplicate' })
    ).result();
    expect(result.outcome).toBe('refused');
    expect(result.reason).toMatch(
      /was not made by chargeCustomer \(metadata.workflow_id is missing/,
    );
    expect(refundCreates(orderId)).toHaveLength(0);
  });

  it('refuses a refund larger than what remains, naming the remaining amount', async () => {
    const { orderId } = await stack.charged({ amount: 1000 });
    await (
      await stack.billing.refund(orderId, {
        refundId: refundId(),
        amount: 800,
        reason: 'duplicate',
      })
    ).result();
    const result = await (
      await stack.billing.refund(orderId, {
        refundId: refundId(),
        amount: 300,
        reason: 'duplicate',
      })
    ).result();
    expect(result).toMatchObject({ outcome: 'refused', remaining: 200 });
    expect(result.reason).toContain(
      'asked to refund 300 usd, but 200 usd of the 1000 captured remains',
    );
  });
});
