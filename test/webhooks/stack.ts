// The webhook test stack: the shared dev server, a Stripe simulator delivering to the real
// receiver over HTTP, and a worker (charges, unmatched events, backfill) on a task queue and an
// unmatched-events workflow id of the test file's own.
import type { Client } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import type Stripe from 'stripe';
import { createStripeClient } from '../../src/activities/stripe-client.js';
import { BillingClient, type ChargeHandle, type ChargeInput } from '../../src/client/index.js';
import {
  startSimulator,
  type Simulator,
  type SimulatorOptions,
} from '../../src/simulator/index.js';
import { createStripeWebhookHandler, type WebhookLogger } from '../../src/webhooks/handler.js';
import { startWebhookServer, type WebhookServer } from '../../src/webhooks/server.js';
import {
  unmatchedEventsQuery,
  type UnmatchedEventsView,
} from '../../src/workflows/unmatched-events.js';
import {
  connectDevServer,
  scratchActivities,
  uniqueTaskQueue,
  type DevServer,
} from '../helpers/temporal.js';

/** Bank debits stay `processing` until a test advances the simulated clock by this. */
export const PROCESSING_DELAY_MS = 24 * 3600 * 1000;
export const BODY_LIMIT_BYTES = 64 * 1024;

/** One log call the receiver made, serialised (to prove no secret is ever in it). */
export interface LogLine {
  level: string;
  line: string;
}

export interface WebhookStack {
  server: DevServer;
  client: Client;
  sim: Simulator;
  stripe: Stripe;
  customerId: string;
  receiver: WebhookServer;
  taskQueue: string;
  unmatchedWorkflowId: string;
  billing: BillingClient;
  secrets: string[];
  logs: LogLine[];
  /** A new order for the stack's customer. */
  order(paymentMethodId: string, overrides?: Partial<ChargeInput>): ChargeInput;
  /** Starts a charge and waits until it is in `state` (bounded poll on the status query). */
  chargeUntil(input: ChargeInput, state: string): Promise<ChargeHandle>;
  /** The unmatched-events workflow's view, or undefined if it never started. */
  unmatched(): Promise<UnmatchedEventsView | undefined>;
  close(): Promise<void>;
}

/**
 * Polls `probe` until it returns a value (bounded: `attempts` × `waitMs`), for state that
 * becomes visible asynchronously (visibility, a workflow reaching a state).
 */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  { attempts = 200, waitMs = 25 } = {},
): Promise<T> {
  for (let i = 0; i < attempts; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, waitMs));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function capture(logs: LogLine[]): WebhookLogger {
  const record = (level: string) => (fields: object, message: string) =>
    logs.push({
      level,
      line: JSON.stringify({ ...fields, message }, (_k, v: unknown) =>
        v instanceof Error ? v.message : v,
      ),
    });
  return { info: record('info'), warn: record('warn'), error: record('error') };
}

let orders = 0;

/** Starts the stack; `name` keeps task queue, workflow ids and orders apart from other files. */
export async function startWebhookStack(
  name: string,
  {
    secrets = ['whsec_stack_current'],
    simulator = {},
    deadlineMs = 5000,
  }: { secrets?: string[]; simulator?: SimulatorOptions; deadlineMs?: number } = {},
): Promise<WebhookStack> {
  const server = await connectDevServer();
  const taskQueue = uniqueTaskQueue(name);
  const unmatchedWorkflowId = `stripe-events:unmatched:${taskQueue}`;
  const logs: LogLine[] = [];
  const handler = createStripeWebhookHandler({
    client: server.client,
    secrets,
    taskQueue,
    unmatchedWorkflowId,
    bodyLimitBytes: BODY_LIMIT_BYTES,
    deadlineMs,
    logger: capture(logs),
  });
  const receiver = await startWebhookServer({ handler, port: 0, bodyLimitBytes: BODY_LIMIT_BYTES });
  const sim = await startSimulator({
    port: 0,
    seed: 11,
    processingDelayMs: PROCESSING_DELAY_MS,
    webhook: { url: receiver.webhookUrl, secrets: [secrets[0] ?? ''] },
    ...simulator,
  });
  const stripe = createStripeClient({ secretKey: 'sk_test_webhooks', apiBase: sim.url });
  const customerId = (await stripe.customers.create({ email: `${name}@example.com` })).id;
  const scratch = scratchActivities(stripe);
  const worker: Worker = await server.createWorker(taskQueue, {
    activities: scratch.activities,
  });
  const running = worker.run();
  const billing = new BillingClient(server.client, { taskQueue });

  const stack: WebhookStack = {
    server,
    client: server.client,
    sim,
    stripe,
    customerId,
    receiver,
    taskQueue,
    unmatchedWorkflowId,
    billing,
    secrets,
    logs,
    order: (paymentMethodId, overrides = {}) => ({
      orderId: `${name}-${process.pid}-${Date.now()}-${orders++}`,
      customerId,
      amount: 2500,
      currency: 'usd',
      paymentMethodId,
      ...overrides,
    }),
    async chargeUntil(input, state) {
      const handle = await billing.startCharge(input);
      await eventually(
        async () => ((await handle.status()).state === state ? true : undefined),
        `${input.orderId} to reach ${state}`,
      );
      return handle;
    },
    async unmatched() {
      try {
        return await server.client.workflow
          .getHandle(unmatchedWorkflowId)
          .query(unmatchedEventsQuery);
      } catch (error) {
        if (error instanceof Error && error.name === 'WorkflowNotFoundError') return undefined;
        throw error;
      }
    },
    async close() {
      await sim.close();
      await receiver.close();
      await server.client.workflow
        .getHandle(unmatchedWorkflowId)
        .terminate('test over')
        .catch((error: unknown) => {
          if (!(error instanceof Error && error.name === 'WorkflowNotFoundError')) throw error;
        });
      worker.shutdown();
      await running;
      await scratch.close();
      await server.close();
    },
  };
  return stack;
}

/** The ids of the `stripeEvent` signals in a workflow's history, in order. */
export async function signalledEventIds(client: Client, workflowId: string): Promise<string[]> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const ids: string[] = [];
  for (const event of history.events ?? []) {
    const signalled = event.workflowExecutionSignaledEventAttributes;
    if (signalled?.signalName !== 'stripeEvent') continue;
    const data = signalled.input?.payloads?.[0]?.data;
    if (data) ids.push((JSON.parse(Buffer.from(data).toString()) as { id: string }).id);
  }
  return ids;
}

/**
 * The `stripeEvent` ids in a workflow's history once `done(ids)` holds (bounded poll). A signal
 * the server accepted while a workflow task was running is durable at once but is appended to
 * history only when that task completes, so a read right after a 200 may not show it yet.
 */
export async function signalsOnceRecorded(
  client: Client,
  workflowId: string,
  done: (ids: string[]) => boolean,
): Promise<string[]> {
  let last: string[] = [];
  try {
    return await eventually(async () => {
      last = await signalledEventIds(client, workflowId);
      return done(last) ? last : undefined;
    }, `the signals of ${workflowId}`);
  } catch (error) {
    throw new Error(`history of ${workflowId} has ${JSON.stringify(last)}`, { cause: error });
  }
}

/** `done` for {@link signalsOnceRecorded}: every id is in history. */
export const including =
  (...wanted: string[]) =>
  (ids: string[]): boolean =>
    wanted.every((id) => ids.includes(id));
