// PaymentIntent activities: all Stripe I/O of a charge. Every mutating call sends the key the
// workflow derived (visible in history); every Stripe error goes through the one outcome table.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type Stripe from 'stripe';
import { IntentStatus, type PaymentIntentSnapshot } from '../shared/payment-intent.js';
import { StripeFailureType, type StripeErrorInfo } from '../shared/stripe-failures.js';
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
  /**
   * Look the order's intent up first with Stripe Search on `metadata['order_id']` (one request,
   * however many intents the customer has), and again when Stripe answers that the key was used
   * with other parameters. Search is eventually consistent (Stripe: searchable "in under 1
   * minute"); the create key covers the first 24 h, so between them every age is covered.
   */
  searchFirst?: boolean | undefined;
}

/** Stripe keeps idempotency keys this long (24 h). */
const KEY_RETENTION_SECONDS = 24 * 3600;
/** Margin for the clocks of this host and Stripe when bounding a list by time. */
const CLOCK_SKEW_SECONDS = 3600;

/** A PaymentMethod as far as a charge needs it: whose it is. `null` customer: attached to none. */
export interface PaymentMethodOwner {
  id: string;
  customerId: string | null;
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
export async function stripeCall<T>(call: () => Promise<T>, { readOnly = false } = {}): Promise<T> {
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

/** How much an intent tells about the order's money: the one with money moved or moving wins. */
const ADOPTION_RANK: Record<string, number> = {
  [IntentStatus.succeeded]: 0,
  [IntentStatus.processing]: 1,
  [IntentStatus.requiresCapture]: 2,
  [IntentStatus.requiresAction]: 3,
  [IntentStatus.requiresConfirmation]: 4,
  [IntentStatus.requiresPaymentMethod]: 4,
  [IntentStatus.canceled]: 5,
};

/**
 * Of the intents Stripe holds for one order, the one a run adopts: money moved or moving
 * first, then an open one, then a canceled one; the newest within a rank. Normally there is
 * exactly one; more exist only from before the workflow checked its own id.
 */
export function pickOrderIntent<T extends { status: string; created: number }>(
  intents: readonly T[],
): T | undefined {
  const rank = (i: T) => ADOPTION_RANK[i.status] ?? 4;
  return [...intents].sort((a, b) => rank(a) - rank(b) || b.created - a.created)[0];
}

/** Stripe's search-query string literal: quotes and backslashes escaped. */
function searchLiteral(value: string): string {
  return `'${value.replace(/[\\']/g, (c) => `\\${c}`)}'`;
}

function failureCode(error: unknown): { type: string; info: StripeErrorInfo } | undefined {
  if (!(error instanceof ApplicationFailure) || !error.type) return undefined;
  return { type: error.type, info: error.details?.[0] ?? {} };
}

/** PaymentIntent activities over an injected Stripe client (no module mocking in tests). */
export function createPaymentIntentActivities(stripe: Stripe) {
  /**
   * The order's intent by Stripe Search, re-read by id: Search may lag and may show a stale
   * status, a retrieve does not. `null` when Search shows none (yet).
   */
  const findOrderIntent = (orderId: string) =>
    stripeCall(
      async () => {
        const found = await stripe.paymentIntents.search({
          query: `metadata['order_id']:${searchLiteral(orderId)}`,
          limit: 10,
        });
        const ids = found.data.filter((i) => i.metadata?.order_id === orderId).map((i) => i.id);
        if (ids.length === 0) return null;
        const fresh = await Promise.all(ids.map((id) => stripe.paymentIntents.retrieve(id)));
        const chosen = pickOrderIntent(fresh);
        return chosen ? toSnapshot(chosen) : null;
      },
      { readOnly: true },
    );

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

  const retrieve = async (paymentIntentId: string): Promise<PaymentIntentSnapshot> =>
    toSnapshot(
      await stripeCall(() => stripe.paymentIntents.retrieve(paymentIntentId), { readOnly: true }),
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
      //
      // Every run of a released workflow also searches first (`searchFirst`): a restart of the
      // order more than 24 h after its create (the key is pruned) finds the order's intent by
      // its `order_id`, which Search shows by then. The workflow compares what it finds with
      // its input and adopts it, or fails loudly.
      const { lookFirst, searchFirst } = input;
      if (searchFirst) {
        const found = await findOrderIntent(input.orderId);
        if (found) return found;
      }
      if (lookFirst !== false) {
        const existing = await findForWorkflow({ ...input, createdSince: lookFirst?.createdSince });
        if (existing) return existing;
      }
      try {
        const intent = await stripeCall(() =>
          stripe.paymentIntents.create(
            {
              amount: input.amount,
              currency: input.currency,
              customer: input.customerId,
              ...(input.paymentMethodId && { payment_method: input.paymentMethodId }),
              ...(input.description && { description: input.description }),
              metadata: {
                ...input.metadata,
                workflow_id: input.workflowId,
                order_id: input.orderId,
              },
              confirm: false,
            },
            { idempotencyKey: input.idempotencyKey },
          ),
        );
        // A replay answers with the intent as it was when it was created: read it as it is now.
        if (intent.lastResponse?.headers?.['idempotent-replayed'] === 'true')
          return await retrieve(intent.id);
        return toSnapshot(intent);
      } catch (error) {
        if (!searchFirst || failureCode(error)?.type !== StripeFailureType.idempotency) throw error;
        // The order's key was used with other parameters within the last 24 h: normally by
        // another run of the order that asked another amount or method. Its intent may be too
        // new for Search, so the customer's intents of the key's lifetime are listed too
        // (strongly consistent; this path is rare). Found: the workflow compares and says
        // what Stripe holds. Not found: the key was used for something else, a loud failure.
        const found =
          (await findForWorkflow({
            customerId: input.customerId,
            workflowId: input.workflowId,
            createdSince:
              Math.floor(Date.now() / 1000) - KEY_RETENTION_SECONDS - CLOCK_SKEW_SECONDS,
          })) ?? (await findOrderIntent(input.orderId));
        if (found) return found;
        throw error;
      }
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
    retrievePaymentIntent: retrieve,

    /**
     * Whose a PaymentMethod is, as Stripe has it; `null` when Stripe has no such method. What a
     * signal or an update names is checked with this before the charge uses it (invariant 4).
     */
    async retrievePaymentMethod(paymentMethodId: string): Promise<PaymentMethodOwner | null> {
      try {
        const method = await stripeCall(() => stripe.paymentMethods.retrieve(paymentMethodId), {
          readOnly: true,
        });
        const customer = method.customer;
        return {
          id: method.id,
          customerId: (typeof customer === 'string' ? customer : customer?.id) ?? null,
        };
      } catch (error) {
        // "No such PaymentMethod" is an answer about the claim, not a failure of the charge.
        if (failureCode(error)?.info.code === 'resource_missing') return null;
        throw error;
      }
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
