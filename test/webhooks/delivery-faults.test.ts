// Stripe's delivery quirks end to end (simulator → receiver over HTTP → dev server → worker):
// each leaves the order's outcome and the ledger unchanged. Duplicates are deduped by the
// workflow, reordering is harmless (Stripe is re-read), stripped metadata is routed by search
// attribute or, before visibility catches up, through the unmatched-events workflow.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { chargeWorkflowId } from '../../src/shared/ids.js';
import type { StripeEventLike } from '../../src/simulator/index.js';
import { rerouteUpdate } from '../../src/workflows/unmatched-events.js';
import {
  PROCESSING_DELAY_MS,
  including,
  signalledEventIds,
  signalsOnceRecorded,
  startWebhookStack,
  type WebhookStack,
} from './stack.js';

let stack: WebhookStack;
beforeAll(async () => {
  stack = await startWebhookStack('faults');
});
afterAll(async () => stack?.close());
afterEach(() => stack.sim.webhookFaults.clear());

/** The simulator's events about one PaymentIntent, oldest first. */
const eventsOf = (paymentIntentId: string): StripeEventLike[] =>
  stack.sim.events().filter((e) => e.data.object.id === paymentIntentId);

/** Delivery attempts of one PaymentIntent's events, in delivery order. */
const deliveriesOf = (paymentIntentId: string) => {
  const ids = new Set(eventsOf(paymentIntentId).map((e) => e.id));
  return stack.sim.webhookDeliveries().filter((d) => ids.has(d.eventId));
};

/** Settles every bank debit in the simulator and delivers the resulting webhooks. */
async function settleBankDebits(): Promise<void> {
  stack.sim.advanceTime(PROCESSING_DELAY_MS);
  await stack.sim.flushWebhooks();
}

describe('webhook delivery faults', () => {
  it('×3 duplicates: all acknowledged; an answer to the confirm wakes nothing, the settlement is counted once; one charge', async () => {
    for (const eventType of ['payment_intent.processing', 'payment_intent.succeeded'])
      stack.sim.webhookFaults.add({ kind: 'duplicate', eventType, copies: 3 });
    const input = stack.order('pm_usBankAccount_success');
    const workflowId = chargeWorkflowId(input.orderId);
    const handle = await stack.chargeUntil(input, 'processing');
    await stack.sim.flushWebhooks();
    const { paymentIntentId } = await handle.status();
    const eventOf = (type: string) => eventsOf(paymentIntentId!).find((e) => e.type === type)!;
    const attemptsOf = (event: StripeEventLike) =>
      deliveriesOf(paymentIntentId!).filter((d) => d.eventId === event.id);
    // `processing` came from the confirm (its idempotency key), whose answer the workflow had.
    const processing = eventOf('payment_intent.processing');
    expect(processing.request.idempotency_key).toMatch(/\/confirm\/\d+$/);
    expect(attemptsOf(processing).map((d) => d.result)).toEqual([200, 200, 200]);
    expect(await signalledEventIds(stack.client, workflowId)).toEqual([]);

    // `succeeded` is Stripe's own (the debit settled, no request): each copy reaches the charge
    // or finds it ended, and the charge counts the event once.
    await settleBankDebits();
    expect(await handle.result()).toMatchObject({ outcome: 'succeeded', attempts: 1 });
    await stack.sim.flushWebhooks();
    const succeeded = eventOf('payment_intent.succeeded');
    expect(succeeded.request.idempotency_key).toBeNull();
    expect(attemptsOf(succeeded).map((d) => d.result)).toEqual([200, 200, 200]);
    const signalled = await signalsOnceRecorded(stack.client, workflowId, including(succeeded.id));
    expect(new Set(signalled)).toEqual(new Set([succeeded.id]));
    const status = await handle.status();
    expect(status.events).toEqual({
      received: 1,
      duplicates: signalled.length - 1,
      ignored: 0,
    });
    expect(stack.sim.ledger().orders[input.orderId]).toMatchObject({
      successfulCharges: 1,
      amountCaptured: 2500,
    });
  });

  it('reversed order (succeeded before processing): the outcome is Stripe’s, one charge', async () => {
    stack.sim.webhookFaults.add({ kind: 'reorder', eventType: 'payment_intent.processing' });
    const input = stack.order('pm_usBankAccount_success');
    const handle = await stack.chargeUntil(input, 'processing');
    const { paymentIntentId } = await handle.status();
    // Held back until the next event of the account has been delivered: settle the debit.
    stack.sim.advanceTime(PROCESSING_DELAY_MS);
    expect(await handle.result()).toMatchObject({ outcome: 'succeeded', attempts: 1 });
    await stack.sim.flushWebhooks();
    const delivered = deliveriesOf(paymentIntentId!).map((d) => ({
      type: d.type,
      result: d.result,
    }));
    const order = delivered.map((d) => d.type);
    expect(order.indexOf('payment_intent.succeeded')).toBeLessThan(
      order.indexOf('payment_intent.processing'),
    );
    expect(delivered.every((d) => d.result === 200)).toBe(true);
    expect(stack.sim.ledger().orders[input.orderId]).toMatchObject({
      successfulCharges: 1,
      amountCaptured: 2500,
    });
  });

  it('missing metadata: routed by BillingPaymentIntentId, early events via the unmatched workflow; one charge', async () => {
    stack.sim.webhookFaults.add({
      kind: 'strip_metadata',
      eventType: 'payment_intent.*',
      times: 3,
    });
    const input = stack.order('pm_usBankAccount_success');
    const workflowId = chargeWorkflowId(input.orderId);
    const handle = await stack.chargeUntil(input, 'processing');
    await stack.sim.flushWebhooks();
    const { paymentIntentId } = await handle.status();
    // An event may come before the workflow upserted its intent id: whatever is still
    // unmatched is delivered on the next re-route (here: asked for, as from the CLI).
    if (await stack.unmatched())
      await stack.client.workflow
        .getHandle(stack.unmatchedWorkflowId)
        .executeUpdate(rerouteUpdate, { args: [{}] });
    // `created` goes nowhere (no workflow needs it); `processing` reaches the charge.
    const early = eventsOf(paymentIntentId!)
      .filter((e) => e.type !== 'payment_intent.created')
      .map((e) => e.id);
    expect(early).toHaveLength(1);
    const signalled = await signalsOnceRecorded(stack.client, workflowId, including(...early));
    expect(new Set(signalled)).toEqual(new Set(early));

    await settleBankDebits();
    expect(await handle.result()).toMatchObject({ outcome: 'succeeded', attempts: 1 });
    const succeeded = eventsOf(paymentIntentId!).find(
      (e) => e.type === 'payment_intent.succeeded',
    )!;
    const routed = stack.logs.find(
      (l) => l.line.includes(succeeded.id) && l.line.includes('webhook routed'),
    );
    expect(JSON.parse(routed!.line)).toMatchObject({
      delivery: 'workflow',
      matchedBy: 'search_attribute',
      workflowIds: [workflowId],
    });
    expect(stack.sim.ledger().orders[input.orderId]).toMatchObject({
      successfulCharges: 1,
      amountCaptured: 2500,
    });
  });
});
