// Runs the chosen figures on one bench stack, in an order that keeps them apart (ingest before
// anything leaves webhooks in flight; idle and drain late, they leave thousands of workflows
// behind; requests last, its 10,000 intents would otherwise make every later search scan them),
// then, with `--cluster`, ingest, charge and stream again on a fresh Temporal cluster. Each
// figure records when it ran and under what load (`sections`), so a partial run can be merged.
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  freeClusterPorts,
  readEnvFile,
  SERVER_ENV_FILE,
  startCluster,
  type Cluster,
} from '../scripts/cluster-stack.js';
import { benchDrain } from './drain.js';
import { benchMerchantStream } from './merchant-stream.js';
import { benchCharges } from './charge.js';
import { benchHistory } from './history.js';
import { benchIdle } from './idle.js';
import { benchIngest } from './ingest.js';
import { progress, setQuiet } from './measure.js';
import { benchRefunds } from './refunds.js';
import { benchRequests } from './requests.js';
import type { BenchOptions } from './options.js';
import {
  buildRows,
  RESULTS_SCHEMA_VERSION,
  type BenchResults,
  type ClusterFigures,
  type SectionRun,
} from './report.js';
import { startBenchStack, type BenchStack } from './stack.js';
import { benchTimeTravel } from './time-travel.js';

/** Runs `measure`, recording when it ran, for how long and under what load, in `sections`. */
async function timed<T>(
  sections: Record<string, SectionRun>,
  key: string,
  mode: BenchOptions['mode'],
  measure: () => Promise<T>,
): Promise<T> {
  const start = loadavg();
  const measuredAt = new Date().toISOString();
  const t0 = performance.now();
  const result = await measure();
  sections[key] = {
    measuredAt,
    mode,
    durationSeconds: (performance.now() - t0) / 1000,
    loadAverage: { start, end: loadavg() },
  };
  return result;
}

/** A Temporal cluster alone (PostgreSQL, separate services, 4 shards) from a fresh data dir. */
async function startBenchCluster(): Promise<{ cluster: Cluster; dataDir: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'durable-billing-bench-cluster-'));
  progress(`cluster: starting Temporal on PostgreSQL in ${dataDir}`);
  const cluster = await startCluster({
    dataDir,
    ports: await freeClusterPorts(),
    temporalOnly: true,
    progress: (line) => progress(`cluster: ${line}`),
  });
  return { cluster, dataDir };
}

export async function runBench(options: BenchOptions): Promise<BenchResults> {
  setQuiet(options.quiet);
  const t0 = performance.now();
  const loadAtStart = loadavg();
  const runId = `bench-${process.pid}-${Date.now().toString(36)}`;
  const has = (figure: BenchOptions['figures'][number]) => options.figures.includes(figure);
  const sections: Record<string, SectionRun> = {};
  const partial: Omit<BenchResults, 'rows' | 'durationSeconds'> = {
    schemaVersion: RESULTS_SCHEMA_VERSION,
    generatedAt: new Date().toISOString(),
    mode: options.mode,
    machine: { cpus: cpus().length, node: process.versions.node, platform: process.platform },
    sections,
  };
  const run = <T>(key: string, measure: () => Promise<T>) =>
    timed(sections, key, options.mode, measure);
  let stack: BenchStack | undefined;
  let cluster: { cluster: Cluster; dataDir: string } | undefined;
  // Ctrl-C mid-run: stop the servers and the worker process instead of orphaning them.
  const interrupted = (signal: NodeJS.Signals) => {
    progress(`${signal}: stopping the stack`);
    Promise.all([stack?.close(), cluster?.cluster.stop()]).then(
      () => process.exit(130),
      (error: unknown) => {
        console.error(error);
        process.exit(130);
      },
    );
  };
  process.once('SIGINT', interrupted).once('SIGTERM', interrupted);
  try {
    stack = await startBenchStack();
    const s = stack;
    if (has('ingest'))
      partial.ingest = await run('ingest', () => benchIngest(s, options.ingest, runId));
    if (has('charge'))
      partial.charges = await run('charge', () => benchCharges(s, options.charge, runId));
    if (has('stream'))
      partial.stream = await run('stream', () => benchMerchantStream(s, options.stream));
    if (has('history'))
      partial.history = await run('history', () => benchHistory(s, options.history, runId));
    if (has('travel')) partial.timeTravel = await run('travel', () => benchTimeTravel(s));
    if (has('idle')) partial.idle = await run('idle', () => benchIdle(s, options.idle, runId));
    if (has('drain')) partial.drain = await run('drain', () => benchDrain(s, options.drain, runId));
    if (has('refunds'))
      partial.refunds = await run('refunds', () => benchRefunds(s, options.refunds, runId));
    if (has('requests'))
      partial.requests = await run('requests', () => benchRequests(s, options.requests, runId));
    progress('stopping the dev-server stack');
    await s.close();
    stack = undefined;
    if (options.cluster) {
      // The same figures on the production shape, one after the other with the dev server's, so
      // the machine's state is alike for both (the dev server is stopped first).
      cluster = await startBenchCluster();
      const { addresses } = cluster.cluster;
      const on = await startBenchStack({
        address: addresses.temporal,
        namespace: addresses.namespace,
      });
      stack = on;
      const figures: ClusterFigures = {
        server: {
          address: addresses.temporal,
          historyShards: Number(readEnvFile(SERVER_ENV_FILE)['NUM_HISTORY_SHARDS']),
          services: cluster.cluster.temporal.length,
        },
      };
      if (has('ingest'))
        figures.ingest = await run('cluster.ingest', () =>
          benchIngest(on, options.ingest, `${runId}-cluster`),
        );
      if (has('charge'))
        figures.charges = await run('cluster.charge', () =>
          benchCharges(on, options.charge, `${runId}-cluster`),
        );
      if (has('stream'))
        figures.stream = await run('cluster.stream', () => benchMerchantStream(on, options.stream));
      partial.cluster = figures;
    }
  } finally {
    process.off('SIGINT', interrupted).off('SIGTERM', interrupted);
    progress('stopping the stack');
    await stack?.close();
    if (cluster) {
      await cluster.cluster.stop();
      rmSync(cluster.dataDir, { recursive: true, force: true });
    }
  }
  const done = {
    ...partial,
    loadAverage: { start: loadAtStart, end: loadavg() },
    durationSeconds: (performance.now() - t0) / 1000,
  };
  return { ...done, rows: buildRows(done) };
}
