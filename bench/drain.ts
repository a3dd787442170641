// Figure 8, drain: how long a billing worker takes to stop on SIGTERM with thousands of workflows
// in its cache. One worker process (`src/worker.ts`, configured by env as `npm run worker` runs
// it) with a cache larger than the run; `charges` charges are declined once and sleep in dunning
// (each cached, nothing in flight); then SIGTERM, and the seconds until the process exits, against
// the shutdown grace a deployment gives it (Kubernetes: 30 s by default; the bar: 10 s).
import { BillingClient } from '../src/client/index.js';
import { rampTo, rssBytes, settledRss, startWorkerProcess, stopWorkerProcess } from './idle.js';
import { progress } from './measure.js';
import type { BenchStack } from './stack.js';

export interface DrainSizes {
  /** Sleeping charges the worker holds in its cache when it is told to stop. */
  charges: number;
  /** Charges started but not yet asleep, at most (as the idle figure's ramp). */
  inFlight: number;
  /** The shutdown grace the drain is measured against, ms. */
  graceMs: number;
}

export interface DrainResult {
  sizes: DrainSizes;
  /** The worker's WORKER_MAX_CACHED_WORKFLOWS: above `charges`, so every one stays cached. */
  maxCachedWorkflows: number;
  /** Seconds from the first start to every charge asleep. */
  rampSeconds: number;
  workerRssBytes: number;
  /** SIGTERM → exit. */
  drainSeconds: number;
  /** The worker's exit code (null: it had to be killed after 3× the grace). */
  exitCode: number | null;
}

const TASK_QUEUE = 'bench-drain';

export async function benchDrain(
  stack: BenchStack,
  sizes: DrainSizes,
  runId: string,
): Promise<DrainResult> {
  const cache = sizes.charges + 1000;
  progress(`drain: a worker process on ${TASK_QUEUE} (cache ${cache}), ${sizes.charges} charges`);
  const child = await startWorkerProcess(stack, cache, TASK_QUEUE);
  const billing = new BillingClient(stack.client, { taskQueue: TASK_QUEUE });
  let stopped: { seconds: number; exitCode: number | null } | undefined;
  try {
    const t0 = performance.now();
    await rampTo(stack, billing, runId, 0, sizes.charges, sizes.inFlight);
    const rampSeconds = (performance.now() - t0) / 1000;
    // Settled RSS: the first-failure notices (an activity each) have finished by then.
    await settledRss(child.pid!, { settleSamples: 5, settleTolerance: 0.01 });
    const workerRssBytes = rssBytes(child.pid!);
    progress(
      `drain: ${sizes.charges} asleep after ${rampSeconds.toFixed(0)} s, RSS ${(workerRssBytes / 2 ** 20).toFixed(0)} MiB; SIGTERM`,
    );
    stopped = await stopWorkerProcess(child, 3 * sizes.graceMs);
    progress(`drain: exited ${String(stopped.exitCode)} in ${stopped.seconds.toFixed(1)} s`);
    return {
      sizes,
      maxCachedWorkflows: cache,
      rampSeconds,
      workerRssBytes,
      drainSeconds: stopped.seconds,
      exitCode: stopped.exitCode,
    };
  } finally {
    if (!stopped) await stopWorkerProcess(child, 1000);
  }
}
