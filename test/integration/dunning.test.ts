// Dunning end to end on the dev server: the simulator's signed webhooks reach the real receiver
// over HTTP, which signals the campaign; the ledger shows at most one charge per order.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startWebhookStack, type WebhookStack } from '../webhooks/stack.js';

let stack: WebhookStack;
beforeAll(async () => {
  stack = await startWebhookStack('dunning-e2e');
});
afterAll(async () => {
  await stack?.close();
});

describe('a short-schedule dunning campaign, webhooks included', () => {
  it('waits after a hard decline, and a card the customer adds (webhook) is charged at once, once', async () => {
    const input = stack.order('pm_card_chargeDeclinedStolenCard', {
      dunning: { retryDelaysDays: [0.01], jitterMinutes: 0 }, // waits up to ~14 min for a new card
    });
    const handle = await stack.chargeUntil(input, 'dunning');
    expect((await handle.status()).campaign).toMatchObject({ failures: 1, kind: 'hard' });

    // The customer adds a card in the app; Stripe tells us by webhook (payment_method.attached,
    // customer.updated), the receiver routes it by BillingCustomerId, the campaign retries.
    const card = await stack.stripe.paymentMethods.attach('pm_card_visa', {
      customer: stack.customerId,
    });
    await stack.stripe.customers.update(stack.customerId, {
      invoice_settings: { default_payment_method: card.id },
    });
    await stack.sim.flushWebhooks();

    const result = await handle.result();
    expect(result).toMatchObject({ outcome: 'succeeded', attempts: 2 });
    expect(stack.sim.ledger().orders[input.orderId]).toMatchObject({
      successfulCharges: 1,
      amountCaptured: 2500,
    });
  });

  it('retries a soft decline on the schedule and gives up: intent canceled, nothing charged', async () => {
    const input = stack.order('pm_card_chargeDeclinedInsufficientFunds', {
      dunning: { retryDelaysDays: [0.00001, 0.00001], jitterMinutes: 0 }, // ~0.9 s apart
    });
    const handle = await stack.billing.startCharge(input);
    await eventually(
      async () => ((await handle.status()).state === 'failed' ? true : undefined),
      'the campaign to end',
      {
        attempts: 400,
        waitMs: 50,
      },
    );
    const result = await handle.result();
    expect(result).toMatchObject({
      outcome: 'failed',
      attempts: 3,
      failure: { declineCode: 'insufficient_funds' },
    });
    const ledger = stack.sim.ledger();
    expect(ledger.orders[input.orderId]?.successfulCharges).toBe(0);
    expect(ledger.paymentIntents[result.paymentIntentId!]).toMatchObject({
      status: 'canceled',
      confirmations: 3,
    });
  });
});
