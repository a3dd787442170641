// Stripe's idempotency semantics through stripe-node: saved first responses (500s and declines
// included), Idempotent-Replayed, parameter mismatch, key in use, unsaved validation failures,
// 24 h expiry on the simulated clock.
import type Stripe from 'stripe';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FaultKind, IDEMPOTENCY_KEY_TTL_MS, type Simulator } from '../../src/simulator/index.js';
import { startTestSimulator, stripeError } from './sim-fixture.js';

let sim: Simulator;
let stripe: Stripe;

beforeEach(async () => {
  ({ sim, stripe } = await startTestSimulator());
});
afterEach(async () => {
  await sim.close();
});

const order = { amount: 1200, currency: 'usd', metadata: { order_id: 'o-idem' } };

describe('idempotency', () => {
  it('a repeated request with the same key replays the first response with Idempotent-Replayed: true and creates nothing', async () => {
    const first = await stripe.paymentIntents.create(order, {
      idempotencyKey: 'charge:o-idem/create/0',
    });
    const second = await stripe.paymentIntents.create(order, {
      idempotencyKey: 'charge:o-idem/create/0',
    });
    expect(second.id).toBe(first.id);
    expect(first.lastResponse.headers['idempotent-replayed']).toBeUndefined();
    expect(second.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect(second.lastResponse.headers['original-request']).toBe(first.lastResponse.requestId);
    expect(Object.keys(sim.ledger().paymentIntents)).toHaveLength(1);
  });

  it('the same key with different parameters is a 400 idempotency_error', async () => {
    await stripe.paymentIntents.create(order, { idempotencyKey: 'k-mismatch' });
    const error = await stripeError(() =>
      stripe.paymentIntents.create({ ...order, amount: 1300 }, { idempotencyKey: 'k-mismatch' }),
    );
    expect(error.statusCode).toBe(400);
    expect(error.type).toBe('StripeIdempotencyError');
    expect(error.rawType).toBe('idempotency_error');
  });

  it('a decline is saved under its key: replaying the confirm returns the same 402 without a second attempt', async () => {
    const pi = await stripe.paymentIntents.create(order);
    const confirm = () =>
      stripe.paymentIntents.confirm(
        pi.id,
        { payment_method: 'pm_card_chargeDeclinedInsufficientFunds', off_session: true },
        { idempotencyKey: 'k-decline' },
      );
    const first = await stripeError(confirm);
    const replay = await stripeError(confirm);
    expect(replay.statusCode).toBe(402);
    expect(replay.decline_code).toBe('insufficient_funds');
    expect(replay.headers?.['idempotent-replayed']).toBe('true');
    expect(replay.requestId).not.toBe(first.requestId);
    expect(sim.ledger().paymentIntents[pi.id]?.confirmations).toBe(1);
  });

  it('a 500 is saved under its key like Stripe does, and a replay returns the same 500', async () => {
    sim.faults.add({ kind: FaultKind.error500Before, method: 'POST', path: '/v1/customers' });
    const first = await stripeError(() =>
      stripe.customers.create({ email: 'a@example.com' }, { idempotencyKey: 'k-500' }),
    );
    const replay = await stripeError(() =>
      stripe.customers.create({ email: 'a@example.com' }, { idempotencyKey: 'k-500' }),
    );
    expect(first.statusCode).toBe(500);
    expect(replay.statusCode).toBe(500);
    expect(replay.headers?.['idempotent-replayed']).toBe('true');
    expect(sim.events().filter((e) => e.type === 'customer.created')).toHaveLength(0);
  });

  it('a request that fails validation is not saved: the key can then be used for a valid request', async () => {
    const invalid = await stripeError(() =>
      stripe.paymentIntents.create(
        { amount: 'lots' as unknown as number, currency: 'usd' },
        { idempotencyKey: 'k-validation' },
      ),
    );
    expect(invalid.statusCode).toBe(400);
    expect(invalid.code).toBe('parameter_invalid_integer');
    const valid = await stripe.paymentIntents.create(order, { idempotencyKey: 'k-validation' });
    expect(valid.status).toBe('requires_payment_method');
    expect(valid.lastResponse.headers['idempotent-replayed']).toBeUndefined();
  });

  it('a second request while the first with the same key is still executing gets 409 idempotency_key_in_use', async () => {
    sim.faults.add({
      kind: FaultKind.latency,
      method: 'POST',
      path: '/v1/customers',
      latencyMs: 300,
    });
    const results = await Promise.allSettled([
      stripe.customers.create({ email: 'c@example.com' }, { idempotencyKey: 'k-concurrent' }),
      stripe.customers.create({ email: 'c@example.com' }, { idempotencyKey: 'k-concurrent' }),
    ]);
    const rejected = results.filter((r) => r.status === 'rejected');
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(rejected).toHaveLength(1);
    const reason: unknown = rejected[0]?.reason;
    expect(reason).toMatchObject({ statusCode: 409, code: 'idempotency_key_in_use' });
    expect(sim.events().filter((e) => e.type === 'customer.created')).toHaveLength(1);
  });

  it('keys expire after 24 h of simulated time: the same key then executes again', async () => {
    const first = await stripe.customers.create(
      { email: 'e@example.com' },
      { idempotencyKey: 'k-expiry' },
    );
    sim.advanceTime(IDEMPOTENCY_KEY_TTL_MS - 1);
    const replay = await stripe.customers.create(
      { email: 'e@example.com' },
      { idempotencyKey: 'k-expiry' },
    );
    expect(replay.id).toBe(first.id);
    sim.advanceTime(1);
    const fresh = await stripe.customers.create(
      { email: 'e@example.com' },
      { idempotencyKey: 'k-expiry' },
    );
    expect(fresh.id).not.toBe(first.id);
    expect(fresh.lastResponse.headers['idempotent-replayed']).toBeUndefined();
  });

  it('keys are scoped per account: the same key under another Stripe-Account executes separately', async () => {
    const a = await stripe.customers.create(
      {},
      { idempotencyKey: 'k-scope', stripeAccount: 'acct_a' },
    );
    const b = await stripe.customers.create(
      {},
      { idempotencyKey: 'k-scope', stripeAccount: 'acct_b' },
    );
    expect(b.id).not.toBe(a.id);
  });

  it('a key longer than 255 characters is rejected', async () => {
    const error = await stripeError(() =>
      stripe.customers.create({}, { idempotencyKey: 'k'.repeat(256) }),
    );
    expect(error.statusCode).toBe(400);
  });
});
