// API fault injection through stripe-node: the lost-response demo, drops before execution,
// 500s before/after the side effect, 409/429 with Stripe-Should-Retry, rule scheduling.
import Stripe from 'stripe';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FaultKind, startSimulator, type Simulator } from '../../src/simulator/index.js';
import { T0, startTestSimulator, stripeClient, stripeError } from './sim-fixture.js';

let sim: Simulator;
let stripe: Stripe;

beforeEach(async () => {
  ({ sim, stripe } = await startTestSimulator());
});
afterEach(async () => {
  await sim.close();
});

const params = { amount: 5000, currency: 'usd', metadata: { order_id: 'o-lost' } };

describe('API faults', () => {
  it('lost response: create with key K executes, the response is dropped, the retry with K replays the same intent, and the ledger shows one intent', async () => {
    // stripe-node retries a reset connection once by itself (same key), so drop both.
    sim.faults.add({
      kind: FaultKind.dropAfter,
      method: 'POST',
      path: '/v1/payment_intents',
      times: 2,
    });
    const lost = await stripeError(() =>
      stripe.paymentIntents.create(params, { idempotencyKey: 'K' }),
    );
    expect(lost).toBeInstanceOf(Stripe.errors.StripeConnectionError);
    const created = sim.events().filter((e) => e.type === 'payment_intent.created');
    expect(created).toHaveLength(1);

    const retried = await stripe.paymentIntents.create(params, { idempotencyKey: 'K' });
    expect(retried.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect(retried.id).toBe(created[0]?.data.object.id);
    expect(sim.ledger().orders['o-lost']?.paymentIntents).toEqual([retried.id]);
    expect(Object.keys(sim.ledger().paymentIntents)).toHaveLength(1);
  });

  it('a lost confirm response retried with the same key charges once', async () => {
    const pi = await stripe.paymentIntents.create(params);
    sim.faults.add({
      kind: FaultKind.dropAfter,
      method: 'POST',
      path: '/v1/payment_intents/:id/confirm',
      times: 2,
    });
    const confirm = () =>
      stripe.paymentIntents.confirm(
        pi.id,
        { payment_method: 'pm_card_visa', off_session: true },
        { idempotencyKey: `charge:o-lost/confirm/1` },
      );
    await stripeError(confirm);
    const replay = await confirm();
    expect(replay.status).toBe('succeeded');
    expect(sim.ledger().orders['o-lost']).toMatchObject({
      successfulCharges: 1,
      amountCaptured: 5000,
    });
    expect(sim.ledger().paymentIntents[pi.id]?.confirmations).toBe(1);
  });

  it('drop_before destroys the connection before anything executes', async () => {
    sim.faults.add({ kind: FaultKind.dropBefore, method: 'POST', path: '/v1/customers', times: 2 });
    const error = await stripeError(() => stripe.customers.create({}));
    expect(error).toBeInstanceOf(Stripe.errors.StripeConnectionError);
    expect(sim.events()).toHaveLength(0);
  });

  it('error_500_after executes the side effect, answers 500 and keeps that 500 under the key', async () => {
    const pi = await stripe.paymentIntents.create(params);
    sim.faults.add({
      kind: FaultKind.error500After,
      method: 'POST',
      path: '/v1/payment_intents/:id/confirm',
    });
    const confirm = () =>
      stripe.paymentIntents.confirm(
        pi.id,
        { payment_method: 'pm_card_visa', off_session: true },
        { idempotencyKey: 'k-500-after' },
      );
    const error = await stripeError(confirm);
    expect(error.statusCode).toBe(500);
    expect(error.type).toBe('StripeAPIError');
    // Reconciling by reading the intent shows the money moved; the key still says 500.
    expect((await stripe.paymentIntents.retrieve(pi.id)).status).toBe('succeeded');
    expect((await stripeError(confirm)).statusCode).toBe(500);
    expect(sim.ledger().paymentIntents[pi.id]?.successfulCharges).toBe(1);
  });

  it('rate_limit_429 answers 429 with Stripe-Should-Retry: true and executes nothing', async () => {
    sim.faults.add({ kind: FaultKind.rateLimit429, path: '/v1/customers' });
    const error = await stripeError(() => stripe.customers.create({}, { idempotencyKey: 'k-429' }));
    expect(error).toBeInstanceOf(Stripe.errors.StripeRateLimitError);
    expect(error.headers?.['stripe-should-retry']).toBe('true');
    const retry = await stripe.customers.create({}, { idempotencyKey: 'k-429' });
    expect(retry.lastResponse.headers['idempotent-replayed']).toBeUndefined();
  });

  it('lock_timeout_409 answers 409 lock_timeout with Stripe-Should-Retry: true and saves nothing', async () => {
    const pi = await stripe.paymentIntents.create(params);
    sim.faults.add({
      kind: FaultKind.lockTimeout409,
      method: 'POST',
      path: '/v1/payment_intents/:id/confirm',
    });
    const confirm = () =>
      stripe.paymentIntents.confirm(
        pi.id,
        { payment_method: 'pm_card_visa', off_session: true },
        { idempotencyKey: 'k-409' },
      );
    const error = await stripeError(confirm);
    expect(error.statusCode).toBe(409);
    expect(error.code).toBe('lock_timeout');
    expect(error.headers?.['stripe-should-retry']).toBe('true');
    expect((await confirm()).status).toBe('succeeded');
  });

  it('idempotency_key_in_use answers 409 idempotency_key_in_use', async () => {
    sim.faults.add({ kind: FaultKind.idempotencyKeyInUse, path: '/v1/customers' });
    const error = await stripeError(() =>
      stripe.customers.create({}, { idempotencyKey: 'k-in-use' }),
    );
    expect(error).toMatchObject({ statusCode: 409, code: 'idempotency_key_in_use' });
  });

  it('a rule with nth applies to exactly the Nth matching request', async () => {
    sim.faults.add({
      kind: FaultKind.error500Before,
      path: '/v1/customers/:id',
      method: 'GET',
      nth: 2,
    });
    const customer = await stripe.customers.create({});
    expect((await stripe.customers.retrieve(customer.id)).id).toBe(customer.id);
    expect((await stripeError(() => stripe.customers.retrieve(customer.id))).statusCode).toBe(500);
    expect((await stripe.customers.retrieve(customer.id)).id).toBe(customer.id);
    expect(sim.faults.list()).toHaveLength(0);
  });

  it('a rule with times applies to the next N matching requests and is then gone', async () => {
    sim.faults.add({ kind: FaultKind.rateLimit429, path: '/v1/customers', times: 2 });
    expect((await stripeError(() => stripe.customers.create({}))).statusCode).toBe(429);
    expect((await stripeError(() => stripe.customers.create({}))).statusCode).toBe(429);
    expect((await stripe.customers.create({})).object).toBe('customer');
  });

  it('probabilistic faults are reproducible for a given seed', async () => {
    const outcomes = async (): Promise<boolean[]> => {
      const other = await startSimulator({ now: () => T0, seed: 42 });
      try {
        other.faults.add({ kind: FaultKind.rateLimit429, path: '/v1/customers', probability: 0.5 });
        const client = stripeClient(other);
        const results: boolean[] = [];
        for (let i = 0; i < 12; i++)
          results.push(
            await client.customers.create({}).then(
              () => true,
              () => false,
            ),
          );
        return results;
      } finally {
        await other.close();
      }
    };
    const first = await outcomes();
    expect(await outcomes()).toEqual(first);
    expect(first).toContain(true);
    expect(first).toContain(false);
  });

  it('faults can be managed over HTTP under /_sim/', async () => {
    const added = await fetch(`${sim.url}/_sim/faults`, {
      method: 'POST',
      body: JSON.stringify({ kind: 'rate_limit_429', path: '/v1/customers' }),
    });
    expect(added.status).toBe(200);
    expect(
      ((await (await fetch(`${sim.url}/_sim/faults`)).json()) as { data: unknown[] }).data,
    ).toHaveLength(1);
    expect(
      (
        await fetch(`${sim.url}/_sim/faults`, {
          method: 'POST',
          body: JSON.stringify({ kind: 'nonsense', path: '/v1' }),
        })
      ).status,
    ).toBe(400);
    await fetch(`${sim.url}/_sim/faults`, { method: 'DELETE' });
    expect((await stripe.customers.create({})).object).toBe('customer');
  });
});
