// The one Stripe outcome table (DESIGN.md, "The problem, in one table"): every error a Stripe
// call can raise is classified here, in order, into a typed Temporal failure. Nothing else in
// the project decides whether a Stripe error is retried.
import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import Stripe from 'stripe';
import { StripeFailureType, type StripeErrorInfo } from '../shared/stripe-failures.js';
import { toSnapshot } from './snapshot.js';

export { StripeFailureType };

type Classification = {
  /** The failure `type` the workflow switches on (explicit strings: class names get minified). */
  type: StripeFailureType;
  /** Whether Temporal retries the activity, with the same idempotency key. */
  retryable: boolean;
  /** Which row of the table matched, for tests and logs. */
  row: string;
};

type Row = Classification & { matches(error: Stripe.errors.StripeError): boolean };

const header = (error: Stripe.errors.StripeError, name: string): string | undefined => {
  const value = (error.headers as Record<string, string | string[] | undefined> | undefined)?.[
    name
  ];
  return Array.isArray(value) ? value[0] : value;
};

/**
 * Ordered: the first matching row wins. Sources: Stripe API "Idempotent requests" and "Errors"
 * (https://docs.stripe.com/api/idempotent_requests, https://docs.stripe.com/error-low-level),
 * and stripe-node's own `_shouldRetry`.
 */
export const STRIPE_OUTCOME_TABLE: readonly Row[] = [
  {
    // No response (timeout, reset, DNS, TLS): unknown whether Stripe ran it; the same key
    // makes a retry safe, because Stripe replays the saved result if it did.
    row: 'no response',
    matches: (e) => e instanceof Stripe.errors.StripeConnectionError,
    type: StripeFailureType.connection,
    retryable: true,
  },
  {
    // A key reused with other parameters is our bug: never retry, alert.
    row: '400 idempotency_error',
    matches: (e) => e.type === 'StripeIdempotencyError' || e.rawType === 'idempotency_error',
    type: StripeFailureType.idempotency,
    retryable: false,
  },
  {
    // 409 key in use / lock_timeout, 429 rate limit, or Stripe asking for a retry: nothing
    // was executed (or Stripe wants the same request again), so the same key is right.
    row: '409 / 429 / lock_timeout / Stripe-Should-Retry: true',
    matches: (e) =>
      header(e, 'stripe-should-retry') !== 'false' &&
      (e.statusCode === 409 ||
        e.statusCode === 429 ||
        e.code === 'lock_timeout' ||
        e.code === 'rate_limit' ||
        header(e, 'stripe-should-retry') === 'true'),
    type: StripeFailureType.retryable,
    retryable: true,
  },
  {
    // 402 card error: a definitive answer cached under the key; a new attempt needs a new key.
    row: '402 card_error',
    matches: (e) => e.statusCode === 402 || e.rawType === 'card_error',
    type: StripeFailureType.declined,
    retryable: false,
  },
  {
    // The intent is not in a state that allows this call (e.g. already succeeded or canceled):
    // not a failure of the charge; the workflow re-reads the intent and acts on its real state.
    row: '400 payment_intent_unexpected_state',
    matches: (e) => e.code === 'payment_intent_unexpected_state',
    type: StripeFailureType.unexpectedState,
    retryable: false,
  },
  {
    row: '401 / 403 authentication or permission',
    matches: (e) => e.statusCode === 401 || e.statusCode === 403,
    type: StripeFailureType.authentication,
    retryable: false,
  },
  {
    row: '400 / 404 invalid request',
    matches: (e) => e.statusCode === 400 || e.statusCode === 404,
    type: StripeFailureType.invalidRequest,
    retryable: false,
  },
  {
    // 5xx: Stripe saved the 500 under the key but the side effect may have happened; the
    // same key only replays the 500. The workflow reconciles by reading the intent.
    row: '5xx',
    matches: (e) => (e.statusCode ?? 0) >= 500,
    type: StripeFailureType.ambiguous,
    retryable: false,
  },
  {
    // Anything else from Stripe (no status, unknown shape): treat like a 5xx, never as success.
    row: 'unknown Stripe error',
    matches: () => true,
    type: StripeFailureType.ambiguous,
    retryable: false,
  },
];

/** Classifies a Stripe error by the table; `undefined` for errors that did not come from Stripe. */
export function classifyStripeError(error: unknown): Classification | undefined {
  if (!(error instanceof Stripe.errors.StripeError)) return undefined;
  const row = STRIPE_OUTCOME_TABLE.find((r) => r.matches(error));
  // The last row matches everything, so `row` is always defined for a StripeError.
  return row && { type: row.type, retryable: row.retryable, row: row.row };
}

/** `Retry-After` in seconds, when Stripe sends it, as a Temporal `nextRetryDelay`. */
function retryAfter(error: Stripe.errors.StripeError): string | undefined {
  const value = Number(header(error, 'retry-after'));
  return Number.isFinite(value) && value > 0 ? `${value}s` : undefined;
}

function errorInfo(error: Stripe.errors.StripeError): StripeErrorInfo {
  return {
    statusCode: error.statusCode,
    code: error.code,
    declineCode: error.decline_code || undefined,
    param: error.param,
    adviceCode: error.advice_code,
    message: error.message,
    requestId: error.requestId,
    // A card error carries the intent as Stripe left it: the workflow needs no extra read.
    paymentIntent: error.payment_intent ? toSnapshot(error.payment_intent) : undefined,
  };
}

/**
 * Outcomes the charge expects and handles (a card declined; an intent already moved on, which
 * the workflow re-reads): BENIGN, so the SDK logs them at debug without a stack and counts no
 * activity failure in its metrics. Everything else stays a real failure, stack and all.
 */
const BENIGN: ReadonlySet<StripeFailureType> = new Set([
  StripeFailureType.declined,
  StripeFailureType.unexpectedState,
]);

/**
 * Translates what a Stripe call threw into the Temporal failure the activity throws: an
 * `ApplicationFailure` of an explicit `type`, retryable or not per the table, carrying the
 * Stripe error's fields as details and the original as `cause`. Non-Stripe errors are
 * returned unchanged (a bug in our code is retried by the activity's policy and stays visible).
 */
export function toActivityFailure(error: unknown, { readOnly = false } = {}): unknown {
  const found = classifyStripeError(error);
  // A read has no key to protect and changes nothing: a 5xx on it is simply retried.
  const classification =
    found && readOnly && found.type === StripeFailureType.ambiguous
      ? { ...found, retryable: true }
      : found;
  if (!classification || !(error instanceof Stripe.errors.StripeError)) return error;
  const info = errorInfo(error);
  return ApplicationFailure.create({
    type: classification.type,
    message: `Stripe ${classification.row}: ${error.message}`,
    nonRetryable: !classification.retryable,
    ...(BENIGN.has(classification.type) && { category: ApplicationFailureCategory.BENIGN }),
    details: [info],
    nextRetryDelay:
      classification.type === StripeFailureType.retryable ? retryAfter(error) : undefined,
    cause: error,
  });
}
