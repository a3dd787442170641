// The real stack of a chaos run: a Temporal dev server on a db file, worker processes and the
// webhook receiver as child processes, the Stripe simulator in-process delivering webhooks
// through the wire tap, and the app's Temporal client. Also the two disruptions: `kill -9` of
// a worker, and a kill and restart of the dev server on the same port and file. The cluster's
// stack (`--cluster`) is chaos/cluster-stack.ts, assembled by the same `assembleStack`.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { SearchAttributeType } from '@temporalio/common';
import type Stripe from 'stripe';
import { createStripeClient } from '../src/activities/stripe-client.js';
import { BillingClient } from '../src/client/index.js';
import { bundleWorkflows } from '../src/embedded/bundle.js';
import { readManifest } from '../src/embedded/servers.js';
import { billingSearchAttributes } from '../src/shared/search-attributes.js';
import { startSimulator, type Simulator } from '../src/simulator/index.js';
import { ensureBackfillSchedule } from '../src/webhooks/backfill.js';
import type { ChaosOptions } from './options.js';
import { PROCESSING_DELAY_SIM_MS, ServerFaultKind, type PlannedServerFault } from './plan.js';
import { freePort } from '../test/helpers/ports.js';
import { childEnv, httpOk, Service, temporalAnswers, waitFor } from './processes.js';
import { startApiTap, type ApiTap } from './api-tap.js';
import { startWebhookTap, type WebhookTap } from './tap.js';

/** The repository root (this file is in chaos/). */
export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const TASK_QUEUE = 'billing';
export const WEBHOOK_SECRET = 'whsec_chaos_run';
/** API requests the simulator's log keeps: all of a run's (the checker reads every one). */
const REQUEST_LOG_LIMIT = 2_000_000;
/** How often the backfill Schedule pages Stripe's events (its minimum). */
export const BACKFILL_INTERVAL_MINUTES = 1;

/** The dev server's names for search attribute types (`--search-attribute Name=Type`). */
const CLI_TYPE: Record<SearchAttributeType, string> = {
  [SearchAttributeType.TEXT]: 'Text',
  [SearchAttributeType.KEYWORD]: 'Keyword',
  [SearchAttributeType.INT]: 'Int',
  [SearchAttributeType.DOUBLE]: 'Double',
  [SearchAttributeType.BOOL]: 'Bool',
  [SearchAttributeType.DATETIME]: 'Datetime',
  [SearchAttributeType.KEYWORD_LIST]: 'KeywordList',
};

export interface Disruption {
  /** `worker` (a billing worker host) or the server fault's kind. */
  kind: 'worker' | ServerFaultKind;
  what: string;
  /** Wall ms when it began and when the process served again. */
  at: number;
  backAt: number;
}

export interface ChaosStack {
  dir: string;
  temporalAddress: string;
  client: Client;
  billing: BillingClient;
  /** stripe-node on the simulator, for the driver's own setup calls (customers). */
  stripe: Stripe;
  sim: Simulator;
  tap: WebhookTap;
  /** The wire between the workers' stripe-node and the simulator. */
  apiTap: ApiTap;
  workers: Service[];
  /** Every process of the stack (the report counts each one's unexpected exits). */
  services: Service[];
  disruptions: Disruption[];
  /** `kill -9` worker `index`, wait `downMs`, start it again. */
  killWorker(index: number, downMs: number): Promise<void>;
  /**
   * Takes the fault's process down (`kill -9`, or a fast shutdown of PostgreSQL), waits `downMs`
   * and starts it again; throws for a kind this stack does not have.
   */
  disrupt(fault: PlannedServerFault): Promise<void>;
  /** Waits until every process is up and Temporal answers (e.g. before draining). */
  settle(): Promise<void>;
  close(): Promise<void>;
}

/** What a stack is made of; {@link assembleStack} adds the client, the kills and the record. */
export interface StackParts {
  dir: string;
  temporalAddress: string;
  sim: Simulator;
  tap: WebhookTap;
  apiTap: ApiTap;
  workers: Service[];
  services: Service[];
  /** Takes the fault's process down for `downMs` and back; the description for the record. */
  disrupt(fault: PlannedServerFault): Promise<string>;
  /** Temporal serves again (every service up, the frontend answering). */
  temporalServes(): Promise<boolean>;
  /** Stops the Temporal side and whatever else the parts started (after the workers stopped). */
  close(): Promise<void>;
}

/** The simulator of a run: seeded, on Stripe's sped-up clock, delivering to `webhookUrl`. */
export function startChaosSimulator(options: ChaosOptions, webhookUrl: string): Promise<Simulator> {
  // Stripe's clock runs faster than the wall clock, so its retry schedule (1 min, 5 min, …) and
  // bank debits fit in the run; everything before `origin` is plain wall time.
  const origin = Date.now();
  return startSimulator({
    seed: options.seed,
    now: () => origin + (Date.now() - origin) * options.stripeClockSpeed,
    tickIntervalMs: 250,
    processingDelayMs: PROCESSING_DELAY_SIM_MS,
    requestLogLimit: REQUEST_LOG_LIMIT,
    webhook: { url: webhookUrl, secrets: [WEBHOOK_SECRET] },
  });
}

/** The stack from its parts: the app's client, the backfill Schedule, the queued worker kills. */
export async function assembleStack(parts: StackParts): Promise<ChaosStack> {
  const { workers } = parts;
  const connection = await Connection.connect({ address: parts.temporalAddress });
  const client = new Client({ connection });
  await ensureBackfillSchedule(client, {
    taskQueue: TASK_QUEUE,
    intervalMinutes: BACKFILL_INTERVAL_MINUTES,
  });
  const disruptions: Disruption[] = [];
  const killQueues = new Map<number, Promise<void>>();
  return {
    dir: parts.dir,
    temporalAddress: parts.temporalAddress,
    client,
    billing: new BillingClient(client, { taskQueue: TASK_QUEUE }),
    stripe: createStripeClient({ secretKey: 'sk_test_chaos_driver', apiBase: parts.sim.url }),
    sim: parts.sim,
    tap: parts.tap,
    apiTap: parts.apiTap,
    workers,
    services: parts.services,
    disruptions,
    killWorker(index, downMs) {
      const worker = workers[index];
      if (!worker) throw new Error(`no worker ${index}`);
      // Kills of one worker queue up: one still coming back is killed once it serves again.
      const kill = async () => {
        await waitFor(async () => worker.running, `${worker.name} to run`, {
          timeoutMs: 120_000,
        });
        const at = Date.now();
        await worker.kill9();
        await delay(downMs);
        await worker.startUntilReady();
        disruptions.push({
          kind: 'worker',
          what: `kill -9 ${worker.name}`,
          at,
          backAt: Date.now(),
        });
      };
      const next = (killQueues.get(index) ?? Promise.resolve()).then(kill);
      killQueues.set(index, next);
      return next;
    },
    async disrupt(fault) {
      const at = Date.now();
      const what = await parts.disrupt(fault);
      disruptions.push({ kind: fault.kind, what, at, backAt: Date.now() });
    },
    async settle() {
      await waitFor(() => parts.temporalServes(), 'Temporal', { timeoutMs: 120_000 });
      await waitFor(async () => workers.every((w) => w.running), 'every worker', {
        timeoutMs: 120_000,
      });
    },
    async close() {
      await Promise.allSettled(workers.map((w) => w.stop()));
      await connection.close();
      await parts.close();
      await parts.apiTap.close();
      await parts.sim.close();
      await parts.tap.close();
    },
  };
}

export type Progress = (message: string) => void;

/** Starts everything; `progress` hears each step. */
export async function startChaosStack(
  options: ChaosOptions,
  progress: Progress,
): Promise<ChaosStack> {
  const devServerPath = readManifest()?.devServer;
  if (!devServerPath)
    throw new Error('no provisioned Temporal CLI: run `npm run provision -- --dev-server` first');
  const dir = mkdtempSync(join(tmpdir(), `durable-billing-chaos-${options.seed}-`));
  mkdirSync(join(dir, 'logs'));
  const [temporalPort, receiverPort] = [await freePort(), await freePort()];
  const temporalAddress = `127.0.0.1:${temporalPort}`;
  const log = (name: string) => join(dir, 'logs', `${name}.log`);

  const devServer = new Service({
    name: 'dev-server',
    command: devServerPath,
    args: [
      'server',
      'start-dev',
      '--db-filename',
      join(dir, 'temporal.db'),
      '--ip',
      '127.0.0.1',
      '--port',
      String(temporalPort),
      '--headless',
      '--log-level',
      'error',
      // No call home for a version check (tests and CI never reach the internet).
      '--dynamic-config-value',
      'frontend.enableServerVersionCheck=false',
      ...billingSearchAttributes.flatMap((key) => [
        '--search-attribute',
        `${key.name}=${CLI_TYPE[key.type]}`,
      ]),
      '--sqlite-pragma',
      'journal_mode=wal',
    ],
    env: childEnv({}),
    cwd: dir,
    logPath: log('dev-server'),
    ready: (_, signal) =>
      waitFor(() => temporalAnswers(temporalPort), 'the dev server', { signal, timeoutMs: 90_000 }),
  });

  progress(`run directory ${dir}`);
  progress('bundling workflows, starting the dev server');
  const bundlePath = join(dir, 'workflow-bundle.js');
  await Promise.all([
    bundleWorkflows().then((bundle) => writeFileSync(bundlePath, bundle.code)),
    devServer.startUntilReady(3),
  ]);

  const receiver = new Service({
    name: 'receiver',
    command: process.execPath,
    args: ['--import', 'tsx', 'src/webhooks/main.ts'],
    env: childEnv({
      TEMPORAL_ADDRESS: temporalAddress,
      TEMPORAL_TASK_QUEUE: TASK_QUEUE,
      WEBHOOK_HOST: '127.0.0.1',
      WEBHOOK_PORT: String(receiverPort),
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    }),
    cwd: REPO_ROOT,
    logPath: log('receiver'),
    ready: (_, signal) =>
      waitFor(() => httpOk(`http://127.0.0.1:${receiverPort}/healthz`), 'the receiver', { signal }),
  });
  const tap = await startWebhookTap(
    `http://127.0.0.1:${receiverPort}/webhooks/stripe`,
    WEBHOOK_SECRET,
  );
  const sim = await startChaosSimulator(options, tap.url);
  const apiTap = await startApiTap(sim.url);

  const workers = Array.from(
    { length: options.workers },
    (_, index) =>
      new Service({
        name: `worker-${index}`,
        command: process.execPath,
        args: ['--import', 'tsx', 'src/worker.ts'],
        env: childEnv({
          TEMPORAL_ADDRESS: temporalAddress,
          TEMPORAL_TASK_QUEUE: TASK_QUEUE,
          STRIPE_API_BASE: apiTap.url,
          STRIPE_SECRET_KEY: 'sk_test_chaos',
          WORKFLOW_BUNDLE_PATH: bundlePath,
          NOTIFIER: 'outbox',
          OUTBOX_PATH: join(dir, 'outbox.jsonl'),
        }),
        cwd: REPO_ROOT,
        logPath: log(`worker-${index}`),
        ready: (output, signal) =>
          // The worker prints `worker: polling …` (or logs `worker polling` as JSON) once it polls.
          waitFor(async () => /worker:? polling/.test(output()), `worker-${index}`, { signal }),
      }),
  );
  progress(`starting the receiver and ${workers.length} worker(s)`);
  await Promise.all([receiver.startUntilReady(), ...workers.map((w) => w.startUntilReady())]);

  return assembleStack({
    dir,
    temporalAddress,
    sim,
    tap,
    apiTap,
    workers,
    services: [devServer, receiver, ...workers],
    async disrupt(fault) {
      if (fault.kind !== ServerFaultKind.devServer)
        throw new Error(`the dev-server stack has no ${fault.kind} to take down (--cluster has)`);
      await devServer.kill9();
      await delay(fault.downMs);
      await devServer.startUntilReady();
      return 'kill -9 and restart the dev server';
    },
    temporalServes: () => temporalAnswers(temporalPort),
    async close() {
      await receiver.stop();
      await devServer.stop();
      await Promise.all([devServer, receiver, ...workers].map((s) => s.closeLog()));
    },
  });
}
