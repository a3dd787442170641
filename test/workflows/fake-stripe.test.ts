// The workflow tests' fake Stripe can see the failure they guard against: it counts every
// success, a second one on the same intent and one on a second intent of the order included,
// so `charges() === 1` in those tests would read 2 for a double charge.
import { MockActivityEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import type { CreatePaymentIntentInput } from '../../src/activities/payment-intents.js';
import type { PaymentIntentSnapshot } from '../../src/shared/payment-intent.js';
import { createFakeStripe } from './fake-stripe.js';

/** Runs one of the fake's activities as Temporal would (its context gives the server time). */
const inActivity = <A extends unknown[]>(
  activity: (...args: A) => Promise<PaymentIntentSnapshot>,
  ...args: A
): Promise<PaymentIntentSnapshot> =>
  new MockActivityEnvironment().run<A, PaymentIntentSnapshot, typeof activity>(activity, ...args);

const create = (key: string, look: Partial<CreatePaymentIntentInput> = {}) => ({
  idempotencyKey: key,
  workflowId: 'charge:o-1',
  orderId: 'o-1',
  customerId: 'cus_1',
  amount: 1500,
  currency: 'usd',
  paymentMethodId: 'pm_card_visa',
  lookFirst: false as const,
  ...look,
});

describe('the fake Stripe of the workflow tests', () => {
  it('counts a second confirm of a succeeded intent as a second charge (Stripe would refuse it)', async () => {
    const fake = createFakeStripe([{ kind: 'succeed' }, { kind: 'succeed' }]);
    const intent = await inActivity(fake.activities.createPaymentIntent, create('k/create/0'));
    for (const key of ['k/confirm/0', 'k/confirm/1'])
      await inActivity(fake.activities.confirmPaymentIntent, {
        idempotencyKey: key,
        paymentIntentId: intent.id,
      });
    expect(fake.charges()).toBe(2);
    expect(fake.successes.map((s) => s.key)).toEqual(['k/confirm/0', 'k/confirm/1']);
    expect(fake.intent().amountReceived).toBe(3000);
  });

  it('replays a confirm key without charging again', async () => {
    const fake = createFakeStripe([{ kind: 'succeed' }, { kind: 'succeed' }]);
    const intent = await inActivity(fake.activities.createPaymentIntent, create('k/create/0'));
    for (let i = 0; i < 2; i++)
      await inActivity(fake.activities.confirmPaymentIntent, {
        idempotencyKey: 'k/confirm/0',
        paymentIntentId: intent.id,
      });
    expect(fake.charges()).toBe(1);
  });

  it('makes a second intent for a create with a new key that does not look first, and counts its charge', async () => {
    const fake = createFakeStripe([{ kind: 'succeed' }, { kind: 'succeed' }]);
    const first = await inActivity(fake.activities.createPaymentIntent, create('k/create/0'));
    const second = await inActivity(fake.activities.createPaymentIntent, create('k/create/1'));
    expect(second.id).not.toBe(first.id);
    for (const [key, id] of [
      ['k/confirm/0', first.id],
      ['k/confirm/1', second.id],
    ] as const)
      await inActivity(fake.activities.confirmPaymentIntent, {
        idempotencyKey: key,
        paymentIntentId: id,
      });
    expect(fake.intents()).toHaveLength(2);
    expect(fake.charges()).toBe(2);
  });

  it('finds the order’s intent for a new key that searches or lists first, as the real activity does', async () => {
    const fake = createFakeStripe([]);
    const first = await inActivity(fake.activities.createPaymentIntent, create('k/create/0'));
    const searched = await inActivity(
      fake.activities.createPaymentIntent,
      create('k/create/1', { searchFirst: true }),
    );
    const listed = await inActivity(
      fake.activities.createPaymentIntent,
      create('k/create/2', { lookFirst: { createdSince: 0 } }),
    );
    expect([searched.id, listed.id]).toEqual([first.id, first.id]);
    expect(fake.intents()).toHaveLength(1);
  });
});
