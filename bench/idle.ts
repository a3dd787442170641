// Figure 4, idle cost: the RSS of a separate worker process (`src/worker.ts`, configured by env)
// and the dev server's db size with `small` and then `large` dunning charges asleep (a soft
// decline; the default policy waits a day before the next attempt). The worker runs with the
// production cache bound (WORKER_MAX_CACHED_WORKFLOWS), so a sleeping charge beyond it costs the
// worker nothing until it wakes; the figure shows whether that holds.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import proto from '@temporalio/proto';
import { BillingClient } from '../src/client/index.js';
import { pollUntil, progress } from './measure.js';
import type { BenchStack } from './stack.js';

export interface IdleSizes {
  small: number;
  large: number;
  /**
   * Charges started but not yet asleep, at most: the ramp keeps this many in flight so they fit
   * the worker's cache (a burst of thousands would make every task of every charge a replay).
   */
  inFlight: number;
  /** The worker's WORKER_MAX_CACHED_WORKFLOWS. */
  cache: number;
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
  /** Seconds from the first start of this step to all of them asleep. */
  rampSeconds: number;
}

export interface IdleResult {
  sizes: IdleSizes;
  /** The worker's sticky-cache bound (WORKER_MAX_CACHED_WORKFLOWS). */
  maxCachedWorkflows: number;
  /** The worker's settled RSS while polling with nothing to do. */
  emptyRssBytes: number;
  points: IdlePoint[];
  rssRatio: number;
  dbRatio: number;
  /** (RSS at small − empty RSS) / min(small, cache): a cached charge with its share of GC headroom. */
  rssBytesPerCachedWorkflow: number;
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

/** `npm run worker`'s entry as its own process on `taskQueue`, configured by environment only. */
export async function startWorkerProcess(
  stack: BenchStack,
  cache: number,
  taskQueue = TASK_QUEUE,
): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/worker.ts'], {
    cwd: REPO,
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: stack.address,
      TEMPORAL_NAMESPACE: stack.namespace,
      TEMPORAL_TASK_QUEUE: taskQueue,
      STRIPE_API_BASE: stack.sim.url,
      STRIPE_SECRET_KEY: '',
      WORKFLOW_BUNDLE_PATH: stack.bundlePath,
      NOTIFIER: 'outbox',
      OUTBOX_PATH: join(stack.dir, `${taskQueue}-outbox.jsonl`),
      DUNNING_POLICY: '',
      WORKER_MAX_CACHED_WORKFLOWS: String(cache),
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
          taskQueue: { name: taskQueue },
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

/**
 * SIGTERM (the worker drains), then SIGKILL if it has not exited within the grace period.
 * Resolves with the seconds from SIGTERM to exit and the exit code (null when it was killed).
 */
export async function stopWorkerProcess(
  child: ChildProcess,
  graceMs: number,
): Promise<{ seconds: number; exitCode: number | null }> {
  if (child.exitCode !== null || child.signalCode !== null)
    return { seconds: 0, exitCode: child.exitCode };
  const exited = new Promise<boolean>((resolve) => child.once('exit', () => resolve(true)));
  const t0 = performance.now();
  child.kill('SIGTERM');
  const timer = new Promise<boolean>((resolve) =>
    setTimeout(() => resolve(false), graceMs).unref(),
  );
  if (await Promise.race([exited, timer]))
    return { seconds: (performance.now() - t0) / 1000, exitCode: child.exitCode };
  progress(`the worker process did not exit ${graceMs} ms after SIGTERM; killing it`);
  child.kill('SIGKILL');
  await exited;
  return { seconds: (performance.now() - t0) / 1000, exitCode: null };
}

/** Samples RSS once a second until it moved less than the tolerance over the last samples. */
export async function settledRss(
  pid: number,
  sizes: Pick<IdleSizes, 'settleSamples' | 'settleTolerance'>,
): Promise<number> {
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

/** Charges on `taskQueue` asleep in dunning (visibility). */
async function countAsleep(stack: BenchStack, taskQueue: string): Promise<number> {
  const query = `TaskQueue = '${taskQueue}' AND BillingStatus = 'dunning'`;
  return (await stack.client.workflow.count(query)).count;
}

/**
 * Starts charges `from`…`target − 1`, keeping at most `inFlight` started but not yet asleep
 * (by visibility, read at most every 250 ms), and resolves once all `target` are asleep.
 */
export async function rampTo(
  stack: BenchStack,
  billing: BillingClient,
  runId: string,
  from: number,
  target: number,
  inFlight: number,
): Promise<void> {
  const taskQueue = billing.taskQueue;
  let started = from;
  let asleep = await countAsleep(stack, taskQueue);
  let lastReport = Date.now();
  while (asleep < target) {
    const room = Math.min(inFlight - (started - asleep), target - started);
    if (room > 0) {
      await Promise.all(
        Array.from({ length: room }, (_, k) =>
          billing.startCharge({
            orderId: `${runId}-${taskQueue}-${started + k}`,
            customerId: stack.customerId,
            amount: 990,
            currency: 'usd',
            paymentMethodId: 'pm_card_chargeDeclinedInsufficientFunds',
          }),
        ),
      );
      started += room;
    } else {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    asleep = await countAsleep(stack, taskQueue);
    if (Date.now() - lastReport >= 5000) {
      lastReport = Date.now();
      progress(`${taskQueue}: ${started}/${target} started, ${asleep} asleep in dunning`);
    }
  }
}

export async function benchIdle(
  stack: BenchStack,
  sizes: IdleSizes,
  runId: string,
): Promise<IdleResult> {
  progress(
    `idle: starting a worker process on task queue ${TASK_QUEUE} (cache ${sizes.cache} workflows)`,
  );
  const child = await startWorkerProcess(stack, sizes.cache);
  const pid = child.pid!;
  const billing = new BillingClient(stack.client, { taskQueue: TASK_QUEUE });
  const points: IdlePoint[] = [];
  let emptyRssBytes: number;
  try {
    emptyRssBytes = await settledRss(pid, sizes);
    progress(
      `idle: worker polling, nothing asleep — RSS ${(emptyRssBytes / 2 ** 20).toFixed(0)} MiB`,
    );
    let from = 0;
    for (const target of [sizes.small, sizes.large]) {
      const t0 = performance.now();
      await rampTo(stack, billing, runId, from, target, sizes.inFlight);
      from = target;
      const rampSeconds = (performance.now() - t0) / 1000;
      const workerRssBytes = await settledRss(pid, sizes);
      const point = { sleeping: target, workerRssBytes, dbBytes: stack.dbBytes(), rampSeconds };
      points.push(point);
      progress(
        `idle: ${target} asleep after ${rampSeconds.toFixed(0)} s — worker RSS ${(workerRssBytes / 2 ** 20).toFixed(0)} MiB, db ${(point.dbBytes / 2 ** 20).toFixed(1)} MiB`,
      );
    }
  } finally {
    await stopWorkerProcess(child, sizes.stopGraceMs);
  }
  const [small, large] = points as [IdlePoint, IdlePoint];
  return {
    sizes,
    maxCachedWorkflows: sizes.cache,
    emptyRssBytes,
    points,
    rssRatio: large.workerRssBytes / small.workerRssBytes,
    dbRatio: large.dbBytes / small.dbBytes,
    rssBytesPerCachedWorkflow:
      (small.workerRssBytes - emptyRssBytes) / Math.min(small.sleeping, sizes.cache),
    dbBytesPerWorkflow: (large.dbBytes - small.dbBytes) / (large.sleeping - small.sleeping),
  };
}
