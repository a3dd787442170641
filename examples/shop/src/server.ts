// The shop's web process: `POST /orders/:id/pay` starts the order's charge and returns at once,
// `GET /orders/:id` says where it is (`?wait=1` waits for the outcome), and Stripe's webhooks
// are mounted at /webhooks/stripe. The worker runs in its own process (worker.ts).
import { Client, Connection } from '@temporalio/client';
import {
  BillingClient,
  ChargeConflictError,
  InvalidInputError,
  type ChargeResult,
  type ChargeStatus,
} from 'durable-billing';
import { stripeWebhookHandler } from 'durable-billing/webhooks/express';
import express from 'express';

const env = (name: string, fallback?: string): string => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`set ${name}`);
  return value;
};

const connection = await Connection.connect({ address: env('TEMPORAL_ADDRESS', 'localhost:7233') });
const client = new Client({ connection, namespace: env('TEMPORAL_NAMESPACE', 'default') });
const taskQueue = env('TEMPORAL_TASK_QUEUE', 'billing');
const billing = new BillingClient(client, { taskQueue });

const app = express();

// Before express.json(): the signature covers the exact bytes, and the adapter reads them.
app.post(
  '/webhooks/stripe',
  stripeWebhookHandler({
    client,
    secrets: env('STRIPE_WEBHOOK_SECRET').split(','),
    taskQueue,
  }),
);
app.use(express.json());

app.post('/orders/:id/pay', async (req, res) => {
  const {
    customerId,
    amount,
    currency = 'usd',
    paymentMethodId,
  } = req.body as Record<string, unknown>;
  try {
    const charge = await billing.startCharge({
      orderId: req.params.id,
      customerId: String(customerId),
      amount: Number(amount),
      currency: String(currency),
      ...(typeof paymentMethodId === 'string' && { paymentMethodId }),
    });
    res.status(202).json({ workflowId: charge.workflowId });
  } catch (error) {
    if (error instanceof InvalidInputError) res.status(400).json({ error: error.message });
    else if (error instanceof ChargeConflictError) res.status(409).json({ error: error.message });
    else throw error;
  }
});

app.get('/orders/:id', async (req, res) => {
  const charge = billing.getCharge(req.params.id);
  const answer: ChargeResult | ChargeStatus =
    req.query.wait === '1' ? await charge.result() : await charge.status();
  res.json(answer);
});

const port = Number(env('PORT', '3000'));
const server = app.listen(port, '127.0.0.1', () => {
  console.log(`shop listening on http://127.0.0.1:${port}`);
});

for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    server.close();
    void connection.close();
  });
