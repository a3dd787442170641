// chargeCustomer end to end: the dev server, the real activities and stripe-node against the
// Stripe simulator, with faults injected. Every test checks the simulator's ledger: exactly one
// successful charge, or none.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { WorkflowFailedError } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import type Stripe from 'stripe';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { createStripeClient } from '../../src/activities/stripe-client.js';
import { BillingClient, type ChargeInput } from '../../src/client/index.js';
import { chargeWorkflowId } from '../../src/shared/ids.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import {
  connectDevServer,
  scratchActivities,
  uniqueTaskQueue,
  type DevServer,
  type ScratchActivities,
} from '../helpers/temporal.js';

let server: DevServer;
let sim: Simulator;
let stripe: Stripe;
let customerId: string;
let scratch: ScratchActivities;
beforeAll(async () => {
  [server, sim] = await Promise.all([connectDevServer(), startSimulator({ port: 0, seed: 4 })]);
  stripe = createStripeClient({ secretKey: 'sk_test_integration', apiBase: sim.url });
  scratch = scratchActivities(stripe);
  customerId = (await stripe.customers.create({ email: 'buyer@example.com' })).id;
});
afterAll(async () => {
  await scratch?.close();
  await sim?.close();
  await server?.close();
});
afterEach(() => sim.faults.clear());

const CONFIRM = '/v1/payment_intents/:id/confirm';

let seq = 0;
const order = (paymentMethodId: string, overrides: Partial<ChargeInput> = {}): ChargeInput => ({
  orderId: `it-${process.pid}-${Date.now()}-${seq++}`,
  customerId,
  amount: 4200,
  currency: 'usd',
  paymentMethodId,
  ...overrides,
});

/** Runs one charge on a fresh task queue with an in-process worker on the real activities. */
async function charge(input: ChargeInput) {
  const taskQueue = uniqueTaskQueue('it');
  const worker = await server.createWorker(taskQueue, { activities: scratch.activities });
  const billing = new BillingClient(server.client, { taskQueue });
  const result = await worker.runUntil(billing.startCharge(input).then((h) => h.result()));
  return { result, billing, ledger: sim.ledger().orders[input.orderId] };
}

/**
 * The idempotency keys the workflow sent for `operation`, from its history (activity inputs),
 * with the run scope of confirm and cancel keys taken out where it is the run's own id.
 */
async function sentKeys(orderId: string, operation: string): Promise<string[]> {
  const handle = server.client.workflow.getHandle(chargeWorkflowId(orderId));
  const [history, { runId }] = await Promise.all([handle.fetchHistory(), handle.describe()]);
  const keys: string[] = [];
  for (const event of history.events ?? []) {
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (!scheduled?.input?.payloads?.[0]?.data) continue;
    const arg = JSON.parse(Buffer.from(scheduled.input.payloads[0].data).toString()) as {
      idempotencyKey?: string;
    };
    if (arg.idempotencyKey?.includes(`/${operation}/`))
      keys.push(arg.idempotencyKey.replace(`/${runId}/`, '/'));
  }
  return keys;
}

describe('chargeCustomer against the Stripe simulator', () => {
  it('charges a good card exactly once', async () => {
    const input = order('pm_card_visa');
    const { result, ledger } = await charge(input);
    expect(result).toMatchObject({ outcome: 'succeeded', attempts: 1 });
    expect(ledger).toMatchObject({
      successfulCharges: 1,
      amountCaptured: 4200,
      paymentIntents: [result.paymentIntentId],
    });
  });

  it('records a decline with its codes and moves no money (no retries in this policy)', async () => {
    const input = order('pm_card_chargeDeclinedInsufficientFunds', {
      dunning: { retryDelaysDays: [] },
    });
    const { result, ledger } = await charge(input);
    expect(result).toMatchObject({
      outcome: 'failed',
      failure: { code: 'card_declined', declineCode: 'insufficient_funds' },
    });
    expect(ledger).toMatchObject({ successfulCharges: 0, amountCaptured: 0 });
  });

  it('a lost create response is retried with the same key and makes one PaymentIntent', async () => {
    // Twice: stripe-node's own single retry absorbs one drop; the second makes Temporal retry.
    sim.faults.add({ kind: 'drop_after', method: 'POST', path: '/v1/payment_intents', times: 2 });
    const input = order('pm_card_visa');
    const { result, ledger } = await charge(input);
    expect(result.outcome).toBe('succeeded');
    expect(ledger?.paymentIntents).toHaveLength(1);
    expect(ledger?.successfulCharges).toBe(1);
    expect(await sentKeys(input.orderId, 'create')).toEqual([
      `db/${chargeWorkflowId(input.orderId)}/create/0`,
    ]);
    // What Stripe received: the create executed, its answer was lost twice, and the retries with
    // the same key were answered from Stripe's saved result.
    const creates = sim.requests({
      order_id: input.orderId,
      method: 'POST',
      path: '/v1/payment_intents',
    });
    expect(new Set(creates.map((r) => r.idempotencyKey))).toEqual(
      new Set([`db/${chargeWorkflowId(input.orderId)}/create/0`]),
    );
    expect(creates.map((r) => [r.executed, r.dropped ?? false, r.replayed])).toEqual([
      [true, true, false],
      [false, true, true],
      [false, false, true],
    ]);
  });

  it('a lost confirm response is retried with the same key and charges once', async () => {
    sim.faults.add({
      kind: 'drop_after',
      method: 'POST',
      path: '/v1/payment_intents/:id/confirm',
      times: 2,
    });
    const input = order('pm_card_visa');
    const { result, ledger } = await charge(input);
    expect(result.outcome).toBe('succeeded');
    expect(ledger?.successfulCharges).toBe(1);
    expect(sim.ledger().paymentIntents[result.paymentIntentId!]?.confirmations).toBe(1);
    // What Stripe received: one key for every try; the first executed (its answer lost), the
    // last answered from the saved result. A move to …/confirm/1 would show here.
    const { runId } = await server.client.workflow
      .getHandle(chargeWorkflowId(input.orderId))
      .describe();
    const confirms = sim.requests({ order_id: input.orderId, path: CONFIRM });
    expect(confirms.map((r) => r.idempotencyKey)).toEqual(
      confirms.map(() => `db/${chargeWorkflowId(input.orderId)}/${runId}/confirm/0`),
    );
    expect(confirms.map((r) => [r.executed, r.dropped ?? false, r.replayed])).toEqual([
      [true, true, false],
      [false, true, true],
      [false, false, true],
    ]);
  });

  it('a 500 on confirm after the money moved is reconciled by reading the intent: no second confirm', async () => {
    sim.faults.add({
      kind: 'error_500_after',
      method: 'POST',
      path: '/v1/payment_intents/:id/confirm',
      times: 1,
    });
    const input = order('pm_card_visa');
    const { result, ledger } = await charge(input);
    expect(result.outcome).toBe('succeeded');
    expect(ledger?.successfulCharges).toBe(1);
    expect(await sentKeys(input.orderId, 'confirm')).toHaveLength(1);
  });

  it('a 500 on confirm that moved nothing is followed by a confirm with the next key, which succeeds', async () => {
    sim.faults.add({
      kind: 'error_500_before',
      method: 'POST',
      path: '/v1/payment_intents/:id/confirm',
      times: 1,
    });
    const input = order('pm_card_visa');
    const { result, ledger } = await charge(input);
    const wf = chargeWorkflowId(input.orderId);
    expect(result.outcome).toBe('succeeded');
    expect(ledger?.successfulCharges).toBe(1);
    expect(await sentKeys(input.orderId, 'confirm')).toEqual([
      `db/${wf}/confirm/0`,
      `db/${wf}/confirm/1`,
    ]);
  });

  it('a 500 on the reconcile read is retried (a read has no key to protect) and the order is charged once', async () => {
    sim.faults.add({
      kind: 'error_500_after',
      method: 'POST',
      path: '/v1/payment_intents/:id/confirm',
      times: 1,
    });
    sim.faults.add({
      kind: 'error_500_before',
      method: 'GET',
      path: '/v1/payment_intents/:id',
      times: 2,
    });
    const input = order('pm_card_visa');
    const { result, ledger } = await charge(input);
    expect(result.outcome).toBe('succeeded');
    expect(ledger?.successfulCharges).toBe(1);
    expect(await sentKeys(input.orderId, 'confirm')).toHaveLength(1);
  });

  it('409 and 429 are retried with the same key and the charge succeeds once', async () => {
    sim.faults.add({
      kind: 'lock_timeout_409',
      method: 'POST',
      path: '/v1/payment_intents/:id/confirm',
      times: 2,
    });
    sim.faults.add({
      kind: 'rate_limit_429',
      method: 'POST',
      path: '/v1/payment_intents/:id/confirm',
      times: 2,
    });
    const input = order('pm_card_visa');
    const { result, ledger } = await charge(input);
    expect(result.outcome).toBe('succeeded');
    expect(ledger?.successfulCharges).toBe(1);
    expect(await sentKeys(input.orderId, 'confirm')).toEqual([
      `db/${chargeWorkflowId(input.orderId)}/confirm/0`,
    ]);
  });

  it('an idempotency_error fails the charge loudly and charges nothing', async () => {
    const input = order('pm_card_visa');
    // Someone (a bug) already used this order's create key for another request, with no intent
    // of the order behind it: neither Search nor the list finds one, so the run fails loudly.
    await stripe.customers.create(
      { email: 'someone-else@example.com' },
      { idempotencyKey: `db/${chargeWorkflowId(input.orderId)}/create/0` },
    );
    const taskQueue = uniqueTaskQueue('it');
    const worker = await server.createWorker(taskQueue, {
      activities: scratch.activities,
    });
    const billing = new BillingClient(server.client, { taskQueue });
    const error: unknown = await worker.runUntil(
      billing
        .startCharge(input)
        .then((h) => h.result())
        .catch((e: unknown) => e),
    );
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect((error as WorkflowFailedError).cause).toMatchObject({ type: 'StripeIdempotencyError' });
    expect(sim.ledger().orders[input.orderId]?.successfulCharges ?? 0).toBe(0);
  });
});

describe('a worker killed mid-activity', () => {
  let child: ChildProcess | undefined;
  let replacement: Worker | undefined;
  afterEach(() => {
    child?.kill('SIGKILL');
  });

  it('is replaced, the confirm is retried with the same key, and the order is charged once', async () => {
    const taskQueue = uniqueTaskQueue('kill');
    // The confirm request sits at Stripe for 3 s: long enough to kill the worker mid-call.
    const held = sim.faults.add({
      kind: 'latency',
      latencyMs: 3000,
      method: 'POST',
      path: CONFIRM,
      times: 1,
    });
    child = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(new URL('../../src/worker.ts', import.meta.url))],
      {
        env: {
          ...process.env,
          TEMPORAL_ADDRESS: inject('temporalAddress'),
          TEMPORAL_NAMESPACE: inject('temporalNamespace'),
          TEMPORAL_TASK_QUEUE: taskQueue,
          STRIPE_API_BASE: sim.url,
          STRIPE_SECRET_KEY: 'sk_test_integration',
          WORKFLOW_BUNDLE_PATH: inject('workflowBundlePath'),
          OUTBOX_PATH: scratch.outboxPath,
        },
        stdio: 'ignore',
      },
    );
    const billing = new BillingClient(server.client, { taskQueue });
    const input = order('pm_card_visa');
    const handle = await billing.startCharge(input);

    // Wait until Stripe holds the confirm request (its latency rule is used up when the request
    // arrives; the log records it only once answered), then kill the worker hard: the kill lands
    // mid-call, before the answer can reach the worker.
    // No wall-clock cap of its own (a cold worker start on a loaded machine took longer than the
    // 15 s it had): the test's timeout bounds the wait, and a worker that died fails it at once.
    while (sim.faults.list().some((rule) => rule.id === held)) {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(
          `the worker exited (${child.exitCode ?? child.signalCode}) before its confirm reached the simulator`,
        );
      await new Promise((r) => setTimeout(r, 25));
    }
    child.kill('SIGKILL');
    expect(sim.requests({ order_id: input.orderId, path: CONFIRM })).toHaveLength(0);

    replacement = await server.createWorker(taskQueue, {
      activities: scratch.activities,
    });
    const result = await replacement.runUntil(handle.result());
    expect(result.outcome).toBe('succeeded');
    expect(sim.ledger().orders[input.orderId]?.successfulCharges).toBe(1);
    expect(await sentKeys(input.orderId, 'confirm')).toEqual([
      `db/${chargeWorkflowId(input.orderId)}/confirm/0`,
    ]);
    // Stripe saw the killed worker's request and the replacement's retry, with one key; the
    // retry came from a later attempt of the same activity.
    const confirms = sim.requests({ order_id: input.orderId, path: CONFIRM });
    expect(confirms.length).toBeGreaterThanOrEqual(2);
    expect(new Set(confirms.map((r) => r.idempotencyKey)).size).toBe(1);
    expect(confirms.filter((r) => r.executed)).toHaveLength(1);
    const history = await handle.workflow.fetchHistory();
    const attempts = (history.events ?? [])
      .map((e) => e.activityTaskStartedEventAttributes?.attempt ?? 0)
      .filter((a) => a > 0);
    expect(Math.max(...attempts)).toBeGreaterThan(1);
  }, 90_000);
});
