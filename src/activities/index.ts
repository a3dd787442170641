// The activity factory: every activity the `billing` worker registers, built over injected
// dependencies so tests pass real or fake ones as plain arguments.
import type Stripe from 'stripe';
import { createFinalActionActivities, type FinalActionHook } from './final-action.js';
import { createPaymentIntentActivities } from './payment-intents.js';

export interface ActivityDependencies {
  stripe: Stripe;
  /** The application's final action for campaigns that end unpaid (default: logged). */
  finalAction?: FinalActionHook;
}

export function createActivities(deps: ActivityDependencies) {
  return {
    ...createPaymentIntentActivities(deps.stripe),
    ...createFinalActionActivities(deps.finalAction),
  };
}

/** The activity interface the workflow proxies (`import type` only on the workflow side). */
export type BillingActivities = ReturnType<typeof createActivities>;
