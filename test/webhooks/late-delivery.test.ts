// A webhook delivered two days late (time-skipping server): the charge does not wait for it (it
// re-reads Stripe on its daily timer), and the late event, freshly signed, is acknowledged and
// changes nothing: the outcome and the ledger stay as they were.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStripeClient } from '../../src/activities/stripe-client.js';
import { BillingClient } from '../../src/client/index.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { createStripeWebhookHandler } from '../../src/webhooks/handler.js';
import { startWebhookServer, type WebhookServer } from '../../src/webhooks/server.js';
import {
  createTimeSkippingEnv,
  createTimeSkippingWorker,
  uniqueTaskQueue,
  scratchActivities,
} from '../helpers/temporal.js';
import { eventually, type LogLine } from './stack.js';

const SECRET = 'whsec_late';
const DAY = 24 * 3600 * 1000;
let env: TestWorkflowEnvironment;
let sim: Simulator;
let receiver: WebhookServer;
const logs: LogLine[] = [];

beforeAll(async () => {
  env = await createTimeSkippingEnv();
  sim = await startSimulator({ port: 0, seed: 3, processingDelayMs: 3600_000 });
});
afterAll(async () => {
  await sim?.close();
  await receiver?.close();
  await env?.teardown();
});

describe('late delivery', () => {
  it('an event delivered 2 days late is acknowledged and leaves the outcome and the ledger unchanged', async () => {
    const taskQueue = uniqueTaskQueue('late');
    const record = (level: string) => (fields: object, message: string) =>
      logs.push({ level, line: JSON.stringify({ ...fields, message }) });
    const handler = createStripeWebhookHandler({
      client: env.client,
      secrets: [SECRET],
      taskQueue,
      unmatchedWorkflowId: `stripe-events:unmatched:${taskQueue}`,
      logger: { info: record('info'), warn: record('warn'), error: record('error') },
    });
    receiver = await startWebhookServer({ handler, port: 0, bodyLimitBytes: 1 << 20 });
    sim.setWebhookTarget({ url: receiver.webhookUrl, secrets: [SECRET] });
    sim.webhookFaults.add({
      kind: 'delay',
      eventType: 'payment_intent.succeeded',
      delayMs: 2 * DAY,
    });

    const stripe = createStripeClient({ secretKey: 'sk_test_late', apiBase: sim.url });
    const customerId = (await stripe.customers.create({ email: 'late@example.com' })).id;
    const scratch = scratchActivities(stripe);
    const worker = await createTimeSkippingWorker(env, taskQueue, {
      activities: scratch.activities,
    });
    const billing = new BillingClient(env.client, { taskQueue });
    const orderId = `late-${process.pid}-${Date.now()}`;

    const result = await worker.runUntil(async () => {
      const charge = await billing.startCharge({
        orderId,
        customerId,
        amount: 1800,
        currency: 'usd',
        paymentMethodId: 'pm_usBankAccount_success',
      });
      await eventually(
        async () => ((await charge.status()).state === 'processing' ? true : undefined),
        'processing',
      );
      sim.advanceTime(3600_000); // the debit settles; its webhook is held back 2 days
      const outcome = await charge.result(); // time skips to the charge's daily re-read
      sim.advanceTime(2 * DAY);
      await sim.flushWebhooks();
      return { outcome, status: await charge.status() };
    });
    await scratch.close();

    expect(result.outcome).toMatchObject({ outcome: 'succeeded', attempts: 1 });
    const succeeded = sim.events().find((e) => e.type === 'payment_intent.succeeded')!;
    const delivery = sim.webhookDeliveries().find((d) => d.eventId === succeeded.id)!;
    expect(delivery.result).toBe(200);
    expect(delivery.at - succeeded.created * 1000).toBeGreaterThanOrEqual(2 * DAY);
    const routed = logs.find((l) => l.line.includes(succeeded.id));
    expect(JSON.parse(routed!.line)).toMatchObject({ delivery: 'closed' });
    expect(result.status.state).toBe('succeeded');
    expect(sim.ledger().orders[orderId]).toMatchObject({
      successfulCharges: 1,
      amountCaptured: 1800,
    });
  });
});
