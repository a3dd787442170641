// Refunds through stripe-node against the simulator: the charge behind a succeeded intent,
// full and partial refunds and Stripe's refusals, idempotency, lists, pending refunds that settle
// or fail later (bank debits, pm_card_refundFail, refund rules, the settle control), the ledger,
// the request log, and the API and webhook faults on the refund endpoints.
import Stripe from 'stripe';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FaultKind, WebhookFaultKind, type Simulator } from '../../src/simulator/index.js';
import { startTestSimulator, stripeError } from './sim-fixture.js';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver.js';

const DELAY_MS = 60_000;

let sim: Simulator;
let stripe: Stripe;

beforeEach(async () => {
  ({ sim, stripe } = await startTestSimulator({ processingDelayMs: DELAY_MS }));
});
afterEach(async () => {
  await sim.close();
});

/** A succeeded intent for `orderId`, paid with `paymentMethod`. */
async function paidIntent(
  orderId: string,
  paymentMethod = 'pm_card_visa',
  amount = 5000,
): Promise<Stripe.PaymentIntent> {
  const pi = await stripe.paymentIntents.create({
    amount,
    currency: 'usd',
    metadata: { order_id: orderId, workflow_id: `charge:${orderId}` },
    payment_method: paymentMethod,
    confirm: true,
    off_session: true,
  });
  if (pi.status === 'processing') {
    sim.advanceTime(DELAY_MS);
    return stripe.paymentIntents.retrieve(pi.id);
  }
  return pi;
}

/** The id of an intent's latest charge. */
function chargeOf(pi: Stripe.PaymentIntent): string {
  return typeof pi.latest_charge === 'string' ? pi.latest_charge : (pi.latest_charge?.id ?? '');
}

const types = (): string[] => sim.events().map((e) => e.type);

describe('the charge behind a PaymentIntent', () => {
  it('a succeeded intent names its charge in latest_charge, and GET /v1/charges/:id shows the captured amount, nothing refunded and the intent', async () => {
    const pi = await paidIntent('o-charge');
    expect(pi.latest_charge).toMatch(/^ch_/);
    const charge = await stripe.charges.retrieve(chargeOf(pi));
    expect(charge).toMatchObject({
      object: 'charge',
      amount: 5000,
      amount_captured: 5000,
      amount_refunded: 0,
      refunded: false,
      disputed: false,
      status: 'succeeded',
      payment_intent: pi.id,
      metadata: { order_id: 'o-charge' },
    });
  });
});

describe('POST /v1/refunds', () => {
  it('refunds the whole remaining amount by default, at once for a card, and emits refund.created and charge.refunded', async () => {
    const pi = await paidIntent('o-full');
    const refund = await stripe.refunds.create({
      payment_intent: pi.id,
      reason: 'requested_by_customer',
      metadata: { refund_id: 'r1' },
    });
    expect(refund).toMatchObject({
      object: 'refund',
      amount: 5000,
      currency: 'usd',
      status: 'succeeded',
      charge: pi.latest_charge,
      payment_intent: pi.id,
      reason: 'requested_by_customer',
      metadata: { refund_id: 'r1' },
    });
    expect(refund.id).toMatch(/^re_/);
    const charge = await stripe.charges.retrieve(chargeOf(pi));
    expect(charge).toMatchObject({ amount_refunded: 5000, refunded: true });
    expect(types().slice(-2)).toEqual(['refund.created', 'charge.refunded']);
    const chargeRefunded = sim.events().at(-1);
    expect(chargeRefunded?.data.previous_attributes).toEqual({
      amount_refunded: 0,
      refunded: false,
    });
    expect(sim.ledger().orders['o-full']?.refunds).toEqual({
      count: 1,
      amountRefunded: 5000,
      amountPending: 0,
      failed: 0,
      byRefundId: { r1: 1 },
    });
  });

  it('partial refunds by charge add up; more than what remains is 400 amount_too_large, and a fully refunded charge is charge_already_refunded', async () => {
    const pi = await paidIntent('o-partial');
    const charge = chargeOf(pi);
    await stripe.refunds.create({ charge, amount: 2000 });
    const tooLarge = await stripeError(() => stripe.refunds.create({ charge, amount: 3001 }));
    expect(tooLarge).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(tooLarge).toMatchObject({
      statusCode: 400,
      code: 'amount_too_large',
      param: 'amount',
      message: 'Refund amount ($30.01) is greater than unrefunded amount on charge ($30.00)',
    });
    const rest = await stripe.refunds.create({ payment_intent: pi.id });
    expect(rest.amount).toBe(3000);
    const again = await stripeError(() => stripe.refunds.create({ charge }));
    expect(again).toMatchObject({
      statusCode: 400,
      code: 'charge_already_refunded',
      message: `Charge ${charge} has already been refunded.`,
    });
    expect(sim.ledger().orders['o-partial']?.refunds).toMatchObject({
      count: 2,
      amountRefunded: 5000,
    });
  });

  it('an intent that has not succeeded has no charge to refund (400), and unknown ids are 404 resource_missing', async () => {
    const open = await stripe.paymentIntents.create({ amount: 5000, currency: 'usd' });
    const none = await stripeError(() => stripe.refunds.create({ payment_intent: open.id }));
    expect(none).toMatchObject({
      statusCode: 400,
      param: 'payment_intent',
      message: `This PaymentIntent (${open.id}) does not have a successful charge to refund.`,
    });
    const missing = await stripeError(() => stripe.refunds.create({ payment_intent: 'pi_nope' }));
    expect(missing).toMatchObject({ statusCode: 404, code: 'resource_missing' });
    expect((await stripeError(() => stripe.refunds.create({ charge: 'ch_nope' }))).statusCode).toBe(
      404,
    );
    expect((await stripeError(() => stripe.refunds.create({}))).statusCode).toBe(400);
    expect((await stripeError(() => stripe.refunds.retrieve('re_nope'))).code).toBe(
      'resource_missing',
    );
  });

  it('the same idempotency key replays the first refund, and the key with other parameters is an idempotency_error', async () => {
    const pi = await paidIntent('o-key');
    const key = 'refund:o-key:r1/create/1';
    const first = await stripe.refunds.create(
      { payment_intent: pi.id, amount: 1000 },
      { idempotencyKey: key },
    );
    const replay = await stripe.refunds.create(
      { payment_intent: pi.id, amount: 1000 },
      { idempotencyKey: key },
    );
    expect(replay.id).toBe(first.id);
    expect(replay.lastResponse.headers['idempotent-replayed']).toBe('true');
    const mismatch = await stripeError(() =>
      stripe.refunds.create({ payment_intent: pi.id, amount: 2000 }, { idempotencyKey: key }),
    );
    expect(mismatch).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    expect(sim.ledger().orders['o-key']?.refunds?.count).toBe(1);
  });

  it('a refusal is saved under its key: the retry replays amount_too_large even after a refund failed and gave its amount back', async () => {
    const pi = await paidIntent('o-refusal');
    sim.refunds.rules.add({ status: 'pending' });
    const pending = await stripe.refunds.create({ payment_intent: pi.id, amount: 4000 });
    const over = () =>
      stripe.refunds.create({ payment_intent: pi.id, amount: 2000 }, { idempotencyKey: 'k-over' });
    expect((await stripeError(over)).code).toBe('amount_too_large');
    sim.refunds.settle(pending.id, { status: 'failed' });
    expect((await stripeError(over)).code).toBe('amount_too_large');
    const fresh = await stripe.refunds.create(
      { payment_intent: pi.id, amount: 2000 },
      { idempotencyKey: 'k-over-2' },
    );
    expect(fresh.status).toBe('succeeded');
  });
});

describe('reading and updating refunds', () => {
  it('GET /v1/refunds lists by charge or payment_intent, newest first, with pagination', async () => {
    const a = await paidIntent('o-list-a');
    const b = await paidIntent('o-list-b');
    const r1 = await stripe.refunds.create({ payment_intent: a.id, amount: 100 });
    const r2 = await stripe.refunds.create({ payment_intent: a.id, amount: 200 });
    const r3 = await stripe.refunds.create({ payment_intent: a.id, amount: 300 });
    await stripe.refunds.create({ payment_intent: b.id, amount: 100 });
    const page = await stripe.refunds.list({ payment_intent: a.id, limit: 2 });
    expect(page.data.map((r) => r.id)).toEqual([r3.id, r2.id]);
    expect(page.has_more).toBe(true);
    const next = await stripe.refunds.list({
      payment_intent: a.id,
      limit: 2,
      starting_after: r2.id,
    });
    expect(next.data.map((r) => r.id)).toEqual([r1.id]);
    expect(next.has_more).toBe(false);
    const byCharge = await stripe.refunds.list({ charge: chargeOf(b) });
    expect(byCharge.data).toHaveLength(1);
    // A charge lists its refunds only when asked (API versions since 2022-11-15).
    expect((await stripe.charges.retrieve(chargeOf(a))).refunds).toBeUndefined();
    const expanded = await stripe.charges.retrieve(chargeOf(a), { expand: ['refunds'] });
    expect(expanded.refunds?.data.map((r) => r.id)).toEqual([r3.id, r2.id, r1.id]);
    expect((await stripe.refunds.list()).data).toHaveLength(4);
    const all: string[] = [];
    for await (const refund of stripe.refunds.list({ payment_intent: a.id, limit: 1 }))
      all.push(refund.id);
    expect(all).toEqual([r3.id, r2.id, r1.id]);
  });

  it('GET /v1/refunds/:id retrieves a refund (expand charge), and POST /v1/refunds/:id updates its metadata with refund.updated', async () => {
    const pi = await paidIntent('o-update');
    const refund = await stripe.refunds.create({ payment_intent: pi.id, metadata: { a: '1' } });
    const expanded = await stripe.refunds.retrieve(refund.id, { expand: ['charge'] });
    expect((expanded.charge as Stripe.Charge).amount_refunded).toBe(5000);
    const updated = await stripe.refunds.update(refund.id, { metadata: { a: '', b: '2' } });
    expect(updated.metadata).toEqual({ b: '2' });
    const event = sim.events().at(-1);
    expect(event?.type).toBe('refund.updated');
    expect(event?.data.previous_attributes).toEqual({ metadata: { a: '1' } });
    const cancel = await stripeError(() => stripe.refunds.cancel(refund.id));
    expect(cancel.statusCode).toBe(400);
  });
});

describe('refunds that settle later', () => {
  it('pm_card_refundFail: the refund shows succeeded, then fails with expired_or_canceled_card after the delay and gives its amount back to the charge', async () => {
    const pi = await paidIntent('o-refund-fail', 'pm_card_refundFail');
    const refund = await stripe.refunds.create({
      payment_intent: pi.id,
      metadata: { refund_id: 'r-fail' },
    });
    expect(refund.status).toBe('succeeded');
    sim.advanceTime(DELAY_MS - 1);
    expect((await stripe.refunds.retrieve(refund.id)).status).toBe('succeeded');
    sim.advanceTime(1);
    const failed = await stripe.refunds.retrieve(refund.id);
    expect(failed).toMatchObject({
      status: 'failed',
      failure_reason: 'expired_or_canceled_card',
    });
    expect(failed.failure_balance_transaction).toMatch(/^txn_/);
    const charge = await stripe.charges.retrieve(chargeOf(pi));
    expect(charge).toMatchObject({ amount_refunded: 0, refunded: false });
    expect(types().slice(-3)).toEqual(['refund.updated', 'charge.refund.updated', 'refund.failed']);
    expect(sim.events().at(-1)?.data.object).toMatchObject({ id: refund.id, status: 'failed' });
    expect(sim.ledger().orders['o-refund-fail']?.refunds).toEqual({
      count: 0,
      amountRefunded: 0,
      amountPending: 0,
      failed: 1,
      byRefundId: {},
    });
  });

  it('a bank debit refund is pending (pending_reason processing), counts in amount_refunded, and succeeds after the delay with refund.updated', async () => {
    const pi = await paidIntent('o-ach-refund', 'pm_usBankAccount_success');
    expect(pi.status).toBe('succeeded');
    const refund = await stripe.refunds.create({ payment_intent: pi.id, amount: 1500 });
    expect(refund).toMatchObject({ status: 'pending', pending_reason: 'processing' });
    expect((await stripe.charges.retrieve(chargeOf(pi))).amount_refunded).toBe(1500);
    expect(sim.ledger().orders['o-ach-refund']?.refunds).toMatchObject({
      count: 1,
      amountRefunded: 1500,
      amountPending: 1500,
    });
    sim.advanceTime(DELAY_MS);
    const settled = await stripe.refunds.retrieve(refund.id);
    expect(settled.status).toBe('succeeded');
    expect(settled.pending_reason).toBeUndefined();
    const updated = sim.events().find((e) => e.type === 'refund.updated');
    expect(updated?.data.previous_attributes).toMatchObject({ status: 'pending' });
    expect(sim.ledger().orders['o-ach-refund']?.refunds?.amountPending).toBe(0);
  });

  it('a refund rule makes the next refund of an order pending until POST /_sim/refunds/:id/settle fails it; a failed refund frees its amount', async () => {
    const pi = await paidIntent('o-rule');
    const rule = await fetch(`${sim.url}/_sim/refunds/rules`, {
      method: 'POST',
      body: JSON.stringify({ status: 'pending', order_id: 'o-rule' }),
    });
    expect(rule.status).toBe(200);
    const pending = await stripe.refunds.create({ payment_intent: pi.id, amount: 5000 });
    expect(pending.status).toBe('pending');
    sim.advanceTime(30 * 24 * 3_600_000);
    expect((await stripe.refunds.retrieve(pending.id)).status).toBe('pending');
    expect((await stripeError(() => stripe.refunds.create({ payment_intent: pi.id }))).code).toBe(
      'charge_already_refunded',
    );
    const settle = await fetch(`${sim.url}/_sim/refunds/${pending.id}/settle`, {
      method: 'POST',
      body: JSON.stringify({ status: 'failed', failure_reason: 'lost_or_stolen_card' }),
    });
    expect(settle.status).toBe(200);
    expect(((await settle.json()) as Stripe.Refund).failure_reason).toBe('lost_or_stolen_card');
    expect(types()).toContain('refund.failed');
    // The rule was for one refund; the next one succeeds at once and takes the freed amount.
    expect((await stripe.refunds.create({ payment_intent: pi.id })).amount).toBe(5000);
    const again = await fetch(`${sim.url}/_sim/refunds/${pending.id}/settle`, {
      method: 'POST',
      body: JSON.stringify({ status: 'succeeded' }),
    });
    expect(again.status).toBe(409);
    const unknown = await fetch(`${sim.url}/_sim/refunds/re_nope/settle`, {
      method: 'POST',
      body: JSON.stringify({ status: 'succeeded' }),
    });
    expect(unknown.status).toBe(404);
  });

  it('a rule with then: failed makes refunds pending and fails them after after_ms', async () => {
    const pi = await paidIntent('o-rule-later');
    sim.refunds.rules.add({
      status: 'pending',
      then: 'failed',
      failure_reason: 'declined',
      after_ms: 1000,
      payment_intent: pi.id,
    });
    const refund = await stripe.refunds.create({ payment_intent: pi.id, amount: 700 });
    expect(refund.status).toBe('pending');
    expect(sim.refunds.rules.list()).toHaveLength(0);
    sim.advanceTime(1000);
    expect(await stripe.refunds.retrieve(refund.id)).toMatchObject({
      status: 'failed',
      failure_reason: 'declined',
    });
    expect(() => sim.refunds.rules.add({ status: 'succeeded', then: 'succeeded' })).toThrow();
  });
});

describe('refunds in the request log and under faults', () => {
  it('the request log attributes refund and charge requests to the order and intent', async () => {
    const pi = await paidIntent('o-log');
    const refund = await stripe.refunds.create({ charge: chargeOf(pi), amount: 100 });
    await stripe.refunds.retrieve(refund.id);
    await stripe.refunds.list({ payment_intent: pi.id });
    await stripe.charges.retrieve(chargeOf(pi));
    const logged = sim.requests({ order_id: 'o-log' });
    expect(logged.map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /v1/payment_intents',
      'POST /v1/refunds',
      `GET /v1/refunds/${refund.id}`,
      'GET /v1/refunds',
      `GET /v1/charges/${chargeOf(pi)}`,
    ]);
    expect(new Set(logged.map((r) => r.paymentIntentId))).toEqual(new Set([pi.id]));
  });

  it('error_500_after on POST /v1/refunds makes the refund: the key keeps the 500, and a reconciling list finds the refund by metadata.refund_id', async () => {
    const pi = await paidIntent('o-500');
    sim.faults.add({ kind: FaultKind.error500After, method: 'POST', path: '/v1/refunds' });
    const create = () =>
      stripe.refunds.create(
        { payment_intent: pi.id, amount: 1200, metadata: { refund_id: 'r-500' } },
        { idempotencyKey: 'refund:o-500:r-500/1' },
      );
    const error = await stripeError(create);
    expect(error).toMatchObject({ statusCode: 500, type: 'StripeAPIError' });
    const found = await stripe.refunds.list({ payment_intent: pi.id });
    expect(found.data.filter((r) => r.metadata?.refund_id === 'r-500')).toHaveLength(1);
    expect((await stripeError(create)).statusCode).toBe(500);
    expect(sim.ledger().orders['o-500']?.refunds).toMatchObject({
      count: 1,
      amountRefunded: 1200,
      byRefundId: { 'r-500': 1 },
    });
  });

  it('drop_after on POST /v1/refunds loses the response; the retry with the same key is replayed and there is one refund', async () => {
    const pi = await paidIntent('o-drop');
    // stripe-node retries a reset connection once by itself (same key), so drop both.
    sim.faults.add({ kind: FaultKind.dropAfter, method: 'POST', path: '/v1/refunds', times: 2 });
    const create = () =>
      stripe.refunds.create({ payment_intent: pi.id }, { idempotencyKey: 'refund:o-drop:r/1' });
    expect(await stripeError(create)).toBeInstanceOf(Stripe.errors.StripeConnectionError);
    const retried = await create();
    expect(retried.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect(sim.ledger().orders['o-drop']?.refunds?.count).toBe(1);
    const log = sim.requests({ path: '/v1/refunds', method: 'POST' });
    expect(log.map((r) => [r.executed, r.replayed])).toEqual([
      [true, false],
      [false, true],
      [false, true],
    ]);
  });

  it('429, 409 lock_timeout and drop_before on refund endpoints execute nothing', async () => {
    const pi = await paidIntent('o-retry');
    sim.faults.add({ kind: FaultKind.rateLimit429, path: '/v1/refunds' });
    sim.faults.add({ kind: FaultKind.lockTimeout409, path: '/v1/refunds', nth: 2 });
    const create = () => stripe.refunds.create({ payment_intent: pi.id }, { idempotencyKey: 'k' });
    expect((await stripeError(create)).statusCode).toBe(429);
    expect((await stripeError(create)).code).toBe('lock_timeout');
    const made = await create();
    expect(made.lastResponse.headers['idempotent-replayed']).toBeUndefined();
    sim.faults.add({
      kind: FaultKind.dropBefore,
      method: 'GET',
      path: '/v1/refunds/:id',
      times: 2,
    });
    expect(await stripeError(() => stripe.refunds.retrieve(made.id))).toBeInstanceOf(
      Stripe.errors.StripeConnectionError,
    );
    expect(sim.ledger().orders['o-retry']?.refunds?.count).toBe(1);
  });
});

describe('refund webhooks', () => {
  let receiver: WebhookReceiver;
  beforeEach(async () => {
    receiver = await startWebhookReceiver();
    sim.setWebhookTarget({ url: receiver.url, secrets: [receiver.secret] });
  });
  afterEach(async () => {
    await receiver.close();
  });

  it('refund events are delivered signed, and webhook faults apply to them (refund.created duplicated)', async () => {
    sim.webhookFaults.add({ kind: WebhookFaultKind.duplicate, eventType: 'refund.created' });
    const pi = await paidIntent('o-hook');
    const refund = await stripe.refunds.create({ payment_intent: pi.id });
    await sim.flushWebhooks();
    const seen = receiver.received.map((r) => r.event?.type);
    expect(seen.filter((t) => t === 'refund.created')).toHaveLength(2);
    expect(seen).toContain('charge.refunded');
    const created = receiver.received.find((r) => r.event?.type === 'refund.created')?.event;
    expect((created?.data.object as Stripe.Refund).id).toBe(refund.id);
    const listed = await stripe.events.list({ type: 'refund.*' });
    expect(listed.data.map((e) => e.type)).toEqual(['refund.created']);
  });
});
