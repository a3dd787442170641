// `npm run docs:timeline`: runs the default dunning campaign for real — the chargeCustomer
// workflow on the time-skipping server, the real activities against the Stripe simulator with a
// card that always declines — and draws its history as docs/campaign-timeline.svg.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { createActivities } from '../src/activities/index.js';
import { createStripeClient } from '../src/activities/stripe-client.js';
import { BillingClient } from '../src/client/index.js';
import { timelineMarks, timelineSvg } from '../src/docs/timeline.js';
import { bundleWorkflows } from '../src/embedded/bundle.js';
import { testServerExecutable } from '../src/embedded/servers.js';
import { OutboxNotifier } from '../src/notifications/index.js';
import { startSimulator } from '../src/simulator/index.js';
import { historyToJSON } from '../test/replay/history-json.js';
import { registerSearchAttributes } from '../test/helpers/temporal.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });
const started = performance.now();
const env = await TestWorkflowEnvironment.createTimeSkipping({
  server: { executable: testServerExecutable() },
});
const sim = await startSimulator({ port: 0, seed: 7 });
const outboxDir = mkdtempSync(join(tmpdir(), 'timeline-outbox-'));
try {
  await registerSearchAttributes(env);
  const stripe = createStripeClient({ secretKey: 'sk_test_timeline', apiBase: sim.url });
  const customerId = (await stripe.customers.create({ email: 'customer@example.com' })).id;
  const taskQueue = 'timeline';
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await bundleWorkflows(),
    activities: createActivities({
      stripe,
      notifier: new OutboxNotifier({ path: join(outboxDir, 'outbox.jsonl') }),
    }),
  });
  const billing = new BillingClient(env.client, { taskQueue });
  const handle = await billing.startCharge({
    orderId: 'timeline-demo',
    customerId,
    amount: 2900,
    currency: 'usd',
    paymentMethodId: 'pm_card_chargeDeclinedInsufficientFunds',
  });
  const result = await worker.runUntil(handle.result());
  const history = await handle.workflow.fetchHistory();
  const marks = timelineMarks(history);
  writeFileSync('docs/campaign-history.json', historyToJSON(history));
  writeFileSync(
    'docs/campaign-timeline.svg',
    timelineSvg(
      marks,
      `Default dunning campaign (insufficient funds every time): ${result.outcome} after ${result.attempts} attempts`,
    ),
  );
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(
    `docs/campaign-timeline.svg: ${marks.length} marks from ${history.events?.length} events; ${seconds} s wall time`,
  );
} finally {
  await sim.close();
  await env.teardown();
  rmSync(outboxDir, { recursive: true, force: true });
}
