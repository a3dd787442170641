// `npm run record:histories`: runs every replay scenario on a fresh dev server with the Stripe
// simulator and writes its history to test/replay/histories/. Re-record only when a change is
// meant to alter the command sequence (and is guarded by `patched()` for running workflows).
// Names given on the command line record only those scenarios (`-- v2-success`), so the
// histories of runs from before a patch stay as they were recorded.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type proto from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../src/activities/index.js';
import { createStripeClient } from '../src/activities/stripe-client.js';
import { BillingClient } from '../src/client/index.js';
import { bundleWorkflows } from '../src/embedded/bundle.js';
import { devServerExecutable } from '../src/embedded/servers.js';
import { OutboxNotifier } from '../src/notifications/index.js';
import { billingSearchAttributes } from '../src/shared/search-attributes.js';
import { startSimulator } from '../src/simulator/index.js';
import { HISTORIES_DIR, SCENARIOS } from '../test/replay/scenarios.js';
import { historyToJSON } from '../test/replay/history-json.js';
import { createLocalTemporal } from '../src/embedded/dev-server.js';

const env = await createLocalTemporal({
  server: { executable: devServerExecutable(), searchAttributes: [...billingSearchAttributes] },
});
const sim = await startSimulator({ port: 0, seed: 1 });
const outboxDir = mkdtempSync(join(tmpdir(), 'record-outbox-'));
try {
  const stripe = createStripeClient({ secretKey: 'sk_test_record', apiBase: sim.url });
  const customerId = (await stripe.customers.create({})).id;
  const workflowBundle = await bundleWorkflows();
  mkdirSync(HISTORIES_DIR, { recursive: true });
  const only = process.argv.slice(2);
  const unknown = only.filter((name) => !SCENARIOS.some((s) => s.name === name));
  if (unknown.length > 0) throw new Error(`no replay scenario named ${unknown.join(', ')}`);
  for (const scenario of SCENARIOS.filter((s) => only.length === 0 || only.includes(s.name))) {
    sim.faults.clear();
    if (scenario.fault) sim.faults.add(scenario.fault);
    const taskQueue = `record-${scenario.name}`;
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle,
      activities: createActivities({
        stripe,
        notifier: new OutboxNotifier({ path: join(outboxDir, 'outbox.jsonl') }),
      }),
    });
    const billing = new BillingClient(env.client, { taskQueue });
    const handle = await billing.startCharge({
      orderId: `replay-${scenario.name}`,
      customerId,
      amount: 2500,
      currency: 'usd',
      paymentMethodId: scenario.paymentMethodId,
      ...(scenario.dunning && { dunning: scenario.dunning }),
    });
    const result = await worker.runUntil(handle.result());
    const history: proto.temporal.api.history.v1.IHistory = await handle.workflow.fetchHistory();
    writeFileSync(
      fileURLToPath(new URL(`${scenario.name}.json`, HISTORIES_DIR)),
      historyToJSON(history),
    );
    console.log(`${scenario.name}: ${result.outcome}, ${history.events?.length} events`);
  }
} finally {
  await sim.close();
  await env.teardown();
  rmSync(outboxDir, { recursive: true, force: true });
}
