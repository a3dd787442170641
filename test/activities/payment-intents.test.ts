// The create activity against the Stripe simulator (stripe-node over HTTP): when it looks for an
// intent the workflow already made, how far back, and what each choice costs in requests.
import { MockActivityEnvironment } from '@temporalio/testing';
import type Stripe from 'stripe';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createPaymentIntentActivities,
  type CreatePaymentIntentInput,
} from '../../src/activities/payment-intents.js';
import type { PaymentIntentSnapshot } from '../../src/shared/payment-intent.js';
import type { Simulator } from '../../src/simulator/index.js';
import { startTestSimulator, T0 } from '../simulator/sim-fixture.js';

const DAY_MS = 86_400_000;
let sim: Simulator;
let stripe: Stripe;
let customerId: string;
let requests: string[] = [];

beforeAll(async () => {
  ({ sim, stripe } = await startTestSimulator());
  // stripe-node's own request event: what was sent, not what a fake saw.
  (stripe.on as (event: 'request', handler: (e: { method: string; path: string }) => void) => void)(
    'request',
    (event) => requests.push(`${event.method} ${event.path.split('?')[0]}`),
  );
});
afterAll(() => sim.close());
beforeEach(async () => {
  customerId = (await stripe.customers.create({ email: 'many@example.com' })).id;
  requests = [];
});

function create(
  input: Partial<CreatePaymentIntentInput> & { idempotencyKey: string },
): Promise<PaymentIntentSnapshot> {
  const activities = createPaymentIntentActivities(stripe);
  return new MockActivityEnvironment().run(
    (i: CreatePaymentIntentInput) => activities.createPaymentIntent(i),
    {
      workflowId: 'charge:ord-1',
      orderId: 'ord-1',
      customerId,
      amount: 1200,
      currency: 'usd',
      paymentMethodId: 'pm_card_visa',
      ...input,
      idempotencyKey: `${customerId}/${input.idempotencyKey}`, // one customer per test
    },
  );
}

/** Another 250 intents of the same customer (other orders): three pages of list. */
async function otherIntents(): Promise<void> {
  for (let i = 0; i < 250; i++) {
    await stripe.paymentIntents.create({
      amount: 100,
      currency: 'usd',
      customer: customerId,
      metadata: { workflow_id: `charge:other-${i}` },
    });
  }
  requests = [];
}

describe('createPaymentIntent', () => {
  it('a fresh chain’s first key creates without listing: one request however many intents the customer has', async () => {
    await otherIntents();
    const intent = await create({ idempotencyKey: 'k/create/0', lookFirst: false });
    expect(requests).toEqual(['POST /v1/payment_intents']);
    // The key is what makes a retry safe: the same key returns the same intent.
    expect((await create({ idempotencyKey: 'k/create/0', lookFirst: false })).id).toBe(intent.id);
  });

  it('after an ambiguous create, the next key returns the intent the earlier key made (bounded list)', async () => {
    const made = await create({ idempotencyKey: 'k/create/0', lookFirst: false });
    sim.advanceTime(60_000);
    await otherIntents();
    const createdSince = Math.floor(T0 / 1000); // the run's start (minus the skew margin)
    const found = await create({ idempotencyKey: 'k/create/1', lookFirst: { createdSince } });
    expect(found.id).toBe(made.id);
    expect(requests.every((r) => r === 'GET /v1/payment_intents')).toBe(true);
    expect(requests.length).toBeLessThanOrEqual(3);
    // Bounded by time: an intent made before the bound is not found, and nothing is found twice.
    const later = await create({
      idempotencyKey: 'k/create/2',
      lookFirst: { createdSince: Math.floor((T0 + 2 * DAY_MS) / 1000) },
    });
    expect(later.id).not.toBe(made.id);
    const all = await stripe.paymentIntents
      .list({ customer: customerId, limit: 100 })
      .autoPagingToArray({ limit: 1000 });
    expect(
      all.filter((pi) => pi.metadata.workflow_id === 'charge:ord-1').map((pi) => pi.id),
    ).toEqual([later.id, made.id]);
  });

  it('a reset or continued run, or an input from before lookFirst, lists everything: a pruned key makes no second intent', async () => {
    const made = await create({ idempotencyKey: 'k/create/0', lookFirst: false });
    sim.advanceTime(3 * DAY_MS); // Stripe has pruned k/create/0
    await otherIntents();
    expect((await create({ idempotencyKey: 'k/create/0', lookFirst: {} })).id).toBe(made.id);
    expect(requests.length).toBe(3); // pages of 100 until the match (the oldest)
    expect((await create({ idempotencyKey: 'k/create/0' })).id).toBe(made.id); // no lookFirst
    // Without the look, the pruned key would have made a second intent.
    const second = await create({ idempotencyKey: 'k/create/0', lookFirst: false });
    expect(second.id).not.toBe(made.id);
  });
});
