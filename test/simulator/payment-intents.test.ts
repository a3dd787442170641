// The PaymentIntent state machine against Stripe's documented test payment methods, driven
// through stripe-node: success, the decline family, authentication, bank debits, terminal states.
import type Stripe from 'stripe';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/simulator/index.js';
import { startTestSimulator, stripeError } from './sim-fixture.js';

let sim: Simulator;
let stripe: Stripe;

beforeEach(async () => {
  ({ sim, stripe } = await startTestSimulator({ processingDelayMs: 4 * 24 * 3_600_000 }));
});
afterEach(async () => {
  await sim.close();
});

async function openIntent(orderId = 'order-1'): Promise<Stripe.PaymentIntent> {
  const customer = await stripe.customers.create({ email: 'jenny@example.com' });
  return stripe.paymentIntents.create({
    amount: 2500,
    currency: 'usd',
    customer: customer.id,
    metadata: { order_id: orderId },
  });
}

describe('PaymentIntent state machine', () => {
  it('a new intent without a payment method waits in requires_payment_method and emits payment_intent.created', async () => {
    const pi = await openIntent();
    expect(pi).toMatchObject({
      object: 'payment_intent',
      status: 'requires_payment_method',
      amount: 2500,
      currency: 'usd',
      amount_received: 0,
    });
    expect(pi.id).toMatch(/^pi_/);
    expect(sim.events().map((e) => e.type)).toContain('payment_intent.created');
  });

  it('an intent created with a payment method waits in requires_confirmation', async () => {
    const pi = await stripe.paymentIntents.create({
      amount: 2500,
      currency: 'usd',
      payment_method: 'pm_card_visa',
    });
    expect(pi.status).toBe('requires_confirmation');
    expect(pi.payment_method).toMatch(/^pm_/);
  });

  it('confirming off-session with pm_card_visa succeeds, moves the money once and emits payment_intent.succeeded', async () => {
    const pi = await openIntent('order-visa');
    const confirmed = await stripe.paymentIntents.confirm(pi.id, {
      payment_method: 'pm_card_visa',
      off_session: true,
    });
    expect(confirmed).toMatchObject({
      status: 'succeeded',
      amount_received: 2500,
      last_payment_error: null,
    });
    expect(confirmed.latest_charge).toMatch(/^ch_/);
    expect(sim.ledger().orders['order-visa']).toEqual({
      paymentIntents: [pi.id],
      successfulCharges: 1,
      amountCaptured: 2500,
    });
    expect(sim.events().filter((e) => e.type === 'payment_intent.succeeded')).toHaveLength(1);
  });

  it('create with confirm=true and off_session=true charges in one call', async () => {
    const customer = await stripe.customers.create({});
    const pi = await stripe.paymentIntents.create({
      amount: 900,
      currency: 'eur',
      customer: customer.id,
      payment_method: 'pm_card_visa',
      confirm: true,
      off_session: true,
    });
    expect(pi.status).toBe('succeeded');
  });

  it.each([
    ['pm_card_visa_chargeDeclined', 'card_declined', 'generic_decline', 'try_again_later'],
    ['pm_card_chargeDeclined', 'card_declined', 'generic_decline', 'try_again_later'],
    [
      'pm_card_visa_chargeDeclinedInsufficientFunds',
      'card_declined',
      'insufficient_funds',
      'try_again_later',
    ],
    [
      'pm_card_chargeDeclinedInsufficientFunds',
      'card_declined',
      'insufficient_funds',
      'try_again_later',
    ],
    ['pm_card_visa_chargeDeclinedLostCard', 'card_declined', 'lost_card', 'do_not_try_again'],
    ['pm_card_visa_chargeDeclinedStolenCard', 'card_declined', 'stolen_card', 'do_not_try_again'],
    ['pm_card_chargeDeclinedExpiredCard', 'expired_card', 'expired_card', 'confirm_card_data'],
    ['pm_card_chargeDeclinedIncorrectCvc', 'incorrect_cvc', 'incorrect_cvc', 'confirm_card_data'],
    [
      'pm_card_chargeDeclinedProcessingError',
      'processing_error',
      'processing_error',
      'try_again_later',
    ],
  ])(
    '%s declines with a 402 card_error (code %s, decline_code %s, advice_code %s) and back to requires_payment_method',
    async (pm, code, declineCode, adviceCode) => {
      const pi = await openIntent('order-decline');
      const error = await stripeError(() =>
        stripe.paymentIntents.confirm(pi.id, { payment_method: pm, off_session: true }),
      );
      expect(error.statusCode).toBe(402);
      expect(error.type).toBe('StripeCardError');
      expect(error.raw).toMatchObject({
        type: 'card_error',
        code,
        decline_code: declineCode,
        advice_code: adviceCode,
      });
      expect(error.payment_intent).toMatchObject({ id: pi.id, status: 'requires_payment_method' });
      const after = await stripe.paymentIntents.retrieve(pi.id);
      expect(after.status).toBe('requires_payment_method');
      expect(after.last_payment_error).toMatchObject({ code, decline_code: declineCode });
      expect(after.payment_method).toBeNull();
      expect(sim.events().at(-1)?.type).toBe('payment_intent.payment_failed');
      expect(sim.ledger().orders['order-decline']).toMatchObject({
        successfulCharges: 0,
        amountCaptured: 0,
      });
    },
  );

  it('a declined intent can be confirmed again with a working card (the dunning retry) and then succeeds', async () => {
    const pi = await openIntent('order-dunning');
    await stripeError(() =>
      stripe.paymentIntents.confirm(pi.id, {
        payment_method: 'pm_card_chargeDeclinedInsufficientFunds',
        off_session: true,
      }),
    );
    const retried = await stripe.paymentIntents.confirm(pi.id, {
      payment_method: 'pm_card_visa',
      off_session: true,
    });
    expect(retried.status).toBe('succeeded');
    expect(sim.ledger().paymentIntents[pi.id]).toMatchObject({
      confirmations: 2,
      successfulCharges: 1,
      amountCaptured: 2500,
    });
  });

  it('pm_card_authenticationRequired on-session waits in requires_action with next_action and emits payment_intent.requires_action', async () => {
    const pi = await openIntent();
    const confirmed = await stripe.paymentIntents.confirm(pi.id, {
      payment_method: 'pm_card_authenticationRequired',
    });
    expect(confirmed.status).toBe('requires_action');
    expect(confirmed.next_action?.type).toBe('use_stripe_sdk');
    expect(sim.events().at(-1)?.type).toBe('payment_intent.requires_action');
    expect(sim.authenticate(pi.id, 'succeed')).toBe(true);
    expect((await stripe.paymentIntents.retrieve(pi.id)).status).toBe('succeeded');
  });

  it('pm_card_authenticationRequired off-session is declined with authentication_required, as Stripe does for SCA', async () => {
    const pi = await openIntent();
    const error = await stripeError(() =>
      stripe.paymentIntents.confirm(pi.id, {
        payment_method: 'pm_card_authenticationRequired',
        off_session: true,
      }),
    );
    expect(error.raw).toMatchObject({
      type: 'card_error',
      code: 'authentication_required',
      decline_code: 'authentication_required',
    });
    expect((await stripe.paymentIntents.retrieve(pi.id)).status).toBe('requires_payment_method');
  });

  it('pm_usBankAccount_success stays processing until the processing delay passes on the simulated clock, then succeeds', async () => {
    const pi = await openIntent('order-ach');
    const confirmed = await stripe.paymentIntents.confirm(pi.id, {
      payment_method: 'pm_usBankAccount_success',
      off_session: true,
    });
    expect(confirmed.status).toBe('processing');
    expect(sim.ledger().orders['order-ach']?.successfulCharges).toBe(0);
    sim.advanceTime(4 * 24 * 3_600_000 - 1);
    expect((await stripe.paymentIntents.retrieve(pi.id)).status).toBe('processing');
    sim.advanceTime(1);
    expect((await stripe.paymentIntents.retrieve(pi.id)).status).toBe('succeeded');
    expect(sim.ledger().orders['order-ach']).toMatchObject({
      successfulCharges: 1,
      amountCaptured: 2500,
    });
    expect(sim.events().map((e) => e.type)).toEqual(
      expect.arrayContaining(['payment_intent.processing', 'payment_intent.succeeded']),
    );
  });

  it('pm_usBankAccount_insufficientFunds goes processing, then fails back to requires_payment_method with no money moved', async () => {
    const pi = await openIntent('order-ach-fail');
    await stripe.paymentIntents.confirm(pi.id, {
      payment_method: 'pm_usBankAccount_insufficientFunds',
      off_session: true,
    });
    sim.advanceTime(4 * 24 * 3_600_000);
    const settled = await stripe.paymentIntents.retrieve(pi.id);
    expect(settled.status).toBe('requires_payment_method');
    expect(settled.last_payment_error?.code).toBe('insufficient_funds');
    expect(sim.events().at(-1)?.type).toBe('payment_intent.payment_failed');
    expect(sim.ledger().orders['order-ach-fail']?.amountCaptured).toBe(0);
  });

  it('a succeeded intent cannot be confirmed again (400 payment_intent_unexpected_state) and nothing is charged twice', async () => {
    const pi = await openIntent('order-twice');
    await stripe.paymentIntents.confirm(pi.id, {
      payment_method: 'pm_card_visa',
      off_session: true,
    });
    const error = await stripeError(() =>
      stripe.paymentIntents.confirm(pi.id, { payment_method: 'pm_card_visa', off_session: true }),
    );
    expect(error.statusCode).toBe(400);
    expect(error.code).toBe('payment_intent_unexpected_state');
    expect(sim.ledger().orders['order-twice']).toMatchObject({
      successfulCharges: 1,
      amountCaptured: 2500,
    });
  });

  it('cancel records the reason, emits payment_intent.canceled, and a canceled intent cannot be confirmed', async () => {
    const pi = await openIntent();
    const canceled = await stripe.paymentIntents.cancel(pi.id, {
      cancellation_reason: 'abandoned',
    });
    expect(canceled).toMatchObject({ status: 'canceled', cancellation_reason: 'abandoned' });
    expect(canceled.canceled_at).toBeTypeOf('number');
    expect(sim.events().at(-1)?.type).toBe('payment_intent.canceled');
    const error = await stripeError(() =>
      stripe.paymentIntents.confirm(pi.id, { payment_method: 'pm_card_visa' }),
    );
    expect(error.code).toBe('payment_intent_unexpected_state');
  });

  it('a succeeded intent cannot be canceled', async () => {
    const pi = await openIntent();
    await stripe.paymentIntents.confirm(pi.id, {
      payment_method: 'pm_card_visa',
      off_session: true,
    });
    const error = await stripeError(() => stripe.paymentIntents.cancel(pi.id));
    expect(error.code).toBe('payment_intent_unexpected_state');
  });

  it('off_session on create without confirm=true is rejected like Stripe ("can only be used with confirm=true")', async () => {
    const error = await stripeError(() =>
      stripe.paymentIntents.create({ amount: 2500, currency: 'usd', off_session: true }),
    );
    expect(error.statusCode).toBe(400);
    expect(error.param).toBe('off_session');
  });

  it('a SetupIntent with pm_card_visa succeeds, attaches the card and emits setup_intent.succeeded', async () => {
    const customer = await stripe.customers.create({});
    const si = await stripe.setupIntents.create({
      customer: customer.id,
      payment_method: 'pm_card_visa',
      confirm: true,
      usage: 'off_session',
    });
    expect(si.status).toBe('succeeded');
    const pm = await stripe.paymentMethods.retrieve(
      typeof si.payment_method === 'string' ? si.payment_method : '',
    );
    expect(pm.customer).toBe(customer.id);
    expect(sim.events().map((e) => e.type)).toEqual(
      expect.arrayContaining([
        'setup_intent.created',
        'payment_method.attached',
        'setup_intent.succeeded',
      ]),
    );
  });
});
