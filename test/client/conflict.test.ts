// startCharge against an order's existing charge, on the shared dev server: the existing run is
// started by a raw SDK call (as the Temporal CLI or another app would) on a task queue no worker
// polls, so it stays running exactly as started; nothing here needs a charge to make progress.
import { Client, type WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BillingClient,
  ChargeConflictError,
  type ChargeHandle,
  type ChargeInput,
} from '../../src/client/index.js';
import { chargeWorkflowId } from '../../src/shared/ids.js';
import { connectDevServer, uniqueTaskQueue, type DevServer } from '../helpers/temporal.js';

let server: DevServer;
let billing: BillingClient;
const taskQueue = uniqueTaskQueue('conflict');
const started: WorkflowHandle[] = [];

beforeAll(async () => {
  server = await connectDevServer();
  billing = new BillingClient(server.client, { taskQueue });
});

afterAll(async () => {
  await Promise.all(
    started.map(async (handle) => {
      const { status } = await handle.describe();
      if (status.name === 'RUNNING') await handle.terminate('test over');
    }),
  );
  await server?.close();
});

let orders = 0;
const order = (overrides: Partial<ChargeInput> = {}): ChargeInput => ({
  orderId: `conflict-${process.pid}-${Date.now()}-${orders++}`,
  customerId: 'cus_conflict1',
  amount: 1500,
  currency: 'usd',
  ...overrides,
});

/** Starts `input`'s charge the way any SDK caller can: default id policies, no BillingClient. */
async function rawStart(input: ChargeInput, client: Client = server.client) {
  const handle = await client.workflow.start('chargeCustomer', {
    taskQueue,
    workflowId: chargeWorkflowId(input.orderId),
    args: [input],
  });
  started.push(handle);
  return handle;
}

async function conflictOf(start: Promise<ChargeHandle>): Promise<ChargeConflictError> {
  const error = await start.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ChargeConflictError);
  return error as ChargeConflictError;
}

/**
 * A client on the shared connection that records the workflow-service calls it makes (the
 * service is a Proxy of the connection's; nothing is patched).
 */
function countingClient(): { client: Client; calls: string[] } {
  const calls: string[] = [];
  const { connection } = server.client;
  const service = new Proxy(connection.workflowService, {
    get(target, method) {
      const value: unknown = Reflect.get(target, method, target);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]): unknown => {
        calls.push(String(method));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  const counted = new Proxy(connection, {
    get(target, property) {
      if (property === 'workflowService') return service;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
    },
  });
  return {
    client: new Client({ connection: counted, namespace: server.namespace }),
    calls,
  };
}

describe('startCharge for an order that already has a charge', () => {
  it('refuses another amount for a running charge, naming both amounts, and starts nothing', async () => {
    const input = order();
    const existing = await rawStart(input);
    const error = await conflictOf(billing.startCharge({ ...input, amount: 2500 }));
    expect(error).toMatchObject({
      name: 'ChargeConflictError',
      orderId: input.orderId,
      workflowId: chargeWorkflowId(input.orderId),
      runId: existing.firstExecutionRunId,
      differences: [{ field: 'amount', existing: 1500, requested: 2500 }],
    });
    expect(error.message).toContain(
      `order ${input.orderId} is already charged with other parameters: amount 1500 (existing) vs 2500 (requested)`,
    );
    const described = await existing.describe();
    expect(described.runId).toBe(existing.firstExecutionRunId);
    expect(described.status.name).toBe('RUNNING');
  });

  it('returns the running charge when asked for the same amount, currency and customer', async () => {
    const input = order();
    const existing = await rawStart(input);
    // The payment method is the existing charge's own (retryNow changes it): not a conflict.
    const handle = await billing.startCharge({ ...input, paymentMethodId: 'pm_card_visa' });
    expect(handle.workflowId).toBe(chargeWorkflowId(input.orderId));
    expect((await handle.workflow.describe()).runId).toBe(existing.firstExecutionRunId);
  });

  it('names a different customer and a different currency, each with both values', async () => {
    const input = order();
    await rawStart(input);
    const error = await conflictOf(
      billing.startCharge({ ...input, customerId: 'cus_other2', currency: 'eur' }),
    );
    expect(error.differences).toEqual([
      { field: 'currency', existing: 'usd', requested: 'eur' },
      { field: 'customerId', existing: 'cus_conflict1', requested: 'cus_other2' },
    ]);
    expect(error.message).toContain(
      'currency usd (existing) vs eur (requested); customerId cus_conflict1 (existing) vs cus_other2 (requested)',
    );
  });

  it('compares with an ended charge too: other parameters conflict, the same return the ended run', async () => {
    const input = order();
    const existing = await rawStart(input);
    await existing.terminate('ended for the test');
    const error = await conflictOf(billing.startCharge({ ...input, amount: 2500 }));
    expect(error).toMatchObject({
      runId: existing.firstExecutionRunId,
      differences: [{ field: 'amount', existing: 1500, requested: 2500 }],
    });
    const handle = await billing.startCharge(input);
    const described = await handle.workflow.describe();
    expect(described.runId).toBe(existing.firstExecutionRunId);
    expect(described.status.name).toBe('TERMINATED');
  });

  it('treats a run started with an input of another shape as a conflict, never as the same charge', async () => {
    const orderId = order().orderId;
    const existing = await server.client.workflow.start('chargeCustomer', {
      taskQueue,
      workflowId: chargeWorkflowId(orderId),
      args: [{ orderId, amount: '1500' }],
    });
    started.push(existing);
    const error = await conflictOf(billing.startCharge(order({ orderId })));
    expect(error.differences).toEqual([
      { field: 'amount', existing: '1500', requested: 1500 },
      { field: 'currency', existing: '(missing)', requested: 'usd' },
      { field: 'customerId', existing: '(missing)', requested: 'cus_conflict1' },
    ]);
  });

  it('costs one request for a new charge (no comparison) and two for an existing one', async () => {
    const { client, calls } = countingClient();
    const counted = new BillingClient(client, { taskQueue });
    const input = order();
    started.push((await counted.startCharge(input)).workflow);
    expect(calls).toEqual(['startWorkflowExecution']);
    calls.length = 0;
    await counted.startCharge(input);
    expect(calls).toEqual(['startWorkflowExecution', 'getWorkflowExecutionHistory']);
  });
});
