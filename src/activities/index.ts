// The activity factory: every activity the `billing` worker registers, built over injected
// dependencies so tests pass real or fake ones as plain arguments.
import type Stripe from 'stripe';
import { createPaymentIntentActivities } from './payment-intents.js';

export interface ActivityDependencies {
  stripe: Stripe;
}

export function createActivities(deps: ActivityDependencies) {
  return {
    ...createPaymentIntentActivities(deps.stripe),
  };
}

/** The activity interface the workflow proxies (`import type` only on the workflow side). */
export type BillingActivities = ReturnType<typeof createActivities>;
