// The Stripe outcome table, row by row: each Stripe answer maps to one failure type and one
// retry decision, with the Stripe fields kept as details and the original as cause.
import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { classifyStripeError, toActivityFailure } from '../../src/activities/stripe-errors.js';
import { StripeFailureType } from '../../src/shared/stripe-failures.js';

type Raw = Parameters<typeof Stripe.errors.StripeError.generate>[0];
const stripeError = (raw: Raw) => Stripe.errors.StripeError.generate(raw);

const rows: [string, Stripe.errors.StripeError, StripeFailureType, boolean][] = [
  [
    'a timeout or reset (no response)',
    new Stripe.errors.StripeConnectionError({ message: 'Request aborted due to timeout' }),
    StripeFailureType.connection,
    true,
  ],
  [
    '409 idempotency_key_in_use',
    stripeError({
      statusCode: 409,
      type: 'invalid_request_error',
      code: 'idempotency_key_in_use',
      message: 'in use',
    }),
    StripeFailureType.retryable,
    true,
  ],
  [
    '409 lock_timeout',
    stripeError({
      statusCode: 409,
      type: 'invalid_request_error',
      code: 'lock_timeout',
      message: 'lock',
    }),
    StripeFailureType.retryable,
    true,
  ],
  [
    '429 rate limit',
    stripeError({
      statusCode: 429,
      type: 'invalid_request_error',
      code: 'rate_limit',
      message: 'slow down',
    }),
    StripeFailureType.retryable,
    true,
  ],
  [
    'Stripe-Should-Retry: true on a 400',
    stripeError({
      statusCode: 400,
      type: 'invalid_request_error',
      message: 'retry',
      headers: { 'stripe-should-retry': 'true' },
    }),
    StripeFailureType.retryable,
    true,
  ],
  [
    '402 card_declined',
    stripeError({
      statusCode: 402,
      type: 'card_error',
      code: 'card_declined',
      decline_code: 'insufficient_funds',
      advice_code: 'try_again_later',
      message: 'declined',
    }),
    StripeFailureType.declined,
    false,
  ],
  [
    '402 expired_card',
    stripeError({ statusCode: 402, type: 'card_error', code: 'expired_card', message: 'expired' }),
    StripeFailureType.declined,
    false,
  ],
  [
    '400 idempotency_error',
    stripeError({
      statusCode: 400,
      type: 'idempotency_error',
      message: 'Keys for idempotent requests can only be used with the same parameters',
    }),
    StripeFailureType.idempotency,
    false,
  ],
  [
    '400 payment_intent_unexpected_state',
    stripeError({
      statusCode: 400,
      type: 'invalid_request_error',
      code: 'payment_intent_unexpected_state',
      message: 'already succeeded',
    }),
    StripeFailureType.unexpectedState,
    false,
  ],
  [
    '400 parameter_missing',
    stripeError({
      statusCode: 400,
      type: 'invalid_request_error',
      code: 'parameter_missing',
      param: 'amount',
      message: 'Missing required param: amount.',
    }),
    StripeFailureType.invalidRequest,
    false,
  ],
  [
    '404 resource_missing',
    stripeError({
      statusCode: 404,
      type: 'invalid_request_error',
      code: 'resource_missing',
      message: 'No such payment_intent',
    }),
    StripeFailureType.invalidRequest,
    false,
  ],
  [
    '401 bad API key',
    stripeError({
      statusCode: 401,
      type: 'invalid_request_error',
      message: 'Invalid API Key provided: sk_test_****1234',
    }),
    StripeFailureType.authentication,
    false,
  ],
  [
    '403 permission',
    stripeError({ statusCode: 403, type: 'invalid_request_error', message: 'forbidden' }),
    StripeFailureType.authentication,
    false,
  ],
  [
    '500 api_error',
    stripeError({ statusCode: 500, type: 'api_error', message: 'internal' }),
    StripeFailureType.ambiguous,
    false,
  ],
  [
    '503 with Stripe-Should-Retry: false',
    stripeError({
      statusCode: 503,
      type: 'api_error',
      message: 'no',
      headers: { 'stripe-should-retry': 'false' },
    }),
    StripeFailureType.ambiguous,
    false,
  ],
  [
    '503 with Stripe-Should-Retry: true',
    stripeError({
      statusCode: 503,
      type: 'api_error',
      message: 'retry',
      headers: { 'stripe-should-retry': 'true' },
    }),
    StripeFailureType.retryable,
    true,
  ],
];

describe('the Stripe outcome table', () => {
  it('lets Stripe-Should-Retry: false win over a 429 (not retried with the same key)', () => {
    const error = stripeError({
      statusCode: 429,
      type: 'invalid_request_error',
      message: 'no',
      headers: { 'stripe-should-retry': 'false' },
    });
    expect(classifyStripeError(error)).toMatchObject({
      type: StripeFailureType.ambiguous,
      retryable: false,
    });
  });

  it('retries a 5xx on a read (no key to protect), but not on a mutating call', () => {
    const error = stripeError({ statusCode: 500, type: 'api_error', message: 'internal' });
    expect(toActivityFailure(error, { readOnly: true })).toMatchObject({
      type: StripeFailureType.ambiguous,
      nonRetryable: false,
    });
    expect(toActivityFailure(error)).toMatchObject({
      type: StripeFailureType.ambiguous,
      nonRetryable: true,
    });
  });

  it.each(rows)('%s', (_name, error, type, retryable) => {
    expect(classifyStripeError(error)).toMatchObject({ type, retryable });
    const failure = toActivityFailure(error);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type, nonRetryable: !retryable, cause: error });
  });

  it('marks the outcomes the charge expects (a decline, an intent that moved on) BENIGN, and only those', () => {
    const benign = rows
      .filter(([, error]) => toActivityFailure(error) instanceof ApplicationFailure)
      .map(([, error, type]) => [
        type,
        (toActivityFailure(error) as ApplicationFailure).category ?? null,
      ]);
    for (const [type, category] of benign)
      expect({ type, category }).toEqual({
        type,
        category:
          type === StripeFailureType.declined || type === StripeFailureType.unexpectedState
            ? ApplicationFailureCategory.BENIGN
            : null,
      });
    expect(benign.map(([type]) => type)).toContain(StripeFailureType.declined);
  });

  it('keeps the decline fields and the intent as the failure details', () => {
    const intent = {
      id: 'pi_1',
      object: 'payment_intent',
      status: 'requires_payment_method',
      amount: 100,
      amount_received: 0,
      currency: 'usd',
      customer: 'cus_1',
      payment_method: null,
      last_payment_error: null,
      next_action: null,
    };
    const failure = toActivityFailure(
      stripeError({
        statusCode: 402,
        type: 'card_error',
        code: 'card_declined',
        decline_code: 'stolen_card',
        advice_code: 'do_not_try_again',
        message: 'declined',
        requestId: 'req_1',
        payment_intent: intent as never,
      }),
    ) as ApplicationFailure;
    expect(failure.details?.[0]).toMatchObject({
      statusCode: 402,
      code: 'card_declined',
      declineCode: 'stolen_card',
      adviceCode: 'do_not_try_again',
      requestId: 'req_1',
      paymentIntent: { id: 'pi_1', status: 'requires_payment_method' },
    });
  });

  it('passes Retry-After on to Temporal as the next retry delay', () => {
    const failure = toActivityFailure(
      stripeError({
        statusCode: 429,
        type: 'invalid_request_error',
        message: 'slow',
        headers: { 'retry-after': '7' },
      }),
    ) as ApplicationFailure;
    expect(failure.nextRetryDelay).toBe('7s');
  });

  it('leaves errors that did not come from Stripe unchanged (a bug stays visible)', () => {
    const bug = new TypeError('x is undefined');
    expect(classifyStripeError(bug)).toBeUndefined();
    expect(toActivityFailure(bug)).toBe(bug);
  });
});
