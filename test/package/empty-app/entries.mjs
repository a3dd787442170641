// Imports every entry point of the installed package and prints what each gives.
const workflows = await import('durable-billing/workflows');
const { createActivities } = await import('durable-billing/activities');
const { createBillingWorker, workflowsPath } = await import('durable-billing/worker');
const { stripeWebhookHandler } = await import('durable-billing/webhooks/express');
const { createWebhookFetchHandler } = await import('durable-billing/webhooks/web');
const { startSimulator } = await import('durable-billing/simulator');
// Fastify is an optional peer: the entry loads without it (its import is types-only).
const { stripeWebhookPlugin } = await import('durable-billing/webhooks/fastify');
console.log(
  JSON.stringify({
    workflows: Object.keys(workflows).sort(),
    activities: typeof createActivities,
    worker: typeof createBillingWorker,
    workflowsPath: typeof workflowsPath,
    express: typeof stripeWebhookHandler,
    fastify: typeof stripeWebhookPlugin,
    web: typeof createWebhookFetchHandler,
    simulator: typeof startSimulator,
  }),
);
