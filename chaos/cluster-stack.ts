// The stack of `npm run chaos -- --cluster`: the production shape of scripts/cluster-stack.ts
// (PostgreSQL, Temporal's frontend, matching, two history hosts and worker service as separate
// processes on 4 shards, `durable-billing setup`, compiled billing workers, two receivers behind
// the round-robin proxy) on a fresh data directory, with the run's simulator and wire taps in
// front of it, and the cluster's faults: `kill -9` of a history host, of the frontend and of
// Temporal's worker service, and a stop and start of PostgreSQL.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { bundleWorkflows } from '../src/embedded/bundle.js';
import { freeClusterPorts, frontendServes, startCluster } from '../scripts/cluster-stack.js';
import { startApiTap } from './api-tap.js';
import type { ChaosOptions } from './options.js';
import { ServerFaultKind } from './plan.js';
import {
  assembleStack,
  REPO_ROOT,
  startChaosSimulator,
  TASK_QUEUE,
  WEBHOOK_SECRET,
  type ChaosStack,
  type Progress,
} from './stack.js';
import { startWebhookTap } from './tap.js';

/** How long PostgreSQL's fast shutdown may take before it is killed. */
const POSTGRES_STOP_GRACE_MS = 30_000;

/** `tsc -p tsconfig.build.json`: the compiled workers and receivers are this tree, not a stale dist/. */
function buildDist(): void {
  const tsc = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const built = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  });
  if (built.status !== 0)
    throw new Error(`npm run build failed (exit ${built.status}): ${built.stdout}${built.stderr}`);
}

/** Starts the cluster stack of a run from a fresh data directory; `progress` hears each step. */
export async function startClusterChaosStack(
  options: ChaosOptions,
  progress: Progress,
): Promise<ChaosStack> {
  const dir = mkdtempSync(join(tmpdir(), `durable-billing-chaos-cluster-${options.seed}-`));
  progress(`run directory ${dir} (PostgreSQL data, logs, workflow bundle)`);
  if (!options.fromSource) {
    progress('building dist/ (tsc -p tsconfig.build.json) for the compiled workers and receivers');
    buildDist();
  }
  progress('bundling workflows');
  const bundlePath = join(dir, 'workflow-bundle.js');
  writeFileSync(bundlePath, (await bundleWorkflows()).code);

  const ports = await freeClusterPorts();
  // Stripe → tap → the proxy → a receiver; worker → API tap → Stripe.
  const tap = await startWebhookTap(
    `http://127.0.0.1:${ports.webhook}/webhooks/stripe`,
    WEBHOOK_SECRET,
  );
  const sim = await startChaosSimulator(options, tap.url);
  const apiTap = await startApiTap(sim.url);
  let cluster;
  try {
    cluster = await startCluster({
      dataDir: dir,
      ports,
      namespace: 'default',
      taskQueue: TASK_QUEUE,
      workers: options.workers,
      webhookSecret: WEBHOOK_SECRET,
      sim,
      workflowBundle: bundlePath,
      workerEnv: { STRIPE_API_BASE: apiTap.url, STRIPE_SECRET_KEY: 'sk_test_chaos' },
      fromSource: options.fromSource,
      progress,
    });
  } catch (error) {
    await Promise.allSettled([apiTap.close(), sim.close(), tap.close()]);
    throw error;
  }
  const c = cluster;
  const temporal = (name: string) => {
    const service = c.temporal.find((s) => s.name === name);
    if (!service) throw new Error(`the cluster has no ${name} process`);
    return service;
  };
  progress(
    `cluster up: ${c.temporal.map((s) => s.name).join(', ')} on PostgreSQL ${c.addresses.postgres}; ${c.workers.length} billing workers, ${c.receivers.length} receivers`,
  );
  return assembleStack({
    dir,
    temporalAddress: c.addresses.temporal,
    sim,
    tap,
    apiTap,
    workers: c.workers,
    services: [c.postgres, ...c.temporal, ...c.receivers, ...c.workers],
    async disrupt(fault) {
      if (fault.kind === ServerFaultKind.postgres) {
        // A fast shutdown (SIGINT): PostgreSQL ends every session and stops; nothing is lost.
        await c.postgres.stop(POSTGRES_STOP_GRACE_MS, 'SIGINT');
        await delay(fault.downMs);
        await c.postgres.startUntilReady();
        return 'stop (fast shutdown) and start PostgreSQL';
      }
      const name = {
        [ServerFaultKind.history]: `history-${fault.index}`,
        [ServerFaultKind.frontend]: 'frontend',
        [ServerFaultKind.temporalWorker]: 'worker',
        [ServerFaultKind.devServer]: undefined,
      }[fault.kind];
      if (!name) throw new Error(`the cluster stack has no ${fault.kind} (the dev-server run has)`);
      const service = temporal(name);
      await service.kill9();
      await delay(fault.downMs);
      await service.startUntilReady();
      return `kill -9 and restart ${name}`;
    },
    temporalServes: async () =>
      c.postgres.running &&
      c.temporal.every((s) => s.running) &&
      (await frontendServes(ports.frontend)),
    close: () => c.stop(),
  });
}
