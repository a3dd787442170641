// The billing worker: configuration, connection, workflows and activities on the `billing`
// task queue, and graceful shutdown (the SDK drains in-flight tasks on SIGINT/SIGTERM). Its
// main logs JSON lines through the Temporal Runtime and serves SDK metrics on METRICS_PORT.
import { pathToFileURL } from 'node:url';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type Stripe from 'stripe';
import { createActivities } from './activities/index.js';
import { createStripeClient } from './activities/stripe-client.js';
import { loadConfig, type Config } from './config.js';
import { bundleWorkflows, WORKFLOWS_PATH } from './embedded/bundle.js';
import type { FinalActionHook } from './activities/final-action.js';
import { createNotifier } from './notifications/index.js';
import type { Notifier } from './notifications/notifier.js';
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

export interface BillingWorkerOptions {
  /** Default: `loadConfig()`, from the environment (see docs/configuration.md). */
  config?: Config;
  /** Default: from STRIPE_SECRET_KEY / STRIPE_API_BASE. */
  stripe?: Stripe;
  /** Customer notifications; default: the one NOTIFIER configures. */
  notifier?: Notifier;
  /** What to do when a campaign ends unpaid (e.g. suspend the account); default: logged. */
  finalAction?: FinalActionHook;
  /** A bundle built in-process; otherwise WORKFLOW_BUNDLE_PATH, otherwise bundled now. */
  workflowBundle?: WorkflowBundleWithSourceMap;
}

/**
 * The workflow entry for an app's own `Worker.create({ workflowsPath })`: every workflow the
 * billing worker serves, bundleable from node_modules.
 */
export const workflowsPath: string = WORKFLOWS_PATH;
export { loadConfig, type Config } from './config.js';
export { createActivities, type ActivityDependencies } from './activities/index.js';
export type { FinalActionHook, FinalActionRequest } from './activities/final-action.js';
export type { Notifier } from './notifications/notifier.js';

/** Creates (does not run) the billing worker. */
export async function createBillingWorker({
  config = loadConfig(),
  stripe,
  notifier,
  finalAction,
  workflowBundle,
}: BillingWorkerOptions = {}): Promise<Worker> {
  const prebuilt =
    workflowBundle ??
    (config.WORKFLOW_BUNDLE_PATH ? { codePath: config.WORKFLOW_BUNDLE_PATH } : undefined);
  const [{ connection, namespace }, bundle] = await Promise.all([
    connectWorker(config),
    prebuilt ?? bundleWorkflows(),
  ]);
  const client = stripe ?? stripeFromConfig(config);
  return Worker.create({
    connection,
    namespace,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    workflowBundle: bundle,
    activities: createActivities({
      stripe: client,
      notifier: notifier ?? createNotifier(config, { stripe: client }),
      ...(finalAction && { finalAction }),
    }),
    // Sleeping campaigns wake at most daily: evicting them costs one short replay, while the
    // SDK's default cache (sized from the heap) lets RSS grow ~1.4 MiB per sleeping charge.
    maxCachedWorkflows: config.WORKER_MAX_CACHED_WORKFLOWS,
  });
}

/**
 * Runs the configured worker until SIGINT/SIGTERM (the SDK drains in-flight tasks), logging
 * JSON lines (readable ones on a terminal) through the Temporal Runtime: `durable-billing
 * worker`, `npm run worker` and the image's `node dist/worker.js`.
 */
export async function runWorker(config: Config = loadConfig()): Promise<void> {
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
  runWorker().catch((error: unknown) => {
    // The configuration may be what failed, so the logger cannot come from it.
    fallbackLogger('worker').fatal({ err: error }, 'worker failed');
    process.exit(1);
  });
}
