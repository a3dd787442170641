// The dunning campaign on the time-skipping server: weeks of virtual time per test, every
// attempt's time and key, notifications, early retries, the 30-day cap and continue-as-new.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BillingClient, type ChargeInput } from '../../src/client/index.js';
import {
  DEFAULT_RETRY_DELAYS_DAYS,
  jitterMs,
  type DunningOverride,
} from '../../src/shared/dunning.js';
import { chargeWorkflowId } from '../../src/shared/ids.js';
import { IntentStatus } from '../../src/shared/payment-intent.js';
import {
  stripeEventSignal,
  type ChargeResult,
  type ChargeStatus,
  type RetryNowResult,
} from '../../src/workflows/messages.js';
import {
  createTimeSkippingEnv,
  createTimeSkippingWorker,
  uniqueTaskQueue,
} from '../helpers/temporal.js';
import {
  createFakeStripe,
  UNUSABLE_METHOD,
  unscopedKey,
  type ConfirmScript,
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
const soft: ConfirmScript = {
  kind: 'decline',
  declineCode: 'insufficient_funds',
  adviceCode: 'try_again_later',
};
const hard: ConfirmScript = {
  kind: 'decline',
  declineCode: 'stolen_card',
  adviceCode: 'do_not_try_again',
};
let seq = 0;

interface Campaign {
  fake: FakeStripe;
  input: ChargeInput;
  workflowId: string;
  result: ChargeResult;
  /** Server time the workflow started. */
  startedAt: number;
  billing: BillingClient;
}

async function campaign(
  script: ConfirmScript[],
  during: (ctx: {
    billing: BillingClient;
    input: ChargeInput;
    fake: FakeStripe;
    workflowId: string;
  }) => Promise<void> = async () => {},
  dunning?: DunningOverride,
  inputOverrides: Partial<ChargeInput> = {},
): Promise<Campaign> {
  const taskQueue = uniqueTaskQueue('dunning');
  const fake = createFakeStripe(script);
  const worker = await createTimeSkippingWorker(env, taskQueue, { activities: fake.activities });
  const billing = new BillingClient(env.client, { taskQueue });
  const input: ChargeInput = {
    orderId: `d-${Date.now()}-${seq++}`,
    customerId: 'cus_dunning',
    amount: 1500,
    currency: 'eur',
    paymentMethodId: 'pm_card_visa',
    ...(dunning && { dunning }),
    ...inputOverrides,
  };
  const workflowId = chargeWorkflowId(input.orderId);
  return worker.runUntil(async () => {
    const handle = await billing.startCharge(input);
    await during({ billing, input, fake, workflowId });
    const result = await handle.result();
    const { startTime } = await handle.workflow.describe();
    return { fake, input, workflowId, result, startedAt: startTime.getTime(), billing };
  });
}

async function until(
  billing: BillingClient,
  orderId: string,
  predicate: (s: ChargeStatus) => boolean,
  step = '10 minutes',
): Promise<ChargeStatus> {
  for (let i = 0; i < 500; i++) {
    const status = await billing.getCharge(orderId).status();
    if (predicate(status)) return status;
    await env.sleep(step);
  }
  throw new Error(`status of ${orderId} never satisfied the predicate`);
}

const confirms = (fake: FakeStripe) => fake.calls.filter((c) => c.name === 'confirm');

describe('dunning', () => {
  it('runs the full default campaign to give-up: 8 attempts over 14 days, then cancel, final action and notice', async () => {
    const run = await campaign(Array.from({ length: 8 }, () => soft));
    const { fake, workflowId, result, startedAt } = run;
    expect(result).toMatchObject({
      outcome: 'failed',
      attempts: 8,
      failure: { declineCode: 'insufficient_funds' },
    });

    // Every attempt: the same intent, the next key, at the scheduled day plus deterministic jitter.
    const attempts = confirms(fake);
    expect(attempts.map(unscopedKey)).toEqual(
      attempts.map((_, n) => `db/${workflowId}/confirm/${n}`),
    );
    let expected = startedAt;
    const offsets = attempts.map((c, n) => {
      if (n > 0)
        expected =
          attempts[n - 1]!.at +
          DEFAULT_RETRY_DELAYS_DAYS[n - 1]! * DAY +
          jitterMs(workflowId, n, 60);
      return [c.at - expected, n === 0 ? 0 : expected - startedAt];
    });
    for (const [drift] of offsets) expect(Math.abs(drift!)).toBeLessThan(5_000);
    const lastDay = (attempts.at(-1)!.at - startedAt) / DAY;
    expect(lastDay).toBeGreaterThanOrEqual(14);
    expect(lastDay).toBeLessThan(14.5);

    expect(fake.notifications.map((n) => [n.kind, n.attempt])).toEqual([
      ['payment_failed', 1],
      ['final_warning', 7],
      ['gave_up', 8],
    ]);
    expect(
      Math.abs(Date.parse(fake.notifications[0]?.nextAttemptAt ?? '') - attempts[1]!.at),
    ).toBeLessThan(5_000);
    expect(fake.calls.filter((c) => c.name === 'cancel').map(unscopedKey)).toEqual([
      `db/${workflowId}/cancel/0`,
    ]);
    expect(fake.finalActions).toEqual([
      expect.objectContaining({
        id: `db/${workflowId}/final/0`,
        action: 'mark_uncollectible',
        reason: 'gave_up',
        orderId: run.input.orderId,
      }),
    ]);
    expect(fake.charges()).toBe(0);
  });

  it('recovers a soft decline on attempt 3, and tells the customer so', async () => {
    const { result, fake } = await campaign([soft, soft, { kind: 'succeed' }]);
    expect(result).toMatchObject({ outcome: 'succeeded', attempts: 3 });
    expect(fake.notifications.map((n) => n.kind)).toEqual(['payment_failed', 'recovered']);
    expect(fake.charges()).toBe(1);
  });

  it('never retries a hard-declined card; a card added on day 4 is tried at once and succeeds', async () => {
    let addedAt = 0;
    const { result, fake, startedAt } = await campaign(
      [hard, { kind: 'succeed' }],
      async ({ billing, input, workflowId, fake }) => {
        await until(billing, input.orderId, (s) => s.state === 'dunning');
        await env.sleep('4 days');
        addedAt = await env.currentTimeMs();
        fake.attach('pm_card_mastercard', input.customerId);
        await env.client.workflow.getHandle(workflowId).signal(stripeEventSignal, {
          id: 'evt_pm',
          type: 'payment_method.attached',
          created: 1,
          objectId: 'pm_card_mastercard',
        });
      },
    );
    expect(result.outcome).toBe('succeeded');
    const attempts = confirms(fake);
    expect(attempts.map((c) => c.paymentMethodId)).toEqual(['pm_card_visa', 'pm_card_mastercard']);
    expect(attempts[1]!.at - addedAt).toBeLessThan(60_000);
    expect(attempts[1]!.at - startedAt).toBeGreaterThanOrEqual(4 * DAY);
    expect(fake.notifications.map((n) => n.kind)).toEqual(['payment_failed', 'recovered']);
  });

  it('a hard decline with no new card gives up when the campaign window ends', async () => {
    const { result, fake, startedAt } = await campaign([hard]);
    expect(result.outcome).toBe('failed');
    expect(confirms(fake)).toHaveLength(1);
    const cancel = fake.calls.find((c) => c.name === 'cancel')!;
    expect((cancel.at - startedAt) / DAY).toBeGreaterThanOrEqual(14);
  });

  it('adopts the default method a customer.updated event points at, and ignores an unchanged one', async () => {
    const { result, fake } = await campaign(
      [hard, { kind: 'succeed' }],
      async ({ billing, input, workflowId, fake }) => {
        const handle = env.client.workflow.getHandle(workflowId);
        await until(billing, input.orderId, (s) => s.state === 'dunning');
        fake.defaultPaymentMethod = 'pm_card_visa'; // the same card that failed: nothing to retry
        await handle.signal(stripeEventSignal, {
          id: 'evt_c1',
          type: 'customer.updated',
          created: 1,
          objectId: 'cus_dunning',
        });
        await env.sleep('1 day');
        fake.defaultPaymentMethod = 'pm_card_amex';
        await handle.signal(stripeEventSignal, {
          id: 'evt_c2',
          type: 'customer.updated',
          created: 2,
          objectId: 'cus_dunning',
        });
      },
    );
    expect(result.outcome).toBe('succeeded');
    expect(confirms(fake).map((c) => c.paymentMethodId)).toEqual(['pm_card_visa', 'pm_card_amex']);
  });

  it('retryNow during a scheduled wait attempts at once; without a new card it is refused after a hard decline', async () => {
    let refused: RetryNowResult | undefined;
    const { result, fake, startedAt } = await campaign(
      [soft, { kind: 'succeed' }],
      async ({ billing, input }) => {
        await until(billing, input.orderId, (s) => s.state === 'dunning');
        await env.sleep('3 hours');
        expect(await billing.getCharge(input.orderId).retryNow()).toEqual({ accepted: true });
      },
    );
    expect(result.outcome).toBe('succeeded');
    expect((confirms(fake)[1]!.at - startedAt) / DAY).toBeLessThan(1);

    await campaign([hard, { kind: 'succeed' }], async ({ billing, input }) => {
      await until(billing, input.orderId, (s) => s.state === 'dunning');
      refused = await billing.getCharge(input.orderId).retryNow();
      await billing.getCharge(input.orderId).retryNow({ paymentMethodId: 'pm_card_visa_debit' });
    });
    expect(refused).toMatchObject({ accepted: false });
    expect(refused?.reason).toMatch(/stolen_card.*paymentMethodId/);
  });

  it('cancel mid-campaign cancels the intent, runs the final action and tells the customer', async () => {
    const { result, fake } = await campaign([soft, soft], async ({ billing, input }) => {
      await until(billing, input.orderId, (s) => s.state === 'dunning' && s.attempt === 2);
      await billing.getCharge(input.orderId).cancel('order withdrawn');
    });
    expect(result.outcome).toBe('canceled');
    expect(fake.intent().status).toBe('canceled');
    expect(fake.finalActions).toEqual([
      expect.objectContaining({ reason: 'canceled: order withdrawn' }),
    ]);
    expect(fake.notifications.map((n) => n.kind)).toEqual(['payment_failed', 'gave_up']);
  });

  it('asks the customer to act when a retry needs authentication, and succeeds once they do', async () => {
    const { result, fake } = await campaign(
      [soft, { kind: 'requires_action' }],
      async ({ billing, input, fake, workflowId }) => {
        await until(billing, input.orderId, (s) => s.state === 'requires_action');
        fake.setStatus(IntentStatus.succeeded);
        await env.client.workflow.getHandle(workflowId).signal(stripeEventSignal, {
          id: 'evt_auth',
          type: 'payment_intent.succeeded',
          created: 1,
          objectId: 'pi_fake_1',
        });
      },
    );
    expect(result.outcome).toBe('succeeded');
    expect(fake.notifications.map((n) => n.kind)).toEqual([
      'payment_failed',
      'action_required',
      'recovered',
    ]);
  });

  it('holds the attempts-per-30-days cap under a policy that would exceed it', async () => {
    const { fake, result } = await campaign(
      Array.from({ length: 12 }, () => soft),
      async () => {},
      {
        retryDelaysDays: Array.from({ length: 11 }, () => 1),
        maxAttemptsPer30Days: 5,
        jitterMinutes: 0,
      },
    );
    expect(result.outcome).toBe('failed');
    const times = confirms(fake).map((c) => c.at);
    expect(times).toHaveLength(12);
    for (const t of times) {
      expect(times.filter((u) => u > t - 30 * DAY && u <= t).length).toBeLessThanOrEqual(5);
    }
  });

  it('continues as new mid-campaign with keys, counts and seen events preserved, and the new run replays', async () => {
    const { fake, result, workflowId } = await campaign(
      [soft, soft, soft, soft, { kind: 'succeed' }],
      async ({ billing, input, workflowId }) => {
        const event = { id: 'evt_once', type: 'charge.updated', created: 1, objectId: 'ch_1' };
        const handle = env.client.workflow.getHandle(workflowId);
        await until(billing, input.orderId, (s) => s.state === 'dunning');
        const { runId: firstRun } = await handle.describe();
        await handle.signal(stripeEventSignal, event);
        // The same event again after continue-as-new: the new run remembers it.
        await until(
          billing,
          input.orderId,
          (s) => s.state === 'dunning' && s.attempt >= 4,
          '6 hours',
        );
        expect((await handle.describe()).runId).not.toBe(firstRun);
        await handle.signal(stripeEventSignal, event);
        const status = await until(billing, input.orderId, (s) => s.events.duplicates === 1);
        expect(status.events.received).toBe(0);
      },
      { continueAsNewAfterEvents: 50, jitterMinutes: 0 },
    );
    expect(result).toMatchObject({ outcome: 'succeeded', attempts: 5 });
    const keys = confirms(fake).map(unscopedKey);
    expect(keys).toEqual([0, 1, 2, 3, 4].map((n) => `db/${workflowId}/confirm/${n}`));
    expect(fake.calls.filter((c) => c.name === 'create')).toHaveLength(1);
    expect(fake.notifications.map((n) => n.kind)).toEqual(['payment_failed', 'recovered']);

    const handle = env.client.workflow.getHandle(workflowId);
    const { raw } = await handle.describe();
    expect(raw.workflowExecutionInfo?.firstRunId).not.toBe(
      raw.workflowExecutionInfo?.execution?.runId,
    );
    await Worker.runReplayHistory(
      { workflowBundle: { codePath: inject('workflowBundlePath') } },
      await handle.fetchHistory(),
      workflowId,
    );
  });
});

describe('faults and bad input during a charge', () => {
  it('ignores a cancel signal without a reason (as `temporal workflow signal` can send) and carries on', async () => {
    const { result } = await campaign(
      [soft, { kind: 'succeed' }],
      async ({ billing, input, workflowId }) => {
        await until(billing, input.orderId, (s) => s.state === 'dunning');
        await env.client.workflow.getHandle(workflowId).signal('cancel');
        await env.client.workflow.getHandle(workflowId).signal('cancel', { reason: 42 });
      },
    );
    expect(result.outcome).toBe('succeeded');
  });

  it('does not count a 5xx during dunning that moved nothing as a decline: the attempt is redone', async () => {
    const { result, fake, workflowId } = await campaign([
      soft,
      { kind: 'ambiguous', moved: false },
      { kind: 'succeed' },
    ]);
    expect(result).toMatchObject({ outcome: 'succeeded', attempts: 2 });
    expect(confirms(fake).map(unscopedKey)).toEqual(
      [0, 1, 2].map((n) => `db/${workflowId}/confirm/${n}`),
    );
    expect(fake.notifications.map((n) => n.kind)).toEqual(['payment_failed', 'recovered']);
  });

  it('reconciles when Stripe is unreachable past the activity’s hour, then confirms with the next key', async () => {
    const { result, fake, workflowId } = await campaign([
      { kind: 'unreachable' },
      { kind: 'succeed' },
    ]);
    expect(result).toMatchObject({ outcome: 'succeeded', attempts: 1 });
    const calls = confirms(fake);
    expect([...new Set(calls.map(unscopedKey))]).toEqual(
      [0, 1].map((n) => `db/${workflowId}/confirm/${n}`),
    );
    // Temporal retried the first key for the activity's hour (schedule-to-close), and only once
    // it gave up did the workflow move to the next key. (Not asserted: that no attempt ran past
    // the hour. The time-skipping server can jump its clock to another workflow's timer while
    // an attempt waits for a poller, and then runs that attempt late.)
    const first = calls[0]!.at;
    const lastOld = calls.filter((c) => c.key?.endsWith('/confirm/0')).at(-1)!.at;
    const firstNew = calls.find((c) => c.key?.endsWith('/confirm/1'))!.at;
    expect(firstNew - first).toBeGreaterThan(3_600_000 - 2 * 60_000);
    expect(firstNew).toBeGreaterThanOrEqual(lastOld);
    expect(fake.charges()).toBe(1);
  });

  it('keeps the campaign going when retryNow brings a method Stripe refuses, and takes the next good one', async () => {
    let afterBad: ChargeStatus | undefined;
    const { result, fake } = await campaign(
      [hard, { kind: 'succeed' }],
      async ({ billing, input }) => {
        await until(billing, input.orderId, (s) => s.state === 'dunning');
        expect(
          await billing.getCharge(input.orderId).retryNow({ paymentMethodId: UNUSABLE_METHOD }),
        ).toEqual({ accepted: true });
        afterBad = await until(
          billing,
          input.orderId,
          (s) => s.state === 'dunning' && s.lastError?.code === 'resource_missing',
        );
        await billing.getCharge(input.orderId).retryNow({ paymentMethodId: 'pm_card_mastercard' });
      },
    );
    expect(afterBad?.attempt).toBe(1);
    expect(result).toMatchObject({ outcome: 'succeeded', attempts: 2 });
    expect(confirms(fake).map((c) => c.paymentMethodId)).toEqual([
      'pm_card_visa',
      UNUSABLE_METHOD,
      'pm_card_mastercard',
    ]);
  });

  it('with no payment method at all, asks the customer and charges the card a webhook brings', async () => {
    const { result, fake } = await campaign(
      [{ kind: 'succeed' }],
      async ({ billing, input, workflowId, fake }) => {
        const status = await until(billing, input.orderId, (s) => s.state === 'dunning');
        expect(status.campaign?.kind).toBe('action_required');
        fake.attach('pm_card_visa', input.customerId);
        await env.client.workflow.getHandle(workflowId).signal(stripeEventSignal, {
          id: 'evt_pm',
          type: 'payment_method.attached',
          created: 1,
          objectId: 'pm_card_visa',
        });
      },
      undefined,
      { paymentMethodId: undefined },
    );
    expect(result.outcome).toBe('succeeded');
    expect(fake.notifications.map((n) => n.kind)).toEqual(['action_required', 'recovered']);
    expect(confirms(fake).map((c) => c.paymentMethodId)).toEqual(['pm_card_visa']);
  });

  it('re-reads a payment still processing after the campaign window daily, not in a loop', async () => {
    const { result, fake } = await campaign(
      [soft, { kind: 'processing', settlesAfterMs: 20 * DAY, settlesTo: 'succeeded' }],
      async () => {},
      { retryDelaysDays: [1], jitterMinutes: 0 },
    );
    expect(result.outcome).toBe('succeeded');
    const reads = fake.calls.filter((c) => c.name === 'retrieve').length;
    expect(reads).toBeGreaterThanOrEqual(20);
    expect(reads).toBeLessThanOrEqual(22);
  });
});
