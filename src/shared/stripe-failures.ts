// Failure types an activity raises for Stripe outcomes, and the details they carry. Pure, so
// the workflow can switch on them; the table that produces them is src/activities/stripe-errors.ts.
import type { PaymentIntentSnapshot } from './payment-intent.js';

/** The `type` of every ApplicationFailure a Stripe activity throws. */
export const StripeFailureType = {
  /** No response: retried by Temporal with the same key. */
  connection: 'StripeConnectionError',
  /** 409 / 429 / lock_timeout / Stripe-Should-Retry: retried with the same key. */
  retryable: 'StripeRetryableError',
  /** 402 card error: non-retryable; the next attempt takes a new key. */
  declined: 'StripeCardDeclined',
  /** 5xx: non-retryable; the workflow reconciles by reading the intent. */
  ambiguous: 'StripeAmbiguousError',
  /** The intent's state forbids the call: non-retryable; the workflow re-reads the intent. */
  unexpectedState: 'StripeUnexpectedState',
  /** Same key, other parameters: our bug; non-retryable, loud. */
  idempotency: 'StripeIdempotencyError',
  /** 401 / 403: configuration; non-retryable, loud. */
  authentication: 'StripeAuthenticationError',
  /** 400 / 404: our bug; non-retryable, loud. */
  invalidRequest: 'StripeInvalidRequest',
} as const;
export type StripeFailureType = (typeof StripeFailureType)[keyof typeof StripeFailureType];

/** The Stripe error fields carried as the failure's first detail (no secrets: Stripe masks keys). */
export interface StripeErrorInfo {
  statusCode?: number | undefined;
  code?: string | undefined;
  declineCode?: string | undefined;
  /** The request parameter Stripe blames (e.g. `payment_method`), on a 400. */
  param?: string | undefined;
  adviceCode?: string | undefined;
  message?: string | undefined;
  requestId?: string | undefined;
  /** The intent as Stripe left it, when the error carries one (card errors do). */
  paymentIntent?: PaymentIntentSnapshot | undefined;
}
