// Stripe's documented test PaymentMethod ids and what confirming with each one does. Sources:
// docs.stripe.com/testing?testing-method=payment-methods (cards, "Declined payments", 3DS) and
// docs.stripe.com/payments/ach-direct-debit/accept-a-payment ("Test account numbers");
// docs.stripe.com/testing#disputes and #refunds (cards disputed after succeeding, refunds failing).

/** A dispute the bank opens right after a charge succeeds (Stripe's `createDispute` cards). */
export interface TestDispute {
  reason: string;
  /** An inquiry (`warning_needs_response`, no funds withdrawn) rather than a chargeback. */
  inquiry: boolean;
}

/** What confirming a PaymentIntent with a payment method does. */
export type TestBehaviour =
  | {
      kind: 'succeed';
      /** The charge is disputed once it succeeds. */
      dispute?: TestDispute;
      /** Refunds of the charge fail later with this `failure_reason` (they start `succeeded`). */
      refundFailure?: string;
    }
  | {
      kind: 'decline';
      code: string;
      declineCode: string;
      adviceCode?: string;
      param?: string;
      message: string;
    }
  /** 3D Secure: on-session → `requires_action`; off-session → 402 `authentication_required`. */
  | { kind: 'authenticate' }
  /** A delayed-notification debit: `processing`, then settles after the simulator's processing delay. */
  | { kind: 'bank_debit'; outcome: 'succeed' }
  | { kind: 'bank_debit'; outcome: 'fail'; code: string; message: string };

/** Card details shown on the PaymentMethod object. */
export interface TestCard {
  type: 'card';
  brand: string;
  last4: string;
  funding: 'credit' | 'debit' | 'prepaid';
}

/** US bank account details shown on the PaymentMethod object. */
export interface TestBankAccount {
  type: 'us_bank_account';
  last4: string;
  routingNumber: string;
}

/** One documented test payment method. */
export interface TestPaymentMethod {
  instrument: TestCard | TestBankAccount;
  behaviour: TestBehaviour;
}

const card = (
  last4: string,
  brand = 'visa',
  funding: TestCard['funding'] = 'credit',
): TestCard => ({ type: 'card', brand, last4, funding });
const bank = (last4: string): TestBankAccount => ({
  type: 'us_bank_account',
  last4,
  routingNumber: '110000000',
});

const succeed: TestBehaviour = { kind: 'succeed' };

const generic: TestBehaviour = {
  kind: 'decline',
  code: 'card_declined',
  declineCode: 'generic_decline',
  adviceCode: 'try_again_later',
  message: 'Your card was declined.',
};
const insufficientFunds: TestBehaviour = {
  kind: 'decline',
  code: 'card_declined',
  declineCode: 'insufficient_funds',
  adviceCode: 'try_again_later',
  message: 'Your card has insufficient funds.',
};
const lost: TestBehaviour = {
  kind: 'decline',
  code: 'card_declined',
  declineCode: 'lost_card',
  adviceCode: 'do_not_try_again',
  message: 'Your card was declined.',
};
const stolen: TestBehaviour = {
  kind: 'decline',
  code: 'card_declined',
  declineCode: 'stolen_card',
  adviceCode: 'do_not_try_again',
  message: 'Your card was declined.',
};
const expired: TestBehaviour = {
  kind: 'decline',
  code: 'expired_card',
  declineCode: 'expired_card',
  adviceCode: 'confirm_card_data',
  param: 'exp_month',
  message: 'Your card has expired.',
};
const incorrectCvc: TestBehaviour = {
  kind: 'decline',
  code: 'incorrect_cvc',
  declineCode: 'incorrect_cvc',
  adviceCode: 'confirm_card_data',
  param: 'cvc',
  message: "Your card's security code is incorrect.",
};
const processingError: TestBehaviour = {
  kind: 'decline',
  code: 'processing_error',
  declineCode: 'processing_error',
  adviceCode: 'try_again_later',
  message: 'An error occurred while processing your card. Try again in a little bit.',
};

/**
 * The catalogue, keyed by the id a request may name. Stripe documents the decline family under
 * both spellings over time (`pm_card_visa_chargeDeclined…` today, `pm_card_chargeDeclined…`
 * before); both resolve here.
 */
export const TEST_PAYMENT_METHODS: Readonly<Record<string, TestPaymentMethod>> = {
  pm_card_visa: { instrument: card('4242'), behaviour: succeed },
  pm_card_visa_debit: { instrument: card('5556', 'visa', 'debit'), behaviour: succeed },
  pm_card_mastercard: { instrument: card('4444', 'mastercard'), behaviour: succeed },
  pm_card_amex: { instrument: card('0005', 'amex'), behaviour: succeed },
  // 4000000000000259 / 2685 / 1976: "the charge succeeds, then is disputed" (as fraudulent, as
  // product not received, as an inquiry).
  pm_card_createDispute: {
    instrument: card('0259'),
    behaviour: { kind: 'succeed', dispute: { reason: 'fraudulent', inquiry: false } },
  },
  pm_card_createDisputeProductNotReceived: {
    instrument: card('2685'),
    behaviour: { kind: 'succeed', dispute: { reason: 'product_not_received', inquiry: false } },
  },
  pm_card_createDisputeInquiry: {
    instrument: card('1976'),
    behaviour: { kind: 'succeed', dispute: { reason: 'fraudulent', inquiry: true } },
  },
  // 4000000000005126: "refunding a captured charge fails asynchronously with a failure_reason of
  // expired_or_canceled_card": the refund first shows `succeeded`, later `failed`.
  pm_card_refundFail: {
    instrument: card('5126'),
    behaviour: { kind: 'succeed', refundFailure: 'expired_or_canceled_card' },
  },
  pm_card_visa_chargeDeclined: { instrument: card('0002'), behaviour: generic },
  pm_card_chargeDeclined: { instrument: card('0002'), behaviour: generic },
  pm_card_visa_chargeDeclinedInsufficientFunds: {
    instrument: card('9995'),
    behaviour: insufficientFunds,
  },
  pm_card_chargeDeclinedInsufficientFunds: {
    instrument: card('9995'),
    behaviour: insufficientFunds,
  },
  pm_card_visa_chargeDeclinedLostCard: { instrument: card('9987'), behaviour: lost },
  pm_card_chargeDeclinedLostCard: { instrument: card('9987'), behaviour: lost },
  pm_card_visa_chargeDeclinedStolenCard: { instrument: card('9979'), behaviour: stolen },
  pm_card_chargeDeclinedStolenCard: { instrument: card('9979'), behaviour: stolen },
  pm_card_chargeDeclinedExpiredCard: { instrument: card('0069'), behaviour: expired },
  pm_card_chargeDeclinedIncorrectCvc: { instrument: card('0127'), behaviour: incorrectCvc },
  pm_card_chargeDeclinedProcessingError: { instrument: card('0119'), behaviour: processingError },
  pm_card_authenticationRequired: { instrument: card('3184'), behaviour: { kind: 'authenticate' } },
  pm_card_threeDSecure2Required: { instrument: card('3220'), behaviour: { kind: 'authenticate' } },
  pm_usBankAccount_success: {
    instrument: bank('6789'),
    behaviour: { kind: 'bank_debit', outcome: 'succeed' },
  },
  pm_usBankAccount_insufficientFunds: {
    instrument: bank('2227'),
    behaviour: {
      kind: 'bank_debit',
      outcome: 'fail',
      code: 'insufficient_funds',
      message: "The customer's account has insufficient funds to cover this payment.",
    },
  },
};

/** The catalogue entry for a test id, if it is one. */
export function testPaymentMethod(id: string): TestPaymentMethod | undefined {
  return Object.hasOwn(TEST_PAYMENT_METHODS, id) ? TEST_PAYMENT_METHODS[id] : undefined;
}
