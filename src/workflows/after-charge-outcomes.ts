// What the refund and dispute workflows share about their activities (issue 14): the options of
// mutating calls, reads and side effects, and how a failed Stripe activity reads in the outcome
// table's terms. The same rules as chargeCustomer's (which keeps its own copy: it is released).
import {
  ActivityFailure,
  ApplicationFailure,
  TimeoutFailure,
  type ActivityOptions,
} from '@temporalio/workflow';
import { StripeFailureType, type StripeErrorInfo } from '../shared/stripe-failures.js';

/**
 * Mutating calls: Temporal retries them with the same key, and gives up well inside Stripe's
 * 24 h key retention (invariant 3); the workflow then reconciles and moves to a new key. A
 * crashed worker is noticed by the missed heartbeat, in seconds.
 */
export const mutatingActivity: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: '10 seconds',
  scheduleToCloseTimeout: '1 hour',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
};
/** Reads have no key to protect: retried until Stripe answers. */
export const readingActivity: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 minutes' },
};
/** Notifications and alerts must not hold up money: bounded retries, then logged. */
export const sideEffectActivity: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  scheduleToCloseTimeout: '1 hour',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes' },
};

/**
 * Outcomes whose effect on Stripe is unknown: reconcile by reading before any new key. Connection
 * errors and 409/429 reach the workflow only once Temporal's retries ran out: as unknown as a 5xx.
 */
export const UNCERTAIN_OUTCOMES: ReadonlySet<string> = new Set([
  StripeFailureType.ambiguous,
  StripeFailureType.connection,
  StripeFailureType.retryable,
]);

/** The Stripe failure type and details inside an activity failure, if it is one of ours. */
export function stripeFailure(error: unknown): { type: string; info: StripeErrorInfo } | undefined {
  if (!(error instanceof ActivityFailure)) return undefined;
  const cause = error.cause;
  if (cause instanceof ApplicationFailure && cause.type)
    return { type: cause.type, info: (cause.details?.[0] as StripeErrorInfo | undefined) ?? {} };
  // The activity ran out of time (schedule-to-close): as unknown as a lost response.
  if (cause instanceof TimeoutFailure)
    return { type: StripeFailureType.ambiguous, info: { message: cause.message } };
  return undefined;
}
