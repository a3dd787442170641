// chargeCustomer's state machine on the time-skipping server, with fake activities that throw
// the real failure types: every branch, days of waiting in seconds, signals that race the
// workflow, and the keys it derives.
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BillingClient, InvalidInputError, type ChargeInput } from '../../src/client/index.js';
import { chargeWorkflowId } from '../../src/shared/ids.js';
import { IntentStatus } from '../../src/shared/payment-intent.js';
import {
  statusQuery,
  stripeEventSignal,
  type ChargeResult,
  type ChargeStatus,
} from '../../src/workflows/messages.js';
import {
  createTimeSkippingEnv,
  createTimeSkippingWorker,
  uniqueTaskQueue,
} from '../helpers/temporal.js';
import {
  createFakeStripe,
  unscopedKey,
  type ConfirmScript,
  type FakeOptions,
  type FakeStripe,
} from './fake-stripe.js';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createTimeSkippingEnv();
});
afterAll(async () => {
  await env?.teardown();
});

const DAY = 24 * 3600 * 1000;
let orderSeq = 0;

function order(overrides: Partial<ChargeInput> = {}): ChargeInput {
  return {
    orderId: `o-${Date.now()}-${orderSeq++}`,
    customerId: 'cus_test',
    amount: 1999,
    currency: 'usd',
    paymentMethodId: 'pm_card_visa',
    ...overrides,
  };
}

interface Run {
  fake: FakeStripe;
  billing: BillingClient;
  input: ChargeInput;
  /** Virtual time the charge took. */
  elapsedMs: number;
}

/** Starts a charge on a fresh task queue with `fake`, runs `during` while it runs, returns the result. */
async function charge(
  script: ConfirmScript[],
  during: (ctx: {
    billing: BillingClient;
    input: ChargeInput;
    fake: FakeStripe;
  }) => Promise<void> = async () => {},
  options: FakeOptions & { input?: Partial<ChargeInput> } = {},
): Promise<Run & { result: ChargeResult }> {
  const taskQueue = uniqueTaskQueue('charge');
  const fake = createFakeStripe(script, options);
  const worker = await createTimeSkippingWorker(env, taskQueue, { activities: fake.activities });
  const billing = new BillingClient(env.client, { taskQueue });
  const input = order(options.input);
  const { result, elapsedMs } = await worker.runUntil(async () => {
    const handle = await billing.startCharge(input);
    await during({ billing, input, fake });
    const result = await handle.result();
    // The execution's own start and close times (virtual): the clock may skip on after it closed.
    const { startTime, closeTime } = await handle.workflow.describe();
    return { result, elapsedMs: (closeTime?.getTime() ?? NaN) - startTime.getTime() };
  });
  return { fake, billing, input, result, elapsedMs };
}

/** Waits (in virtual time, no wall-clock sleeps) until the charge's status satisfies `predicate`. */
async function until(
  billing: BillingClient,
  orderId: string,
  predicate: (s: ChargeStatus) => boolean,
): Promise<ChargeStatus> {
  for (let i = 0; i < 200; i++) {
    const status = await billing.getCharge(orderId).status();
    if (predicate(status)) return status;
    await env.sleep('1 minute');
  }
  throw new Error(`status of ${orderId} never satisfied the predicate`);
}

const keys = (fake: FakeStripe, name: string) =>
  fake.calls.filter((c) => c.name === name).map(unscopedKey);
const event = (id: string, objectId = 'pi_fake_1') => ({
  id,
  type: 'payment_intent.succeeded',
  created: 1,
  objectId,
});

describe('chargeCustomer', () => {
  it('charges a good card once, with keys derived from the workflow id', async () => {
    const { result, fake, input } = await charge([{ kind: 'succeed' }]);
    const wf = chargeWorkflowId(input.orderId);
    expect(result).toEqual({
      outcome: 'succeeded',
      paymentIntentId: 'pi_fake_1',
      attempts: 1,
      amount: input.amount,
      currency: input.currency,
    });
    expect(keys(fake, 'create')).toEqual([`db/${wf}/create/0`]);
    expect(keys(fake, 'confirm')).toEqual([`db/${wf}/confirm/0`]);
    // The confirm key names the run that sent it; the create key is the order's alone.
    const confirmCall = fake.calls.find((c) => c.name === 'confirm')!;
    expect(confirmCall.key).toBe(`db/${wf}/${confirmCall.runId}/confirm/0`);
    expect(fake.charges()).toBe(1);
  });

  it('ends a declined charge as failed when the policy has no retries, recording the decline, never re-sending its key', async () => {
    const { result, fake } = await charge(
      [{ kind: 'decline', declineCode: 'insufficient_funds', adviceCode: 'try_again_later' }],
      async () => {},
      { input: { dunning: { retryDelaysDays: [] } } },
    );
    expect(result.outcome).toBe('failed');
    expect(result.failure).toMatchObject({
      code: 'card_declined',
      declineCode: 'insufficient_funds',
      adviceCode: 'try_again_later',
    });
    expect(keys(fake, 'confirm')).toHaveLength(1);
    expect(fake.charges()).toBe(0);
  });

  it('waits through processing that settles after 2 days, re-reading daily without any webhook', async () => {
    const { result, fake, elapsedMs } = await charge([
      { kind: 'processing', settlesAfterMs: 2 * DAY, settlesTo: 'succeeded' },
    ]);
    expect(result.outcome).toBe('succeeded');
    expect(elapsedMs).toBeGreaterThanOrEqual(2 * DAY);
    expect(elapsedMs).toBeLessThan(3 * DAY + 60_000);
    expect(fake.calls.filter((c) => c.name === 'retrieve').length).toBe(2);
    expect(fake.charges()).toBe(1);
  });

  it('wakes on a webhook instead of waiting for the daily re-read', async () => {
    const { result, elapsedMs } = await charge(
      [{ kind: 'processing', settlesAfterMs: 3 * 3600 * 1000, settlesTo: 'succeeded' }],
      async ({ billing, input }) => {
        await until(billing, input.orderId, (s) => s.state === 'processing');
        await env.sleep('4 hours');
        await billing
          .getCharge(input.orderId)
          .workflow.signal(stripeEventSignal, event('evt_settled'));
      },
    );
    expect(result.outcome).toBe('succeeded');
    expect(elapsedMs).toBeLessThan(DAY);
  });

  it('acts on a settlement failure that arrives while its confirm is still answering (no 24 h wait)', async () => {
    // A bank debit's confirm answers `processing`; the debit fails, and Stripe's own
    // payment_failed (not the confirm's answer: the receiver signals it) lands before the
    // workflow has that answer. It is news: the charge reads the intent at once.
    const { result, elapsedMs, fake, input } = await charge(
      [{ kind: 'processing', settlesAfterMs: 0, settlesTo: 'requires_payment_method' }],
      async () => {},
      {
        input: { dunning: { retryDelaysDays: [] } },
        afterConfirm: async (_fake, workflowId) => {
          const handle = env.client.workflow.getHandle(workflowId);
          await handle.signal(stripeEventSignal, {
            ...event('evt_debit_failed'),
            type: 'payment_intent.payment_failed',
          });
          // Until the workflow has taken it (its handler ran while this confirm still runs).
          const deadline = Date.now() + 30_000;
          while ((await handle.query(statusQuery)).events.received !== 1)
            if (Date.now() > deadline) throw new Error('the signal never reached the workflow');
        },
      },
    );
    expect(result.outcome).toBe('failed');
    expect(elapsedMs).toBeLessThan(3600 * 1000);
    expect(fake.calls.filter((c) => c.name === 'retrieve').length).toBeGreaterThanOrEqual(1);
    expect(fake.charges()).toBe(0);
    // The run records the patch only here, in a signal handler; its history replays on this code.
    const history = await env.client.workflow
      .getHandle(chargeWorkflowId(input.orderId))
      .fetchHistory();
    const markers = history.events!.filter((e) => e.markerRecordedEventAttributes);
    expect(markers).toHaveLength(2); // exactly-once-v2 at the start, settlement-news-v1 here
    await Worker.runReplayHistory(
      { workflowBundle: { codePath: inject('workflowBundlePath') } },
      history,
      chargeWorkflowId(input.orderId),
    );
  });

  it('ignores duplicate and reordered webhooks: each distinct event wakes it once, and the intent decides', async () => {
    let status: ChargeStatus | undefined;
    const { result, fake } = await charge(
      [{ kind: 'processing', settlesAfterMs: 6 * 3600 * 1000, settlesTo: 'succeeded' }],
      async ({ billing, input }) => {
        const handle = billing.getCharge(input.orderId);
        await until(billing, input.orderId, (s) => s.state === 'processing');
        // The "succeeded" event comes first, then a stale "processing" one, each three times.
        for (const e of [
          event('evt_b'),
          event('evt_b'),
          event('evt_a'),
          event('evt_b'),
          event('evt_a'),
          event('evt_a'),
        ]) {
          await handle.workflow.signal(stripeEventSignal, e);
        }
        status = await until(
          billing,
          input.orderId,
          (s) => s.events.received + s.events.duplicates === 6,
        );
        await env.sleep('7 hours');
        await handle.workflow.signal(stripeEventSignal, event('evt_c'));
      },
    );
    expect(status?.events).toEqual({ received: 2, duplicates: 4, ignored: 0 });
    expect(status?.state).toBe('processing'); // the events said "succeeded"; Stripe did not, yet
    expect(result.outcome).toBe('succeeded');
    expect(fake.charges()).toBe(1);
  });

  it('acts on a webhook that arrived before the workflow reached its wait', async () => {
    const { result, elapsedMs } = await charge([{ kind: 'requires_action' }], async () => {}, {
      afterConfirm: async (fake, workflowId) => {
        // The customer authenticates and Stripe's webhook lands while the confirm response is
        // still on its way back to the workflow.
        fake.setStatus(IntentStatus.succeeded);
        await env.client.workflow
          .getHandle(workflowId)
          .signal(stripeEventSignal, event('evt_early'));
      },
    });
    expect(result.outcome).toBe('succeeded');
    expect(elapsedMs).toBeLessThan(DAY);
  });

  it('reconciles a 500 on confirm after the money moved: reads the intent, no second confirm', async () => {
    const { result, fake } = await charge([{ kind: 'ambiguous', moved: true }]);
    expect(result.outcome).toBe('succeeded');
    // Without the read, the next key confirms the paid intent again: the fake counts 2.
    expect(fake.charges()).toBe(1);
    expect(keys(fake, 'confirm')).toHaveLength(1);
  });

  it('retries a 500 on confirm that moved nothing with the next key, then succeeds', async () => {
    const { result, fake, input } = await charge([
      { kind: 'ambiguous', moved: false },
      { kind: 'succeed' },
    ]);
    const wf = chargeWorkflowId(input.orderId);
    expect(result.outcome).toBe('succeeded');
    expect(keys(fake, 'confirm')).toEqual([`db/${wf}/confirm/0`, `db/${wf}/confirm/1`]);
    expect(fake.charges()).toBe(1);
  });

  it('after an ambiguous create that made the intent, the next key gets that intent back (found, not re-made)', async () => {
    const { result, fake, input } = await charge([{ kind: 'succeed' }], async () => {}, {
      createAmbiguous: { created: true },
    });
    const wf = chargeWorkflowId(input.orderId);
    expect(result).toMatchObject({ outcome: 'succeeded', paymentIntentId: 'pi_fake_1' });
    expect(keys(fake, 'create')).toEqual([`db/${wf}/create/0`, `db/${wf}/create/1`]);
    expect(fake.intents()).toHaveLength(1);
    expect(fake.charges()).toBe(1);
    // The first key of a fresh chain does not look (the key suffices); the next one looks among
    // the intents created since the run started (less an hour for the clocks).
    const [first, next] = fake.calls.filter((c) => c.name === 'create');
    expect(first?.lookFirst).toBe(false);
    const since = (next?.lookFirst as { createdSince: number }).createdSince;
    expect(since * 1000).toBeLessThanOrEqual(first!.at - 3_600_000);
    expect(since * 1000).toBeGreaterThan(first!.at - 3_700_000);
  });

  it('after an ambiguous create that made nothing, creates with the next key', async () => {
    const { result, fake, input } = await charge([{ kind: 'succeed' }], async () => {}, {
      createAmbiguous: { created: false },
    });
    const wf = chargeWorkflowId(input.orderId);
    expect(result.outcome).toBe('succeeded');
    expect(keys(fake, 'create')).toEqual([`db/${wf}/create/0`, `db/${wf}/create/1`]);
  });

  it('waits on requires_action, and retryNow with a new card confirms at once with the next key', async () => {
    const { result, fake, input } = await charge(
      [{ kind: 'requires_action' }, { kind: 'succeed' }],
      async ({ billing, input }) => {
        await until(billing, input.orderId, (s) => s.state === 'requires_action');
        expect(
          await billing
            .getCharge(input.orderId)
            .retryNow({ paymentMethodId: 'pm_card_mastercard' }),
        ).toEqual({ accepted: true });
      },
    );
    const wf = chargeWorkflowId(input.orderId);
    expect(result.outcome).toBe('succeeded');
    expect(
      fake.calls
        .filter((c) => c.name === 'confirm')
        .map((c) => [unscopedKey(c), c.paymentMethodId]),
    ).toEqual([
      [`db/${wf}/confirm/0`, 'pm_card_visa'],
      [`db/${wf}/confirm/1`, 'pm_card_mastercard'],
    ]);
  });

  it('ends as failed when authentication fails (the intent returns to requires_payment_method)', async () => {
    const { result } = await charge(
      [{ kind: 'requires_action' }],
      async ({ billing, input, fake }) => {
        await until(billing, input.orderId, (s) => s.state === 'requires_action');
        fake.setStatus(IntentStatus.requiresPaymentMethod, {
          code: 'payment_intent_authentication_failure',
          message: 'auth failed',
        });
        await billing
          .getCharge(input.orderId)
          .workflow.signal(stripeEventSignal, event('evt_auth_failed'));
      },
      { input: { dunning: { retryDelaysDays: [] } } },
    );
    expect(result).toMatchObject({
      outcome: 'failed',
      failure: { code: 'payment_intent_authentication_failure' },
    });
  });

  it('cancels while waiting for authentication: the intent is canceled with its own key', async () => {
    const { result, fake, input } = await charge(
      [{ kind: 'requires_action' }],
      async ({ billing, input }) => {
        await until(billing, input.orderId, (s) => s.state === 'requires_action');
        await billing.getCharge(input.orderId).cancel('customer left');
      },
    );
    expect(result.outcome).toBe('canceled');
    expect(keys(fake, 'cancel')).toEqual([`db/${chargeWorkflowId(input.orderId)}/cancel/0`]);
    expect(fake.intent().status).toBe('canceled');
  });

  it('does not cancel a processing payment; it completes, and the cancel is moot', async () => {
    const { result, fake } = await charge(
      [{ kind: 'processing', settlesAfterMs: 3 * 3600 * 1000, settlesTo: 'succeeded' }],
      async ({ billing, input }) => {
        await until(billing, input.orderId, (s) => s.state === 'processing');
        await billing.getCharge(input.orderId).cancel('too late');
      },
    );
    expect(result.outcome).toBe('succeeded');
    expect(keys(fake, 'cancel')).toEqual([]);
  });

  it('answers the status query while waiting, with the intent, attempt and next re-read', async () => {
    await charge([{ kind: 'requires_action' }], async ({ billing, input }) => {
      const status = await until(billing, input.orderId, (s) => s.state === 'requires_action');
      expect(status).toMatchObject({
        state: 'requires_action',
        attempt: 1,
        paymentIntentId: 'pi_fake_1',
      });
      expect(Date.parse(status.nextAttemptAt ?? '')).toBeGreaterThan(await env.currentTimeMs());
      await billing.getCharge(input.orderId).cancel('test done');
    });
  });

  it('starting the same order again returns the same charge, before and after it ended', async () => {
    const run = await charge(
      [{ kind: 'requires_action' }, { kind: 'succeed' }],
      async ({ billing, input }) => {
        const again = await billing.startCharge(input);
        expect(await again.workflow.describe().then((d) => d.runId)).toBe(
          await billing
            .getCharge(input.orderId)
            .workflow.describe()
            .then((d) => d.runId),
        );
        await until(billing, input.orderId, (s) => s.state === 'requires_action');
        await billing.getCharge(input.orderId).retryNow();
      },
    );
    const after = await run.billing.startCharge(run.input);
    expect(await after.result()).toEqual(run.result);
    expect(await after.retryNow()).toEqual({
      accepted: false,
      reason: 'the charge already ended (completed)',
    });
    expect(keys(run.fake, 'create')).toHaveLength(1);
  });

  it('rejects a bad input before anything starts, naming the field', async () => {
    const billing = new BillingClient(env.client, { taskQueue: uniqueTaskQueue('invalid') });
    const bad = order({ amount: 19.99, currency: 'USD' });
    const error = await billing.startCharge(bad).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toMatch(/amount: must be a whole number/);
    expect((error as Error).message).toMatch(/currency: must be a lower-case ISO 4217 code/);
    await expect(billing.getCharge(bad.orderId).workflow.describe()).rejects.toThrow(/not found/i);
  });

  it('fails the execution loudly when the workflow is started with an invalid input by other means', async () => {
    const taskQueue = uniqueTaskQueue('raw');
    const worker = await createTimeSkippingWorker(env, taskQueue, {
      activities: createFakeStripe([]).activities,
    });
    const error: unknown = await worker.runUntil(
      env.client.workflow
        .execute('chargeCustomer', {
          taskQueue,
          workflowId: taskQueue,
          args: [{ orderId: 'x', customerId: 'nope', amount: 1, currency: 'usd' }],
        })
        .catch((e: unknown) => e),
    );
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect(String((error as WorkflowFailedError).cause?.message)).toMatch(
      /customerId: must be a Stripe id/,
    );
  });
});
