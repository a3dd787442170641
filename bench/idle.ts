// Figure 4, idle cost: the RSS of a separate worker process (`src/worker.ts`, configured by env)
// and the dev server's db size with `small` and then `large` dunning charges asleep (a soft
// decline; the default policy waits a day before the next attempt).
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getHeapStatistics } from 'node:v8';
import { fileURLToPath } from 'node:url';
import proto from '@temporalio/proto';
import { BillingClient } from '../src/client/index.js';
import { pollUntil, progress } from './measure.js';
import type { BenchStack } from './stack.js';

export interface IdleSizes {
  small: number;
  large: number;
  /** Starts in flight at once. */
  startConcurrency: number;
  /** The RSS counts as settled once it moved less than this (fraction) over `settleSamples` seconds. */
  settleTolerance: number;
  settleSamples: number;
  /** After SIGTERM, how long the worker may drain before it is killed. */
  stopGraceMs: number;
}

export interface IdlePoint {
  sleeping: number;
  workerRssBytes: number;
  dbBytes: number;
  /** Seconds from the first start to all of them asleep. */
  rampSeconds: number;
}

export interface IdleResult {
  sizes: IdleSizes;
  /**
   * The worker's sticky-cache bound: the SDK's `maxCachedWorkflows` default with reuseV8Context,
   * max(⌊(heap limit MiB − 200) × 600 / 1024⌋, 10), from this Node's heap limit (the child's).
   */
  maxCachedWorkflows: number;
  points: IdlePoint[];
  rssRatio: number;
  dbRatio: number;
  /** (db at large − db at small) / (large − small). */
  dbBytesPerWorkflow: number;
}

const TASK_QUEUE = 'bench-idle';
const START_TIMEOUT_MS = 60_000;
const REPO = fileURLToPath(new URL('..', import.meta.url));

/** VmRSS of `pid` in bytes, from /proc (Linux). */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (!match) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

/** `npm run worker`'s entry as its own process, configured by environment only. */
async function startWorkerProcess(stack: BenchStack): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/worker.ts'], {
    cwd: REPO,
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: stack.address,
      TEMPORAL_NAMESPACE: stack.namespace,
      TEMPORAL_TASK_QUEUE: TASK_QUEUE,
      STRIPE_API_BASE: stack.sim.url,
      STRIPE_SECRET_KEY: '',
      WORKFLOW_BUNDLE_PATH: stack.bundlePath,
      NOTIFIER: 'outbox',
      OUTBOX_PATH: join(stack.dir, 'idle-outbox.jsonl'),
      DUNNING_POLICY: '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout = (stdout + chunk.toString()).slice(-4000);
  });
  // Never outlive the bench, even when it is killed mid-run.
  const orphanGuard = () => child.kill('SIGKILL');
  process.once('exit', orphanGuard);
  child.once('exit', () => process.off('exit', orphanGuard));
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  try {
    // Ready when the server sees its poller (log lines are the worker's business, not a contract).
    await pollUntil(
      async () => {
        if (exited !== undefined)
          throw new Error(`the worker process exited (${exited}) before polling`);
        const { pollers } = await stack.client.workflowService.describeTaskQueue({
          namespace: stack.namespace,
          taskQueue: { name: TASK_QUEUE },
          taskQueueType: proto.temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        });
        return pollers && pollers.length > 0 ? true : undefined;
      },
      'the worker process to poll',
      { everyMs: 250, timeoutMs: START_TIMEOUT_MS },
    );
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${(error as Error).message}\nstdout: ${stdout}\nstderr: ${stderr}`, {
      cause: error,
    });
  }
  return child;
}

/** SIGTERM (the worker drains), then SIGKILL if it has not exited within the grace period. */
async function stopWorkerProcess(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<boolean>((resolve) => child.once('exit', () => resolve(true)));
  child.kill('SIGTERM');
  const timer = new Promise<boolean>((resolve) =>
    setTimeout(() => resolve(false), graceMs).unref(),
  );
  if (await Promise.race([exited, timer])) return;
  progress(`idle: the worker process did not exit ${graceMs} ms after SIGTERM; killing it`);
  child.kill('SIGKILL');
  await exited;
}

/** Samples RSS once a second until it moved less than the tolerance over the last samples. */
async function settledRss(pid: number, sizes: IdleSizes): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < 60; i++) {
    samples.push(rssBytes(pid));
    const window = samples.slice(-sizes.settleSamples);
    if (window.length === sizes.settleSamples) {
      const lo = Math.min(...window);
      const hi = Math.max(...window);
      if ((hi - lo) / lo <= sizes.settleTolerance) return samples.at(-1)!;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  return samples.at(-1)!;
}

export async function benchIdle(
  stack: BenchStack,
  sizes: IdleSizes,
  runId: string,
): Promise<IdleResult> {
  progress(`idle: starting a worker process on task queue ${TASK_QUEUE}`);
  const child = await startWorkerProcess(stack);
  const pid = child.pid!;
  const billing = new BillingClient(stack.client, { taskQueue: TASK_QUEUE });
  const points: IdlePoint[] = [];
  let started = 0;
  try {
    for (const target of [sizes.small, sizes.large]) {
      const t0 = performance.now();
      const from = started;
      let next = from;
      let lastReport = 0;
      const lane = async (): Promise<void> => {
        while (next < target) {
          const i = next++;
          await billing.startCharge({
            orderId: `${runId}-idle-${i}`,
            customerId: stack.customerId,
            amount: 990,
            currency: 'usd',
            paymentMethodId: 'pm_card_chargeDeclinedInsufficientFunds',
          });
          started++;
          if (started - lastReport >= Math.max(1, Math.floor(target / 10))) {
            lastReport = started;
            progress(`idle: started ${started}/${target}`);
          }
        }
      };
      await Promise.all(Array.from({ length: sizes.startConcurrency }, lane));
      const query = `TaskQueue = '${TASK_QUEUE}' AND BillingStatus = 'dunning'`;
      await pollUntil(
        async () => {
          const { count } = await stack.client.workflow.count(query);
          progress(`idle: ${count}/${target} asleep in dunning`);
          return count >= target ? count : undefined;
        },
        `${target} charges asleep in dunning`,
        { everyMs: 2000, timeoutMs: 600_000 },
      );
      const rampSeconds = (performance.now() - t0) / 1000;
      const workerRssBytes = await settledRss(pid, sizes);
      const point = { sleeping: target, workerRssBytes, dbBytes: stack.dbBytes(), rampSeconds };
      points.push(point);
      progress(
        `idle: ${target} asleep — worker RSS ${(workerRssBytes / 2 ** 20).toFixed(0)} MiB, db ${(point.dbBytes / 2 ** 20).toFixed(1)} MiB`,
      );
    }
  } finally {
    await stopWorkerProcess(child, sizes.stopGraceMs);
  }
  const [small, large] = points as [IdlePoint, IdlePoint];
  return {
    sizes,
    maxCachedWorkflows: Math.max(
      Math.floor((Math.max(getHeapStatistics().heap_size_limit / 2 ** 20 - 200, 0) * 600) / 1024),
      10,
    ),
    points,
    rssRatio: large.workerRssBytes / small.workerRssBytes,
    dbRatio: large.dbBytes / small.dbBytes,
    dbBytesPerWorkflow: (large.dbBytes - small.dbBytes) / (large.sleeping - small.sleeping),
  };
}
