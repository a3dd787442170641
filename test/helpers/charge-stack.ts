// One test file's charging stack on the real servers: the run's shared dev server, a Stripe
// simulator of its own, stripe-node pointed at it, and a running worker on the real activities
// (scratch outbox) with a BillingClient for its task queue. Closed in reverse order.
import type { Worker, WorkerOptions } from '@temporalio/worker';
import type Stripe from 'stripe';
import { createStripeClient } from '../../src/activities/stripe-client.js';
import { BillingClient } from '../../src/client/index.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import {
  connectDevServer,
  scratchActivities,
  uniqueTaskQueue,
  type DevServer,
  type ScratchActivities,
} from './temporal.js';

export interface ChargeStack {
  server: DevServer;
  sim: Simulator;
  stripe: Stripe;
  scratch: ScratchActivities;
  worker: Worker;
  taskQueue: string;
  billing: BillingClient;
  /** Stops the worker, then closes the outbox, the simulator and the connections. */
  close(): Promise<void>;
}

/**
 * Starts the stack; `name` prefixes the task queue and the Stripe key. The simulator's seed is
 * random, so customer ids never repeat those of other files' simulators on the shared server.
 */
export async function startChargeStack(
  name: string,
  workerOptions: Pick<WorkerOptions, 'debugMode'> = {},
): Promise<ChargeStack> {
  const [server, sim] = await Promise.all([
    connectDevServer(),
    startSimulator({ port: 0, seed: Math.floor(Math.random() * 2 ** 31) }),
  ]);
  const stripe = createStripeClient({ secretKey: `sk_test_${name}`, apiBase: sim.url });
  const scratch = scratchActivities(stripe);
  const taskQueue = uniqueTaskQueue(name);
  const worker = await server.createWorker(taskQueue, {
    activities: scratch.activities,
    ...workerOptions,
  });
  const running = worker.run();
  return {
    server,
    sim,
    stripe,
    scratch,
    worker,
    taskQueue,
    billing: new BillingClient(server.client, { taskQueue }),
    async close() {
      worker.shutdown();
      await running;
      await scratch.close();
      await sim.close();
      await server.close();
    },
  };
}
