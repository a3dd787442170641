// The shop's worker process: the packaged billing worker (workflows and Stripe activities),
// configured by the environment (TEMPORAL_ADDRESS, TEMPORAL_TASK_QUEUE, STRIPE_SECRET_KEY, …),
// with the shop's own final action when a campaign ends unpaid. `npx durable-billing worker`
// runs the same worker without a final action of the shop's.
import { createBillingWorker } from 'durable-billing/worker';

const worker = await createBillingWorker({
  finalAction: async ({ orderId }) => {
    console.log(`order ${orderId} stays unpaid: cancel its shipment`);
  },
});
console.log('shop worker polling');
await worker.run(); // until SIGINT/SIGTERM: in-flight tasks drain first
await worker.connection?.close();
