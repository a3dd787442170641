// The seeded plan of a chaos run: each order's Stripe outcome and the app actions on it
// (retryNow, cancel, forged webhooks), the simulator's API and webhook fault rules, and when
// worker processes and the Temporal server's processes (the dev server, or on the cluster a history
// host, the frontend, the worker service and PostgreSQL) are killed. Pure: same options, same plan.
import type { DunningOverride } from '../src/shared/dunning.js';
import {
  FaultKind,
  WebhookFaultKind,
  type FaultRule,
  type WebhookFaultRule,
} from '../src/simulator/index.js';
import type { AdversarialPlan, Attack } from './adversarial-plan.js';
import { DEFAULT_REFUND_SHARE, type ChaosOptions } from './options.js';
import { Dice } from './random.js';

/** What Stripe will do with an order's payment method. */
export const Scenario = {
  success: 'success',
  softDecline: 'soft_decline',
  hardDecline: 'hard_decline',
  authenticationRequired: 'authentication_required',
  bankDebitSuccess: 'bank_debit_success',
  bankDebitFailure: 'bank_debit_failure',
} as const;
export type Scenario = (typeof Scenario)[keyof typeof Scenario];

/** Stripe's test payment method for each scenario (README, "Test payment methods"). */
export const SCENARIO_PAYMENT_METHOD: Record<Scenario, string> = {
  success: 'pm_card_visa',
  soft_decline: 'pm_card_chargeDeclinedInsufficientFunds',
  hard_decline: 'pm_card_chargeDeclinedStolenCard',
  authentication_required: 'pm_card_authenticationRequired',
  bank_debit_success: 'pm_usBankAccount_success',
  bank_debit_failure: 'pm_usBankAccount_insufficientFunds',
};

const SCENARIO_WEIGHTS: Record<Scenario, number> = {
  success: 35,
  soft_decline: 15,
  hard_decline: 15,
  authentication_required: 10,
  bank_debit_success: 15,
  bank_debit_failure: 10,
};

/**
 * Dunning compressed to seconds (0.00005 days ≈ 4.3 s): a soft decline is retried twice and a
 * hard or authentication decline gives up when the window (the sum, ≈ 13 s) ends.
 */
export const CHAOS_DUNNING: DunningOverride = {
  retryDelaysDays: [0.00005, 0.0001],
  jitterMinutes: 0,
};

/** How long a bank debit stays `processing`, in simulated ms (Stripe: days). */
export const PROCESSING_DELAY_SIM_MS = 60_000;

/** How a forged delivery is forged. */
export const ForgeryKind = {
  wrongSecret: 'wrong_secret',
  staleTimestamp: 'stale_timestamp',
  tamperedBody: 'tampered_body',
  unsigned: 'unsigned',
} as const;
export type ForgeryKind = (typeof ForgeryKind)[keyof typeof ForgeryKind];

/** Orders per customer: customers come back (and each `customer.created` is one event more). */
export const ORDERS_PER_CUSTOMER = 5;

export interface PlannedOrder {
  index: number;
  orderId: string;
  /** Which of the run's customers pays (orders of one customer interleave). */
  customer: number;
  scenario: Scenario;
  paymentMethodId: string;
  amount: number;
  /** Offset from the start of the load, ms. */
  startAtMs: number;
  /** retryNow this long after the start, maybe with a good card. */
  retryNow?: { afterMs: number; paymentMethodId: string | undefined };
  cancel?: { afterMs: number };
  /** Post a forged event about this order this long after its start. */
  forgery?: { afterMs: number; kind: ForgeryKind };
  /** The order's dunning, when not `CHAOS_DUNNING` (some attacks need a longer wait). */
  dunning?: DunningOverride;
  /** What the adversarial mix does to this order (chaos/adversarial-plan.ts). */
  attack?: Attack;
  /** Refund requests once the charge succeeded (issue 14; `planRefunds`). */
  refunds?: PlannedRefund[];
}

/** One refund request of a paid order: at `afterMs` after the charge's success. */
export interface PlannedRefund {
  afterMs: number;
  refundId: string;
  /** Minor units; undefined: what remains. */
  amount?: number | undefined;
}

/** How an order's refunds are asked for. */
export const RefundPattern = {
  /** One partial refund. */
  partial: 'partial',
  /** One refund of everything. */
  full: 'full',
  /** The same refund id twice (a retrying caller): carried out once. */
  repeated: 'repeated',
  /** Two requests at once that together exceed the capture: one is refused. */
  concurrentOver: 'concurrent_over',
  /** A partial refund, then the rest. */
  partialThenRest: 'partial_then_rest',
} as const;
export type RefundPattern = (typeof RefundPattern)[keyof typeof RefundPattern];

export interface PlannedKill {
  atMs: number;
  worker: number;
  /** How long the worker stays dead before it is started again. */
  downMs: number;
}

/** A process of the Temporal server side that a run takes down and brings back. */
export const ServerFaultKind = {
  /** `kill -9` of the dev server, restarted on its db file. */
  devServer: 'dev_server',
  /** `kill -9` of one history host of the cluster (its shards move, then it takes some back). */
  history: 'history',
  /** `kill -9` of the cluster's frontend (every client's gRPC endpoint). */
  frontend: 'frontend',
  /** `kill -9` of Temporal's worker service (system workflows, the backfill Schedule's runs). */
  temporalWorker: 'temporal_worker',
  /** A stop (fast shutdown) and start of PostgreSQL, under every Temporal service. */
  postgres: 'postgres',
} as const;
export type ServerFaultKind = (typeof ServerFaultKind)[keyof typeof ServerFaultKind];

export interface PlannedServerFault {
  atMs: number;
  kind: ServerFaultKind;
  /** Which process of its kind (the history host), 0 when there is one. */
  index: number;
  /** How long the process stays down before it is started again. */
  downMs: number;
}

export interface ChaosPlan {
  orders: PlannedOrder[];
  apiFaults: FaultRule[];
  webhookFaults: WebhookFaultRule[];
  workerKills: PlannedKill[];
  /** One after the other, in time order: each begins once the previous one is back. */
  serverFaults: PlannedServerFault[];
  /** When the last order starts, ms after the load begins. */
  loadMs: number;
  /** The adversarial mix's clock jumps (`--adversarial`); its attacks are on the orders. */
  adversarial?: AdversarialPlan;
}

/** Stream numbers: one independent sequence per concern. */
const STREAM = {
  orders: 1,
  apiFaults: 2,
  webhookFaults: 3,
  schedule: 4,
  refunds: 5,
  cluster: 6,
} as const;

/** Base probability × a seeded factor in [0.5, 1.5). */
function around(dice: Dice, base: number): number {
  return Math.round(base * dice.between(0.5, 1.5) * 1000) / 1000;
}

function planOrders(options: ChaosOptions): PlannedOrder[] {
  const dice = new Dice(options.seed, STREAM.orders);
  const spacingMs = 1000 / options.rate;
  const customers = Math.max(1, Math.ceil(options.orders / ORDERS_PER_CUSTOMER));
  return Array.from({ length: options.orders }, (_, index) => {
    const scenario = dice.weighted(SCENARIO_WEIGHTS);
    const order: PlannedOrder = {
      index,
      orderId: `chaos-${options.seed}-${index}`,
      customer: index % customers,
      scenario,
      paymentMethodId: SCENARIO_PAYMENT_METHOD[scenario],
      amount: dice.int(50, 5000) * 10,
      startAtMs: Math.round(index * spacingMs),
    };
    if (dice.chance(0.15))
      order.retryNow = {
        afterMs: Math.round(dice.between(500, 12_000)),
        paymentMethodId: dice.chance(0.6) ? 'pm_card_visa' : undefined,
      };
    if (dice.chance(0.07)) order.cancel = { afterMs: Math.round(dice.between(300, 12_000)) };
    if (dice.chance(0.05))
      order.forgery = {
        afterMs: Math.round(dice.between(500, 6000)),
        kind: dice.weighted({
          [ForgeryKind.wrongSecret]: 1,
          [ForgeryKind.staleTimestamp]: 1,
          [ForgeryKind.tamperedBody]: 1,
          [ForgeryKind.unsigned]: 1,
        }),
      };
    return order;
  });
}

const PI = '/v1/payment_intents';
const CONFIRM = '/v1/payment_intents/:id/confirm';

function planApiFaults(seed: number): FaultRule[] {
  const dice = new Dice(seed, STREAM.apiFaults);
  const rules: FaultRule[] = [];
  // stripe-node retries a reset connection once with the same key, so a lost response reaches
  // the activity only when two drops meet: the drop probability is high on purpose.
  for (const [method, path] of [
    ['POST', PI],
    ['POST', CONFIRM],
    ['POST', '/v1/payment_intents/:id/cancel'],
  ] as const) {
    rules.push(
      { kind: FaultKind.dropAfter, method, path, probability: around(dice, 0.15) },
      { kind: FaultKind.dropBefore, method, path, probability: around(dice, 0.03) },
      { kind: FaultKind.error500Before, method, path, probability: around(dice, 0.03) },
      { kind: FaultKind.error500After, method, path, probability: around(dice, 0.04) },
      { kind: FaultKind.lockTimeout409, method, path, probability: around(dice, 0.03) },
      { kind: FaultKind.idempotencyKeyInUse, method, path, probability: around(dice, 0.02) },
      { kind: FaultKind.rateLimit429, method, path, probability: around(dice, 0.04) },
      {
        kind: FaultKind.latency,
        method,
        path,
        probability: around(dice, 0.04),
        latencyMs: dice.int(200, 2500),
      },
    );
  }
  for (const path of ['/v1/payment_intents/:id', PI, '/v1/events', '/v1/customers/:id']) {
    rules.push(
      { kind: FaultKind.error500Before, method: 'GET', path, probability: around(dice, 0.03) },
      { kind: FaultKind.rateLimit429, method: 'GET', path, probability: around(dice, 0.03) },
      { kind: FaultKind.dropAfter, method: 'GET', path, probability: around(dice, 0.05) },
      {
        kind: FaultKind.latency,
        method: 'GET',
        path,
        probability: around(dice, 0.03),
        latencyMs: dice.int(100, 1500),
      },
    );
  }
  return rules;
}

function planWebhookFaults(seed: number, clockSpeed: number): WebhookFaultRule[] {
  const dice = new Dice(seed, STREAM.webhookFaults);
  return [
    { kind: WebhookFaultKind.duplicate, probability: around(dice, 0.08), copies: dice.int(2, 3) },
    { kind: WebhookFaultKind.reorder, probability: around(dice, 0.08) },
    {
      kind: WebhookFaultKind.delay,
      probability: around(dice, 0.05),
      // 2–20 s of wall time on the sped-up Stripe clock.
      delayMs: Math.round(dice.between(2_000, 20_000) * clockSpeed),
    },
    { kind: WebhookFaultKind.drop, probability: around(dice, 0.04) },
    { kind: WebhookFaultKind.stripMetadata, probability: around(dice, 0.08) },
    { kind: WebhookFaultKind.thinPayload, probability: around(dice, 0.06) },
    { kind: WebhookFaultKind.badSignature, probability: around(dice, 0.06) },
    { kind: WebhookFaultKind.staleTimestamp, probability: around(dice, 0.03) },
    { kind: WebhookFaultKind.futureTimestamp, probability: around(dice, 0.02) },
  ];
}

/** Scenarios whose charge succeeds (refunds need money captured). */
const PAID: ReadonlySet<Scenario> = new Set([Scenario.success, Scenario.bankDebitSuccess]);

/**
 * Refund requests for a share of the orders that will be paid, from a stream of their own (the
 * orders, faults and schedule of a seed stay as they were before refunds joined the mix).
 */
function planRefunds(orders: PlannedOrder[], options: ChaosOptions): void {
  const share = options.refunds ?? DEFAULT_REFUND_SHARE;
  const dice = new Dice(options.seed, STREAM.refunds);
  for (const order of orders) {
    const wanted = dice.chance(share);
    const pattern = dice.weighted({
      [RefundPattern.partial]: 3,
      [RefundPattern.full]: 2,
      [RefundPattern.repeated]: 2,
      [RefundPattern.concurrentOver]: 2,
      [RefundPattern.partialThenRest]: 1,
    });
    const part = Math.max(1, Math.round((order.amount * dice.between(0.2, 0.7)) / 10) * 10);
    const at = Math.round(dice.between(0, 3000));
    const gap = Math.round(dice.between(0, 1500));
    if (!wanted || !PAID.has(order.scenario) || order.cancel) continue;
    const id = (n: number) => `rf-${order.index}-${n}`;
    switch (pattern) {
      case RefundPattern.partial:
        order.refunds = [{ afterMs: at, refundId: id(0), amount: part }];
        break;
      case RefundPattern.full:
        order.refunds = [{ afterMs: at, refundId: id(0) }];
        break;
      case RefundPattern.repeated:
        order.refunds = [
          { afterMs: at, refundId: id(0), amount: part },
          { afterMs: at + gap, refundId: id(0), amount: part },
        ];
        break;
      case RefundPattern.concurrentOver: {
        const over = Math.round((order.amount * 0.6) / 10) * 10;
        order.refunds = [
          { afterMs: at, refundId: id(0), amount: over },
          { afterMs: at, refundId: id(1), amount: over },
        ];
        break;
      }
      case RefundPattern.partialThenRest:
        order.refunds = [
          { afterMs: at, refundId: id(0), amount: part },
          { afterMs: at + gap, refundId: id(1) },
        ];
        break;
    }
  }
}

/** Faults on the refund calls, as on the charge's (its own stream). */
function planRefundFaults(seed: number): FaultRule[] {
  const dice = new Dice(seed, STREAM.refunds + 100);
  const create = '/v1/refunds';
  return [
    { kind: FaultKind.dropAfter, method: 'POST', path: create, probability: around(dice, 0.15) },
    { kind: FaultKind.dropBefore, method: 'POST', path: create, probability: around(dice, 0.03) },
    {
      kind: FaultKind.error500Before,
      method: 'POST',
      path: create,
      probability: around(dice, 0.03),
    },
    {
      kind: FaultKind.error500After,
      method: 'POST',
      path: create,
      probability: around(dice, 0.05),
    },
    {
      kind: FaultKind.lockTimeout409,
      method: 'POST',
      path: create,
      probability: around(dice, 0.03),
    },
    { kind: FaultKind.rateLimit429, method: 'POST', path: create, probability: around(dice, 0.04) },
    {
      kind: FaultKind.latency,
      method: 'POST',
      path: create,
      probability: around(dice, 0.04),
      latencyMs: dice.int(200, 2500),
    },
    ...['/v1/refunds', '/v1/charges/:id'].flatMap((path): FaultRule[] => [
      { kind: FaultKind.error500Before, method: 'GET', path, probability: around(dice, 0.03) },
      { kind: FaultKind.dropAfter, method: 'GET', path, probability: around(dice, 0.05) },
    ]),
  ];
}

/** The plan for `options`. */
export function planChaos(options: ChaosOptions): ChaosPlan {
  const orders = planOrders(options);
  planRefunds(orders, options);
  const refunding = orders.some((o) => o.refunds);
  const loadMs = orders.at(-1)?.startAtMs ?? 0;
  const dice = new Dice(options.seed, STREAM.schedule);
  // Chaos covers the load and the first seconds after it, where dunning and retries still run.
  const windowMs = loadMs + 10_000;
  const workerKills = Array.from({ length: options.workerKills }, () => ({
    atMs: Math.round(dice.between(3000, windowMs)),
    worker: dice.int(0, options.workers - 1),
    downMs: Math.round(dice.between(500, 3000)),
  })).sort((a, b) => a.atMs - b.atMs);
  const restarts = Math.max(1, options.serverRestarts);
  const devServerRestarts = Array.from({ length: restarts }, (_, k) => ({
    atMs: Math.round(
      Math.max(4000, dice.between((k + 0.3) / restarts, (k + 0.7) / restarts) * loadMs),
    ),
    kind: ServerFaultKind.devServer,
    index: 0,
    downMs: Math.round(dice.between(2000, 6000)),
  }));
  return {
    orders,
    apiFaults: [
      ...planApiFaults(options.seed),
      ...(refunding ? planRefundFaults(options.seed) : []),
    ],
    webhookFaults: planWebhookFaults(options.seed, options.stripeClockSpeed),
    workerKills,
    serverFaults: options.cluster ? planClusterFaults(options, loadMs) : devServerRestarts,
    loadMs,
  };
}

/** How long each cluster fault keeps its process down (ms, seeded between the two). */
type ClusterFaultKind = Exclude<ServerFaultKind, 'dev_server'>;
const CLUSTER_DOWN_MS: Record<ClusterFaultKind, [number, number]> = {
  history: [2000, 6000],
  frontend: [2000, 5000],
  temporal_worker: [1000, 4000],
  postgres: [3000, 8000],
};

/**
 * The cluster's faults, from a stream of their own: each one in a slot of its own spread over the
 * load (from 10 % to 90 % of it, in a seeded order), so every fault lands while orders start,
 * charge and dunning runs, and the next begins after the last one is back.
 */
function planClusterFaults(options: ChaosOptions, loadMs: number): PlannedServerFault[] {
  const dice = new Dice(options.seed, STREAM.cluster);
  const counts = options.clusterFaults;
  const kinds: ClusterFaultKind[] = [
    ...Array.from({ length: counts.historyKills }, () => ServerFaultKind.history),
    ...Array.from({ length: counts.frontendKills }, () => ServerFaultKind.frontend),
    ...Array.from({ length: counts.temporalWorkerKills }, () => ServerFaultKind.temporalWorker),
    ...Array.from({ length: counts.postgresRestarts }, () => ServerFaultKind.postgres),
  ];
  // A seeded shuffle (Fisher–Yates), so the order of the kinds differs from seed to seed.
  for (let i = kinds.length - 1; i > 0; i--) {
    const j = dice.int(0, i);
    [kinds[i], kinds[j]] = [kinds[j]!, kinds[i]!];
  }
  const slot = (0.8 * loadMs) / Math.max(1, kinds.length);
  return kinds.map((kind, k) => {
    const [low, high] = CLUSTER_DOWN_MS[kind];
    return {
      atMs: Math.round(0.1 * loadMs + slot * (k + dice.between(0.1, 0.5))),
      kind,
      index: kind === ServerFaultKind.history ? dice.int(0, CLUSTER_HISTORY_HOSTS - 1) : 0,
      downMs: Math.round(dice.between(low, high)),
    };
  });
}

/** History processes of the cluster stack (scripts/cluster-stack.ts). */
export const CLUSTER_HISTORY_HOSTS = 2;
