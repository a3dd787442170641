// PaymentIntent activities: all Stripe I/O of a charge. Every mutating call sends the key the
// workflow derived (visible in history); every Stripe error goes through the one outcome table.
import { Context } from '@temporalio/activity';
import type Stripe from 'stripe';
import type { PaymentIntentSnapshot } from '../shared/payment-intent.js';
import { toSnapshot } from './snapshot.js';
import { toActivityFailure } from './stripe-errors.js';

export interface CreatePaymentIntentInput {
  idempotencyKey: string;
  workflowId: string;
  orderId: string;
  customerId: string;
  amount: number;
  currency: string;
  paymentMethodId?: string | undefined;
  description?: string | undefined;
  metadata?: Record<string, string> | undefined;
  /**
   * Whether to look for an intent this workflow already made before creating one (see
   * `createPaymentIntent`). `false`: the key alone decides (a fresh chain's first key). An
   * object: list the customer's intents, created at or after `createdSince` (Unix seconds) if
   * given. Absent (an input scheduled before this field existed): list them all.
   */
  lookFirst?: false | { createdSince?: number | undefined } | undefined;
}

export interface ConfirmPaymentIntentInput {
  idempotencyKey: string;
  paymentIntentId: string;
  paymentMethodId?: string | undefined;
}

export interface CancelPaymentIntentInput {
  idempotencyKey: string;
  paymentIntentId: string;
}

export interface FindPaymentIntentInput {
  customerId: string;
  workflowId: string;
  /** Only intents created at or after this (Unix seconds). */
  createdSince?: number | undefined;
}

/** How often an activity heartbeats while its Stripe call is in flight. */
export const HEARTBEAT_INTERVAL_MS = 2_000;

/**
 * Runs a Stripe call, translating its errors by the outcome table. Heartbeats while the call is
 * in flight, so a crashed worker is noticed after the heartbeat timeout (seconds), not the
 * start-to-close timeout, and the retry (same key) runs on another worker.
 */
async function stripeCall<T>(call: () => Promise<T>, { readOnly = false } = {}): Promise<T> {
  const context = Context.current();
  const beat = setInterval(() => context.heartbeat(), HEARTBEAT_INTERVAL_MS);
  try {
    return await call();
  } catch (error) {
    throw toActivityFailure(error, { readOnly });
  } finally {
    clearInterval(beat);
  }
}

/** PaymentIntent activities over an injected Stripe client (no module mocking in tests). */
export function createPaymentIntentActivities(stripe: Stripe) {
  /** The customer's intent tagged with `workflowId`, via list (strongly consistent, unlike search). */
  const findForWorkflow = (input: FindPaymentIntentInput) =>
    stripeCall(
      async () => {
        for await (const intent of stripe.paymentIntents.list({
          customer: input.customerId,
          limit: 100,
          ...(input.createdSince !== undefined && { created: { gte: input.createdSince } }),
        })) {
          if (intent.metadata?.workflow_id === input.workflowId) return toSnapshot(intent);
        }
        return null;
      },
      { readOnly: true },
    );

  return {
    /** Creates the order's PaymentIntent, unconfirmed, tagged with the workflow and order ids. */
    async createPaymentIntent(input: CreatePaymentIntentInput): Promise<PaymentIntentSnapshot> {
      // One order, one intent. The key makes a retry of this create return the same intent for
      // 24 h. Where an intent may exist under another key (the workflow moved to a new key after
      // an ambiguous create), or under a key Stripe may have pruned (a reset or continued run),
      // the workflow asks to look first, and an intent tagged with this workflow is returned
      // instead of creating another. A fresh chain's first create does not look: listing costs
      // one request per 100 of the customer's intents.
      const { lookFirst } = input;
      if (lookFirst !== false) {
        const existing = await findForWorkflow({ ...input, createdSince: lookFirst?.createdSince });
        if (existing) return existing;
      }
      const intent = await stripeCall(() =>
        stripe.paymentIntents.create(
          {
            amount: input.amount,
            currency: input.currency,
            customer: input.customerId,
            ...(input.paymentMethodId && { payment_method: input.paymentMethodId }),
            ...(input.description && { description: input.description }),
            metadata: { ...input.metadata, workflow_id: input.workflowId, order_id: input.orderId },
            confirm: false,
          },
          { idempotencyKey: input.idempotencyKey },
        ),
      );
      return toSnapshot(intent);
    },

    /** Confirms the intent off-session (the customer is not present), optionally with a new method. */
    async confirmPaymentIntent(input: ConfirmPaymentIntentInput): Promise<PaymentIntentSnapshot> {
      const intent = await stripeCall(() =>
        stripe.paymentIntents.confirm(
          input.paymentIntentId,
          {
            off_session: true,
            ...(input.paymentMethodId && { payment_method: input.paymentMethodId }),
          },
          { idempotencyKey: input.idempotencyKey },
        ),
      );
      return toSnapshot(intent);
    },

    /** Reads the intent: the truth the workflow reconciles against. Not mutating, no key. */
    async retrievePaymentIntent(paymentIntentId: string): Promise<PaymentIntentSnapshot> {
      return toSnapshot(
        await stripeCall(() => stripe.paymentIntents.retrieve(paymentIntentId), { readOnly: true }),
      );
    },

    /** Cancels the intent (only possible while no money has moved). */
    async cancelPaymentIntent(input: CancelPaymentIntentInput): Promise<PaymentIntentSnapshot> {
      const intent = await stripeCall(() =>
        stripe.paymentIntents.cancel(
          input.paymentIntentId,
          { cancellation_reason: 'abandoned' },
          { idempotencyKey: input.idempotencyKey },
        ),
      );
      return toSnapshot(intent);
    },

    /**
     * The customer's default payment method (`invoice_settings.default_payment_method`), read
     * when a customer-level webhook says it may have changed. `null` when there is none.
     */
    async retrieveDefaultPaymentMethod(customerId: string): Promise<string | null> {
      const customer = await stripeCall(() => stripe.customers.retrieve(customerId), {
        readOnly: true,
      });
      if (customer.deleted) return null;
      const method = customer.invoice_settings?.default_payment_method;
      return (typeof method === 'string' ? method : method?.id) ?? null;
    },
  };
}
