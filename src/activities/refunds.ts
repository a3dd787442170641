// Refund activities (issue 14): read the order's money as Stripe shows it, create a refund with
// the key the workflow derived, find a refund by the caller's refund id (reconciliation), and
// ask the order's refund lock for a turn. Every Stripe error goes through the one outcome table.
import { Context } from '@temporalio/activity';
import type Stripe from 'stripe';
import { chargeWorkflowId } from '../shared/ids.js';
import { IntentStatus } from '../shared/payment-intent.js';
import {
  RefundStatus,
  type OrderRefundsView,
  type RefundReason,
  type RefundSnapshot,
} from '../shared/refunds.js';
import type { refundLock } from '../workflows/refund-lock.js';
import { acquireRefundLockSignal, type RefundLockRequest } from '../workflows/refund-messages.js';
import { pickOrderIntent, stripeCall } from './payment-intents.js';

export interface ReadOrderRefundsInput {
  orderId: string;
  refundId: string;
  /** The intent the caller believes is the order's: retrieved and checked, never trusted. */
  paymentIntentHint?: string | undefined;
}

export interface CreateRefundInput {
  idempotencyKey: string;
  workflowId: string;
  orderId: string;
  refundId: string;
  chargeId: string;
  amount: number;
  reason: RefundReason;
  metadata?: Record<string, string> | undefined;
}

export interface FindRefundInput {
  chargeId: string;
  orderId: string;
  refundId: string;
}

export interface RequestRefundLockInput {
  lockWorkflowId: string;
  orderId: string;
  requester: RefundLockRequest;
}

const id = (ref: string | { id: string } | null | undefined) =>
  typeof ref === 'string' ? ref : ref?.id;

/** Stripe's refund reduced to what the workflow acts on. */
export function toRefundSnapshot(refund: Stripe.Refund): RefundSnapshot {
  return {
    id: refund.id,
    status: (refund.status ?? RefundStatus.pending) as RefundStatus,
    amount: refund.amount,
    currency: refund.currency,
    chargeId: id(refund.charge),
    refundId: refund.metadata?.['refund_id'],
    failureReason: refund.failure_reason ?? undefined,
  };
}

/** Stripe's search-query string literal: quotes and backslashes escaped. */
function searchLiteral(value: string): string {
  return `'${value.replace(/[\\']/g, (c) => `\\${c}`)}'`;
}

function isMissing(error: unknown): boolean {
  return (error as { code?: unknown } | undefined)?.code === 'resource_missing';
}

/** Refund activities over an injected Stripe client. */
export function createRefundActivities(stripe: Stripe) {
  /** Every refund of a charge (a list: strongly consistent, unlike search). */
  async function refundsOf(chargeId: string): Promise<Stripe.Refund[]> {
    const all: Stripe.Refund[] = [];
    for await (const refund of stripe.refunds.list({ charge: chargeId, limit: 100 }))
      all.push(refund);
    return all;
  }

  /** The order's intent: the hint if Stripe shows it is the order's, else Stripe Search. */
  async function orderIntent(
    orderId: string,
    hint: string | undefined,
  ): Promise<Stripe.PaymentIntent | undefined> {
    if (hint) {
      try {
        const intent = await stripe.paymentIntents.retrieve(hint);
        if (intent.metadata?.['order_id'] === orderId) return intent;
      } catch (error) {
        if (!isMissing(error)) throw error;
      }
    }
    const found = await stripe.paymentIntents.search({
      query: `metadata['order_id']:${searchLiteral(orderId)}`,
      limit: 10,
    });
    const ids = found.data.filter((i) => i.metadata?.['order_id'] === orderId).map((i) => i.id);
    // Search may show a stale status; a retrieve does not.
    const fresh = await Promise.all(ids.map((i) => stripe.paymentIntents.retrieve(i)));
    return pickOrderIntent(fresh);
  }

  return {
    /**
     * The order's captured and refunded money as Stripe shows it, and the refund that already
     * carries `refundId`, if any. Refused (with the reason) when chargeCustomer did not charge
     * the order: no intent, an intent tagged by another workflow, or none that succeeded.
     */
    async readOrderRefunds(input: ReadOrderRefundsInput): Promise<OrderRefundsView> {
      return stripeCall(
        async () => {
          const { orderId } = input;
          const intent = await orderIntent(orderId, input.paymentIntentHint);
          if (!intent)
            return {
              kind: 'refused',
              notFound: true,
              reason: `order ${orderId} has no payment made by chargeCustomer: Stripe has no PaymentIntent with metadata.order_id ${orderId}`,
            };
          const expected = chargeWorkflowId(orderId);
          const tag = intent.metadata?.['workflow_id'];
          if (tag !== expected)
            return {
              kind: 'refused',
              paymentIntentId: intent.id,
              reason: `order ${orderId}: ${intent.id} was not made by chargeCustomer (metadata.workflow_id is ${tag === undefined ? 'missing' : `"${tag}"`}, not "${expected}"); refund it in Stripe if it is yours`,
            };
          const chargeId = id(intent.latest_charge);
          if (intent.status !== IntentStatus.succeeded || chargeId === undefined)
            return {
              kind: 'refused',
              paymentIntentId: intent.id,
              reason: `order ${orderId}: ${intent.id} is ${intent.status}, not succeeded: nothing was captured to refund`,
            };
          const [charge, refunds] = await Promise.all([
            stripe.charges.retrieve(chargeId),
            refundsOf(chargeId),
          ]);
          const mine = refunds.find(
            (r) =>
              r.metadata?.['refund_id'] === input.refundId && r.metadata?.['order_id'] === orderId,
          );
          const moving = refunds
            .filter((r) => r.status !== RefundStatus.failed && r.status !== RefundStatus.canceled)
            .reduce((sum, r) => sum + r.amount, 0);
          return {
            kind: 'charged',
            paymentIntentId: intent.id,
            chargeId,
            customerId: id(intent.customer),
            currency: charge.currency,
            captured: charge.amount_captured,
            refunded: Math.max(charge.amount_refunded, moving),
            existing: mine && toRefundSnapshot(mine),
          };
        },
        { readOnly: true },
      );
    },

    /** Creates the refund, tagged with the refund, order and workflow ids. */
    async createRefund(input: CreateRefundInput): Promise<RefundSnapshot> {
      const refund = await stripeCall(() =>
        stripe.refunds.create(
          {
            charge: input.chargeId,
            amount: input.amount,
            reason: input.reason,
            metadata: {
              ...input.metadata,
              refund_id: input.refundId,
              order_id: input.orderId,
              workflow_id: input.workflowId,
            },
          },
          { idempotencyKey: input.idempotencyKey },
        ),
      );
      // A replay answers with the refund as it was created: read it as it is now.
      if (refund.lastResponse?.headers?.['idempotent-replayed'] === 'true')
        return toRefundSnapshot(
          await stripeCall(() => stripe.refunds.retrieve(refund.id), { readOnly: true }),
        );
      return toRefundSnapshot(refund);
    },

    /** The charge's refund that carries `refundId` (reconciliation after an unknown outcome). */
    async findRefund(input: FindRefundInput): Promise<RefundSnapshot | null> {
      const refunds = await stripeCall(() => refundsOf(input.chargeId), { readOnly: true });
      const mine = refunds.find(
        (r) =>
          r.metadata?.['refund_id'] === input.refundId &&
          r.metadata?.['order_id'] === input.orderId,
      );
      return mine ? toRefundSnapshot(mine) : null;
    },

    /** Reads a refund: the truth a webhook or the poll wakes the workflow to look at. */
    async retrieveRefund(stripeRefundId: string): Promise<RefundSnapshot> {
      return toRefundSnapshot(
        await stripeCall(() => stripe.refunds.retrieve(stripeRefundId), { readOnly: true }),
      );
    },

    /**
     * Asks the order's refund lock for a turn (signal-with-start of `refund-lock:<orderId>`):
     * the lock grants turns one at a time, by signal, in the order asked.
     */
    async requestRefundLock(input: RequestRefundLockInput): Promise<void> {
      const context = Context.current();
      await context.client.workflow.signalWithStart<typeof refundLock, [RefundLockRequest]>(
        'refundLock',
        {
          workflowId: input.lockWorkflowId,
          taskQueue: context.info.taskQueue,
          args: [{ orderId: input.orderId }],
          signal: acquireRefundLockSignal,
          signalArgs: [input.requester],
          staticSummary: `refund lock of order ${input.orderId}`,
        },
      );
    },
  };
}
