// Figure: how long a billing worker takes to drain on SIGTERM with many workflows in its cache.
// A dev server of its own, the simulator, and one worker process (`tsx src/worker.ts`, as
// `npm run worker` runs it) with a cache large enough to hold every charge; N charges are started
// with a soft decline so each sleeps in dunning (cached, nothing in flight); then SIGTERM, and the
// time until the process exits. `npx tsx bench/drain.ts [--charges 5000]`.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { BillingClient } from '../src/client/index.js';
import { createStripeClient } from '../src/activities/stripe-client.js';
import { createLocalTemporal } from '../src/embedded/dev-server.js';
import { devServerExecutable } from '../src/embedded/servers.js';
import { billingSearchAttributes } from '../src/shared/search-attributes.js';
import { startSimulator } from '../src/simulator/index.js';

const { values } = parseArgs({
  options: { charges: { type: 'string', default: '5000' } },
  strict: true,
});
const charges = Number(values.charges);
const repo = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'durable-billing-drain-'));
const log = (line: string) => process.stderr.write(`[drain] ${line}\n`);

const [env, sim] = await Promise.all([
  createLocalTemporal({
    server: {
      executable: devServerExecutable(),
      dbFilename: join(dir, 'temporal.db'),
      searchAttributes: [...billingSearchAttributes],
      extraArgs: ['--sqlite-pragma', 'journal_mode=wal'],
    },
  }),
  startSimulator({ port: 0, searchLagMs: 0 }),
]);
const stripe = createStripeClient({ secretKey: 'sk_test_drain', apiBase: sim.url });
const customer = await stripe.customers.create({ email: 'drain@example.com' });
const worker = spawn(process.execPath, ['--import', 'tsx', join(repo, 'src', 'worker.ts')], {
  cwd: repo,
  env: {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_TASK_QUEUE: 'billing',
    STRIPE_API_BASE: sim.url,
    STRIPE_SECRET_KEY: 'sk_test_drain',
    OUTBOX_PATH: join(dir, 'outbox.jsonl'),
    WORKER_MAX_CACHED_WORKFLOWS: String(charges + 1000),
    LOG_LEVEL: 'warn',
  },
  stdio: ['ignore', 'ignore', 'inherit'],
});
const exited = new Promise<number | null>((resolve) =>
  worker.once('exit', (code) => resolve(code)),
);

const billing = new BillingClient(env.client, { taskQueue: 'billing' });
const run = Date.now().toString(36);
const started = Date.now();
for (let i = 0; i < charges; i += 100)
  await Promise.all(
    Array.from({ length: Math.min(100, charges - i) }, (_, j) =>
      billing.startCharge({
        orderId: `drain-${run}-${i + j}`,
        customerId: customer.id,
        amount: 1000,
        currency: 'usd',
        paymentMethodId: 'pm_card_chargeDeclinedInsufficientFunds',
        dunning: { retryDelaysDays: [30] },
      }),
    ),
  );
log(
  `${charges} charges started in ${((Date.now() - started) / 1000).toFixed(0)} s; waiting until all sleep`,
);
// Every charge sleeping in dunning: the worker holds each in its cache, nothing in flight.
for (;;) {
  const { count } = await env.client.workflow.count(
    `WorkflowType = 'chargeCustomer' AND BillingStatus = 'dunning'`,
  );
  if (count >= charges) break;
  await new Promise((resolve) => setTimeout(resolve, 2000));
}
// The first-failure notices (an activity each) finish shortly after the state is set.
await new Promise((resolve) => setTimeout(resolve, 15_000));
const settled = (Date.now() - started) / 1000;
const rss = Number(
  readFileSync(`/proc/${worker.pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)?.[1] ?? 0,
);
log(
  `all sleeping after ${settled.toFixed(0)} s; worker RSS ${(rss / 1024).toFixed(0)} MiB; SIGTERM`,
);
const term = performance.now();
worker.kill('SIGTERM');
const code = await exited;
const drainSeconds = (performance.now() - term) / 1000;
process.stdout.write(
  `${JSON.stringify({ charges, settledSeconds: Math.round(settled), workerRssMiB: Math.round(rss / 1024), drainSeconds: Math.round(drainSeconds * 10) / 10, exitCode: code }, null, 2)}\n`,
);
await sim.close();
await env.teardown();
rmSync(dir, { recursive: true, force: true });
process.exit(0);
