// Contract check against Stripe's own OpenAPI spec, taken from the code: the Stripe calls the
// activities send are recorded as sent (src/activities/stripe-call-log.ts) and replayed to
// stripe-mock, which validates every request against the spec. The whole suite's calls are
// checked when the run ends (test/global-setup.ts); this file shows the mechanism works, on the
// charge activities run here, and that it has teeth. It never skips: without stripe-mock it
// fails, naming the command that provisions it.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import type Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPaymentIntentActivities } from '../../src/activities/payment-intents.js';
import { STRIPE_CALL_LOG_ENV } from '../../src/activities/stripe-call-log.js';
import { createStripeClient } from '../../src/activities/stripe-client.js';
import type { Simulator } from '../../src/simulator/index.js';
import {
  checkRecordedCalls,
  localStripe,
  PROVISION_STRIPE_MOCK,
  recordedCalls,
  replayCalls,
  startStripeMock,
  stripeMockPath,
} from '../helpers/stripe-mock.js';
import { startTestSimulator } from './sim-fixture.js';

describe('stripe-mock contract', () => {
  let mock: { child: ChildProcess; port: number };
  let sim: Simulator;
  let stripe: Stripe;
  let dir: string;

  beforeAll(async () => {
    mock = await startStripeMock(stripeMockPath());
    ({ sim, stripe } = await startTestSimulator());
    dir = mkdtempSync(join(tmpdir(), 'stripe-calls-'));
  });
  afterAll(async () => {
    await sim?.close();
    mock?.child.kill();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Runs the real charge activities on the simulator, recording into `dir`. */
  async function runActivities(): Promise<void> {
    const previous = process.env[STRIPE_CALL_LOG_ENV];
    process.env[STRIPE_CALL_LOG_ENV] = dir;
    const client = createStripeClient({ secretKey: 'sk_test_contract', apiBase: sim.url });
    if (previous === undefined) delete process.env[STRIPE_CALL_LOG_ENV];
    else process.env[STRIPE_CALL_LOG_ENV] = previous;

    const customer = await stripe.customers.create({ email: 'jenny@example.com' });
    const acts = createPaymentIntentActivities(client);
    const env = new MockActivityEnvironment({ activityType: 'contract' });
    const inActivity = <T>(fn: () => Promise<T>) => env.run<[], T, () => Promise<T>>(fn);
    const base = {
      workflowId: 'charge:o-contract',
      orderId: 'o-contract',
      customerId: customer.id,
      amount: 2500,
      currency: 'usd',
      paymentMethodId: 'pm_card_visa',
    };
    const intent = await inActivity(() =>
      acts.createPaymentIntent({
        ...base,
        idempotencyKey: 'db/charge:o-contract/create/0',
        lookFirst: { createdSince: 1_700_000_000 },
        searchFirst: true,
      }),
    );
    await inActivity(() =>
      acts.confirmPaymentIntent({
        idempotencyKey: 'db/charge:o-contract/r/confirm/0',
        paymentIntentId: intent.id,
        paymentMethodId: 'pm_card_visa',
      }),
    );
    await inActivity(() => acts.retrievePaymentIntent(intent.id));
    await inActivity(() => acts.retrievePaymentMethod('pm_card_visa'));
    await inActivity(() => acts.retrieveDefaultPaymentMethod(customer.id));
    const toCancel = await inActivity(() =>
      acts.createPaymentIntent({
        ...base,
        orderId: 'o-cancel',
        workflowId: 'charge:o-cancel',
        idempotencyKey: 'db/charge:o-cancel/create/0',
        lookFirst: false,
      }),
    );
    await inActivity(() =>
      acts.cancelPaymentIntent({
        idempotencyKey: 'db/charge:o-cancel/r/cancel/0',
        paymentIntentId: toCancel.id,
      }),
    );
  }

  it('fails without stripe-mock, naming the command that provisions it (it never skips)', () => {
    const saved = process.env.STRIPE_MOCK_PATH;
    process.env.STRIPE_MOCK_PATH = join(tmpdir(), 'no-such-stripe-mock');
    try {
      expect(() => stripeMockPath()).toThrow(PROVISION_STRIPE_MOCK);
    } finally {
      if (saved === undefined) delete process.env.STRIPE_MOCK_PATH;
      else process.env.STRIPE_MOCK_PATH = saved;
    }
  });

  it('records what the activities send, as sent, and stripe-mock accepts every call', async () => {
    await runActivities();
    const calls = recordedCalls(dir);
    expect(calls.map((c) => c.shape)).toEqual(
      expect.arrayContaining([
        'GET /v1/payment_intents/search limit&query',
        'GET /v1/payment_intents created[gte]&customer&limit',
        'POST /v1/payment_intents amount&confirm&currency&customer&metadata[…]&payment_method',
        'POST /v1/payment_intents/:id/confirm off_session&payment_method',
        'GET /v1/payment_intents/:id',
        'GET /v1/payment_methods/:id',
        'GET /v1/customers/:id',
        'POST /v1/payment_intents/:id/cancel cancellation_reason',
      ]),
    );
    // Set-up calls made outside an activity are not the project's and are not recorded.
    expect(calls.some((c) => c.path === '/v1/customers' && c.method === 'POST')).toBe(false);
    expect(await replayCalls(calls, mock.port)).toEqual({});
    expect(await checkRecordedCalls(dir)).toMatchObject({ failed: false });
  });

  it('the check has teeth: a call outside the spec is reported, with the activity that sent it', async () => {
    const bad = {
      activity: 'createPaymentIntent',
      method: 'POST',
      path: '/v1/payment_intents',
      body: { amount: 100, currency: 'usd', not_a_param: 'x' },
      shape: 'POST /v1/payment_intents amount&currency&not_a_param',
    };
    expect(await replayCalls([bad], mock.port)).toEqual({
      [bad.shape]: expect.stringMatching(/not_a_param|additional properties/) as string,
    });
    // The simulator refuses it too, so the two cannot drift into a private dialect.
    await expect(
      localStripe(sim.port).paymentIntents.create(bad.body as Stripe.PaymentIntentCreateParams),
    ).rejects.toMatchObject({ statusCode: 400, code: 'parameter_unknown' });
  });
});
