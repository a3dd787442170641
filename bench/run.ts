// Runs the chosen figures on one bench stack, in an order that keeps them apart (ingest before
// anything leaves webhooks in flight; idle late, it leaves thousands of workflows behind; requests
// last, its 10,000 intents would otherwise make every later search scan them).
import { cpus, loadavg } from 'node:os';
import { benchCharges } from './charge.js';
import { benchHistory } from './history.js';
import { benchIdle } from './idle.js';
import { benchIngest } from './ingest.js';
import { progress, setQuiet } from './measure.js';
import { benchRefunds } from './refunds.js';
import { benchRequests } from './requests.js';
import type { BenchOptions } from './options.js';
import { buildRows, RESULTS_SCHEMA_VERSION, type BenchResults } from './report.js';
import { startBenchStack } from './stack.js';
import { benchTimeTravel } from './time-travel.js';

export async function runBench(options: BenchOptions): Promise<BenchResults> {
  setQuiet(options.quiet);
  const t0 = performance.now();
  const loadAtStart = loadavg();
  const runId = `bench-${process.pid}-${Date.now().toString(36)}`;
  const has = (figure: BenchOptions['figures'][number]) => options.figures.includes(figure);
  const stack = await startBenchStack();
  const partial: Omit<BenchResults, 'rows' | 'durationSeconds'> = {
    schemaVersion: RESULTS_SCHEMA_VERSION,
    generatedAt: new Date().toISOString(),
    mode: options.mode,
    machine: { cpus: cpus().length, node: process.versions.node, platform: process.platform },
  };
  // Ctrl-C mid-run: stop the servers and the worker process instead of orphaning them.
  const interrupted = (signal: NodeJS.Signals) => {
    progress(`${signal}: stopping the stack`);
    stack.close().then(
      () => process.exit(130),
      (error: unknown) => {
        console.error(error);
        process.exit(130);
      },
    );
  };
  process.once('SIGINT', interrupted).once('SIGTERM', interrupted);
  try {
    if (has('ingest')) partial.ingest = await benchIngest(stack, options.ingest, runId);
    if (has('charge')) partial.charges = await benchCharges(stack, options.charge, runId);
    if (has('history')) partial.history = await benchHistory(stack, options.history, runId);
    if (has('travel')) partial.timeTravel = await benchTimeTravel(stack);
    if (has('idle')) partial.idle = await benchIdle(stack, options.idle, runId);
    if (has('refunds')) partial.refunds = await benchRefunds(stack, options.refunds, runId);
    if (has('requests')) partial.requests = await benchRequests(stack, options.requests, runId);
  } finally {
    process.off('SIGINT', interrupted).off('SIGTERM', interrupted);
    progress('stopping the stack');
    await stack.close();
  }
  const done = {
    ...partial,
    loadAverage: { start: loadAtStart, end: loadavg() },
    durationSeconds: (performance.now() - t0) / 1000,
  };
  return { ...done, rows: buildRows(done) };
}
