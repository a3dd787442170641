// Exactly once against every caller (issue 12, reproductions 1–4): charges started, restarted
// and started twice by the Temporal CLI, a raw SDK client and BillingClient, on the shared dev
// server with one worker on the real activities and one Stripe simulator for the file. Each test
// checks what Stripe holds (the ledger) and which requests reached it (the request log).
import {
  WorkflowFailedError,
  WorkflowIdReusePolicy,
  type WorkflowHandle,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type Stripe from 'stripe';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BillingClient } from '../../src/client/index.js';
import {
  ChargeConflictError,
  type ChargeHandle,
  type ChargeInput,
  type ChargeResult,
} from '../../src/client/index.js';
import { chargeWorkflowId } from '../../src/shared/ids.js';
import { IDEMPOTENCY_KEY_TTL_MS, type Simulator } from '../../src/simulator/index.js';
import type { chargeCustomer } from '../../src/workflows/charge-customer.js';
import {
  ChargeFailureType,
  ChargeState,
  statusQuery,
  type ChargeConflictDetails,
} from '../../src/workflows/messages.js';
import { temporal, type TemporalCliRun } from '../helpers/temporal-cli.js';
import { type DevServer } from '../helpers/temporal.js';
import { startChargeStack, type ChargeStack } from '../helpers/charge-stack.js';
import { eventually } from '../webhooks/stack.js';

let server: DevServer;
let sim: Simulator;
let stripe: Stripe;
let stack: ChargeStack;
let billing: BillingClient;
let taskQueue: string;
/** Every workflow id a test started, so that runs left waiting (today: dunning) end with the file. */
const started = new Set<string>();

beforeAll(async () => {
  stack = await startChargeStack('callers');
  ({ server, sim, stripe, billing, taskQueue } = stack);
});

afterAll(async () => {
  await Promise.all(
    [...started].map((id) =>
      server.client.workflow
        .getHandle(id)
        .terminate('callers test file over')
        .catch((error: unknown) => {
          if (!(error instanceof Error && error.name === 'WorkflowNotFoundError')) throw error;
        }),
    ),
  );
  await stack?.close();
});

afterEach(() => sim.faults.clear());

let orders = 0;
/** A new order of 1,500 usd on a customer of its own, paid by `pm_card_visa` unless overridden. */
async function newOrder(overrides: Partial<ChargeInput> = {}): Promise<ChargeInput> {
  const customer = await stripe.customers.create({ email: `callers-${orders}@example.com` });
  return {
    orderId: `callers-${process.pid}-${Date.now()}-${orders++}`,
    customerId: customer.id,
    amount: 1500,
    currency: 'usd',
    paymentMethodId: 'pm_card_visa',
    ...overrides,
  };
}

/** A start that bypasses BillingClient: any workflow id, and the id may be run again. */
async function rawStart(
  workflowId: string,
  input: ChargeInput,
): Promise<WorkflowHandle<typeof chargeCustomer>> {
  started.add(workflowId);
  return server.client.workflow.start<typeof chargeCustomer>('chargeCustomer', {
    taskQueue,
    workflowId,
    args: [input],
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
  });
}

/** `temporal workflow execute|start --type chargeCustomer …`, as an operator types it. */
function cliCharge(
  verb: 'execute' | 'start',
  workflowId: string,
  input: ChargeInput,
): Promise<TemporalCliRun> {
  started.add(workflowId);
  return temporal([
    'workflow',
    verb,
    '--type',
    'chargeCustomer',
    '--task-queue',
    taskQueue,
    '--workflow-id',
    workflowId,
    '--input',
    JSON.stringify(input),
    '--output',
    'json',
  ]);
}

/** The result `temporal workflow execute --output json` printed for a completed run. */
function cliResult(run: TemporalCliRun): ChargeResult {
  expect(run.code, `temporal exited ${run.code}:\n${run.stderr}\n${run.stdout}`).toBe(0);
  const printed = JSON.parse(run.stdout) as { status?: string; result?: ChargeResult };
  expect(printed.status, run.stdout).toMatch(/COMPLETED/);
  return printed.result!;
}

/** The typed failure a run ended with (fails the test, saying what it returned, if it did not fail). */
async function failureOf(
  handle: WorkflowHandle<typeof chargeCustomer>,
): Promise<ApplicationFailure> {
  let result: ChargeResult;
  try {
    result = await handle.result();
  } catch (error) {
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const cause = (error as WorkflowFailedError).cause;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    return cause as ApplicationFailure;
  }
  throw new Error(`expected ${handle.workflowId} to fail; it returned ${JSON.stringify(result)}`);
}

/** What `startCharge(input)` threw (fails the test, saying what it returned, if it did not throw). */
async function startChargeError(input: ChargeInput): Promise<unknown> {
  let handle: ChargeHandle;
  try {
    handle = await billing.startCharge(input);
  } catch (error) {
    return error;
  }
  const { state } = await handle.status();
  throw new Error(
    `startCharge(${input.amount} ${input.currency}) returned ${handle.workflowId} (${state}) instead of throwing`,
  );
}

/** The run's result once it has ended; if it still runs after 10 s, fails saying where it waits. */
async function resultWithin10s(
  handle: WorkflowHandle<typeof chargeCustomer>,
): Promise<ChargeResult> {
  await eventually(
    async () => ((await handle.describe()).status.name === 'RUNNING' ? undefined : true),
    `${handle.workflowId} to end`,
    { attempts: 100, waitMs: 100 },
  ).catch(async (error: unknown) => {
    const { state, attempt } = await handle.query(statusQuery);
    throw new Error(`the run has not ended: it is ${state} (attempt ${attempt})`, { cause: error });
  });
  return handle.result();
}

/** The confirm requests that reached Stripe for the order (the simulator's request log). */
function confirmRequests(orderId: string) {
  return sim.requests({
    order_id: orderId,
    method: 'POST',
    path: '/v1/payment_intents/:id/confirm',
  });
}

const ONE_HOUR_MS = 3600 * 1000;

describe('exactly once against every caller', () => {
  it('a CLI re-run of a paid order after Stripe pruned its keys reports the same intent and charges nothing more', async () => {
    const input = await newOrder();
    const workflowId = chargeWorkflowId(input.orderId);
    const paid = cliResult(await cliCharge('execute', workflowId, input));
    expect(paid).toMatchObject({ outcome: 'succeeded', amount: 1500, currency: 'usd' });
    expect(confirmRequests(input.orderId)).toHaveLength(1);

    // Past Stripe's 24 h retention: the create key no longer returns the intent.
    sim.advanceTime(IDEMPOTENCY_KEY_TTL_MS + ONE_HOUR_MS);
    const again = cliResult(await cliCharge('execute', workflowId, input));

    expect(sim.ledger().orders[input.orderId]).toEqual({
      paymentIntents: [paid.paymentIntentId],
      successfulCharges: 1,
      amountCaptured: 1500,
    });
    expect(again).toMatchObject({
      outcome: 'succeeded',
      paymentIntentId: paid.paymentIntentId,
      amount: 1500,
      currency: 'usd',
    });
    expect(confirmRequests(input.orderId)).toHaveLength(1);
  });

  it('a run whose workflow id is not charge:<orderId> fails with WrongWorkflowId and sends Stripe nothing', async () => {
    const input = await newOrder();
    const paid = await (await rawStart(chargeWorkflowId(input.orderId), input)).result();
    expect(paid).toMatchObject({ outcome: 'succeeded', amount: 1500 });
    const requests = sim.requests({ order_id: input.orderId });
    expect(requests.length).toBeGreaterThan(0);

    const failure = await failureOf(await rawStart(input.orderId, input));

    expect(failure.type).toBe(ChargeFailureType.wrongWorkflowId);
    expect(failure.message).toContain(chargeWorkflowId(input.orderId));
    expect(sim.ledger().orders[input.orderId]).toEqual({
      paymentIntents: [paid.paymentIntentId],
      successfulCharges: 1,
      amountCaptured: 1500,
    });
    expect(sim.requests({ order_id: input.orderId })).toEqual(requests);
  });

  it('a run restarted with another amount while the first confirm is in flight fails with ChargeConflict naming what Stripe holds', async () => {
    sim.faults.add({
      kind: 'latency',
      method: 'POST',
      path: '/v1/payment_intents/:id/confirm',
      latencyMs: 2000,
    });
    const input = await newOrder();
    const workflowId = chargeWorkflowId(input.orderId);
    const first = await rawStart(workflowId, input);
    // The rule is used up when the confirm arrives: from then on Stripe holds it for 2 s.
    await eventually(
      () => Promise.resolve(sim.faults.list().length === 0 ? true : undefined),
      'the confirm to reach the simulator',
    );
    await first.terminate('restarted by an operator');

    const failure = await failureOf(await rawStart(workflowId, { ...input, amount: 1600 }));

    const intentId = sim.ledger().orders[input.orderId]?.paymentIntents[0] ?? '(no intent)';
    expect(intentId).toMatch(/^pi_/);
    expect(failure.type).toBe(ChargeFailureType.conflict);
    expect(failure.message).toContain(intentId);
    expect(failure.message).toMatch(/1500 usd.*1600 usd/);
    expect(failure.details?.[0]).toMatchObject({
      paymentIntentId: intentId,
      held: { amount: 1500, currency: 'usd', customerId: input.customerId },
      asked: { amount: 1600, currency: 'usd', customerId: input.customerId },
      fields: ['amount'],
    } satisfies Omit<ChargeConflictDetails, 'status'>);
    // The held confirm still runs at Stripe: wait until it has, then nothing beyond the 1,500.
    await eventually(
      () =>
        Promise.resolve(sim.ledger().paymentIntents[intentId]?.confirmations ? true : undefined),
      'the held confirm to run',
    );
    const ledger = sim.ledger().orders[input.orderId];
    expect(ledger?.paymentIntents).toEqual([intentId]);
    expect(ledger?.amountCaptured).toBeLessThanOrEqual(1500);
  });

  it('a paid order recovered through retryNow and started again within 24 h returns succeeded at once, with no new confirm', async () => {
    const input = await newOrder({
      paymentMethodId: 'pm_card_chargeDeclinedInsufficientFunds',
      dunning: { retryDelaysDays: [7, 7] },
    });
    const workflowId = chargeWorkflowId(input.orderId);
    const first = await rawStart(workflowId, input);
    const charge = billing.getCharge(input.orderId);
    await eventually(
      async () => ((await charge.status()).state === ChargeState.dunning ? true : undefined),
      'the declined charge to be dunning',
    );
    const card = await stripe.paymentMethods.attach('pm_card_visa', {
      customer: input.customerId,
    });
    expect(await charge.retryNow({ paymentMethodId: card.id })).toMatchObject({ accepted: true });
    const paid = await first.result();
    expect(paid).toMatchObject({ outcome: 'succeeded', amount: 1500, currency: 'usd' });
    const confirms = confirmRequests(input.orderId).length;
    expect(confirms).toBeGreaterThan(0);
    const confirmations = sim.ledger().paymentIntents[paid.paymentIntentId!]?.confirmations;

    const again = await resultWithin10s(await rawStart(workflowId, input));

    expect(again).toMatchObject({
      outcome: 'succeeded',
      paymentIntentId: paid.paymentIntentId,
      amount: 1500,
      currency: 'usd',
    });
    expect(sim.ledger().paymentIntents[paid.paymentIntentId!]?.confirmations).toBe(confirmations);
    expect(confirmRequests(input.orderId)).toHaveLength(confirms);
    expect(sim.ledger().orders[input.orderId]).toEqual({
      paymentIntents: [paid.paymentIntentId],
      successfulCharges: 1,
      amountCaptured: 1500,
    });
  });

  it('startCharge of an order already charged with another amount throws ChargeConflictError naming amount, running or ended', async () => {
    const input = await newOrder();
    const first = await billing.startCharge(input);

    const whileRunning = await startChargeError({ ...input, amount: 2500 });
    const paid = await first.result();
    const afterEnd = await startChargeError({ ...input, amount: 2500 });

    for (const error of [whileRunning, afterEnd]) {
      expect(error).toBeInstanceOf(ChargeConflictError);
      expect(error).toMatchObject({
        orderId: input.orderId,
        differences: [{ field: 'amount', existing: 1500, requested: 2500 }],
      });
      expect((error as Error).message).toMatch(/amount 1500 .*2500/);
    }
    expect(paid).toMatchObject({ outcome: 'succeeded', amount: 1500, currency: 'usd' });
    expect(sim.ledger().orders[input.orderId]).toMatchObject({
      successfulCharges: 1,
      amountCaptured: 1500,
    });
  });

  it('startCharge of an order the CLI started with another amount throws ChargeConflictError naming amount', async () => {
    const input = await newOrder();
    const cli = await cliCharge('start', chargeWorkflowId(input.orderId), input);
    expect(cli.code, cli.stderr).toBe(0);

    const error = await startChargeError({ ...input, amount: 2500 });

    expect(error).toBeInstanceOf(ChargeConflictError);
    expect(error).toMatchObject({
      differences: [{ field: 'amount', existing: 1500, requested: 2500 }],
    });
    const paid = await billing.getCharge(input.orderId).result();
    expect(paid).toMatchObject({ outcome: 'succeeded', amount: 1500, currency: 'usd' });
    expect(sim.ledger().orders[input.orderId]).toMatchObject({
      successfulCharges: 1,
      amountCaptured: 1500,
    });
  });
});
