// The seeded plan of the adversarial mix (`npm run chaos -- --adversarial`): which orders are
// attacked and how — by callers that bypass the client, by forged and junk signals, floods,
// retryNow storms and cancels at a chosen phase — and when Stripe's clock jumps past its key
// retention. Pure: same options, same plan; its own dice stream, so the base plan is unchanged.
import type { DunningOverride } from '../src/shared/dunning.js';
import type { ChaosOptions } from './options.js';
import { Scenario, SCENARIO_PAYMENT_METHOD, type PlannedOrder } from './plan.js';
import { Dice } from './random.js';

/** How an order is attacked. */
export const AttackKind = {
  /** The same order started again (same input) by a raw SDK start, while it runs or after. */
  again: 'again',
  /** The order started again with another amount or currency: must fail `ChargeConflict`. */
  conflict: 'conflict',
  /** The order's input under workflow ids other than `charge:<orderId>`: `WrongWorkflowId`. */
  wrongId: 'wrong_id',
  /** Terminated while it runs (sometimes while its confirm is held at Stripe), then restarted. */
  terminateRestart: 'terminate_restart',
  /** Reset to its first workflow task. */
  resetFirst: 'reset_first',
  /** Reset to its last workflow task. */
  resetLast: 'reset_last',
  /** Restarted after it ended and Stripe's clock jumped past the 24 h key retention. */
  prunedRestart: 'pruned_restart',
  /** `stripeEvent` signals naming payment methods never attached to the customer. */
  forgedMethods: 'forged_methods',
  /** `stripeEvent` signals claiming the intent succeeded, was canceled or is processing. */
  forgedIntentEvents: 'forged_intent_events',
  /** Invalid payloads, unknown signal names, a cancel without a reason. */
  junkSignals: 'junk_signals',
  /** Thousands of junk signals while the charge sleeps in dunning, then a cancel. */
  signalFlood: 'signal_flood',
  /** Dozens of concurrent retryNow updates while dunning, then a retry with a good card. */
  retryStorm: 'retry_storm',
  /** A cancel while the create request is in flight. */
  cancelCreating: 'cancel_creating',
  /** A cancel while Stripe answers the confirm with 429s (and Temporal retries it). */
  cancelConfirming: 'cancel_confirming_429',
  /** A cancel while dunning waits. */
  cancelDunning: 'cancel_dunning',
  /** A cancel while the intent waits for the customer's authentication (`requires_action`). */
  cancelRequiresAction: 'cancel_requires_action',
} as const;
export type AttackKind = (typeof AttackKind)[keyof typeof AttackKind];

/** Temporal's id conflict policies, as `client.workflow.start` takes them. */
export const CONFLICT_POLICIES = ['FAIL', 'USE_EXISTING', 'TERMINATE_EXISTING'] as const;
export type ConflictPolicy = (typeof CONFLICT_POLICIES)[number];

/**
 * Payment methods only forged signals name (never an order's, a retryNow's or a customer's):
 * Stripe test ids that would succeed or decline, an id Stripe does not know, and two the
 * adversary makes at start-up — one attached to a decoy customer, one attached to nobody.
 */
export const FORGED_TEST_METHODS = [
  'pm_card_mastercard',
  'pm_card_chargeDeclinedExpiredCard',
  'pm_card_chargeDeclinedIncorrectCvc',
  'pm_bogus',
] as const;
export const DECOY_METHOD = '$decoy';
export const UNATTACHED_METHOD = '$unattached';
/** What the customer confirms with on-session to put the intent in `requires_action`. */
export const CUSTOMER_3DS_METHOD = 'pm_card_threeDSecure2Required';
/** The good card of retryNow (the base plan's too). */
export const RETRY_CARD = 'pm_card_visa';

/** Every method the run names legitimately (orders, retryNow, the customer's own confirm). */
export const LEGIT_METHODS: readonly string[] = [
  ...Object.values(SCENARIO_PAYMENT_METHOD),
  RETRY_CARD,
  CUSTOMER_3DS_METHOD,
];

export interface ForgedSignal {
  type: string;
  /** A payment method id (or `$decoy`/`$unattached`), `$intent` (the order's), a fake pi, `$customer`. */
  objectId: string;
}

export interface Attack {
  kind: AttackKind;
  /** The order's first start bypasses the client too (raw start, ALLOW_DUPLICATE). */
  rawFirstStart: boolean;
  /** When to act, ms after the start (or after the trigger: the intent known, dunning). */
  afterMs: number;
  /** Act only once the charge has ended. */
  whenEnded: boolean;
  /** Conflict policy of each raw start (again, conflict, pruned restart). */
  policies: ConflictPolicy[];
  /** Another amount (conflict, some pruned restarts). */
  otherAmount?: number;
  /** Another currency instead of another amount. */
  otherCurrency?: string;
  /** Workflow ids other than `charge:<orderId>`. */
  wrongIds?: string[];
  /** terminate_restart: terminate while the confirm is held 3 s at Stripe. */
  heldConfirm?: boolean;
  /** How long after the terminate the restart comes (ms). */
  restartAfterMs?: number;
  forged?: ForgedSignal[];
  /** Junk or flood signals sent. */
  signals?: number;
  /** retryNow updates sent at once. */
  stormSize?: number;
  /** How a storm's charge ends: a retry with a good card, or a cancel. */
  stormEnd?: 'card' | 'cancel';
  /** cancel_creating: how long the create is held in flight (ms). */
  holdMs?: number;
}

export interface ClockJump {
  atMs: number;
  /** Simulated ms Stripe's clock moves (more than the 24 h key retention). */
  ms: number;
}

/** Dunning of a flooded charge: a hard decline waits about 11 minutes for a new method. */
const FLOOD_DUNNING: DunningOverride = { retryDelaysDays: [0.004, 0.004], jitterMinutes: 0 };
/** Dunning of a stormed charge: no scheduled retry within the run (only requested ones). */
const STORM_DUNNING: DunningOverride = { retryDelaysDays: [1, 1], jitterMinutes: 0 };
/** Dunning of a charge waiting for authentication: a hard decline waits about 86 s. */
const AUTH_DUNNING: DunningOverride = { retryDelaysDays: [0.0005, 0.0005], jitterMinutes: 0 };

const HOUR_MS = 3_600_000;
/** Stripe prunes idempotency keys after 24 h; a jump moves its clock 25–27 h. */
const JUMP_MIN_MS = 25 * HOUR_MS;

/** Share of orders attacked, and the weights of the attacks (floods and storms are counted). */
const ATTACKED_SHARE = { full: 0.4, small: 0.75 } as const;
const ATTACK_WEIGHTS: Partial<Record<AttackKind, number>> = {
  again: 12,
  conflict: 10,
  wrong_id: 6,
  terminate_restart: 10,
  reset_first: 7,
  reset_last: 7,
  pruned_restart: 8,
  forged_methods: 10,
  forged_intent_events: 6,
  junk_signals: 6,
  cancel_creating: 4,
  cancel_confirming_429: 5,
  cancel_dunning: 4,
  cancel_requires_action: 4,
};
/** Attacks after which the base plan's retryNow, cancel and forged webhook stay (they mix). */
const KEEPS_BASE_ACTIONS: ReadonlySet<AttackKind> = new Set([
  AttackKind.again,
  AttackKind.conflict,
  AttackKind.wrongId,
  AttackKind.terminateRestart,
  AttackKind.resetFirst,
  AttackKind.resetLast,
  AttackKind.prunedRestart,
]);
/** A run of at most this many orders is "small" (CI): more of it is attacked, floods are smaller. */
const SMALL_RUN = 100;

/** The adversarial part of the plan: attacks on orders, and Stripe clock jumps. */
export interface AdversarialPlan {
  clockJumps: ClockJump[];
}

const STREAM_ATTACKS = 5;

function declining(dice: Dice): Scenario {
  return dice.chance(0.5) ? Scenario.softDecline : Scenario.hardDecline;
}

function setScenario(order: PlannedOrder, scenario: Scenario, dunning?: DunningOverride): void {
  order.scenario = scenario;
  order.paymentMethodId = SCENARIO_PAYMENT_METHOD[scenario];
  if (dunning) order.dunning = dunning;
}

function forgedSignals(dice: Dice, kind: AttackKind): ForgedSignal[] {
  const count = dice.int(3, 6);
  const methods = [...FORGED_TEST_METHODS, DECOY_METHOD, UNATTACHED_METHOD];
  return Array.from({ length: count }, () => {
    if (kind === AttackKind.forgedIntentEvents)
      return {
        type: dice.weighted({
          'payment_intent.succeeded': 3,
          'payment_intent.canceled': 1,
          'payment_intent.processing': 1,
        }),
        objectId: dice.chance(0.7) ? '$intent' : `pi_forged${dice.int(1000, 9999)}`,
      };
    const type = dice.weighted({
      'payment_method.attached': 7,
      'setup_intent.succeeded': 1.5,
      'customer.updated': 1.5,
    });
    return {
      type,
      objectId:
        type === 'customer.updated' ? '$customer' : methods[dice.int(0, methods.length - 1)]!,
    };
  });
}

/** Picks one attack per attacked order; mutates the orders (scenario, dunning, base actions). */
function planAttack(order: PlannedOrder, kind: AttackKind, dice: Dice, small: boolean): Attack {
  const attack: Attack = {
    kind,
    rawFirstStart: dice.chance(0.3),
    afterMs: Math.round(dice.between(300, 8000)),
    whenEnded: false,
    policies: [],
  };
  const policy = () => CONFLICT_POLICIES[dice.int(0, CONFLICT_POLICIES.length - 1)]!;
  switch (kind) {
    case AttackKind.again:
      attack.whenEnded = dice.chance(0.4);
      attack.policies = Array.from({ length: dice.int(1, 2) }, policy);
      break;
    case AttackKind.conflict:
      attack.whenEnded = dice.chance(0.4);
      attack.afterMs = Math.round(dice.between(0, 3000));
      attack.policies = [policy()];
      if (dice.chance(0.2)) attack.otherCurrency = 'eur';
      else attack.otherAmount = order.amount + 10 * dice.int(1, 100);
      break;
    case AttackKind.wrongId: {
      const ids = [order.orderId, `charge:${order.orderId}:copy`, `Charge:${order.orderId}`];
      attack.afterMs = Math.round(dice.between(0, 5000));
      attack.wrongIds = ids.filter(() => dice.chance(0.5));
      if (attack.wrongIds.length === 0) attack.wrongIds = [ids[dice.int(0, ids.length - 1)]!];
      break;
    }
    case AttackKind.terminateRestart:
      attack.heldConfirm = dice.chance(0.5);
      attack.afterMs = Math.round(dice.between(300, 6000));
      attack.restartAfterMs = Math.round(dice.between(0, 2000));
      break;
    case AttackKind.resetFirst:
    case AttackKind.resetLast:
      attack.afterMs = Math.round(dice.between(500, 8000));
      attack.whenEnded = dice.chance(0.25);
      break;
    case AttackKind.prunedRestart:
      attack.whenEnded = true;
      attack.policies = [policy()];
      if (dice.chance(0.3)) attack.otherAmount = order.amount + 10 * dice.int(1, 100);
      break;
    case AttackKind.forgedMethods:
    case AttackKind.forgedIntentEvents:
      // A forged method matters while the charge waits for one: make it decline.
      if (order.scenario === Scenario.success) setScenario(order, declining(dice));
      attack.forged = forgedSignals(dice, kind);
      attack.afterMs = Math.round(dice.between(0, 1500));
      break;
    case AttackKind.junkSignals:
      attack.signals = dice.int(10, 30);
      attack.afterMs = Math.round(dice.between(200, 6000));
      break;
    case AttackKind.signalFlood:
      setScenario(order, Scenario.hardDecline, FLOOD_DUNNING);
      attack.signals = small ? 1200 : dice.int(2500, 3000);
      break;
    case AttackKind.retryStorm:
      setScenario(order, Scenario.softDecline, STORM_DUNNING);
      attack.stormSize = small ? 24 : dice.int(30, 50);
      attack.stormEnd = dice.chance(0.7) ? 'card' : 'cancel';
      break;
    case AttackKind.cancelCreating:
      attack.holdMs = Math.round(dice.between(1500, 3000));
      attack.afterMs = Math.round(dice.between(200, 800));
      break;
    case AttackKind.cancelConfirming:
      // A card that would succeed: only the cancel stands between the retried confirm and money.
      setScenario(order, Scenario.success);
      attack.afterMs = Math.round(dice.between(1000, 2500));
      break;
    case AttackKind.cancelDunning:
      if (order.scenario === Scenario.success || order.scenario === Scenario.bankDebitSuccess)
        setScenario(order, declining(dice));
      attack.afterMs = Math.round(dice.between(0, 2000));
      break;
    case AttackKind.cancelRequiresAction:
      setScenario(order, Scenario.hardDecline, AUTH_DUNNING);
      attack.afterMs = Math.round(dice.between(200, 1000));
      break;
  }
  if (!KEEPS_BASE_ACTIONS.has(kind)) {
    delete order.retryNow;
    delete order.cancel;
    delete order.forgery;
  }
  return attack;
}

/**
 * Attacks some of `orders` (in place: `order.attack`, and for some attacks the scenario and
 * dunning they need) and plans the clock jumps. `loadMs` is when the last order starts.
 */
export function planAdversarial(
  orders: PlannedOrder[],
  options: ChaosOptions,
  loadMs: number,
): AdversarialPlan {
  const dice = new Dice(options.seed, STREAM_ATTACKS);
  const small = orders.length <= SMALL_RUN;
  const floods = small ? 1 : Math.max(2, Math.round(orders.length / 250));
  const storms = small ? 2 : Math.max(3, Math.round(orders.length / 100));
  // Floods and storms go to orders of the first half of the load (their tails are long).
  const pool = orders.slice(0, Math.max(1, Math.ceil(orders.length / 2)));
  const special: AttackKind[] = [
    ...Array.from({ length: floods }, () => AttackKind.signalFlood),
    ...Array.from({ length: storms }, () => AttackKind.retryStorm),
  ];
  const taken = new Set<number>();
  for (const kind of special) {
    let index = dice.int(0, pool.length - 1);
    while (taken.has(index) && taken.size < pool.length) index = (index + 1) % pool.length;
    taken.add(index);
    const order = pool[index]!;
    order.attack = planAttack(order, kind, dice, small);
  }
  const share = small ? ATTACKED_SHARE.small : ATTACKED_SHARE.full;
  for (const order of orders) {
    if (order.attack || !dice.chance(share)) continue;
    order.attack = planAttack(
      order,
      dice.weighted(ATTACK_WEIGHTS as Record<AttackKind, number>),
      dice,
      small,
    );
  }
  const jumps = small ? 1 : Math.max(2, Math.round(orders.length / 150));
  const clockJumps = Array.from({ length: jumps }, (_, k) => ({
    // After the first orders have ended; the last one near the end of the load.
    atMs: Math.round(Math.max(20_000, ((k + 1) / jumps) * loadMs)),
    ms: JUMP_MIN_MS + Math.round(dice.between(0, 2 * HOUR_MS)),
  }));
  return { clockJumps };
}
