// Disputes through stripe-node against the simulator: opened by Stripe's createDispute cards or
// the /_sim/disputes control, evidence saved and submitted, Stripe's test evidence deciding, the
// bank closing them, the due date passing on the simulated clock, inquiries, refunds of disputed
// charges, lists and events, the ledger, the request log and the API faults on their endpoints.
import Stripe from 'stripe';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_EVIDENCE_DUE_DAYS,
  FaultKind,
  SimControlError,
  type Simulator,
} from '../../src/simulator/index.js';
import { T0, startTestSimulator, stripeError } from './sim-fixture.js';

const DELAY_MS = 60_000;
const DAY_S = 86_400;

let sim: Simulator;
let stripe: Stripe;

beforeEach(async () => {
  ({ sim, stripe } = await startTestSimulator({ processingDelayMs: DELAY_MS }));
});
afterEach(async () => {
  await sim.close();
});

async function paidIntent(
  orderId: string,
  paymentMethod = 'pm_card_visa',
): Promise<Stripe.PaymentIntent> {
  return stripe.paymentIntents.create({
    amount: 8000,
    currency: 'usd',
    metadata: { order_id: orderId },
    payment_method: paymentMethod,
    confirm: true,
    off_session: true,
  });
}

function chargeOf(pi: Stripe.PaymentIntent): string {
  return typeof pi.latest_charge === 'string' ? pi.latest_charge : (pi.latest_charge?.id ?? '');
}

/** The end (23:59:59 UTC) of the day `days` after T0, in unix seconds. */
const endOfDay = (days: number): number => T0 / 1000 + days * DAY_S + DAY_S - 1;

const types = (): string[] => sim.events().map((e) => e.type);

/** The dispute the last `charge.dispute.created` event carried. */
function lastOpened(): Stripe.Dispute {
  const event = sim
    .events()
    .filter((e) => e.type === 'charge.dispute.created')
    .at(-1);
  if (!event) throw new Error('no charge.dispute.created event');
  return event.data.object as unknown as Stripe.Dispute;
}

describe('a dispute opens', () => {
  it('pm_card_createDispute: the charge succeeds, then a fraudulent chargeback opens with funds withdrawn and evidence due in 7 days (end of day, simulated clock)', async () => {
    const pi = await paidIntent('o-card', 'pm_card_createDispute');
    expect(pi.status).toBe('succeeded');
    expect(types()).toEqual(
      expect.arrayContaining([
        'payment_intent.succeeded',
        'charge.dispute.created',
        'charge.dispute.funds_withdrawn',
      ]),
    );
    const dispute = await stripe.disputes.retrieve(lastOpened().id);
    expect(dispute).toMatchObject({
      object: 'dispute',
      amount: 8000,
      currency: 'usd',
      charge: chargeOf(pi),
      payment_intent: pi.id,
      reason: 'fraudulent',
      status: 'needs_response',
      is_charge_refundable: false,
      livemode: false,
      metadata: {},
      evidence_details: {
        due_by: endOfDay(DEFAULT_EVIDENCE_DUE_DAYS),
        has_evidence: false,
        past_due: false,
        submission_count: 0,
      },
      evidence: { uncategorized_text: null, customer_email_address: null },
      payment_method_details: {
        type: 'card',
        card: { brand: 'visa', case_type: 'chargeback', network_reason_code: '10.4' },
      },
    });
    expect(dispute.id).toMatch(/^du_/);
    expect(dispute.balance_transactions).toEqual([
      expect.objectContaining({ object: 'balance_transaction', amount: -8000 }),
    ]);
    expect((await stripe.charges.retrieve(chargeOf(pi))).disputed).toBe(true);
    expect(sim.ledger().orders['o-card']?.disputes).toEqual({
      count: 1,
      open: 1,
      won: 0,
      lost: 0,
      warningClosed: 0,
      amountLost: 0,
    });
  });

  it('a charged-back charge cannot be refunded (400 charge_disputed)', async () => {
    const pi = await paidIntent('o-no-refund', 'pm_card_createDispute');
    const error = await stripeError(() => stripe.refunds.create({ payment_intent: pi.id }));
    expect(error).toMatchObject({
      statusCode: 400,
      code: 'charge_disputed',
      message: `Charge ${chargeOf(pi)} has been charged back; cannot issue a refund.`,
    });
  });

  it('POST /_sim/disputes opens a dispute on a charge or an intent with a chosen reason and due date; a second open dispute on the charge is 409, an unknown charge 404', async () => {
    const pi = await paidIntent('o-control');
    const opened = await fetch(`${sim.url}/_sim/disputes`, {
      method: 'POST',
      body: JSON.stringify({
        charge: chargeOf(pi),
        reason: 'product_not_received',
        evidence_due_in_days: 3,
      }),
    });
    expect(opened.status).toBe(200);
    const dispute = (await opened.json()) as Stripe.Dispute;
    expect(dispute).toMatchObject({
      status: 'needs_response',
      reason: 'product_not_received',
      evidence_details: { due_by: endOfDay(3) },
    });
    expect(lastOpened().id).toBe(dispute.id);
    const twice = await fetch(`${sim.url}/_sim/disputes`, {
      method: 'POST',
      body: JSON.stringify({ payment_intent: pi.id }),
    });
    expect(twice.status).toBe(409);
    const unknown = await fetch(`${sim.url}/_sim/disputes`, {
      method: 'POST',
      body: JSON.stringify({ charge: 'ch_nope' }),
    });
    expect(unknown.status).toBe(404);
    const both = await fetch(`${sim.url}/_sim/disputes`, {
      method: 'POST',
      body: JSON.stringify({ charge: chargeOf(pi), payment_intent: pi.id }),
    });
    expect(both.status).toBe(400);
    const open = await stripe.paymentIntents.create({ amount: 900, currency: 'usd' });
    expect(() => sim.disputes.open({ payment_intent: open.id })).toThrow(SimControlError);
  });

  it('sim.disputes.open takes an exact due_by and an amount', async () => {
    const pi = await paidIntent('o-exact');
    const dueBy = T0 / 1000 + 36 * 3600;
    const dispute = sim.disputes.open({
      payment_intent: pi.id,
      amount: 5000,
      evidence_due_by: dueBy,
    });
    expect(dispute).toMatchObject({ amount: 5000, evidence_details: { due_by: dueBy } });
  });
});

describe('evidence and outcomes', () => {
  it('evidence is saved with charge.dispute.updated, submit=true puts it under review, and the bank closing it won reinstates the funds', async () => {
    const pi = await paidIntent('o-evidence');
    const { id } = sim.disputes.open({ payment_intent: pi.id });
    const saved = await stripe.disputes.update(id, {
      evidence: { customer_email_address: 'jenny@example.com', product_description: 'A lamp' },
      metadata: { order_id: 'o-evidence' },
    });
    expect(saved).toMatchObject({
      status: 'needs_response',
      evidence: { customer_email_address: 'jenny@example.com', product_description: 'A lamp' },
      evidence_details: { has_evidence: true, submission_count: 0 },
      metadata: { order_id: 'o-evidence' },
    });
    expect(sim.events().at(-1)?.type).toBe('charge.dispute.updated');

    const submit = () =>
      stripe.disputes.update(
        id,
        { evidence: { uncategorized_text: 'Delivered, signed for.' }, submit: true },
        { idempotencyKey: `dispute:${id}/evidence/1` },
      );
    const submitted = await submit();
    expect(submitted).toMatchObject({
      status: 'under_review',
      evidence_details: { submission_count: 1, submission_method: 'manual' },
    });
    const replay = await submit();
    expect(replay.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect(replay.evidence_details.submission_count).toBe(1);
    const late = await stripeError(() =>
      stripe.disputes.update(id, { evidence: { customer_name: 'Jenny' } }),
    );
    expect(late.statusCode).toBe(400);
    // Metadata can still change under review.
    expect((await stripe.disputes.update(id, { metadata: { note: 'x' } })).metadata).toMatchObject({
      note: 'x',
    });

    const closed = await fetch(`${sim.url}/_sim/disputes/${id}/close`, {
      method: 'POST',
      body: JSON.stringify({ status: 'won' }),
    });
    expect(closed.status).toBe(200);
    expect(types().slice(-2)).toEqual(['charge.dispute.funds_reinstated', 'charge.dispute.closed']);
    const won = await stripe.disputes.retrieve(id);
    expect(won.status).toBe('won');
    expect(won.balance_transactions.map((t) => t.amount)).toEqual([-8000, 8000]);
    expect(sim.ledger().orders['o-evidence']?.disputes).toMatchObject({ open: 0, won: 1 });
    const again = await fetch(`${sim.url}/_sim/disputes/${id}/close`, {
      method: 'POST',
      body: JSON.stringify({ status: 'lost' }),
    });
    expect(again.status).toBe(409);
    // Once won, the charge can be refunded again.
    expect((await stripe.refunds.create({ payment_intent: pi.id, amount: 100 })).status).toBe(
      'succeeded',
    );
  });

  it("Stripe's test evidence decides a submitted dispute after the delay: winning_evidence → won, losing_evidence → lost", async () => {
    const a = await paidIntent('o-win');
    const b = await paidIntent('o-lose');
    const win = sim.disputes.open({ payment_intent: a.id });
    const lose = sim.disputes.open({ payment_intent: b.id });
    await stripe.disputes.update(win.id, {
      evidence: { uncategorized_text: 'winning_evidence' },
      submit: true,
    });
    await stripe.disputes.update(lose.id, {
      evidence: { uncategorized_text: 'losing_evidence' },
      submit: true,
    });
    expect((await stripe.disputes.retrieve(win.id)).status).toBe('under_review');
    sim.advanceTime(DELAY_MS);
    expect((await stripe.disputes.retrieve(win.id)).status).toBe('won');
    expect((await stripe.disputes.retrieve(lose.id)).status).toBe('lost');
    expect(sim.ledger().orders['o-lose']?.disputes).toMatchObject({ lost: 1, amountLost: 8000 });
  });

  it('POST /v1/disputes/:id/close accepts the dispute: lost, with charge.dispute.closed; closing again is a 400', async () => {
    const pi = await paidIntent('o-accept');
    const { id } = sim.disputes.open({ payment_intent: pi.id });
    const closed = await stripe.disputes.close(id);
    expect(closed.status).toBe('lost');
    const event = sim.events().at(-1);
    expect(event?.type).toBe('charge.dispute.closed');
    expect(event?.data.previous_attributes).toEqual({ status: 'needs_response' });
    expect((await stripeError(() => stripe.disputes.close(id))).statusCode).toBe(400);
    expect((await stripeError(() => stripe.disputes.update(id, { submit: true }))).statusCode).toBe(
      400,
    );
  });

  it('when due_by passes with no evidence the dispute is lost; with saved evidence it is submitted', async () => {
    const a = await paidIntent('o-silent');
    const b = await paidIntent('o-saved');
    const silent = sim.disputes.open({ payment_intent: a.id, evidence_due_in_days: 2 });
    const saved = sim.disputes.open({ payment_intent: b.id, evidence_due_in_days: 2 });
    await stripe.disputes.update(saved.id, {
      evidence: { uncategorized_text: 'Receipt attached' },
    });
    sim.advanceTime(2 * DAY_S * 1000);
    expect((await stripe.disputes.retrieve(silent.id)).status).toBe('needs_response');
    sim.advanceTime(DAY_S * 1000);
    expect((await stripe.disputes.retrieve(silent.id)).status).toBe('lost');
    expect(await stripe.disputes.retrieve(saved.id)).toMatchObject({
      status: 'under_review',
      evidence_details: { submission_count: 1 },
    });
  });

  it('pm_card_createDisputeInquiry: an inquiry (warning_needs_response) keeps the funds, leaves the charge refundable and closes as warning_closed', async () => {
    const pi = await paidIntent('o-inquiry', 'pm_card_createDisputeInquiry');
    const inquiry = lastOpened();
    expect(inquiry).toMatchObject({
      status: 'warning_needs_response',
      is_charge_refundable: true,
      balance_transactions: [],
    });
    expect(types()).not.toContain('charge.dispute.funds_withdrawn');
    expect((await stripe.refunds.create({ payment_intent: pi.id, amount: 100 })).status).toBe(
      'succeeded',
    );
    const submitted = await stripe.disputes.update(inquiry.id, {
      evidence: { uncategorized_text: 'Customer recognised the charge.' },
      submit: true,
    });
    expect(submitted.status).toBe('warning_under_review');
    expect(() => sim.disputes.close(inquiry.id, 'won')).toThrow(SimControlError);
    expect(sim.disputes.close(inquiry.id, 'warning_closed').status).toBe('warning_closed');
    expect(sim.ledger().orders['o-inquiry']?.disputes).toMatchObject({ warningClosed: 1 });
  });
});

describe('listing, events and faults', () => {
  it('GET /v1/disputes lists by charge and payment_intent, and GET /v1/events returns the charge.dispute.* events', async () => {
    const a = await paidIntent('o-list-a', 'pm_card_createDispute');
    const b = await paidIntent('o-list-b', 'pm_card_createDisputeProductNotReceived');
    const all = await stripe.disputes.list();
    expect(all.data).toHaveLength(2);
    expect(all.data[0]?.payment_intent).toBe(b.id);
    expect(all.data[0]?.reason).toBe('product_not_received');
    expect((await stripe.disputes.list({ payment_intent: a.id })).data).toHaveLength(1);
    expect((await stripe.disputes.list({ charge: chargeOf(b) })).data).toHaveLength(1);
    const page = await stripe.disputes.list({ limit: 1 });
    expect(page.has_more).toBe(true);
    const events = await stripe.events.list({ type: 'charge.dispute.created' });
    expect(events.data.map((e) => (e.data.object as Stripe.Dispute).payment_intent)).toEqual([
      b.id,
      a.id,
    ]);
    expect((await stripeError(() => stripe.disputes.retrieve('du_nope'))).statusCode).toBe(404);
  });

  it('error_500_after on an evidence submission submits it (a reconciling read shows it); drop_after on close is replayed by the retried key', async () => {
    const a = await paidIntent('o-fault-a');
    const b = await paidIntent('o-fault-b');
    const first = sim.disputes.open({ payment_intent: a.id });
    sim.faults.add({ kind: FaultKind.error500After, method: 'POST', path: '/v1/disputes/:id' });
    const error = await stripeError(() =>
      stripe.disputes.update(
        first.id,
        { evidence: { uncategorized_text: 'proof' }, submit: true },
        { idempotencyKey: 'k-submit' },
      ),
    );
    expect(error.statusCode).toBe(500);
    expect((await stripe.disputes.retrieve(first.id)).evidence_details.submission_count).toBe(1);

    const second = sim.disputes.open({ payment_intent: b.id });
    sim.faults.add({
      kind: FaultKind.dropAfter,
      method: 'POST',
      path: '/v1/disputes/:id/close',
      times: 2,
    });
    const close = () => stripe.disputes.close(second.id, {}, { idempotencyKey: 'k-close' });
    expect(await stripeError(close)).toBeInstanceOf(Stripe.errors.StripeConnectionError);
    const replayed = await close();
    expect(replayed.status).toBe('lost');
    expect(replayed.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect(sim.events().filter((e) => e.type === 'charge.dispute.closed')).toHaveLength(1);
  });

  it('the request log attributes dispute requests to the order of the disputed intent', async () => {
    const pi = await paidIntent('o-dispute-log');
    const { id } = sim.disputes.open({ payment_intent: pi.id });
    await stripe.disputes.retrieve(id);
    await stripe.disputes.update(id, { evidence: { customer_name: 'Jenny' } });
    await stripe.disputes.close(id);
    const logged = sim.requests({ order_id: 'o-dispute-log' }).map((r) => `${r.method} ${r.path}`);
    expect(logged).toEqual([
      'POST /v1/payment_intents',
      `GET /v1/disputes/${id}`,
      `POST /v1/disputes/${id}`,
      `POST /v1/disputes/${id}/close`,
    ]);
  });
});
