// The operators' CLI end to end against the shared dev server, one worker on the real activities
// and one Stripe simulator for the file. The commands under test run as child processes (`node
// --import tsx src/cli/main.ts …`); set-up and follow-up steps run in-process through `runCli`.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createActivities } from '../../src/activities/index.js';
import { createStripeClient } from '../../src/activities/stripe-client.js';
import { commands } from '../../src/cli/commands.js';
import { runCli } from '../../src/cli/program.js';
import { BillingClient, type ChargeState } from '../../src/client/index.js';
import { OutboxNotifier } from '../../src/notifications/index.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { connectDevServer, uniqueTaskQueue, type DevServer } from '../helpers/temporal.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

let server: DevServer;
let sim: Simulator;
let worker: Worker;
let notifier: OutboxNotifier | undefined;
let running: Promise<void>;
let billing: BillingClient;
let customerId: string;
let outboxDir: string;
let startedAt: number;
const taskQueue = uniqueTaskQueue('cli');
const unmatchedWorkflowId = `stripe-events:unmatched:${taskQueue}`;

beforeAll(async () => {
  outboxDir = mkdtempSync(join(tmpdir(), 'durable-billing-cli-'));
  // A random seed: customer ids must not repeat those of other files' simulators on this server.
  [server, sim] = await Promise.all([
    connectDevServer(),
    startSimulator({ port: 0, seed: Math.floor(Math.random() * 2 ** 31) }),
  ]);
  startedAt = Math.floor(sim.now() / 1000) - 1;
  const stripe = createStripeClient({ secretKey: 'sk_test_cli', apiBase: sim.url });
  customerId = (await stripe.customers.create({ email: 'cli@example.com' })).id;
  notifier = new OutboxNotifier({ path: join(outboxDir, 'outbox.jsonl') });
  worker = await server.createWorker(taskQueue, {
    activities: createActivities({
      stripe,
      notifier,
    }),
  });
  running = worker.run();
  billing = new BillingClient(server.client, { taskQueue });
});

afterAll(async () => {
  await server?.client.workflow
    .getHandle(unmatchedWorkflowId)
    .terminate('test over')
    .catch((error: unknown) => {
      if (!(error instanceof Error && error.name === 'WorkflowNotFoundError')) throw error;
    });
  worker?.shutdown();
  await running;
  await sim?.close();
  await notifier?.close();
  await server?.close();
  rmSync(outboxDir, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment the CLI gets: this file's Temporal task queue and simulator. */
function cliEnv(extra: Record<string, string>): Record<string, string | undefined> {
  return {
    ...process.env,
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_NAMESPACE: inject('temporalNamespace'),
    TEMPORAL_TASK_QUEUE: taskQueue,
    STRIPE_API_BASE: sim.url,
    STRIPE_SECRET_KEY: 'sk_test_cli',
    DUNNING_POLICY: '',
    ...extra,
  };
}

/** Runs the CLI as a child process, as an operator would. */
function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
      env: cliEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs the CLI in this process (same code, no process start-up): for set-up and follow-ups. */
async function inProcess(args: string[], env: Record<string, string> = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(commands, args, {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    env: cliEnv(env),
    interrupted: () => new Promise(() => undefined),
  });
  return { code, stdout, stderr };
}

/** The one JSON document a `--json` run printed (fails the test if stdout holds anything else). */
function json<T = Record<string, unknown>>(run: Run): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch (error) {
    throw new Error(`not one JSON document (exit ${run.code}):\n${run.stdout}\n${run.stderr}`, {
      cause: error,
    });
  }
}

/** Polls `probe` every 100 ms until it returns a value, for at most `seconds`. */
async function eventually<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  seconds = 10,
): Promise<T> {
  for (let i = 0; i < seconds * 10; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

let orders = 0;
const newOrderId = () => `cli-${process.pid}-${Date.now()}-${orders++}`;
const chargeArgs = (orderId: string, paymentMethod: string, amount = '4200') => [
  'charge',
  '--order',
  orderId,
  '--customer',
  customerId,
  '--amount',
  amount,
  '--currency',
  'usd',
  '--payment-method',
  paymentMethod,
];

/** Starts a stolen-card charge (in-process) and waits until it waits for a new card. */
async function hardDeclined(): Promise<string> {
  const orderId = newOrderId();
  const run = await inProcess([
    ...chargeArgs(orderId, 'pm_card_chargeDeclinedStolenCard'),
    '--dunning',
    '{"retryDelaysDays":[0.01]}',
  ]);
  expect(run.code, run.stderr).toBe(0);
  const dunning: ChargeState = 'dunning';
  await eventually(
    async () => ((await billing.getCharge(orderId).status()).state === dunning ? true : undefined),
    `${orderId} to be dunning`,
  );
  return orderId;
}

interface ListedCharges {
  query: string;
  charges: { orderId: string; customerId: string; status: string }[];
}

describe('durable-billing CLI', () => {
  it('charge --wait succeeds, status reads it, and list finds it by customer and by status', async () => {
    const orderId = newOrderId();
    const charged = await cli([...chargeArgs(orderId, 'pm_card_visa'), '--wait', '--json']);
    expect(charged.code, charged.stderr).toBe(0);
    expect(json(charged)).toMatchObject({
      orderId,
      workflowId: `charge:${orderId}`,
      outcome: 'succeeded',
      amount: 4200,
      currency: 'usd',
      attempts: 1,
    });
    expect(sim.ledger().orders[orderId]?.successfulCharges).toBe(1);

    const status = await cli(['status', orderId, '--json']);
    expect(status.code, status.stderr).toBe(0);
    expect(json(status)).toMatchObject({
      orderId,
      execution: 'COMPLETED',
      customerId,
      statusSource: 'query',
      status: { state: 'succeeded', attempt: 1 },
      result: { outcome: 'succeeded' },
    });

    // Visibility is eventually consistent: wait (in-process) until the closed run is indexed.
    const listArgs = ['list', '--customer', customerId, '--status', 'succeeded', '--json'];
    await eventually(async () => {
      const listed = json<ListedCharges>(await inProcess(listArgs));
      return listed.charges.some((c) => c.orderId === orderId) ? true : undefined;
    }, 'the charge listed as succeeded');
    const [byStatus, byCustomer] = await Promise.all([
      cli(listArgs),
      cli(['list', '--customer', customerId, '--limit', '50', '--json']),
    ]);
    const listed = json<ListedCharges>(byStatus);
    expect(listed.query).toBe(
      `WorkflowType = 'chargeCustomer' AND BillingStatus = 'succeeded' AND BillingCustomerId = '${customerId}'`,
    );
    expect(listed.charges.map((c) => c.orderId)).toContain(orderId);
    expect(
      listed.charges.every((c) => c.status === 'succeeded' && c.customerId === customerId),
    ).toBe(true);
    expect(json<ListedCharges>(byCustomer).charges.map((c) => c.orderId)).toContain(orderId);

    const table = await inProcess(['list', '--customer', customerId]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^ORDER\s+CUSTOMER\s+STATUS\s+ATTEMPT/);
    expect(table.stdout).toContain(orderId);
  });

  it('charge without --wait returns at once with the workflow id, and running it again is the same charge', async () => {
    const orderId = newOrderId();
    const first = await inProcess([...chargeArgs(orderId, 'pm_card_visa'), '--json']);
    const second = await inProcess([...chargeArgs(orderId, 'pm_card_visa'), '--json']);
    expect(json(first)).toEqual({ orderId, workflowId: `charge:${orderId}`, taskQueue });
    expect(json(second)).toEqual(json(first));
    expect(await billing.getCharge(orderId).result()).toMatchObject({ outcome: 'succeeded' });
    expect(sim.ledger().orders[orderId]?.successfulCharges).toBe(1);
  });

  it('charge with another amount for an order already charged exits 1 naming both amounts, and charges nothing more', async () => {
    const orderId = newOrderId();
    const charged = await inProcess([...chargeArgs(orderId, 'pm_card_visa'), '--wait']);
    expect(charged.code, charged.stderr).toBe(0);
    expect(charged.stdout).toMatch(/^amount\s+4200 usd \(minor units\)$/m);

    const other = await cli(chargeArgs(orderId, 'pm_card_visa', '5000'));
    expect(other.code).toBe(1);
    expect(other.stderr).toContain(
      `durable-billing charge: order ${orderId} is already charged with other parameters: amount 4200 (existing) vs 5000 (requested)`,
    );
    expect(other.stderr).not.toMatch(/^\s+at /m); // a message for operators, not a stack
    const asJson = await inProcess([...chargeArgs(orderId, 'pm_card_visa', '5000'), '--json']);
    expect(asJson.code).toBe(1);
    expect(json(asJson)).toMatchObject({
      error: {
        type: 'ChargeConflictError',
        orderId,
        workflowId: `charge:${orderId}`,
        differences: [{ field: 'amount', existing: 4200, requested: 5000 }],
      },
    });
    expect(sim.ledger().orders[orderId]?.successfulCharges).toBe(1);
  });

  it('a charge whose run failed prints the failure’s type and message and exits 1; status shows it', async () => {
    // Started by other means with an input the workflow refuses (a reserved metadata key): its
    // amount, currency and customer are those the CLI asks, so the CLI waits on that run.
    const orderId = newOrderId();
    await server.client.workflow.start('chargeCustomer', {
      taskQueue,
      workflowId: `charge:${orderId}`,
      args: [{ orderId, customerId, amount: 4200, currency: 'usd', metadata: { order_id: 'x' } }],
    });
    const waited = await cli([...chargeArgs(orderId, 'pm_card_visa'), '--wait']);
    expect(waited.code).toBe(1);
    expect(waited.stderr).toContain(
      `durable-billing charge: the charge of order ${orderId} (workflow charge:${orderId}) failed (InvalidChargeInput): invalid chargeCustomer input: metadata`,
    );
    expect(waited.stderr).not.toMatch(/^\s+at /m);
    const asJson = await inProcess([...chargeArgs(orderId, 'pm_card_visa'), '--wait', '--json']);
    expect(json(asJson)).toMatchObject({
      error: { type: 'ChargeRunFailedError', orderId, failure: { type: 'InvalidChargeInput' } },
    });

    const status = await inProcess(['status', orderId]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/^failure\s+InvalidChargeInput: invalid chargeCustomer input/m);
  });

  it('a charge whose run is under another order’s workflow id exits 1 with WrongWorkflowId and what to do', async () => {
    // A raw start of order A's input as charge:<B>: the CLI, asked for B with the same amount,
    // currency and customer, waits on that run, which refuses to charge.
    const [orderId, inputOrderId] = [newOrderId(), newOrderId()];
    await server.client.workflow.start('chargeCustomer', {
      taskQueue,
      workflowId: `charge:${orderId}`,
      args: [{ orderId: inputOrderId, customerId, amount: 4200, currency: 'usd' }],
    });
    const run = await inProcess([...chargeArgs(orderId, 'pm_card_visa'), '--wait', '--json']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `failed (WrongWorkflowId): chargeCustomer for order ${inputOrderId} must run as workflow id "charge:${inputOrderId}"`,
    );
    expect(run.stderr).toContain('Charges run as workflow charge:<orderId>');
    expect(json(run)).toMatchObject({
      error: { type: 'ChargeRunFailedError', orderId, failure: { type: 'WrongWorkflowId' } },
    });
    expect(sim.ledger().orders[inputOrderId]?.successfulCharges ?? 0).toBe(0);
  });

  it('retry-now with a new card charges a hard-declined order exactly once', async () => {
    const orderId = await hardDeclined();
    const human = await inProcess(['status', orderId]);
    expect(human.stdout).toMatch(/state\s+dunning/);
    expect(human.stdout).toContain('stolen_card');

    const retried = await cli([
      'retry-now',
      orderId,
      '--payment-method',
      'pm_card_visa',
      '--wait',
      '--json',
    ]);
    expect(retried.code, retried.stderr).toBe(0);
    expect(json(retried)).toMatchObject({
      orderId,
      accepted: true,
      outcome: 'succeeded',
      attempts: 2,
    });
    expect(sim.ledger().orders[orderId]?.successfulCharges).toBe(1);

    const again = await inProcess(['retry-now', orderId]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('has already ended (COMPLETED, succeeded)');
  });

  it('cancel stops a charge waiting for a new card, and charges nothing', async () => {
    const orderId = await hardDeclined();
    const canceled = await cli([
      'cancel',
      orderId,
      '--reason',
      'customer closed the account',
      '--wait',
      '--json',
    ]);
    expect(canceled.code, canceled.stderr).toBe(0);
    expect(json(canceled)).toMatchObject({ orderId, outcome: 'canceled' });
    expect(sim.ledger().orders[orderId]?.successfulCharges ?? 0).toBe(0);

    const again = await inProcess(['cancel', orderId, '--reason', 'twice']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('has already ended');
    const missing = await inProcess(['status', `${orderId}-nope`, '--json']);
    expect(missing.code).toBe(1);
    const { error } = json<{ error: { type: string; message: string } }>(missing);
    expect(error.type).toBe('ChargeNotFoundError');
    expect(error.message).toContain(`no charge for order ${orderId}-nope`);
  });

  it('backfill-events routes the simulator’s events page by page, with progress on stderr', async () => {
    // Four events of its own (customer.created: a type no workflow handles, so ignored) make two
    // or more pages of two.
    const stripe = createStripeClient({ secretKey: 'sk_test_cli', apiBase: sim.url });
    for (let i = 0; i < 4; i++)
      await stripe.customers.create({ email: `backfill-${i}@example.com` });
    const run = await cli([
      'backfill-events',
      '--since',
      new Date(startedAt * 1000).toISOString(),
      '--page-size',
      '2',
      '--unmatched-workflow',
      unmatchedWorkflowId,
      '--json',
    ]);
    expect(run.code, run.stderr).toBe(0);
    const result = json<{ pages: number; events: number; ignored: number; workflowId: string }>(
      run,
    );
    expect(result.events).toBe(sim.events().length);
    expect(result.pages).toBeGreaterThanOrEqual(Math.ceil(result.events / 2));
    expect(result.ignored).toBeGreaterThanOrEqual(4);
    expect(result.workflowId).toMatch(/^stripe-events:backfill:manual:/);
    for (let page = 1; page <= result.pages; page++)
      expect(run.stderr).toContain(`backfill-events: page ${page}:`);
  });
});

describe.concurrent('durable-billing CLI errors, help and sim', () => {
  it('a bad amount is refused before anything starts, naming --amount (exit 2)', async () => {
    const decimal = await cli(chargeArgs(newOrderId(), 'pm_card_visa', '12.50'));
    expect(decimal.code).toBe(2);
    expect(decimal.stderr).toContain('--amount must be a whole number of minor units');
    const zero = await inProcess([...chargeArgs(newOrderId(), 'pm_card_visa', '0'), '--json']);
    expect(zero.code).toBe(2);
    expect(json(zero)).toMatchObject({
      error: { type: 'InvalidInputError', fields: [{ field: 'amount', flag: '--amount' }] },
    });
  });

  it('an unknown command prints the usage (exit 2)', async () => {
    const unknown = await cli(['rebill', 'ord_1']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "rebill"');
    expect(unknown.stderr).toContain('Usage: durable-billing <command>');
    expect(unknown.stdout).toBe('');
  });

  it('--help prints a command’s flags (exit 0); missing required flags are named together (exit 2)', async () => {
    const help = await inProcess(['charge', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--amount <minor units>');
    const missing = await inProcess(['charge', '--order', 'o1']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('missing required --customer, --amount, --currency');
  });

  it('an unreachable Temporal is reported with its address (exit 1)', async () => {
    const run = await cli(['list', '--connect-timeout', '1', '--json'], {
      TEMPORAL_ADDRESS: '127.0.0.1:1',
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('cannot reach Temporal at 127.0.0.1:1');
    expect(json(run)).toMatchObject({ error: { type: 'TemporalUnreachableError' } });
  });

  it('sim serves the Stripe simulator until SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', MAIN, 'sim', '--port', '0', '--json'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    // A child's start-up (tsx compiling the CLI) alone took over 10 s on a loaded machine.
    const { url, ledger } = await eventually(
      async () => {
        try {
          return JSON.parse(stdout) as { url: string; ledger: string };
        } catch (error) {
          if (error instanceof SyntaxError) return undefined;
          throw error;
        }
      },
      'the simulator to print its address',
      30,
    );
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await fetch(ledger)).status).toBe(200);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
