// Options of a chaos run and their command-line flags (`npm run chaos -- --orders 60 --seed 7`).
// Every number that shapes the run is here, so a printed seed plus these flags replay it.
import { parseArgs } from 'node:util';
import { freshSeed } from './random.js';

export interface ChaosOptions {
  /** Orders driven through the stack. */
  orders: number;
  /** Seeds the order mix, the fault rules, the chaos schedule and the simulator. */
  seed: number;
  /** Worker processes. */
  workers: number;
  /** After the last order starts, how long every charge may take to reach its outcome. */
  drainSeconds: number;
  /** Orders started per second. */
  rate: number;
  /** `kill -9`s of worker processes during the run (each restarted shortly after). */
  workerKills: number;
  /** Restarts of the dev server on its db file (at least one). */
  serverRestarts: number;
  /** How much faster than the wall clock the simulated Stripe clock runs (webhook retries, bank debits). */
  stripeClockSpeed: number;
  /**
   * Mix in callers that bypass the client (raw starts with any id policy, wrong workflow ids,
   * terminate + restart, resets, restarts after Stripe pruned the keys), forged and junk
   * signals, signal floods, retryNow storms and cancels at every phase (chaos/adversary.ts).
   */
  adversarial: boolean;
  /**
   * Share of the orders whose charge succeeds that get refund requests afterwards (partial,
   * full, repeated refund ids, concurrent requests over the capture); default
   * {@link DEFAULT_REFUND_SHARE}, 0 for none (issue 14).
   */
  refunds?: number | undefined;
  /**
   * Run on the cluster (scripts/cluster-stack.ts: PostgreSQL, 4 shards, the Temporal services as
   * separate processes, compiled workers, two receivers behind a proxy) from a fresh data directory,
   * with {@link ChaosOptions.clusterFaults} in place of the dev server's restarts.
   */
  cluster: boolean;
  /** The cluster's faults (`--cluster`): how many of each, spread over the load. */
  clusterFaults: ClusterFaultCounts;
  /** On the cluster: workers and receivers through tsx from src/, not the dist/ build. */
  fromSource: boolean;
  /** Write the report (markdown, and its JSON next to it) to this file as well. */
  out: string | undefined;
  /** Keep the run directory (db file, logs) even when the run passes. */
  keep: boolean;
  /** Progress lines on stderr. */
  verbose: boolean;
}

export interface ClusterFaultCounts {
  /** `kill -9`s of a history process (restarted after a few seconds). */
  historyKills: number;
  /** `kill -9`s of the frontend (restarted). */
  frontendKills: number;
  /** `kill -9`s of Temporal's worker service (restarted). */
  temporalWorkerKills: number;
  /** Stops (fast shutdown) and starts of PostgreSQL. */
  postgresRestarts: number;
}

/** Share of succeeded orders that get refund requests, when `refunds` is not given. */
export const DEFAULT_REFUND_SHARE = 0.4;

/** Defaults: the full run (`npm run chaos`). */
export const DEFAULT_OPTIONS: Omit<ChaosOptions, 'seed' | 'workerKills'> = {
  orders: 1000,
  workers: 3,
  drainSeconds: 300,
  rate: 3,
  serverRestarts: 1,
  stripeClockSpeed: 30,
  adversarial: false,
  cluster: false,
  clusterFaults: { historyKills: 1, frontendKills: 1, temporalWorkerKills: 1, postgresRestarts: 1 },
  fromSource: false,
  out: undefined,
  keep: false,
  verbose: true,
};

/** Billing workers ("hosts") on the cluster, when `--workers` is not given: the cluster's two. */
export const CLUSTER_WORKERS = 2;

/** The small configuration CI runs (test/chaos/chaos.test.ts). */
export const CI_OPTIONS: ChaosOptions = {
  ...DEFAULT_OPTIONS,
  orders: 60,
  seed: 20260108,
  workers: 2,
  drainSeconds: 90,
  rate: 4,
  workerKills: 3,
  serverRestarts: 1,
  verbose: false,
};

/**
 * The small adversarial configuration CI runs next to `CI_OPTIONS`: fewer orders, most of them
 * attacked, one signal flood and two retryNow storms, one clock jump past Stripe's key retention.
 */
export const CI_ADVERSARIAL_OPTIONS: ChaosOptions = {
  ...CI_OPTIONS,
  orders: 40,
  seed: 20261201,
  rate: 3,
  workerKills: 2,
  drainSeconds: 120,
  adversarial: true,
};

/**
 * The small cluster configuration the cluster suite runs (test/cluster/chaos.test.ts): 80 orders
 * over 40 s, each cluster fault once, two worker-host kills.
 */
export const CLUSTER_TEST_OPTIONS: ChaosOptions = {
  ...DEFAULT_OPTIONS,
  orders: 80,
  seed: 20261215,
  workers: CLUSTER_WORKERS,
  drainSeconds: 180,
  rate: 2,
  workerKills: 2,
  cluster: true,
  fromSource: true,
  verbose: false,
};

/** One kill about every 30 s of load, at least two. */
export function defaultWorkerKills(orders: number, rate: number): number {
  return Math.max(2, Math.round(orders / rate / 30));
}

function positive(name: string, value: string | undefined, integer = true): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0 || (integer && !Number.isInteger(parsed)))
    throw new Error(
      `--${name} must be a positive ${integer ? 'whole ' : ''}number, got "${value}"`,
    );
  return parsed;
}

/** Parses the command line; throws with the flag's name on a bad value. */
export function parseChaosArgs(argv: readonly string[]): ChaosOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      orders: { type: 'string' },
      seed: { type: 'string' },
      workers: { type: 'string' },
      'drain-seconds': { type: 'string' },
      rate: { type: 'string' },
      kills: { type: 'string' },
      restarts: { type: 'string' },
      'stripe-clock-speed': { type: 'string' },
      adversarial: { type: 'boolean', default: false },
      refunds: { type: 'string' },
      cluster: { type: 'boolean', default: false },
      'history-kills': { type: 'string' },
      'frontend-kills': { type: 'string' },
      'temporal-worker-kills': { type: 'string' },
      'postgres-restarts': { type: 'string' },
      'from-source': { type: 'boolean', default: false },
      out: { type: 'string' },
      keep: { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const orders = positive('orders', values.orders) ?? DEFAULT_OPTIONS.orders;
  const rate = positive('rate', values.rate, false) ?? DEFAULT_OPTIONS.rate;
  const seed =
    values.seed === undefined
      ? freshSeed()
      : Number.isInteger(Number(values.seed))
        ? Number(values.seed)
        : (() => {
            throw new Error(`--seed must be a whole number, got "${values.seed}"`);
          })();
  return {
    orders,
    seed,
    rate,
    workers:
      positive('workers', values.workers) ??
      (values.cluster ? CLUSTER_WORKERS : DEFAULT_OPTIONS.workers),
    drainSeconds:
      positive('drain-seconds', values['drain-seconds']) ?? DEFAULT_OPTIONS.drainSeconds,
    workerKills: positive('kills', values.kills) ?? defaultWorkerKills(orders, rate),
    serverRestarts: positive('restarts', values.restarts) ?? DEFAULT_OPTIONS.serverRestarts,
    stripeClockSpeed:
      positive('stripe-clock-speed', values['stripe-clock-speed'], false) ??
      DEFAULT_OPTIONS.stripeClockSpeed,
    adversarial: values.adversarial,
    refunds: refundShare(values.refunds),
    cluster: values.cluster,
    clusterFaults: clusterFaultCounts(values),
    fromSource: values['from-source'],
    out: values.out,
    keep: values.keep,
    verbose: !values.quiet,
  };
}

/** The flag of each cluster fault count. */
const CLUSTER_FAULT_FLAGS = {
  historyKills: 'history-kills',
  frontendKills: 'frontend-kills',
  temporalWorkerKills: 'temporal-worker-kills',
  postgresRestarts: 'postgres-restarts',
} as const satisfies Record<keyof ClusterFaultCounts, string>;

/** `--history-kills` and the others, each a positive whole number, or its default. */
function clusterFaultCounts(
  values: Partial<Record<(typeof CLUSTER_FAULT_FLAGS)[keyof ClusterFaultCounts], string>>,
): ClusterFaultCounts {
  const counts = { ...DEFAULT_OPTIONS.clusterFaults };
  for (const [key, flag] of Object.entries(CLUSTER_FAULT_FLAGS) as [
    keyof ClusterFaultCounts,
    (typeof CLUSTER_FAULT_FLAGS)[keyof ClusterFaultCounts],
  ][])
    counts[key] = positive(flag, values[flag]) ?? counts[key];
  return counts;
}

/** `--refunds <share>`: 0 to 1, the share of succeeded orders that get refund requests. */
function refundShare(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const share = Number(value);
  if (!Number.isFinite(share) || share < 0 || share > 1)
    throw new Error(`--refunds must be a share from 0 to 1, got "${value}"`);
  return share;
}
