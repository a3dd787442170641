// Messages from any caller (issue 12, reproductions 5–8) on the real stack: the shared dev server,
// a worker on the real activities and the Stripe simulator. Forged payment-method signals sent
// with the Temporal CLI, a retryNow storm, a cancel while a confirm is still retrying and a flood
// of junk signals: none of them may move money or wedge the charge.
import type Stripe from 'stripe';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BillingClient } from '../../src/client/index.js';
import { type ChargeHandle, type ChargeInput, type ChargeStatus } from '../../src/client/index.js';
import { FaultKind, type Simulator } from '../../src/simulator/index.js';
import { startChargeStack, type ChargeStack } from '../helpers/charge-stack.js';
import { temporal } from '../helpers/temporal-cli.js';
import { eventually } from '../webhooks/stack.js';

let sim: Simulator;
let stripe: Stripe;
let stack: ChargeStack;
let billing: BillingClient;
/** The charges the tests started: those still dunning (days) are terminated with the file. */
const charges: ChargeHandle[] = [];

beforeAll(async () => {
  stack = await startChargeStack('messages');
  ({ sim, stripe, billing } = stack);
});

afterAll(async () => {
  for (const charge of charges) {
    const { status } = await charge.workflow.describe();
    if (status.name === 'RUNNING') await charge.workflow.terminate('messages test file over');
  }
  await stack?.close();
});

afterEach(() => sim.faults.clear());

/** A soft-declining card: every confirm with it declines with `insufficient_funds`. */
const SOFT_DECLINE = 'pm_card_chargeDeclinedInsufficientFunds';

let orders = 0;
/** A new order of a customer of its own (so one test's attached cards never meet another's). */
async function order(
  paymentMethodId: string,
  overrides: Partial<ChargeInput> = {},
): Promise<ChargeInput> {
  const customer = await stripe.customers.create({ email: 'messages@example.com' });
  return {
    orderId: `msg-${process.pid}-${Date.now()}-${orders++}`,
    customerId: customer.id,
    amount: 4200,
    currency: 'usd',
    paymentMethodId,
    // Days between retries: no scheduled attempt comes due while a test runs.
    dunning: { retryDelaysDays: [3, 5, 7], jitterMinutes: 0 },
    ...overrides,
  };
}

/** Polls the status query until `done` holds (bounded); returns that status. */
function untilStatus(
  handle: ChargeHandle,
  done: (status: ChargeStatus) => boolean,
  what: string,
): Promise<ChargeStatus> {
  return eventually(
    async () => {
      const status = await handle.status();
      return done(status) ? status : undefined;
    },
    `${handle.workflowId}: ${what}`,
    { attempts: 400, waitMs: 50 },
  );
}

/** Starts a charge with `paymentMethodId` and waits until its first decline is being dunned. */
async function dunning(paymentMethodId = SOFT_DECLINE): Promise<{
  input: ChargeInput;
  handle: ChargeHandle;
  status: ChargeStatus;
}> {
  const input = await order(paymentMethodId);
  const handle = await billing.startCharge(input);
  charges.push(handle);
  await untilStatus(
    handle,
    (s) => s.state === 'dunning' && s.campaign?.failures === 1,
    'dunning after the first decline',
  );
  await settled(handle);
  return { input, handle, status: await handle.status() };
}

const CONFIRM_PATH = '/v1/payment_intents/:id/confirm';
/** The confirm requests of `orderId`'s intent that reached the simulator, oldest first. */
const confirmRequests = (orderId: string) =>
  sim.requests({ order_id: orderId, method: 'POST', path: CONFIRM_PATH });

const millis = (d: { seconds?: unknown; nanos?: number | null } | null | undefined): number =>
  Number(d?.seconds ?? 0) * 1000 + (d?.nanos ?? 0) / 1e6;

/**
 * Waits (bounded poll on the history) until the charge has handled everything it was sent: the
 * `stripeEvent` signals with `eventIds` are in history (a signal accepted during a workflow task
 * is appended only when that task completes), a workflow task completed after the last of them,
 * and no workflow task, activity or short timer (a backoff) is still open. A closed workflow is
 * settled too.
 */
async function settled(handle: ChargeHandle, eventIds: readonly string[] = []): Promise<void> {
  await eventually(
    async () => {
      const events = (await handle.workflow.fetchHistory()).events ?? [];
      const open = new Set<number>();
      let lastSignal = 0;
      let lastTaskCompleted = 0;
      const seen = new Set<string>();
      for (const event of events) {
        const id = Number(event.eventId);
        const close = (scheduled: unknown) => open.delete(Number(scheduled));
        if (
          event.workflowExecutionCompletedEventAttributes ||
          event.workflowExecutionFailedEventAttributes ||
          event.workflowExecutionContinuedAsNewEventAttributes ||
          event.workflowExecutionTerminatedEventAttributes
        )
          return true;
        if (event.workflowTaskScheduledEventAttributes) open.add(id);
        if (event.workflowTaskCompletedEventAttributes) {
          close(event.workflowTaskCompletedEventAttributes.scheduledEventId);
          lastTaskCompleted = id;
        }
        close(event.workflowTaskFailedEventAttributes?.scheduledEventId);
        close(event.workflowTaskTimedOutEventAttributes?.scheduledEventId);
        if (event.activityTaskScheduledEventAttributes) open.add(id);
        close(event.activityTaskCompletedEventAttributes?.scheduledEventId);
        close(event.activityTaskFailedEventAttributes?.scheduledEventId);
        close(event.activityTaskTimedOutEventAttributes?.scheduledEventId);
        close(event.activityTaskCanceledEventAttributes?.scheduledEventId);
        const timer = event.timerStartedEventAttributes;
        if (timer && millis(timer.startToFireTimeout) < 120_000) open.add(id);
        close(event.timerFiredEventAttributes?.startedEventId);
        close(event.timerCanceledEventAttributes?.startedEventId);
        const signal = event.workflowExecutionSignaledEventAttributes;
        if (signal) {
          lastSignal = id;
          const data = signal.input?.payloads?.[0]?.data;
          if (signal.signalName === 'stripeEvent' && data) {
            seen.add((JSON.parse(Buffer.from(data).toString()) as { id?: string }).id ?? '');
          }
        }
      }
      const quiet =
        open.size === 0 && lastTaskCompleted > lastSignal && eventIds.every((e) => seen.has(e));
      return quiet || undefined;
    },
    `${handle.workflowId} to settle`,
    { attempts: 400, waitMs: 50 },
  );
}

/**
 * A `payment_method.attached` event naming `objectId`, sent with `temporal workflow signal` as
 * anyone with Temporal access can.
 */
async function signalAttached(handle: ChargeHandle, id: string, objectId: string): Promise<void> {
  const event = { id, type: 'payment_method.attached', created: 1, objectId };
  const run = await temporal([
    'workflow',
    'signal',
    '--workflow-id',
    handle.workflowId,
    '--name',
    'stripeEvent',
    '--input',
    JSON.stringify(event),
  ]);
  expect(run.code, `temporal workflow signal exited ${run.code}: ${run.stderr}`).toBe(0);
}

/** The payment method of each `confirmPaymentIntent` the charge scheduled (activity inputs). */
async function confirmedMethods(handle: ChargeHandle): Promise<(string | undefined)[]> {
  const events = (await handle.workflow.fetchHistory()).events ?? [];
  const methods: (string | undefined)[] = [];
  for (const event of events) {
    const scheduled = event.activityTaskScheduledEventAttributes;
    const data = scheduled?.input?.payloads?.[0]?.data;
    if (scheduled?.activityType?.name !== 'confirmPaymentIntent' || !data) continue;
    methods.push(
      (JSON.parse(Buffer.from(data).toString()) as { paymentMethodId?: string }).paymentMethodId,
    );
  }
  return methods;
}

const captured = (orderId: string): number => sim.ledger().orders[orderId]?.amountCaptured ?? 0;

describe('payment-method signals are checked with Stripe before they are used', () => {
  it('a forged payment_method.attached naming a card the customer never attached confirms nothing', async () => {
    const { input, handle } = await dunning();
    const before = confirmRequests(input.orderId).length;

    await signalAttached(handle, 'evt_f1', 'pm_card_visa');
    await settled(handle, ['evt_f1']);

    expect(confirmRequests(input.orderId).slice(before)).toEqual([]);
    const after = await handle.status();
    expect(after.state).toBe('dunning');
    expect(after.campaign?.failures).toBe(1);
    expect(captured(input.orderId)).toBe(0);
  });

  it('seven forged signals with alternating declining cards neither confirm nor exhaust the campaign', async () => {
    const { input, handle } = await dunning();
    const before = confirmRequests(input.orderId).length;

    const cards = ['pm_card_chargeDeclined', 'pm_card_visa_chargeDeclined'];
    for (let i = 0; i < 7; i++) {
      const id = `evt_alt_${i}`;
      await signalAttached(handle, id, cards[i % 2]!);
      await settled(handle, [id]);
      expect((await handle.status()).state, `after signal ${i + 1} of 7`).toBe('dunning');
    }

    expect(confirmRequests(input.orderId).slice(before)).toEqual([]);
    expect((await handle.status()).campaign?.failures).toBe(1);
    expect(captured(input.orderId)).toBe(0);
  });

  it('a signal naming a payment method that does not exist changes nothing; retryNow still uses the customer’s card', async () => {
    const { input, handle, status } = await dunning();
    const before = confirmRequests(input.orderId).length;

    await signalAttached(handle, 'evt_bogus', 'pm_bogus');
    await settled(handle, ['evt_bogus']);

    expect(confirmRequests(input.orderId).slice(before)).toEqual([]);
    const after = await handle.status();
    expect(after).toMatchObject({
      state: 'dunning',
      nextAttemptAt: status.nextAttemptAt,
      campaign: { failures: 1, kind: 'soft' },
    });

    // The campaign still has the customer's own card: an early retry without a method uses it.
    expect(await handle.retryNow()).toMatchObject({ accepted: true });
    const retried = await untilStatus(
      handle,
      (s) => s.state === 'dunning' && s.campaign?.failures === 2,
      'the requested attempt to decline',
    );
    expect(retried.lastError?.declineCode).toBe('insufficient_funds');
    expect(
      confirmRequests(input.orderId)
        .slice(before)
        .map((r) => r.status),
    ).toEqual([402]);
    expect((await confirmedMethods(handle)).at(-1)).toBe(SOFT_DECLINE);
  });

  it('a card the customer really attached, signalled, is charged at once and once', async () => {
    const { input, handle } = await dunning();
    const card = await stripe.paymentMethods.attach('pm_card_visa', {
      customer: input.customerId,
    });

    await signalAttached(handle, 'evt_real', card.id);

    const result = await handle.result();
    expect(result).toMatchObject({ outcome: 'succeeded', attempts: 2, amount: 4200 });
    expect(sim.ledger().orders[input.orderId]).toMatchObject({
      successfulCharges: 1,
      amountCaptured: 4200,
    });
    expect((await confirmedMethods(handle)).at(-1)).toBe(card.id);
  });
});

describe('retryNow', () => {
  it('a storm of 50 concurrent retryNow makes one attempt; every other answer says it was merged or refused, and why', async () => {
    const { input, handle } = await dunning();
    const before = confirmRequests(input.orderId).length;

    const answers = await Promise.all(Array.from({ length: 50 }, () => handle.retryNow()));
    // How the 50 were answered, by shape and reason (said when an assertion fails).
    const tally: Record<string, number> = {};
    for (const { accepted, merged, reason } of answers) {
      const shape = `${accepted ? 'accepted' : 'refused'}${merged ? ', merged' : ''}: ${reason}`;
      tally[shape] = (tally[shape] ?? 0) + 1;
    }
    await untilStatus(
      handle,
      (s) => (s.campaign?.failures ?? 0) >= 2 || ['succeeded', 'failed'].includes(s.state),
      `the requested attempt to be handled; answers ${JSON.stringify(tally)}`,
    );
    await settled(handle);

    expect(confirmRequests(input.orderId).length - before, JSON.stringify(tally)).toBe(1);
    const [first, ...others] = answers.filter((a) => a.accepted && !a.merged);
    expect(first, 'one answer starts the attempt').toBeDefined();
    expect(others, 'no second attempt started').toEqual([]);
    for (const answer of answers.filter((a) => a !== first)) {
      expect(answer.merged === true || !answer.accepted, JSON.stringify(answer)).toBe(true);
      expect(answer.reason, JSON.stringify(answer)).toEqual(expect.any(String));
    }
    const after = await handle.status();
    expect(after.state).toBe('dunning');
    expect(after.campaign?.failures).toBe(2);
  });
});

describe('cancel', () => {
  it('a cancel while the confirm is still being retried (429) stops the retries and cancels the intent', async () => {
    sim.faults.add({
      kind: FaultKind.rateLimit429,
      method: 'POST',
      path: CONFIRM_PATH,
      times: 10,
    });
    const input = await order('pm_card_visa');
    const handle = await billing.startCharge(input);
    charges.push(handle);
    await eventually(
      async () => (confirmRequests(input.orderId).length > 0 ? true : undefined),
      'the first confirm request to reach the simulator',
      { attempts: 400, waitMs: 25 },
    );

    await handle.cancel('the customer canceled the order');

    const result = await handle.result();
    expect(result).toMatchObject({ outcome: 'canceled' });
    expect(sim.ledger().paymentIntents[result.paymentIntentId!]?.status).toBe('canceled');
    expect(captured(input.orderId)).toBe(0);
    expect(confirmRequests(input.orderId).length).toBeLessThan(10);
  }, 90_000);
});
