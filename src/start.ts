// `npm start`: the embedded stack in one command: the Temporal dev server (unless TEMPORAL_ADDRESS),
// the Stripe simulator (unless a key or STRIPE_API_BASE) delivering webhooks to the receiver, a
// billing worker and the backfill Schedule. Ctrl-C stops all of it.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { loadConfig, type Config } from './config.js';
import { CACHE_DIR, devServerExecutable } from './embedded/servers.js';
import { billingSearchAttributes } from './shared/search-attributes.js';
import { startSimulator, type Simulator } from './simulator/index.js';
import { connectClient } from './temporal.js';
import { ensureBackfillSchedule } from './webhooks/backfill.js';
import { startConfiguredReceiver } from './webhooks/receiver.js';
import { createBillingWorker } from './worker.js';

/** Starts the dev server on the configured ports, unless the config names a cluster. */
async function startTemporal(
  config: Config,
): Promise<{ address: string; env?: TestWorkflowEnvironment }> {
  if (config.TEMPORAL_ADDRESS) return { address: config.TEMPORAL_ADDRESS };
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: devServerExecutable(),
      ip: '127.0.0.1',
      port: config.TEMPORAL_PORT,
      ui: true,
      uiPort: config.TEMPORAL_UI_PORT,
      dbFilename: config.TEMPORAL_DB_FILE ?? join(CACHE_DIR, 'dev-server.db'),
      searchAttributes: [...billingSearchAttributes],
      extraArgs: ['--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=normal'],
    },
  });
  return { address: env.address, env };
}

async function main(): Promise<void> {
  const config = loadConfig();
  const temporal = await startTemporal(config);
  const sandbox = !config.STRIPE_SECRET_KEY && !config.STRIPE_API_BASE;
  // The simulator signs with a fresh secret when none is configured; real Stripe needs the
  // endpoint's own (Dashboard, or what `stripe listen` prints).
  const secrets =
    config.STRIPE_WEBHOOK_SECRET.length > 0 || !sandbox
      ? config.STRIPE_WEBHOOK_SECRET
      : [`whsec_${randomBytes(24).toString('base64url')}`];
  const withTemporal: Config = { ...config, TEMPORAL_ADDRESS: temporal.address };
  const receiver =
    secrets.length > 0 ? await startConfiguredReceiver(withTemporal, { secrets }) : undefined;
  let sim: Simulator | undefined;
  if (sandbox) {
    sim = await startSimulator({
      port: config.STRIPE_SIM_PORT,
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
  await client.connection.close();

  const ui = temporal.env ? `http://127.0.0.1:${config.TEMPORAL_UI_PORT}` : '(your cluster’s UI)';
  console.log(`durable-billing is running
  Temporal UI      ${ui}
  Temporal         ${temporal.address} (namespace ${config.TEMPORAL_NAMESPACE}, task queue ${config.TEMPORAL_TASK_QUEUE})
  Stripe           ${sim ? `simulator at ${sim.url} (ledger: ${sim.url}/_sim/ledger)` : (config.STRIPE_API_BASE ?? 'api.stripe.com')}
  Webhooks         ${receiver ? `${receiver.webhookUrl} (healthz ${receiver.url}/healthz)${sim ? ', fed by the simulator' : ''}` : 'receiver off: set STRIPE_WEBHOOK_SECRET'}
Press Ctrl-C to stop.`);

  // The worker drains and stops on SIGINT/SIGTERM (the SDK's default shutdown signals).
  await worker.run();
  await sim?.close();
  await receiver?.stop();
  await temporal.env?.teardown();
  console.log('durable-billing stopped');
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
