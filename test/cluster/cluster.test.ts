// The production shape (scripts/cluster-stack.ts, what `npm run cluster` runs) from a fresh data
// directory: Temporal from its Go module as separate services on PostgreSQL, set up by
// `durable-billing setup`; a charge started by the Temporal CLI succeeds; stopping leaves nothing.
// Its own suite (`npm run test:cluster`, VITEST_SUITE=cluster): it builds and starts a real cluster.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStripeClient } from '../../src/activities/stripe-client.js';
import { readManifest } from '../../src/embedded/servers.js';
import pg from 'pg';
import { tcpOpen } from '../../chaos/processes.js';
import {
  freeClusterPorts,
  NOTIFICATIONS_DATABASE,
  startCluster,
  type Cluster,
} from '../../scripts/cluster-stack.js';
import { NOTIFICATIONS_TABLE } from '../../src/notifications/index.js';

let cluster: Cluster | undefined;
let dataDir: string;
const namespace = 'billing-cluster-test';

/** The Temporal CLI (the provisioned dev-server binary is the full `temporal` CLI). */
function temporalCli(
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const cli = readManifest()?.devServer;
  if (!cli) throw new Error('no provisioned Temporal CLI: run `npm run provision -- --dev-server`');
  return new Promise((resolve, reject) => {
    const child = spawn(cli, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'durable-billing-cluster-'));
  // From source: the test proves this tree, whatever dist/ build is lying around.
  cluster = await startCluster({
    dataDir,
    ports: await freeClusterPorts(),
    namespace,
    fromSource: true,
  });
});

afterAll(async () => {
  await cluster?.stop();
  if (process.env.KEEP_CLUSTER_DIR === undefined) rmSync(dataDir, { recursive: true, force: true });
});

describe('the cluster (npm run cluster)', () => {
  it('is Temporal on PostgreSQL with more than one history shard, served by separate processes', async () => {
    const c = cluster!;
    const described = await temporalCli([
      'operator',
      'cluster',
      'describe',
      '--address',
      c.addresses.temporal,
      '-o',
      'json',
    ]);
    expect(described.code, described.stderr).toBe(0);
    const info = JSON.parse(described.stdout) as Record<string, unknown>;
    expect(info).toMatchObject({
      serverVersion: '1.29.1',
      persistenceStore: 'postgres12',
      visibilityStore: 'postgres12',
    });
    expect(info.historyShardCount).toBeGreaterThan(1);
    expect(c.temporal.map((s) => [s.name, s.running])).toEqual([
      ['frontend', true],
      ['matching', true],
      ['history-0', true],
      ['history-1', true],
      ['worker', true],
    ]);
  });

  it('a charge started from the Temporal CLI succeeds, once, with the webhook through a receiver', async () => {
    const c = cluster!;
    const stripe = createStripeClient({
      secretKey: 'sk_test_cluster',
      apiBase: c.addresses.simulator,
    });
    const customer = await stripe.customers.create({ email: 'cluster@example.com' });
    const orderId = `cluster-${Date.now().toString(36)}`;
    const run = await temporalCli([
      'workflow',
      'execute',
      '--address',
      c.addresses.temporal,
      '--namespace',
      namespace,
      '--task-queue',
      c.addresses.taskQueue,
      '--type',
      'chargeCustomer',
      '--workflow-id',
      `charge:${orderId}`,
      '--input',
      JSON.stringify({
        orderId,
        customerId: customer.id,
        amount: 2500,
        currency: 'usd',
        paymentMethodId: 'pm_card_visa',
      }),
      '-o',
      'json',
    ]);
    expect(run.code, run.stderr).toBe(0);
    const result = (
      JSON.parse(run.stdout) as { result: { outcome: string; paymentIntentId: string } }
    ).result;
    expect(result.outcome).toBe('succeeded');
    const ledger = c.sim!.ledger();
    expect(ledger.paymentIntents[result.paymentIntentId]?.amountCaptured).toBe(2500);
    expect(ledger.paymentIntents[result.paymentIntentId]?.successfulCharges).toBe(1);

    // The simulator's webhook reached the charge through the proxy and a receiver.
    const history = await temporalCli([
      'workflow',
      'show',
      '--address',
      c.addresses.temporal,
      '--namespace',
      namespace,
      '--workflow-id',
      `charge:${orderId}`,
      '-o',
      'json',
    ]);
    expect(history.stdout).toContain('workflowExecutionSignaledEventAttributes');
  });

  it('a declined charge notifies the customer once, in the shared PostgreSQL store of both workers', async () => {
    const c = cluster!;
    const stripe = createStripeClient({
      secretKey: 'sk_test_cluster',
      apiBase: c.addresses.simulator,
    });
    const customer = await stripe.customers.create({ email: 'declined@example.com' });
    const orderId = `cluster-declined-${Date.now().toString(36)}`;
    const started = await temporalCli([
      'workflow',
      'start',
      '--address',
      c.addresses.temporal,
      '--namespace',
      namespace,
      '--task-queue',
      c.addresses.taskQueue,
      '--type',
      'chargeCustomer',
      '--workflow-id',
      `charge:${orderId}`,
      '--input',
      JSON.stringify({
        orderId,
        customerId: customer.id,
        amount: 1200,
        currency: 'usd',
        paymentMethodId: 'pm_card_chargeDeclinedInsufficientFunds',
      }),
    ]);
    expect(started.code, started.stderr).toBe(0);
    const db = new pg.Client({ connectionString: c.databaseUrl(NOTIFICATIONS_DATABASE) });
    await db.connect();
    try {
      let rows: { id: string; state: string }[] = [];
      for (let i = 0; i < 120 && rows.length === 0; i++) {
        rows = (
          await db
            .query<{ id: string; state: string }>(
              `SELECT id, state FROM ${NOTIFICATIONS_TABLE} WHERE id LIKE $1`,
              [`%charge:${orderId}/%`],
            )
            .catch(() => ({ rows: [] }))
        ).rows;
        if (rows.length === 0) await new Promise((resolve) => setTimeout(resolve, 500));
      }
      expect(rows).toEqual([
        { id: expect.stringContaining('payment_failed') as string, state: 'sent' },
      ]);
    } finally {
      await db.end();
    }
  });

  it('stops every process it started: no port of the stack answers afterwards', async () => {
    const c = cluster!;
    cluster = undefined;
    await c.stop();
    const ports = [
      c.ports.postgres,
      c.ports.frontend,
      c.ports.matching,
      ...c.ports.history.map((h) => h.grpc),
      c.ports.workerMembership,
      c.ports.webhook,
      ...c.ports.receivers,
      c.ports.simulator,
    ];
    const open = await Promise.all(ports.map(async (port) => [port, await tcpOpen(port)] as const));
    expect(open.filter(([, isOpen]) => isOpen)).toEqual([]);
    expect(
      [c.postgres, ...c.temporal, ...c.workers, ...c.receivers].filter((s) => s.running),
    ).toEqual([]);
  });
});
