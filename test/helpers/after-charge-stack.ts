// The refund and dispute test stack on the real servers: a Temporal server (the run's shared dev
// server, or a time-skipping one), a Stripe simulator of its own delivering signed webhooks to
// the real receiver over HTTP, and a worker on the real activities with a scratch outbox and an
// operator alerter that keeps what it was sent. Closed in reverse order.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import type Stripe from 'stripe';
import { createActivities } from '../../src/activities/index.js';
import { createStripeClient } from '../../src/activities/stripe-client.js';
import { BillingClient, type ChargeInput } from '../../src/client/index.js';
import { OutboxNotifier, readOutbox, type OutboxEntry } from '../../src/notifications/index.js';
import type { OperatorAlerter } from '../../src/notifications/operator-alerts.js';
import type { OperatorAlert } from '../../src/shared/disputes.js';
import {
  startSimulator,
  type Simulator,
  type SimulatorOptions,
} from '../../src/simulator/index.js';
import { createStripeWebhookHandler } from '../../src/webhooks/handler.js';
import { startWebhookServer, type WebhookServer } from '../../src/webhooks/server.js';
import {
  connectDevServer,
  createTimeSkippingWorker,
  uniqueTaskQueue,
  type DevServer,
} from './temporal.js';

/** Keeps every alert (deduped by id, as the file alerter does). */
export class RecordingAlerter implements OperatorAlerter {
  readonly alerts: OperatorAlert[] = [];
  async send(alert: OperatorAlert) {
    const duplicate = this.alerts.some((a) => a.id === alert.id);
    if (!duplicate) this.alerts.push(alert);
    return { id: alert.id, duplicate };
  }
}

export interface AfterChargeStack {
  client: Client;
  sim: Simulator;
  stripe: Stripe;
  receiver: WebhookServer;
  taskQueue: string;
  billing: BillingClient;
  customerId: string;
  alerts: RecordingAlerter;
  /** The customer notifications sent so far. */
  outbox(): Promise<OutboxEntry[]>;
  /** A new order of `amount` (default 2000 usd) for the stack's customer, paid by pm_card_visa. */
  order(overrides?: Partial<ChargeInput>): ChargeInput;
  /** Charges an order and waits for its success. */
  charged(overrides?: Partial<ChargeInput>): Promise<{ orderId: string; paymentIntentId: string }>;
  close(): Promise<void>;
}

type Temporal = { kind: 'dev' } | { kind: 'time-skipping'; env: TestWorkflowEnvironment };

let orders = 0;

export async function startAfterChargeStack(
  name: string,
  {
    temporal = { kind: 'dev' },
    simulator = {},
  }: { temporal?: Temporal; simulator?: SimulatorOptions } = {},
): Promise<AfterChargeStack> {
  const dev: DevServer | undefined = temporal.kind === 'dev' ? await connectDevServer() : undefined;
  const client = dev ? dev.client : (temporal as { env: TestWorkflowEnvironment }).env.client;
  const taskQueue = uniqueTaskQueue(name);
  const secret = `whsec_${name.replace(/[^a-z0-9]/gi, '')}`;
  const handler = createStripeWebhookHandler({
    client,
    secrets: [secret],
    taskQueue,
    unmatchedWorkflowId: `stripe-events:unmatched:${taskQueue}`,
  });
  const receiver = await startWebhookServer({ handler, port: 0, bodyLimitBytes: 1024 * 1024 });
  const sim = await startSimulator({
    port: 0,
    seed: Math.floor(Math.random() * 2 ** 31),
    searchLagMs: 0,
    webhook: { url: receiver.webhookUrl, secrets: [secret] },
    ...simulator,
  });
  const stripe = createStripeClient({ secretKey: `sk_test_${name}`, apiBase: sim.url });
  const customerId = (await stripe.customers.create({ email: `${name}@example.com` })).id;
  const dir = mkdtempSync(join(tmpdir(), 'durable-billing-after-charge-'));
  const outboxPath = join(dir, 'outbox.jsonl');
  const notifier = new OutboxNotifier({ path: outboxPath });
  const alerts = new RecordingAlerter();
  const activities = createActivities({ stripe, notifier, operatorAlerts: alerts });
  const worker: Worker = dev
    ? await dev.createWorker(taskQueue, { activities })
    : await createTimeSkippingWorker(
        (temporal as { env: TestWorkflowEnvironment }).env,
        taskQueue,
        {
          activities,
        },
      );
  const running = worker.run();
  const billing = new BillingClient(client, { taskQueue });
  const order = (overrides: Partial<ChargeInput> = {}): ChargeInput => ({
    orderId: `${name}-${process.pid}-${Date.now()}-${orders++}`,
    customerId,
    amount: 2000,
    currency: 'usd',
    paymentMethodId: 'pm_card_visa',
    ...overrides,
  });
  return {
    client,
    sim,
    stripe,
    receiver,
    taskQueue,
    billing,
    customerId,
    alerts,
    outbox: () => readOutbox(outboxPath),
    order,
    async charged(overrides = {}) {
      const input = order(overrides);
      const result = await (await billing.startCharge(input)).result();
      if (result.outcome !== 'succeeded' || !result.paymentIntentId)
        throw new Error(
          `the charge of ${input.orderId} did not succeed: ${JSON.stringify(result)}`,
        );
      return { orderId: input.orderId, paymentIntentId: result.paymentIntentId };
    },
    async close() {
      await sim.close();
      await receiver.close();
      worker.shutdown();
      await running;
      await notifier.close();
      rmSync(dir, { recursive: true, force: true });
      await dev?.close();
    },
  };
}
