// Customer notifications of a charge: what the workflow asks the notifier activity to send.
// Pure types; the notifiers (outbox, email) live in src/notifications/.

/** When the customer hears from us during a charge and its dunning campaign. */
export const NotificationKind = {
  /** A payment attempt failed; carries the attempt and the next date, if any. */
  paymentFailed: 'payment_failed',
  /** The customer must act: authenticate, or give a new payment method. */
  actionRequired: 'action_required',
  /** The next attempt is the last one. */
  finalWarning: 'final_warning',
  /** A payment succeeded after at least one failure. */
  recovered: 'recovered',
  /** The campaign ended without payment. */
  gaveUp: 'gave_up',
  /** A refund the customer was promised failed at Stripe (e.g. the card was closed). */
  refundFailed: 'refund_failed',
} as const;
export type NotificationKind = (typeof NotificationKind)[keyof typeof NotificationKind];

export interface CustomerNotification {
  /** Idempotency id derived by the workflow (`…/notify/<attempt>/<kind>`): sent at most once. */
  id: string;
  kind: NotificationKind;
  orderId: string;
  customerId: string;
  paymentIntentId?: string | undefined;
  /** Minor units. */
  amount: number;
  currency: string;
  /** Payment attempts made so far. */
  attempt: number;
  /** ISO time of the next attempt, when one is scheduled. */
  nextAttemptAt?: string | undefined;
  /** Stripe's decline code (or error code) of the last failure. */
  declineCode?: string | undefined;
}
