// The bench's own stack, all on one machine: a Temporal dev server on a db file in a temp dir
// (SQLite WAL, the project's search attributes), the Stripe simulator in-process delivering to the
// real webhook receiver, and workers with the real activities on a pre-built bundle.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkerOptions } from '@temporalio/worker';
import type Stripe from 'stripe';
import { createActivities } from '../src/activities/index.js';
import { createStripeClient } from '../src/activities/stripe-client.js';
import { BillingClient } from '../src/client/index.js';
import { bundleWorkflows } from '../src/embedded/bundle.js';
import { devServerExecutable } from '../src/embedded/servers.js';
import { OutboxNotifier } from '../src/notifications/index.js';
import { billingSearchAttributes } from '../src/shared/search-attributes.js';
import { WEBHOOK_ENDPOINT_EVENT_TYPES } from '../src/shared/stripe-events.js';
import { startSimulator, type Simulator } from '../src/simulator/index.js';
import { createStripeWebhookHandler } from '../src/webhooks/handler.js';
import { startWebhookServer, type WebhookServer } from '../src/webhooks/server.js';
import { createNoopActivities } from './noop-activities.js';
import { progress } from './measure.js';
import { createLocalTemporal } from '../src/embedded/dev-server.js';
import { quietRuntime } from '../test/helpers/temporal.js';

/** The bench's workflow entry: production workflows plus the `noopCharge` floor. */
export const BENCH_WORKFLOWS_PATH = fileURLToPath(new URL('./workflows.ts', import.meta.url));
/** Task queue of the in-process bench worker (charges and the floor share it). */
export const BENCH_TASK_QUEUE = 'bench';
const WEBHOOK_SECRET = 'whsec_bench_0123456789abcdef';
const BODY_LIMIT_BYTES = 1024 * 1024;

type WorkerExtras = Omit<
  WorkerOptions,
  'connection' | 'namespace' | 'taskQueue' | 'workflowBundle' | 'workflowsPath' | 'activities'
>;

export interface BenchStack {
  dir: string;
  env: TestWorkflowEnvironment;
  client: Client;
  address: string;
  namespace: string;
  /** The dev server's SQLite file (its -wal file sits next to it; none on an existing server). */
  dbPath: string;
  /** The bench bundle on disk, for the worker process (WORKFLOW_BUNDLE_PATH). */
  bundlePath: string;
  sim: Simulator;
  stripe: Stripe;
  customerId: string;
  receiver: WebhookServer;
  webhookSecret: string;
  /**
   * Whether the receiver signals the events that answer a charge's own confirm or cancel too
   * (`signalAnswers`); off by default, as in production. The charge figure measures both.
   */
  signalAnswers(on: boolean): void;
  billing: BillingClient;
  /** A worker on the bench bundle with the real activities and the no-op one (run it with `runUntil`). */
  createWorker(taskQueue: string, extras?: WorkerExtras): Promise<Worker>;
  /** Bytes of the db file plus its WAL. */
  dbBytes(): number;
  /**
   * CPU ms the Temporal dev server has used so far (user + system, from /proc), or `undefined`
   * on a server the bench did not start (the cluster's services and PostgreSQL are several).
   */
  serverCpuMs(): number | undefined;
  close(): Promise<void>;
}

function fileBytes(path: string): number {
  try {
    return statSync(path).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
}

/** Clock ticks per second of /proc/<pid>/stat's times (USER_HZ: 100 on Linux). */
const USER_HZ = 100;

/**
 * CPU ms of the processes whose command line contains `marker` (the dev server's db path is
 * unique to the run), read from /proc; `undefined` where there is no /proc.
 */
function processCpuMs(marker: string): number | undefined {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((entry) => /^\d+$/.test(entry));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let ticks = 0;
  for (const pid of pids) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker)) continue;
      // Fields after the parenthesised command: utime and stime are the 12th and 13th.
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch (error) {
      // A process that exited between the listing and the read.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  return (ticks * 1000) / USER_HZ;
}

/** A Temporal server the bench did not start (the cluster): its namespace has the search attributes. */
export interface ExistingTemporal {
  address: string;
  namespace: string;
}

/**
 * Starts everything (on `existing` instead of a dev server of its own, when given); `close()`
 * stops it and removes the temp dir.
 */
export async function startBenchStack(existing?: ExistingTemporal): Promise<BenchStack> {
  quietRuntime();
  const dir = mkdtempSync(join(tmpdir(), 'durable-billing-bench-'));
  const dbPath = join(dir, 'temporal.db');
  progress(
    existing
      ? `connecting to Temporal at ${existing.address} and bundling the workflows`
      : 'starting the Temporal dev server and bundling the workflows',
  );
  const [env, bundle] = await Promise.all([
    existing
      ? TestWorkflowEnvironment.createFromExistingServer(existing)
      : createLocalTemporal({
          server: {
            executable: devServerExecutable(),
            dbFilename: dbPath,
            searchAttributes: [...billingSearchAttributes],
            extraArgs: [
              '--sqlite-pragma',
              'journal_mode=wal',
              '--sqlite-pragma',
              'synchronous=normal',
              // The CLI turns the server's search-attribute cache off, so that attributes added
              // while it runs show at once; it then reads the cluster metadata and the namespace
              // from SQLite on every start and upsert that carries one. A production server caches
              // them, and the bench's are all registered before the server starts.
              '--dynamic-config-value',
              'system.forceSearchAttributesCacheRefreshOnRead=false',
            ],
          },
        }),
    bundleWorkflows(BENCH_WORKFLOWS_PATH),
  ]);
  const bundlePath = join(dir, 'workflow-bundle.js');
  writeFileSync(bundlePath, bundle.code);
  const namespace = env.namespace ?? 'default';

  const handlerWith = (signalAnswers: boolean) =>
    createStripeWebhookHandler({
      client: env.client,
      secrets: [WEBHOOK_SECRET],
      taskQueue: BENCH_TASK_QUEUE,
      // The production shards (stripe-events:unmatched:0…7): the merchant stream measures them.
      bodyLimitBytes: BODY_LIMIT_BYTES,
      signalAnswers,
    });
  const handlers = { usual: handlerWith(false), signalling: handlerWith(true) };
  let handler = handlers.usual;
  const receiver = await startWebhookServer({
    handler: (request) => handler(request),
    port: 0,
    bodyLimitBytes: BODY_LIMIT_BYTES,
  });
  const sim = await startSimulator({
    port: 0,
    seed: 8,
    // Subscribed as docs/webhooks.md advises: only the types the project handles.
    webhook: {
      url: receiver.webhookUrl,
      secrets: [WEBHOOK_SECRET],
      enabledEvents: WEBHOOK_ENDPOINT_EVENT_TYPES,
    },
  });
  const stripe = createStripeClient({ secretKey: 'sk_test_bench', apiBase: sim.url });
  const customerId = (await stripe.customers.create({ email: 'bench@example.com' })).id;
  const notifier = new OutboxNotifier({ path: join(dir, 'outbox.jsonl') });
  const activities = { ...createActivities({ stripe, notifier }), ...createNoopActivities() };

  return {
    dir,
    env,
    client: env.client,
    address: env.address,
    namespace,
    dbPath,
    bundlePath,
    sim,
    stripe,
    customerId,
    receiver,
    webhookSecret: WEBHOOK_SECRET,
    signalAnswers: (on) => {
      handler = on ? handlers.signalling : handlers.usual;
    },
    billing: new BillingClient(env.client, { taskQueue: BENCH_TASK_QUEUE }),
    createWorker: (taskQueue, extras = {}) =>
      Worker.create({
        connection: env.nativeConnection,
        namespace,
        taskQueue,
        workflowBundle: { codePath: bundlePath },
        activities,
        ...extras,
      }),
    dbBytes: () => fileBytes(dbPath) + fileBytes(`${dbPath}-wal`),
    serverCpuMs: () => (existing ? undefined : processCpuMs(dbPath)),
    async close() {
      await sim.close();
      await receiver.close();
      await notifier.close();
      await env.teardown();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
