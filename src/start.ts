// `npm start`: the embedded stack in one command. Without TEMPORAL_ADDRESS it runs the Temporal
// dev server (UI on :8233, SQLite in the cache dir); without STRIPE_SECRET_KEY or
// STRIPE_API_BASE it runs the Stripe simulator; then a billing worker. Ctrl-C stops all of it.
import { join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { loadConfig, type Config } from './config.js';
import { CACHE_DIR, devServerExecutable } from './embedded/servers.js';
import { billingSearchAttributes } from './shared/search-attributes.js';
import { startSimulator, type Simulator } from './simulator/index.js';
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
  let sim: Simulator | undefined;
  if (!config.STRIPE_SECRET_KEY && !config.STRIPE_API_BASE) {
    sim = await startSimulator({ port: config.STRIPE_SIM_PORT });
  }
  const running: Config = {
    ...config,
    TEMPORAL_ADDRESS: temporal.address,
    STRIPE_API_BASE: config.STRIPE_API_BASE ?? sim?.url,
  };
  const worker = await createBillingWorker({ config: running });

  const ui = temporal.env ? `http://127.0.0.1:${config.TEMPORAL_UI_PORT}` : '(your cluster’s UI)';
  console.log(`durable-billing is running
  Temporal UI      ${ui}
  Temporal         ${temporal.address} (namespace ${config.TEMPORAL_NAMESPACE}, task queue ${config.TEMPORAL_TASK_QUEUE})
  Stripe           ${sim ? `simulator at ${sim.url} (ledger: ${sim.url}/_sim/ledger)` : (config.STRIPE_API_BASE ?? 'api.stripe.com')}
Press Ctrl-C to stop.`);

  // The worker drains and stops on SIGINT/SIGTERM (the SDK's default shutdown signals).
  await worker.run();
  await sim?.close();
  await temporal.env?.teardown();
  console.log('durable-billing stopped');
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
