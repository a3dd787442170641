// Stripe's documented test PaymentMethod ids and what confirming with each one does. Sources:
// docs.stripe.com/testing?testing-method=payment-methods (cards, "Declined payments", 3DS) and
// docs.stripe.com/payments/ach-direct-debit/accept-a-payment ("Test account numbers").

/** What confirming a PaymentIntent with a payment method does. */
export type TestBehaviour =
  | { kind: 'succeed' }
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
