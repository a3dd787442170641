// `npm start`: the embedded stack in one command: the Temporal dev server (unless TEMPORAL_ADDRESS),
// the Stripe simulator (unless a key or STRIPE_API_BASE) delivering webhooks to the receiver, a
// billing worker and the backfill Schedule. Ctrl-C stops all of it. The banners go to stdout;
// the JSON-lines logs (worker, Temporal SDK, receiver) to stderr.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { BillingClient } from './client/index.js';
import { loadConfig, type Config } from './config.js';
import { DEMO_DUNNING, seedDemo } from './demo.js';
import { CACHE_DIR, devServerExecutable } from './embedded/servers.js';
import { fallbackLogger, loggerFromConfig } from './observability/logger.js';
import { installTemporalRuntime, metricsBindAddress } from './observability/temporal-runtime.js';
import { billingSearchAttributes } from './shared/search-attributes.js';
import { startSimulator, type Simulator } from './simulator/index.js';
import { connectClient } from './temporal.js';
import { ensureBackfillSchedule } from './webhooks/backfill.js';
import { startConfiguredReceiver } from './webhooks/receiver.js';
import { createBillingWorker, stripeFromConfig } from './worker.js';
import { createLocalTemporal } from './embedded/dev-server.js';

/**
 * Starts the dev server on the configured ports, unless the config names a cluster. With the
 * simulator (`fresh`), its database starts empty too: the simulator keeps no state, so
 * workflows of an earlier run would wake to intents that no longer exist and fail. With real
 * Stripe the database is kept, and the charges of earlier runs go on.
 */
async function startTemporal(
  config: Config,
  fresh: boolean,
): Promise<{ address: string; env?: TestWorkflowEnvironment }> {
  if (config.TEMPORAL_ADDRESS) return { address: config.TEMPORAL_ADDRESS };
  const dbFilename = config.TEMPORAL_DB_FILE ?? join(CACHE_DIR, 'dev-server.db');
  if (fresh)
    for (const file of [dbFilename, `${dbFilename}-wal`, `${dbFilename}-shm`])
      rmSync(file, { force: true });
  const env = await createLocalTemporal({
    server: {
      executable: devServerExecutable(),
      ip: '127.0.0.1',
      port: config.TEMPORAL_PORT,
      ui: true,
      uiPort: config.TEMPORAL_UI_PORT,
      dbFilename,
      searchAttributes: [...billingSearchAttributes],
      // Its own log lines (stderr) as JSON too, so every log line of `npm start` is JSON.
      log: { format: 'json', level: 'warn' },
      extraArgs: ['--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=normal'],
    },
  });
  return { address: env.address, env };
}

async function main(): Promise<void> {
  const config = loadConfig();
  const sandbox = !config.STRIPE_SECRET_KEY && !config.STRIPE_API_BASE;
  // The simulator signs with a fresh secret when none is configured; real Stripe needs the
  // endpoint's own (Dashboard, or what `stripe listen` prints).
  const secrets =
    config.STRIPE_WEBHOOK_SECRET.length > 0 || !sandbox
      ? config.STRIPE_WEBHOOK_SECRET
      : [`whsec_${randomBytes(24).toString('base64url')}`];
  const logger = loggerFromConfig(config, { name: 'durable-billing', destination: 2, secrets });
  // Before anything touches Temporal: the dev server and the worker share this Runtime.
  installTemporalRuntime(config, logger);
  const temporal = await startTemporal(config, sandbox);
  const withTemporal: Config = { ...config, TEMPORAL_ADDRESS: temporal.address };
  const receiver =
    secrets.length > 0
      ? await startConfiguredReceiver(withTemporal, {
          secrets,
          logger: logger.child({ component: 'receiver' }),
        })
      : undefined;
  let sim: Simulator | undefined;
  if (sandbox) {
    sim = await startSimulator({
      port: config.STRIPE_SIM_PORT,
      processingDelayMs: config.STRIPE_SIM_PROCESSING_DELAY_MS,
      ...(receiver && { webhook: { url: receiver.webhookUrl, secrets: [...secrets] } }),
    });
  }
  const running: Config = {
    ...withTemporal,
    STRIPE_API_BASE: config.STRIPE_API_BASE ?? sim?.url,
  };
  const worker = await createBillingWorker({ config: running });
  const client = await connectClient(running);
  await ensureBackfillSchedule(client, {
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    intervalMinutes: config.BACKFILL_INTERVAL_MINUTES,
  });

  const workerMetrics = metricsBindAddress(config);
  const ui = temporal.env ? `http://127.0.0.1:${config.TEMPORAL_UI_PORT}` : '(your cluster’s UI)';
  console.log(`durable-billing is running
  Temporal UI      ${ui}
  Temporal         ${temporal.address} (namespace ${config.TEMPORAL_NAMESPACE}, task queue ${config.TEMPORAL_TASK_QUEUE})${temporal.env && sim ? ', fresh each start like the simulator' : ''}
  Stripe           ${sim ? `simulator at ${sim.url} (ledger: ${sim.url}/_sim/ledger)` : (config.STRIPE_API_BASE ?? 'api.stripe.com')}
  Webhooks         ${receiver ? `${receiver.webhookUrl} (healthz ${receiver.url}/healthz)${sim ? ', fed by the simulator' : ''}` : 'receiver off: set STRIPE_WEBHOOK_SECRET'}
  Metrics          receiver ${receiver ? `${receiver.url}/metrics` : 'off'}, worker ${workerMetrics ? `http://${workerMetrics}/metrics` : 'off (set METRICS_PORT)'}`);
  logger.info(
    {
      temporal: temporal.address,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      stripe: sim ? 'simulator' : (config.STRIPE_API_BASE ?? 'api.stripe.com'),
      receiver: receiver?.webhookUrl ?? 'off',
      workerMetrics: workerMetrics ?? 'off',
    },
    'durable-billing running',
  );

  // Worker first: the demo's charges need it to move.
  const running$ = worker.run();
  const demo = (config.DEMO ?? (sim && temporal.env ? 'on' : 'off')) === 'on';
  if (demo && sim) {
    const billing = new BillingClient(client, {
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      dunning: config.DUNNING_POLICY ?? DEMO_DUNNING,
    });
    const stripe = stripeFromConfig(running);
    const orders = await seedDemo({ billing, stripe });
    console.log(`
Demo orders (dunning compressed to about a minute between attempts: DUNNING_POLICY overrides it):
${orders.map((o) => `  ${o.orderId.padEnd(22)} ${o.story}`).join('\n')}

Try next:
  open ${ui}/namespaces/${config.TEMPORAL_NAMESPACE}/workflows?query=${encodeURIComponent('BillingStatus="dunning"')}
  npx durable-billing status ${orders[2]?.orderId}                     # where a charge is
  npx durable-billing retry-now ${orders[2]?.orderId} --payment-method pm_card_visa   # give the stolen-card order a new card
  npx durable-billing cancel ${orders[3]?.orderId} --reason "customer left"
  npx durable-billing list --status dunning
  curl -s ${sim.url}/_sim/ledger                                      # money moved, per order
  npx durable-billing charge --order my-order-1 --customer ${orders[0]?.customerId} --amount 4200 --currency usd --payment-method pm_card_visa`);
  }
  await client.connection.close();
  console.log('Press Ctrl-C to stop.');

  // The worker drains and stops on SIGINT/SIGTERM (the SDK's default shutdown signals).
  await running$;
  // The worker does not close a connection it was given; an open one keeps the Runtime (and so
  // the process, while Core logs are forwarded) alive.
  await worker.connection?.close();
  await sim?.close();
  await receiver?.stop();
  await temporal.env?.teardown();
  logger.info('durable-billing stopped');
  console.log('durable-billing stopped');
}

main().catch((error: unknown) => {
  // The configuration may be what failed, so the logger cannot come from it.
  fallbackLogger('durable-billing').fatal({ err: error }, 'npm start failed');
  process.exit(1);
});
