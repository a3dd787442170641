// What the workflow knows of a PaymentIntent: a plain snapshot the activities return, read
// from Stripe (the truth, DESIGN.md invariant 4). Pure types only.

/** Stripe's PaymentIntent statuses (https://docs.stripe.com/payments/paymentintents/lifecycle). */
export const IntentStatus = {
  requiresPaymentMethod: 'requires_payment_method',
  requiresConfirmation: 'requires_confirmation',
  requiresAction: 'requires_action',
  processing: 'processing',
  requiresCapture: 'requires_capture',
  succeeded: 'succeeded',
  canceled: 'canceled',
} as const;
export type IntentStatus = (typeof IntentStatus)[keyof typeof IntentStatus];

export interface PaymentError {
  code?: string | undefined;
  declineCode?: string | undefined;
  adviceCode?: string | undefined;
  message?: string | undefined;
  /** The failed charge behind this error, when there was one: identifies the attempt. */
  chargeId?: string | undefined;
}

export interface PaymentIntentSnapshot {
  id: string;
  status: IntentStatus;
  amount: number;
  amountReceived: number;
  currency: string;
  customerId?: string | undefined;
  paymentMethodId?: string | undefined;
  lastPaymentError?: PaymentError | undefined;
  nextActionType?: string | undefined;
  /** The intent's latest charge (each attempt that reached the card network makes one). */
  latestChargeId?: string | undefined;
}
