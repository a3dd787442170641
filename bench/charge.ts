// Figure 2, charge throughput and latency: successful card charges (`pm_card_visa` through
// `BillingClient.startCharge` to the result) against `noopCharge`, a workflow with two no-op
// activities (Temporal's floor), closed loops at several concurrencies on one worker.
import { ChargeOutcome } from '../src/client/index.js';
import { mergeRuns, progress, runClosedLoop, type RunStats } from './measure.js';
import { BENCH_TASK_QUEUE, type BenchStack } from './stack.js';
import type { noopCharge } from './workflows.js';

export interface ChargeSizes {
  concurrencies: number[];
  /** Charges per round at concurrency c: max(minCharges, c × perLane). */
  perLane: number;
  minCharges: number;
  /** Rounds of (floor, ours), alternated so drift hits both sides alike. */
  rounds: number;
}

export interface ChargeLevel {
  concurrency: number;
  ours: RunStats;
  floor: RunStats;
  /** ours charges/s ÷ floor workflows/s. */
  throughputRatio: number;
  /** The same ratio in each round, in order: the spread the merged figure hides. */
  roundRatios: number[];
  /** ours p50 ÷ floor p50. */
  p50Ratio: number;
  p99Ratio: number;
  /**
   * The same card charges with the receiver signalling every webhook (`signalAnswers`), the
   * answers to the charge's own confirm included: what not signalling them saves.
   */
  signalled?: { stats: RunStats; throughputRatio: number; roundRatios: number[] };
  /**
   * CPU per workflow, ms, over all rounds: the bench process (worker, receiver, simulator and
   * the driver, all threads) and the Temporal server; `server` is absent on the cluster.
   */
  cpuMs?: { ours: CpuPerWorkflow; floor: CpuPerWorkflow; signalled?: CpuPerWorkflow };
}

export interface CpuPerWorkflow {
  bench: number;
  server?: number;
}

/** Adds the CPU one run used to `total`, per workflow of the run. */
async function metered(
  stack: BenchStack,
  total: { bench: number; server: number | undefined; count: number },
  run: () => Promise<RunStats>,
): Promise<RunStats> {
  const bench = process.cpuUsage();
  const server = stack.serverCpuMs();
  const stats = await run();
  const used = process.cpuUsage(bench);
  total.bench += (used.user + used.system) / 1000;
  const after = stack.serverCpuMs();
  total.server =
    server === undefined || after === undefined ? undefined : (total.server ?? 0) + after - server;
  total.count += stats.count;
  return stats;
}

function perWorkflow(total: { bench: number; server: number | undefined; count: number }) {
  const per = (ms: number) => Math.round((ms / total.count) * 10) / 10;
  return {
    bench: per(total.bench),
    ...(total.server !== undefined && { server: per(total.server) }),
  };
}

export async function benchCharges(
  stack: BenchStack,
  sizes: ChargeSizes,
  runId: string,
): Promise<ChargeLevel[]> {
  let seq = 0;
  const card = async (): Promise<void> => {
    const handle = await stack.billing.startCharge({
      orderId: `${runId}-card-${seq++}`,
      customerId: stack.customerId,
      amount: 2500,
      currency: 'usd',
      paymentMethodId: 'pm_card_visa',
    });
    const result = await handle.result();
    if (result.outcome !== ChargeOutcome.succeeded)
      throw new Error(`${handle.workflowId} ended ${result.outcome}, not succeeded`);
  };
  const floor = async (): Promise<void> => {
    const orderId = `${runId}-noop-${seq++}`;
    const handle = await stack.client.workflow.start<typeof noopCharge>('noopCharge', {
      taskQueue: BENCH_TASK_QUEUE,
      workflowId: `noop:${orderId}`,
      args: [orderId],
    });
    await handle.result();
  };

  const worker = await stack.createWorker(BENCH_TASK_QUEUE);
  return worker.runUntil(async () => {
    // Warm-up: bundle loaded into the worker's context, JIT, connections. Not counted.
    await runClosedLoop(8, 4, (i) => (i % 2 === 0 ? card() : floor()));
    const levels: ChargeLevel[] = [];
    for (const concurrency of sizes.concurrencies) {
      const count = Math.max(sizes.minCharges, concurrency * sizes.perLane);
      const ours: RunStats[] = [];
      const floors: RunStats[] = [];
      const signalling: RunStats[] = [];
      const oursCpu = { bench: 0, server: 0 as number | undefined, count: 0 };
      const floorCpu = { bench: 0, server: 0 as number | undefined, count: 0 };
      const signallingCpu = { bench: 0, server: 0 as number | undefined, count: 0 };
      const sides = [
        async () =>
          floors.push(
            await metered(stack, floorCpu, () => runClosedLoop(count, concurrency, floor)),
          ),
        async () =>
          ours.push(await metered(stack, oursCpu, () => runClosedLoop(count, concurrency, card))),
        async () => {
          stack.signalAnswers(true);
          try {
            signalling.push(
              await metered(stack, signallingCpu, () => runClosedLoop(count, concurrency, card)),
            );
          } finally {
            stack.signalAnswers(false);
          }
        },
      ];
      for (let round = 0; round < sizes.rounds; round++) {
        // The sides take turns going first (the server's db only grows during the run).
        for (let i = 0; i < sides.length; i++) await sides[(round + i) % sides.length]!();
        progress(
          `charges c=${concurrency} round ${round + 1}/${sizes.rounds}: ${ours.at(-1)!.perSecond.toFixed(1)}/s (p50 ${ours.at(-1)!.p50Ms.toFixed(0)} ms), every webhook signalled ${signalling.at(-1)!.perSecond.toFixed(1)}/s, floor ${floors.at(-1)!.perSecond.toFixed(1)}/s (p50 ${floors.at(-1)!.p50Ms.toFixed(0)} ms)`,
        );
      }
      const o = mergeRuns(ours);
      const f = mergeRuns(floors);
      const sig = mergeRuns(signalling);
      levels.push({
        concurrency,
        ours: o,
        floor: f,
        throughputRatio: o.perSecond / f.perSecond,
        roundRatios: ours.map((r, i) => r.perSecond / floors[i]!.perSecond),
        p50Ratio: o.p50Ms / f.p50Ms,
        p99Ratio: o.p99Ms / f.p99Ms,
        signalled: {
          stats: sig,
          throughputRatio: sig.perSecond / f.perSecond,
          roundRatios: signalling.map((r, i) => r.perSecond / floors[i]!.perSecond),
        },
        cpuMs: {
          ours: perWorkflow(oursCpu),
          floor: perWorkflow(floorCpu),
          signalled: perWorkflow(signallingCpu),
        },
      });
    }
    return levels;
  });
}
