// The billing worker: configuration, connection, workflows and activities on the `billing`
// task queue, and graceful shutdown (the SDK drains in-flight tasks on SIGINT/SIGTERM). Its
// main logs JSON lines through the Temporal Runtime and serves SDK metrics on METRICS_PORT.
import { pathToFileURL } from 'node:url';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type Stripe from 'stripe';
import { createActivities } from './activities/index.js';
import { createStripeClient } from './activities/stripe-client.js';
import { loadConfig, type Config } from './config.js';
import { bundleWorkflows } from './embedded/bundle.js';
import { createNotifier } from './notifications/index.js';
import { fallbackLogger, loggerFromConfig } from './observability/logger.js';
import { installTemporalRuntime, metricsBindAddress } from './observability/temporal-runtime.js';
import { connectWorker } from './temporal.js';

/** The Stripe client from configuration: real Stripe with a key, or a Stripe-compatible base URL. */
export function stripeFromConfig(config: Config): Stripe {
  if (!config.STRIPE_SECRET_KEY && !config.STRIPE_API_BASE) {
    throw new Error(
      'set STRIPE_SECRET_KEY (real Stripe) or STRIPE_API_BASE (the simulator, e.g. http://127.0.0.1:12111)',
    );
  }
  // The simulator accepts any sk_test_ key; real Stripe needs the configured one.
  return createStripeClient({
    secretKey: config.STRIPE_SECRET_KEY ?? 'sk_test_simulator',
    apiBase: config.STRIPE_API_BASE,
  });
}

/** The worker's activities: the Stripe client plus the configured notifier (NOTIFIER). */
function activitiesFromConfig(config: Config, stripe: Stripe) {
  return createActivities({ stripe, notifier: createNotifier(config, { stripe }) });
}

export interface BillingWorkerOptions {
  config: Config;
  stripe?: Stripe;
  /** A bundle built in-process; otherwise WORKFLOW_BUNDLE_PATH, otherwise bundled now. */
  workflowBundle?: WorkflowBundleWithSourceMap;
}

/** Creates (does not run) the billing worker. */
export async function createBillingWorker({
  config,
  stripe,
  workflowBundle,
}: BillingWorkerOptions): Promise<Worker> {
  const prebuilt =
    workflowBundle ??
    (config.WORKFLOW_BUNDLE_PATH ? { codePath: config.WORKFLOW_BUNDLE_PATH } : undefined);
  const [{ connection, namespace }, bundle] = await Promise.all([
    connectWorker(config),
    prebuilt ?? bundleWorkflows(),
  ]);
  return Worker.create({
    connection,
    namespace,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    workflowBundle: bundle,
    activities: activitiesFromConfig(config, stripe ?? stripeFromConfig(config)),
    // Sleeping campaigns wake at most daily: evicting them costs one short replay, while the
    // SDK's default cache (sized from the heap) lets RSS grow ~1.4 MiB per sleeping charge.
    maxCachedWorkflows: config.WORKER_MAX_CACHED_WORKFLOWS,
  });
}

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = loggerFromConfig(config, { name: 'worker' });
  installTemporalRuntime(config, logger);
  const worker = await createBillingWorker({ config });
  logger.info(
    {
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      namespace: config.TEMPORAL_NAMESPACE,
      metrics: metricsBindAddress(config) ?? 'off',
    },
    'worker polling',
  );
  await worker.run();
  // The worker does not close the connection it was given; an open one keeps the Runtime alive.
  await worker.connection?.close();
  logger.info('worker stopped');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((error: unknown) => {
    // The configuration may be what failed, so the logger cannot come from it.
    fallbackLogger('worker').fatal({ err: error }, 'worker failed');
    process.exit(1);
  });
}
