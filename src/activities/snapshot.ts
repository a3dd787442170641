// Stripe's PaymentIntent reduced to the plain snapshot the workflow acts on (and history shows).
import type Stripe from 'stripe';
import type { IntentStatus, PaymentIntentSnapshot } from '../shared/payment-intent.js';

/** The Stripe fields of a PaymentIntent the workflow acts on. */
export function toSnapshot(intent: Stripe.PaymentIntent): PaymentIntentSnapshot {
  const id = (ref: string | { id: string } | null | undefined) =>
    typeof ref === 'string' ? ref : ref?.id;
  const error = intent.last_payment_error;
  return {
    id: intent.id,
    status: intent.status as IntentStatus,
    amount: intent.amount,
    amountReceived: intent.amount_received,
    currency: intent.currency,
    customerId: id(intent.customer),
    paymentMethodId: id(intent.payment_method),
    lastPaymentError: error
      ? {
          code: error.code,
          declineCode: error.decline_code,
          adviceCode: error.advice_code,
          message: error.message,
          chargeId: id(error.charge),
        }
      : undefined,
    nextActionType: intent.next_action?.type,
    latestChargeId: id(intent.latest_charge),
  };
}
