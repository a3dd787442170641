// What crosses a boundary into a refund: the request (validated on both sides), the snapshots
// the refund activities return, and the result. Pure (no zod: see validate.ts), so workflow
// code and clients share it.
import { REFUND_ID_PATTERN } from './after-charge-ids.js';
import { chargeInputSchema } from './schemas.js';
import { v, type Infer, type Input } from './validate.js';

/** Stripe's refund reasons (https://docs.stripe.com/api/refunds/create#create_refund-reason). */
export const RefundReason = {
  duplicate: 'duplicate',
  fraudulent: 'fraudulent',
  requestedByCustomer: 'requested_by_customer',
} as const;
export type RefundReason = (typeof RefundReason)[keyof typeof RefundReason];

/** Metadata keys the refund workflow sets on every Stripe refund it makes. */
export const RESERVED_REFUND_METADATA = ['refund_id', 'order_id', 'workflow_id'] as const;

export const refundInputSchema = v.strictObject({
  orderId: chargeInputSchema.shape.orderId,
  refundId: v.string().regex(REFUND_ID_PATTERN, 'must be 1–100 letters, digits or . _ - (no ":")'),
  /** Minor units; absent: whatever of the capture is not yet refunded. */
  amount: v
    .number('must be a number of minor units (cents), e.g. 500 for 5.00')
    .int('must be a whole number of minor units (cents)')
    .positive('must be positive')
    .max(99_999_999, 'must be at most 99999999 minor units (Stripe’s limit)')
    .optional(),
  reason: v.enum(RefundReason),
  metadata: v
    .record(
      v.string().max(40, 'metadata keys must be at most 40 characters'),
      v.string().max(500, 'metadata values must be at most 500 characters'),
    )
    .refine((m) => Object.keys(m).length <= 37, 'must have at most 37 keys (three are reserved)')
    .refine(
      (m) => RESERVED_REFUND_METADATA.every((k) => !(k in m)),
      `must not set ${RESERVED_REFUND_METADATA.join(', ')} (reserved)`,
    )
    .optional(),
  /**
   * The order's PaymentIntent as the caller believes it (the client reads it from the charge
   * workflow): a hint only, checked with Stripe. Without it the workflow finds the intent with
   * Stripe Search, which lags new intents by up to a minute.
   */
  paymentIntentHint: v
    .string()
    .regex(/^pi_[A-Za-z0-9_]+$/, 'must be a PaymentIntent id (pi_…)')
    .optional(),
  /**
   * Set only by the receiver, when a failure of Stripe refund `re_…` arrives after this refund
   * id's workflow ended (a card refund shows `succeeded`, then the bank fails it): the run
   * adopts the refund Stripe holds under this order and refund id, tells the customer if it
   * failed, and never creates one (with none there, it is refused).
   */
  followRefund: v
    .string()
    .regex(/^(re|pyr)_[A-Za-z0-9_]+$/, 'must be a Stripe refund id (re_…)')
    .optional(),
});
export type RefundInput = Input<typeof refundInputSchema>;
export type ParsedRefundInput = Infer<typeof refundInputSchema>;

/** Stripe's refund statuses (https://docs.stripe.com/api/refunds/object#refund_object-status). */
export const RefundStatus = {
  pending: 'pending',
  requiresAction: 'requires_action',
  succeeded: 'succeeded',
  failed: 'failed',
  canceled: 'canceled',
} as const;
export type RefundStatus = (typeof RefundStatus)[keyof typeof RefundStatus];

/** Statuses after which a refund never changes again. */
export const FINAL_REFUND_STATUSES: ReadonlySet<string> = new Set([
  RefundStatus.succeeded,
  RefundStatus.failed,
  RefundStatus.canceled,
]);

/** A Stripe refund as the workflow acts on it. */
export interface RefundSnapshot {
  id: string;
  status: RefundStatus;
  amount: number;
  currency: string;
  chargeId: string | undefined;
  /** `metadata.refund_id`: the caller's refund id this refund carries out. */
  refundId: string | undefined;
  /** Stripe's `failure_reason` once failed (e.g. `expired_or_canceled_card`). */
  failureReason: string | undefined;
}

/** The order's money as Stripe shows it, read under the order's refund lock. */
export type OrderRefundsView =
  | {
      kind: 'charged';
      paymentIntentId: string;
      chargeId: string;
      customerId: string | undefined;
      currency: string;
      /** `amount_captured` of the charge. */
      captured: number;
      /**
       * Refunded or on its way (the larger of the charge's `amount_refunded` and the sum of its
       * refunds that are not failed or canceled): what a new refund must leave room for.
       */
      refunded: number;
      /** The refund that already carries this request's refund id, if Stripe has one. */
      existing: RefundSnapshot | undefined;
    }
  /** chargeCustomer did not charge this order (or has not yet): refused, with the reason. */
  | {
      kind: 'refused';
      reason: string;
      paymentIntentId?: string | undefined;
      /** Stripe Search showed no intent for the order: it may be too new to be searchable yet. */
      notFound?: boolean | undefined;
    };

/** How a refund request ended. */
export const RefundOutcome = {
  succeeded: 'succeeded',
  failed: 'failed',
  canceled: 'canceled',
  /** Nothing was sent to Stripe: not our charge, or more than what remains. */
  refused: 'refused',
} as const;
export type RefundOutcome = (typeof RefundOutcome)[keyof typeof RefundOutcome];

export interface RefundResult {
  outcome: RefundOutcome;
  orderId: string;
  refundId: string;
  /** Stripe's refund (`re_…`), unless refused. */
  stripeRefundId?: string | undefined;
  /** Minor units refunded (or that failed to refund); the request's amount when refused. */
  amount?: number | undefined;
  currency?: string | undefined;
  paymentIntentId?: string | undefined;
  chargeId?: string | undefined;
  /** What of the capture may still be refunded, as Stripe showed it (minor units). */
  remaining?: number | undefined;
  /** Why it was refused, or why Stripe failed it (`failure_reason`). */
  reason?: string | undefined;
}
