// Temporal stopped: the receiver answers 503 at once (no retry, no sleep), Stripe keeps the event;
// after Temporal restarts (same port, same database) the redelivery gets 200 and the order
// completes with one charge. Uses a dev server of its own, which it stops and starts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { IllegalStateError } from '@temporalio/common';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createStripeClient } from '../../src/activities/stripe-client.js';
import { BillingClient } from '../../src/client/index.js';
import { loadConfig } from '../../src/config.js';
import { devServerExecutable } from '../../src/embedded/servers.js';
import { billingSearchAttributes } from '../../src/shared/search-attributes.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { createReceiverClient } from '../../src/webhooks/client.js';
import { createStripeWebhookHandler } from '../../src/webhooks/handler.js';
import { startWebhookServer, type WebhookServer } from '../../src/webhooks/server.js';
import { freePort } from '../helpers/ports.js';
import { scratchActivities, uniqueTaskQueue } from '../helpers/temporal.js';
import { eventually, PROCESSING_DELAY_MS } from './stack.js';
import { createLocalTemporal } from '../../src/embedded/dev-server.js';

const SECRET = 'whsec_outage';
const DEADLINE_MS = 2000;
/** gRPC status codes the receiver's Temporal calls end with (grpc/status.h). */
const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_UNAVAILABLE = 14;

/** A logger that keeps what the handler reports for each 503 (the error it got from Temporal). */
function failureLog() {
  const errors: unknown[] = [];
  const ignore = () => {};
  return {
    errors,
    logger: {
      info: ignore,
      warn: ignore,
      error: (fields: object) => errors.push((fields as { err?: unknown }).err),
    },
  };
}

/** The gRPC status code in an error's cause chain (the SDK wraps the transport's error). */
function grpcCode(error: unknown): number | undefined {
  for (let e = error; e instanceof Error || (typeof e === 'object' && e !== null);) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'number') return code;
    e = (e as { cause?: unknown }).cause;
    if (e === undefined) break;
  }
  return undefined;
}
let dir: string;
let port: number;
let env: TestWorkflowEnvironment | undefined;
let sim: Simulator;
let receiver: WebhookServer;
let receiverClient: Client;

function startTemporal(): Promise<TestWorkflowEnvironment> {
  return createLocalTemporal({
    server: {
      executable: devServerExecutable(),
      ip: '127.0.0.1',
      port,
      dbFilename: join(dir, 'temporal.db'),
      searchAttributes: [...billingSearchAttributes],
      log: { format: 'pretty', level: 'error' },
    },
  });
}

/** An app client and a worker on the running server (both end with it). */
async function connectWorker(taskQueue: string) {
  const address = `127.0.0.1:${port}`;
  const [connection, appConnection] = await Promise.all([
    NativeConnection.connect({ address }),
    Connection.connect({ address }),
  ]);
  const stripe = createStripeClient({ secretKey: 'sk_test_outage', apiBase: sim.url });
  const scratch = scratchActivities(stripe);
  const worker = await Worker.create({
    connection,
    taskQueue,
    workflowBundle: { codePath: inject('workflowBundlePath') },
    activities: scratch.activities,
  });
  const running = worker.run();
  return {
    billing: new BillingClient(new Client({ connection: appConnection }), { taskQueue }),
    stripe,
    async stop() {
      worker.shutdown();
      await running;
      await scratch.close();
      await Promise.all([connection.close(), appConnection.close()]);
    },
  };
}

beforeAll(async () => {
  // Quiet SDK logs (the worker restarts are expected), as the shared harness does.
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch (error) {
    if (!(error instanceof IllegalStateError)) throw error;
  }
  dir = mkdtempSync(join(tmpdir(), 'db-outage-'));
  port = await freePort();
  env = await startTemporal();
  // The receiver's production client: lazy, no retry interceptor, short reconnect backoff.
  receiverClient = createReceiverClient(
    loadConfig({ TEMPORAL_ADDRESS: `127.0.0.1:${port}`, WEBHOOK_DEADLINE_MS: String(DEADLINE_MS) }),
  );
  sim = await startSimulator({ port: 0, seed: 5, processingDelayMs: PROCESSING_DELAY_MS });
});
afterAll(async () => {
  await sim?.close();
  await receiver?.close();
  await receiverClient?.connection.close();
  await env?.teardown();
  rmSync(dir, { recursive: true, force: true });
});

describe('Temporal outage', () => {
  it('Temporal stopped → 503 at once; after a restart the redelivery gets 200 and the order completes once', async () => {
    const taskQueue = uniqueTaskQueue('outage');
    const failures = failureLog();
    const handler = createStripeWebhookHandler({
      client: receiverClient,
      logger: failures.logger,
      secrets: [SECRET],
      taskQueue,
      unmatchedWorkflowId: `stripe-events:unmatched:${taskQueue}`,
      deadlineMs: DEADLINE_MS,
    });
    receiver = await startWebhookServer({ handler, port: 0, bodyLimitBytes: 1 << 20 });
    sim.setWebhookTarget({ url: receiver.webhookUrl, secrets: [SECRET] });

    let stack = await connectWorker(taskQueue);
    const customerId = (await stack.stripe.customers.create({ email: 'outage@example.com' })).id;
    const orderId = `outage-${process.pid}-${Date.now()}`;
    const charge = await stack.billing.startCharge({
      orderId,
      customerId,
      amount: 3100,
      currency: 'usd',
      paymentMethodId: 'pm_usBankAccount_success',
    });
    await eventually(
      async () => ((await charge.status()).state === 'processing' ? true : undefined),
      'processing',
    );
    await sim.flushWebhooks();
    expect(sim.webhookDeliveries().every((d) => d.result === 200)).toBe(true);

    await stack.stop();
    await env!.teardown();
    env = undefined;

    // The debit settles while Temporal is down: Stripe's webhook is refused with 503 at once,
    // because the connection is refused (UNAVAILABLE), not because the deadline ran out.
    sim.advanceTime(PROCESSING_DELAY_MS);
    const before = performance.now();
    await sim.flushWebhooks();
    const refusedInMs = performance.now() - before;
    const attempts = sim.webhookDeliveries().filter((d) => d.type === 'payment_intent.succeeded');
    expect(attempts.map((d) => d.result)).toEqual([503]);
    expect(failures.errors.map(grpcCode)).toEqual([GRPC_UNAVAILABLE]);
    console.log(`outage: 503 after ${Math.round(refusedInMs)} ms`);

    env = await startTemporal();
    stack = await connectWorker(taskQueue);
    try {
      // Stripe redelivers on its schedule (first retry after a minute). The receiver's channel
      // reconnects within its short backoff; a retry that still meets it down gets 503 again.
      await eventually(
        async () => {
          sim.advanceTime(60 * 60_000);
          await sim.flushWebhooks();
          return sim
            .webhookDeliveries()
            .some((d) => d.type === 'payment_intent.succeeded' && d.result === 200)
            ? true
            : undefined;
        },
        'a redelivery to be accepted',
        { attempts: 40, waitMs: 250 },
      );
      const handle = stack.billing.getCharge(orderId);
      expect(await handle.result()).toMatchObject({ outcome: 'succeeded', attempts: 1 });
      expect(sim.ledger().orders[orderId]).toMatchObject({
        successfulCharges: 1,
        amountCaptured: 3100,
      });
    } finally {
      await stack.stop();
    }
  });

  it('a Temporal that accepts connections but never answers gets 503 within the deadline', async () => {
    const sockets = new Set<Socket>();
    const blackHole = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
    const address = blackHole.address() as AddressInfo;
    const client = createReceiverClient(
      loadConfig({ TEMPORAL_ADDRESS: `127.0.0.1:${address.port}`, WEBHOOK_DEADLINE_MS: '300' }),
    );
    const failures = failureLog();
    const handler = createStripeWebhookHandler({
      client,
      secrets: [SECRET],
      taskQueue: 'nowhere',
      deadlineMs: 300,
      logger: failures.logger,
    });
    const rawBody = JSON.stringify({
      id: 'evt_blackhole',
      object: 'event',
      type: 'payment_intent.succeeded',
      created: Math.floor(Date.now() / 1000),
      data: {
        object: {
          id: 'pi_blackhole',
          object: 'payment_intent',
          metadata: { workflow_id: 'charge:blackhole' },
        },
      },
    });
    const started = performance.now();
    const response = await handler({
      rawBody,
      headers: {
        'stripe-signature': Stripe.webhooks.generateTestHeaderString({
          payload: rawBody,
          secret: SECRET,
        }),
      },
    });
    const elapsed = performance.now() - started;
    expect(response.status).toBe(503);
    // The 503 came from the 300 ms deadline (the black hole never answers), not from anything else.
    expect(failures.errors.map(grpcCode)).toEqual([GRPC_DEADLINE_EXCEEDED]);
    expect(elapsed).toBeGreaterThanOrEqual(300);
    console.log(`black hole: 503 after ${Math.round(elapsed)} ms (deadline 300 ms)`);
    for (const socket of sockets) socket.destroy();
    blackHole.close();
    await client.connection.close();
  });
});
