// The `npm start` demo: a handful of orders, one per story an operator should be able to read
// in the Temporal UI — success, a soft decline that recovers, a hard decline waiting for a card,
// authentication required, and a bank debit still processing.
import type Stripe from 'stripe';
import type { BillingClient } from './client/index.js';
import { type ChargeHandle } from './client/index.js';
import type { DunningOverride } from './shared/dunning.js';

/** A compressed campaign for the demo: retries about a minute apart instead of days. */
export const DEMO_DUNNING: DunningOverride = {
  retryDelaysDays: [0.0007, 0.0007, 0.0007],
  jitterMinutes: 0,
};

export interface DemoOrder {
  story: string;
  orderId: string;
  customerId: string;
  handle: ChargeHandle;
}

const STORIES = [
  { story: 'succeeds at once', paymentMethodId: 'pm_card_visa' },
  {
    story: 'soft decline, recovers when the customer adds a card',
    paymentMethodId: 'pm_card_chargeDeclinedInsufficientFunds',
  },
  {
    story: 'hard decline (stolen card): waits for a new card',
    paymentMethodId: 'pm_card_chargeDeclinedStolenCard',
  },
  {
    story: 'authentication required off-session: waits for the customer',
    paymentMethodId: 'pm_card_authenticationRequired',
  },
  { story: 'bank debit still processing', paymentMethodId: 'pm_usBankAccount_success' },
] as const;

/** How long to wait for a demo charge to reach a state before giving up on the scripted step. */
const STEP_TIMEOUT_MS = 30_000;

async function until(handle: ChargeHandle, state: string): Promise<boolean> {
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if ((await handle.status()).state === state) return true;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return false;
}

/**
 * Starts the demo orders (a customer each, so customer-level webhooks reach only their own
 * charge), then plays the customer in the recovery story: after the first decline, a good card
 * is attached and made the default, which Stripe announces by webhook.
 */
export async function seedDemo({
  billing,
  stripe,
  runId = Date.now().toString(36),
}: {
  billing: BillingClient;
  stripe: Stripe;
  runId?: string;
}): Promise<DemoOrder[]> {
  const orders: DemoOrder[] = [];
  for (const [i, { story, paymentMethodId }] of STORIES.entries()) {
    const customer = await stripe.customers.create({
      email: `demo-${i}@example.com`,
      description: story,
    });
    const orderId = `demo-${runId}-${i + 1}`;
    const handle = await billing.startCharge({
      orderId,
      customerId: customer.id,
      amount: 1000 + i * 500,
      currency: 'usd',
      paymentMethodId,
      description: `demo: ${story}`,
      dunning: DEMO_DUNNING,
    });
    orders.push({ story, orderId, customerId: customer.id, handle });
  }
  const recovery = orders[1]!;
  if (await until(recovery.handle, 'dunning')) {
    const card = await stripe.paymentMethods.attach('pm_card_visa', {
      customer: recovery.customerId,
    });
    await stripe.customers.update(recovery.customerId, {
      invoice_settings: { default_payment_method: card.id },
    });
  }
  return orders;
}
