// Measuring helpers shared by the figures: progress on stderr, bounded-concurrency runs with
// per-item latency, percentiles and ratios. No Temporal here.

const started = performance.now();
let quiet = false;

/** Silences progress (the smoke test); the figures are still computed. */
export function setQuiet(value: boolean): void {
  quiet = value;
}

/** One progress line on stderr, stamped with the time since the bench started. */
export function progress(message: string): void {
  if (quiet) return;
  const s = Math.floor((performance.now() - started) / 1000);
  const stamp = `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
  process.stderr.write(`[bench ${stamp}] ${message}\n`);
}

/** What a closed-loop run measured: items done, wall time, and each item's latency. */
export interface RunStats {
  count: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

/**
 * Runs `task(i)` for i in [0, count) with at most `concurrency` in flight (a closed loop: a new
 * one starts when one ends) and measures each call's latency. Rejects on the first failure.
 */
export async function runClosedLoop(
  count: number,
  concurrency: number,
  task: (i: number) => Promise<unknown>,
  onProgress?: (done: number) => void,
): Promise<RunStats> {
  const latencies: number[] = [];
  let next = 0;
  let done = 0;
  const t0 = performance.now();
  async function lane(): Promise<void> {
    while (next < count) {
      const i = next++;
      const t = performance.now();
      await task(i);
      latencies.push(performance.now() - t);
      done++;
      onProgress?.(done);
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  const seconds = (performance.now() - t0) / 1000;
  return {
    count,
    seconds,
    perSecond: count / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
  };
}

/** Merges runs of the same kind: total items over total time; latencies by the median run's. */
export function mergeRuns(runs: RunStats[]): RunStats {
  const count = runs.reduce((a, r) => a + r.count, 0);
  const seconds = runs.reduce((a, r) => a + r.seconds, 0);
  return {
    count,
    seconds,
    perSecond: count / seconds,
    p50Ms: median(runs.map((r) => r.p50Ms)),
    p99Ms: median(runs.map((r) => r.p99Ms)),
  };
}

/** The nearest-rank percentile of `values` (NaN when empty). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** Calls `probe` every `everyMs` until it returns a value, or throws after `timeoutMs`. */
export async function pollUntil<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  { everyMs = 500, timeoutMs = 300_000 }: { everyMs?: number; timeoutMs?: number } = {},
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** Rounds for display: 3 significant digits. */
export function round(value: number): number {
  return Number.isFinite(value) ? Number(value.toPrecision(3)) : value;
}
