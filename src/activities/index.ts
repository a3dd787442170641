// The activity factory: every activity the `billing` worker registers, built over injected
// dependencies so tests pass real or fake ones as plain arguments.
import type Stripe from 'stripe';
import type { Notifier } from '../notifications/notifier.js';
import { OutboxNotifier } from '../notifications/outbox.js';
import { createEventActivities, type RoutingTarget } from './events.js';
import { createFinalActionActivities, type FinalActionHook } from './final-action.js';
import { createNotificationActivities } from './notifications.js';
import { createPaymentIntentActivities } from './payment-intents.js';
// Refunds and disputes (issue 14).
import { FileOperatorAlerter, type OperatorAlerter } from '../notifications/operator-alerts.js';
import { createDisputeActivities } from './disputes.js';
import { createRefundActivities } from './refunds.js';

export interface ActivityDependencies {
  stripe: Stripe;
  /** The application's final action for campaigns that end unpaid (default: logged). */
  finalAction?: FinalActionHook;
  /** Temporal client for the event-routing activities; default: the worker's own (activity context). */
  temporal?: RoutingTarget;
  /** Customer notifications; default: an `OutboxNotifier` at the default path (see createNotifier). */
  notifier?: Notifier;
  /** Alerts to operators (disputes); default: a `FileOperatorAlerter` next to the outbox. */
  operatorAlerts?: OperatorAlerter;
}

export function createActivities(deps: ActivityDependencies) {
  return {
    ...createPaymentIntentActivities(deps.stripe),
    ...createFinalActionActivities(deps.finalAction),
    ...createEventActivities(deps.stripe, deps.temporal),
    ...createNotificationActivities(deps.notifier ?? new OutboxNotifier()),
    ...createRefundActivities(deps.stripe),
    ...createDisputeActivities(deps.stripe, deps.operatorAlerts ?? new FileOperatorAlerter()),
  };
}

/** The activity interface the workflow proxies (`import type` only on the workflow side). */
export type BillingActivities = ReturnType<typeof createActivities>;
