// Stripe v1 over HTTP through stripe-node: auth, form encoding and Stripe's error shape,
// customers, payment methods, list / search, and the /_sim/ control endpoints.
import Stripe from 'stripe';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_SEARCH_LAG_MS,
  startSimulator,
  type Ledger,
  type Simulator,
} from '../../src/simulator/index.js';
import { T0, startTestSimulator, stripeError } from './sim-fixture.js';

let sim: Simulator;
let stripe: Stripe;

beforeEach(async () => {
  ({ sim, stripe } = await startTestSimulator());
});
afterEach(async () => {
  await sim.close();
});

describe('HTTP surface', () => {
  it('requires a Bearer sk_ key: none or another kind of key is a 401', async () => {
    const anonymous = await fetch(`${sim.url}/v1/customers`);
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as { error: { type: string } }).error.type).toBe(
      'invalid_request_error',
    );
    const wrong = new Stripe('pk_test_nope', {
      host: '127.0.0.1',
      port: sim.port,
      protocol: 'http',
      maxNetworkRetries: 0,
    });
    expect(await stripeError(() => wrong.customers.create({}))).toBeInstanceOf(
      Stripe.errors.StripeAuthenticationError,
    );
  });

  it('every response carries a Request-Id', async () => {
    const customer = await stripe.customers.create({});
    expect(customer.lastResponse.requestId).toMatch(/^req_/);
  });

  it('an unknown parameter is a 400 parameter_unknown naming the nested param', async () => {
    const error = await stripeError(() =>
      stripe.customers.create({ invoice_settings: { nope: 'x' } } as Stripe.CustomerCreateParams),
    );
    expect(error).toMatchObject({
      statusCode: 400,
      code: 'parameter_unknown',
      param: 'invoice_settings[nope]',
    });
    expect(error.rawType).toBe('invalid_request_error');
  });

  it('a missing required parameter is a 400 parameter_missing', async () => {
    const error = await stripeError(() =>
      stripe.paymentIntents.create({ currency: 'usd' } as Stripe.PaymentIntentCreateParams),
    );
    expect(error).toMatchObject({ statusCode: 400, code: 'parameter_missing', param: 'amount' });
  });

  it('an unknown id is a 404 resource_missing', async () => {
    const error = await stripeError(() => stripe.paymentIntents.retrieve('pi_missing'));
    expect(error).toMatchObject({ statusCode: 404, code: 'resource_missing' });
  });

  it('an unknown URL is a 404 invalid_request_error', async () => {
    const response = await fetch(`${sim.url}/v1/nothing_here`, {
      headers: { Authorization: 'Bearer sk_test_sim' },
    });
    expect(response.status).toBe(404);
  });
});

describe('customers and payment methods', () => {
  it('creates and retrieves a customer with nested metadata', async () => {
    const created = await stripe.customers.create({
      email: 'jenny@example.com',
      name: 'Jenny Rosen',
      metadata: { account_id: 'a-1' },
    });
    expect(created.id).toMatch(/^cus_/);
    const retrieved = await stripe.customers.retrieve(created.id);
    expect(retrieved).toMatchObject({
      object: 'customer',
      email: 'jenny@example.com',
      metadata: { account_id: 'a-1' },
    });
  });

  it('attaching a test payment method clones it into a new pm_ attached to the customer and emits payment_method.attached', async () => {
    const customer = await stripe.customers.create({});
    const pm = await stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
    expect(pm.id).toMatch(/^pm_/);
    expect(pm.id).not.toBe('pm_card_visa');
    expect(pm).toMatchObject({
      customer: customer.id,
      type: 'card',
      card: { brand: 'visa', last4: '4242' },
    });
    expect(sim.events().at(-1)).toMatchObject({
      type: 'payment_method.attached',
      data: { object: { id: pm.id } },
    });
    const listed = await stripe.paymentMethods.list({ customer: customer.id, type: 'card' });
    expect(listed.data.map((p) => p.id)).toEqual([pm.id]);
  });

  it('updating invoice_settings[default_payment_method] sets the default and emits customer.updated with previous_attributes', async () => {
    const customer = await stripe.customers.create({});
    const pm = await stripe.paymentMethods.attach('pm_card_mastercard', { customer: customer.id });
    const updated = await stripe.customers.update(customer.id, {
      invoice_settings: { default_payment_method: pm.id },
    });
    expect(updated.invoice_settings.default_payment_method).toBe(pm.id);
    expect(sim.events().at(-1)).toMatchObject({
      type: 'customer.updated',
      data: { previous_attributes: { invoice_settings: { default_payment_method: null } } },
    });
  });

  it('expand[] replaces ids with objects', async () => {
    const customer = await stripe.customers.create({});
    const pi = await stripe.paymentIntents.create({
      amount: 1000,
      currency: 'usd',
      customer: customer.id,
      payment_method: 'pm_card_visa',
      confirm: true,
      off_session: true,
    });
    const expanded = await stripe.paymentIntents.retrieve(pi.id, {
      expand: ['customer', 'latest_charge', 'payment_method'],
    });
    expect(expanded.customer).toMatchObject({ id: customer.id, object: 'customer' });
    expect(expanded.latest_charge).toMatchObject({
      object: 'charge',
      status: 'succeeded',
      amount_captured: 1000,
    });
    expect(expanded.payment_method).toMatchObject({ object: 'payment_method' });
  });
});

describe('listing and searching payment intents', () => {
  it("lists a customer's intents newest first and pages with starting_after", async () => {
    const customer = await stripe.customers.create({});
    const other = await stripe.customers.create({});
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push(
        (
          await stripe.paymentIntents.create({
            amount: 1000 + i,
            currency: 'usd',
            customer: customer.id,
          })
        ).id,
      );
      sim.advanceTime(1000);
    }
    await stripe.paymentIntents.create({ amount: 999, currency: 'usd', customer: other.id });
    const first = await stripe.paymentIntents.list({ customer: customer.id, limit: 2 });
    expect(first.data.map((p) => p.id)).toEqual([ids[2], ids[1]]);
    expect(first.has_more).toBe(true);
    const second = await stripe.paymentIntents.list({
      customer: customer.id,
      limit: 2,
      starting_after: ids[1],
    });
    expect(second.data.map((p) => p.id)).toEqual([ids[0]]);
    expect(second.has_more).toBe(false);
  });

  it("searches by metadata (query=metadata['order_id']:'o1') and combines clauses with AND", async () => {
    const a = await stripe.paymentIntents.create({
      amount: 1000,
      currency: 'usd',
      metadata: { order_id: 'o1' },
    });
    await stripe.paymentIntents.create({
      amount: 1000,
      currency: 'usd',
      metadata: { order_id: 'o2' },
    });
    sim.advanceTime(DEFAULT_SEARCH_LAG_MS); // search lags behind a create (search.test.ts)
    const found = await stripe.paymentIntents.search({ query: "metadata['order_id']:'o1'" });
    expect(found.object).toBe('search_result');
    expect(found.data.map((p) => p.id)).toEqual([a.id]);
    const none = await stripe.paymentIntents.search({
      query: "metadata['order_id']:'o1' AND status:'succeeded'",
    });
    expect(none.data).toHaveLength(0);
    const bad = await stripeError(() => stripe.paymentIntents.search({ query: 'nonsense' }));
    expect(bad.statusCode).toBe(400);
  });
});

describe('/_sim/ control endpoints', () => {
  it('GET /_sim/ledger reports money moved per intent and per metadata.order_id', async () => {
    const pi = await stripe.paymentIntents.create({
      amount: 4200,
      currency: 'usd',
      metadata: { order_id: 'o-ledger' },
      payment_method: 'pm_card_visa',
      confirm: true,
      off_session: true,
    });
    const ledger = (await (await fetch(`${sim.url}/_sim/ledger`)).json()) as Ledger;
    expect(ledger.orders['o-ledger']).toEqual({
      paymentIntents: [pi.id],
      successfulCharges: 1,
      amountCaptured: 4200,
    });
    expect(ledger.paymentIntents[pi.id]).toMatchObject({
      orderId: 'o-ledger',
      status: 'succeeded',
      amount: 4200,
      currency: 'usd',
      confirmations: 1,
    });
  });

  it('POST /_sim/clock/advance moves the simulated clock and GET /_sim/events lists what was emitted', async () => {
    const advanced = (await (
      await fetch(`${sim.url}/_sim/clock/advance`, {
        method: 'POST',
        body: JSON.stringify({ ms: 5000 }),
      })
    ).json()) as { now: number };
    expect(advanced.now).toBe(T0 + 5000);
    await stripe.customers.create({});
    const events = (await (await fetch(`${sim.url}/_sim/events`)).json()) as {
      data: { type: string; created: number }[];
    };
    expect(events.data).toEqual([
      expect.objectContaining({ type: 'customer.created', created: (T0 + 5000) / 1000 }),
    ]);
  });

  it('POST /_sim/payment_intents/:id/authenticate completes a requires_action intent', async () => {
    const pi = await stripe.paymentIntents.create({
      amount: 1000,
      currency: 'usd',
      payment_method: 'pm_card_authenticationRequired',
      confirm: true,
    });
    expect(pi.status).toBe('requires_action');
    const response = await fetch(`${sim.url}/_sim/payment_intents/${pi.id}/authenticate`, {
      method: 'POST',
      body: JSON.stringify({ outcome: 'fail' }),
    });
    expect(response.status).toBe(200);
    expect((await stripe.paymentIntents.retrieve(pi.id)).last_payment_error?.code).toBe(
      'payment_intent_authentication_failure',
    );
  });
});

describe('determinism and isolation', () => {
  it('two simulators with the same seed and clock produce the same ids; several run side by side on random ports', async () => {
    const run = async (): Promise<{ port: number; ids: string[] }> => {
      const other = await startSimulator({ now: () => T0, seed: 99 });
      try {
        const client = new Stripe('sk_test_sim', {
          host: '127.0.0.1',
          port: other.port,
          protocol: 'http',
          maxNetworkRetries: 0,
        });
        const customer = await client.customers.create({});
        const pi = await client.paymentIntents.create({
          amount: 1000,
          currency: 'usd',
          customer: customer.id,
        });
        return { port: other.port, ids: [customer.id, pi.id, ...other.events().map((e) => e.id)] };
      } finally {
        await other.close();
      }
    };
    const [a, b] = await Promise.all([run(), run()]);
    expect(a?.port).not.toBe(b?.port);
    expect(a?.ids).toEqual(b?.ids);
    expect(sim.events()).toHaveLength(0);
  });
});
