// The adversarial mix (`--adversarial`): carries out each order's planned attack the way an
// operator with Temporal access and no knowledge of `src/client/` would — raw SDK starts with
// any id policy, wrong workflow ids, terminate + restart, resets, restarts after Stripe pruned
// the keys, forged and junk signals, floods, retryNow storms, cancels at a chosen phase — and
// moves Stripe's clock past its key retention. Records what it did and what Temporal answered.
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowIdReusePolicy,
  type WorkflowHandle,
} from '@temporalio/client';
import { ApplicationFailure, WorkflowNotFoundError } from '@temporalio/common';
import type { ChargeInput } from '../src/client/index.js';
import { chargeWorkflowId } from '../src/shared/ids.js';
import type { chargeCustomer } from '../src/workflows/charge-customer.js';
import { BillingPaymentIntentId, BillingStatus } from '../src/shared/search-attributes.js';
import {
  ChargeState,
  cancelSignal,
  retryNowUpdate,
  type RetryNowResult,
} from '../src/workflows/messages.js';
import {
  AttackKind,
  CUSTOMER_3DS_METHOD,
  DECOY_METHOD,
  FORGED_TEST_METHODS,
  RETRY_CARD,
  UNATTACHED_METHOD,
  type Attack,
  type ConflictPolicy,
} from './adversarial-plan.js';
import type { ChaosPlan, PlannedOrder } from './plan.js';
import { TASK_QUEUE, type ChaosStack, type Progress } from './stack.js';

/** How long the adversary waits for a phase (dunning, an intent, an end) before acting anyway. */
const PHASE_TIMEOUT_MS = 60_000;
const PHASE_POLL_MS = 1000;
const END_TIMEOUT_MS = 240_000;
/** Temporal calls made while the dev server may be restarting are retried this long. */
const RETRY_FOR_MS = 60_000;
/** Signals of a flood in flight at once. */
const FLOOD_CONCURRENCY = 4;
/** A held confirm: long enough for a terminate and a restart to overtake it. */
const HELD_CONFIRM_MS = 3000;
/** 429s Stripe answers the confirm of a cancel_confirming_429 order with. */
const RATE_LIMITED_CONFIRMS = 10;
/** After the planned clock jumps, pruned restarts waiting this long share one more jump. */
const ON_DEMAND_AFTER_MS = 20_000;

/** What one step of an attack got. */
export type StepResult = 'ok' | 'refused' | 'ended' | 'missed' | 'error';

export interface AttackStep {
  orderId: string;
  attack: AttackKind;
  /** e.g. `start TERMINATE_EXISTING`, `terminate`, `reset to first task`, `signal`, `cancel`. */
  step: string;
  result: StepResult;
  detail: string;
  at: number;
}

export interface AdversaryRecord {
  steps: AttackStep[];
  clockJumps: { at: number; ms: number }[];
  /** Every payment method id forged signals named (the test ids and the two made at start-up). */
  forgedMethods: string[];
  /** Signals sent directly to Temporal (forged, junk, floods, cancels). */
  signalsSent: number;
  /** Signals Temporal refused because the run reached its signal limit. */
  signalRefusals: { orderId: string; detail: string }[];
}

function message(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** Temporal refused a signal for the per-execution signal limit. */
function isSignalLimit(error: unknown): boolean {
  return /limit.*signal|signal.*limit/i.test(message(error));
}

/** `{ value }` once `promise` resolves, or `undefined` if `ms` pass first. */
async function within<T>(promise: Promise<T>, ms: number): Promise<{ value: T } | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise.then((value) => ({ value })),
      new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** A promise with its resolver, for hooks that fire once. */
function latch(): { promise: Promise<void>; open: () => void } {
  let open = () => undefined as void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/**
 * Stripe's clock jumps: the planned ones at their times; once those are over, pruned restarts
 * still waiting share a jump of their own (after `ON_DEMAND_AFTER_MS` of collecting them), so
 * every one of them sees pruned keys, and the jumps stay few.
 */
class ClockJumper {
  private waiters: (() => void)[] = [];
  private plannedOver = false;
  private timer: NodeJS.Timeout | undefined;
  private jumping: Promise<void> = Promise.resolve();

  constructor(
    private readonly jump: (ms: number) => Promise<void>,
    private readonly onDemandMs: number,
  ) {}

  /** Resolves at the next jump. */
  next(): Promise<void> {
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.onDemand();
    });
  }

  /** Jumps (one at a time) and wakes whoever waited for it. */
  perform(ms: number): Promise<void> {
    this.jumping = this.jumping.then(async () => {
      const waiters = this.waiters;
      this.waiters = [];
      await this.jump(ms);
      for (const resolve of waiters) resolve();
    });
    return this.jumping;
  }

  /** The planned jumps are done: jump on demand from now on. */
  planOver(): void {
    this.plannedOver = true;
    this.onDemand();
  }

  private onDemand(): void {
    if (!this.plannedOver || this.waiters.length === 0 || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.perform(this.onDemandMs);
    }, ON_DEMAND_AFTER_MS);
  }

  close(): void {
    clearTimeout(this.timer);
  }
}

/** Junk signals, in a fixed cycle: invalid payloads, unknown names, a cancel without a reason. */
function junkSignal(k: number, flood: boolean): [name: string, args: unknown[]] {
  const cycle: (() => [string, unknown[]])[] = [
    () => ['stripeEvent', [null]],
    () => ['stripeEvent', [{}]],
    () => ['stripeEvent', ['evt_a_string_payload']],
    () => ['stripeEvent', [{ id: 42, type: 'payment_intent.succeeded', created: 1, objectId: 7 }]],
    () => ['stripeEvent', [{ id: `evt_junk${k}`, type: '', created: -1, objectId: '' }]],
    () => ['stripeEvent', []],
    // Valid shape, unknown type: recorded, deduped, at most a re-read.
    () => [
      'stripeEvent',
      [
        {
          id: `evt_junk${k}`,
          type: 'charge.dispute.funds_withdrawn',
          created: 1,
          objectId: 'ch_x',
        },
      ],
    ],
    () => ['cancel', [{}]],
    () => ['cancel', [{ reason: 42 }]],
    () => ['cancel', [{ reason: 'no', extra: true }]],
    () => ['cancel', []],
    // An update's name as a signal, naming a method only forged signals name.
    () => ['retryNow', [{ paymentMethodId: 'pm_card_mastercard' }]],
    () => [
      'stripeEvnt',
      [
        {
          id: `evt_typo${k}`,
          type: 'payment_method.attached',
          created: 1,
          objectId: 'pm_card_mastercard',
        },
      ],
    ],
    () => ['status', [{}]],
    () => [`junk-${k % 7}`, [{ hello: 'world' }]],
  ];
  if (!flood && k % cycle.length === 4)
    return [
      'stripeEvent',
      [{ id: `evt_huge${k}`, type: 'x', created: 1, objectId: 'x'.repeat(20_000) }],
    ];
  return cycle[k % cycle.length]!();
}

/** Carries out the attacks of the plan's orders on `stack`. */
export class Adversary {
  readonly record: AdversaryRecord = {
    steps: [],
    clockJumps: [],
    forgedMethods: [...FORGED_TEST_METHODS],
    signalsSent: 0,
    signalRefusals: [],
  };
  private readonly jumper: ClockJumper;
  private decoyMethod = 'pm_decoy_unresolved';
  private unattachedMethod = 'pm_unattached_unresolved';
  /** Per order: latches its tap hooks open (a create in flight, a confirm held, a first 429). */
  private readonly latches = new Map<string, { promise: Promise<void>; open: () => void }>();

  constructor(
    private readonly stack: ChaosStack,
    private readonly plan: ChaosPlan,
    private readonly seed: number,
    private readonly progress: Progress,
  ) {
    const fallback = plan.adversarial?.clockJumps[0]?.ms ?? 25 * 3_600_000;
    this.jumper = new ClockJumper(async (ms) => {
      // No create straddles the jump (chaos/api-tap.ts says why).
      const release = await this.stack.apiTap.quiesce();
      this.stack.sim.advanceTime(ms);
      release();
      this.record.clockJumps.push({ at: Date.now(), ms });
      this.progress(`Stripe's clock +${(ms / 3_600_000).toFixed(1)} h (keys pruned)`);
    }, fallback);
  }

  private get client() {
    return this.stack.client;
  }

  /** Makes the two methods forged signals name that need objects: the decoy's card, an unattached one. */
  async setup(): Promise<void> {
    const decoy = await this.retrying(() =>
      this.stack.stripe.customers.create({ email: 'decoy@chaos.example' }),
    );
    const attached = await this.retrying(() =>
      this.stack.stripe.paymentMethods.attach('pm_card_amex', { customer: decoy.id }),
    );
    const unattached = await this.retrying(() =>
      this.stack.stripe.paymentMethods.retrieve('pm_card_visa_debit'),
    );
    this.decoyMethod = attached.id;
    this.unattachedMethod = unattached.id;
    this.record.forgedMethods.push(attached.id, unattached.id);
  }

  /** The planned clock jumps, as disruptions at their times (`at` waits until an offset). */
  clockJumps(at: (offsetMs: number) => Promise<void>): Promise<void> {
    const jumps = this.plan.adversarial?.clockJumps ?? [];
    return (async () => {
      for (const jump of jumps) {
        await at(jump.atMs);
        await this.jumper.perform(jump.ms);
      }
      this.jumper.planOver();
    })();
  }

  close(): void {
    this.jumper.close();
  }

  private step(order: PlannedOrder, step: string, result: StepResult, detail = ''): void {
    this.record.steps.push({
      orderId: order.orderId,
      attack: order.attack!.kind,
      step,
      result,
      detail,
      at: Date.now(),
    });
  }

  /** Retries `call` while Temporal or Stripe is unavailable (a restart, a fault). */
  private async retrying<T>(call: () => Promise<T>, forMs = RETRY_FOR_MS): Promise<T> {
    const deadline = Date.now() + forMs;
    for (;;) {
      try {
        return await call();
      } catch (error) {
        if (
          Date.now() > deadline ||
          error instanceof WorkflowNotFoundError ||
          error instanceof WorkflowExecutionAlreadyStartedError ||
          error instanceof WorkflowFailedError
        )
          throw error;
        await delay(500);
      }
    }
  }

  /**
   * Hooks on the API tap that an attack needs before its order starts: hold the create in
   * flight, hold the first confirm at Stripe, answer confirms with 429s.
   */
  prepare(order: PlannedOrder): void {
    const attack = order.attack;
    if (!attack) return;
    const opened = latch();
    this.latches.set(order.orderId, opened);
    const tap = this.stack.apiTap;
    const sim = this.stack.sim;
    let armed = false;
    switch (attack.kind) {
      case AttackKind.cancelCreating: {
        const unwatch = tap.watch(order.orderId, {
          arrived: async (request) => {
            if (request.operation !== 'create') return;
            unwatch();
            opened.open();
            await delay(attack.holdMs ?? 2000);
          },
        });
        break;
      }
      case AttackKind.cancelConfirming:
      case AttackKind.terminateRestart: {
        if (attack.kind === AttackKind.terminateRestart && !attack.heldConfirm) return;
        const arm = (paymentIntentId: string) => {
          armed = true;
          const path = `/v1/payment_intents/${paymentIntentId}/confirm`;
          sim.faults.add(
            attack.kind === AttackKind.cancelConfirming
              ? { kind: 'rate_limit_429', method: 'POST', path, times: RATE_LIMITED_CONFIRMS }
              : { kind: 'latency', method: 'POST', path, latencyMs: HELD_CONFIRM_MS, times: 1 },
          );
        };
        const unwatch = tap.watch(order.orderId, {
          // The rule goes in before the create's answer reaches the worker: before any confirm.
          answered: (request, status) => {
            if (
              request.operation === 'create' &&
              status === 200 &&
              !armed &&
              request.paymentIntentId
            ) {
              arm(request.paymentIntentId);
            }
            if (request.operation !== 'confirm') return;
            if (attack.kind === AttackKind.terminateRestart || status === 429) {
              unwatch();
              opened.open();
            }
          },
          arrived: (request) => {
            // No create answered 200 (5xx after it ran: the run found its intent by search):
            // the rule goes in as the first confirm arrives, before Stripe answers it.
            if (request.operation === 'confirm' && !armed && request.paymentIntentId)
              arm(request.paymentIntentId);
            // A held confirm is in flight once it arrives (its answer comes 3 s later).
            if (attack.kind === AttackKind.terminateRestart && request.operation === 'confirm') {
              unwatch();
              opened.open();
            }
          },
        });
        break;
      }
      default:
        break;
    }
  }

  /** The order's first start, bypassing the client (raw SDK start with ALLOW_DUPLICATE). */
  async firstStart(order: PlannedOrder, input: ChargeInput): Promise<void> {
    const handle = await this.client.workflow
      .start<typeof chargeCustomer>('chargeCustomer', {
        taskQueue: TASK_QUEUE,
        workflowId: chargeWorkflowId(order.orderId),
        args: [input],
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      })
      .catch((error: unknown) => {
        // A retry of a start whose answer was lost (the dev server restarted): it did start.
        if (error instanceof WorkflowExecutionAlreadyStartedError) return undefined;
        throw error;
      });
    if (handle)
      this.step(order, 'first start (raw SDK)', 'ok', `run ${handle.firstExecutionRunId}`);
  }

  /** Carries out the order's attack; resolves when it is done (not when the charge ends). */
  async attack(order: PlannedOrder, input: ChargeInput): Promise<void> {
    const attack = order.attack;
    if (!attack) return;
    const handle = this.client.workflow.getHandle<typeof chargeCustomer>(
      chargeWorkflowId(order.orderId),
    );
    try {
      await this.carryOut(order, attack, input, handle);
    } catch (error) {
      this.step(order, 'attack', 'error', message(error));
    }
  }

  private async carryOut(
    order: PlannedOrder,
    attack: Attack,
    input: ChargeInput,
    handle: WorkflowHandle<typeof chargeCustomer>,
  ): Promise<void> {
    const workflowId = handle.workflowId;
    switch (attack.kind) {
      case AttackKind.again: {
        await (attack.whenEnded ? this.untilEnded(order, handle) : delay(attack.afterMs));
        for (const policy of attack.policies) await this.start(order, workflowId, input, policy);
        return;
      }
      case AttackKind.conflict: {
        // Only once the order's intent exists: a conflicting run that came first would simply be
        // the order (its intent, its amount), and the rows could not tell who is right.
        if (!(await this.untilIntent(order, handle))) return;
        if (attack.whenEnded) {
          if (!(await this.untilEnded(order, handle))) return;
        } else await delay(attack.afterMs);
        const other: ChargeInput = {
          ...input,
          amount: attack.otherAmount ?? input.amount,
          currency: attack.otherCurrency ?? input.currency,
        };
        const policy = attack.policies[0] ?? 'FAIL';
        const before = await this.current(handle);
        const started = await this.start(order, workflowId, other, policy, 'conflicting start');
        if (started && started !== before?.runId) {
          await this.runOutcome(order, workflowId, started, 'conflicting run');
          // It terminated the running charge: an operator restarts it with the order's input.
          if (policy === 'TERMINATE_EXISTING' && before?.running)
            await this.start(
              order,
              workflowId,
              input,
              'USE_EXISTING',
              'restart with the order’s input',
            );
        }
        return;
      }
      case AttackKind.wrongId: {
        await delay(attack.afterMs);
        for (const id of attack.wrongIds ?? []) {
          const runId = await this.start(order, id, input, 'FAIL', `start as "${id}"`);
          if (runId) await this.runOutcome(order, id, runId, `run as "${id}"`);
        }
        return;
      }
      case AttackKind.terminateRestart: {
        if (attack.heldConfirm) {
          const held = await within(this.latches.get(order.orderId)!.promise, PHASE_TIMEOUT_MS);
          if (held === undefined) this.step(order, 'wait for the held confirm', 'missed');
        } else await delay(attack.afterMs);
        try {
          await this.retrying(() => handle.terminate('chaos: an operator terminates the charge'));
          this.step(
            order,
            attack.heldConfirm ? 'terminate (confirm held at Stripe)' : 'terminate',
            'ok',
          );
        } catch (error) {
          this.step(
            order,
            'terminate',
            error instanceof WorkflowNotFoundError ? 'ended' : 'error',
            message(error),
          );
        }
        await delay(attack.restartAfterMs ?? 0);
        await this.start(order, workflowId, input, 'FAIL', 'restart');
        return;
      }
      case AttackKind.resetFirst:
      case AttackKind.resetLast: {
        await (attack.whenEnded ? this.untilEnded(order, handle) : delay(attack.afterMs));
        await this.reset(order, handle, attack.kind === AttackKind.resetFirst ? 'first' : 'last');
        return;
      }
      case AttackKind.prunedRestart: {
        // A restart of a charge that has not ended is another attack (terminate_restart).
        if (!(await this.untilEnded(order, handle))) return;
        await this.jumper.next();
        const other: ChargeInput =
          attack.otherAmount === undefined ? input : { ...input, amount: attack.otherAmount };
        const label =
          attack.otherAmount === undefined
            ? 'restart after the keys were pruned'
            : 'restart with another amount after the keys were pruned';
        const before = await this.current(handle);
        const runId = await this.start(
          order,
          workflowId,
          other,
          attack.policies[0] ?? 'FAIL',
          label,
        );
        if (runId && runId !== before?.runId)
          await this.runOutcome(order, workflowId, runId, 'restarted run');
        return;
      }
      case AttackKind.forgedMethods:
      case AttackKind.forgedIntentEvents: {
        const status = await this.untilState(order, handle, [
          ChargeState.dunning,
          ChargeState.requiresAction,
        ]);
        await delay(attack.afterMs);
        for (const [k, forged] of (attack.forged ?? []).entries()) {
          const objectId =
            forged.objectId === DECOY_METHOD
              ? this.decoyMethod
              : forged.objectId === UNATTACHED_METHOD
                ? this.unattachedMethod
                : forged.objectId === '$intent'
                  ? (status?.paymentIntentId ??
                    this.stack.apiTap.intentOf(order.orderId) ??
                    'pi_unknown')
                  : forged.objectId === '$customer'
                    ? input.customerId
                    : forged.objectId;
          await this.signal(
            order,
            handle,
            'stripeEvent',
            [
              {
                id: `evt_chaosadv_${this.seed}_${order.index}_${k}`,
                type: forged.type,
                created: Math.floor(Date.now() / 1000),
                objectId,
              },
            ],
            `forged ${forged.type} ${objectId}`,
          );
          await delay(300);
        }
        return;
      }
      case AttackKind.junkSignals: {
        await delay(attack.afterMs);
        let refused = 0;
        for (let k = 0; k < (attack.signals ?? 0); k++) {
          const [name, args] = junkSignal(k, false);
          const result = await this.signal(order, handle, name, args);
          if (result !== 'ok') refused++;
        }
        this.step(order, 'junk signals', 'ok', `${attack.signals} sent, ${refused} not accepted`);
        return;
      }
      case AttackKind.signalFlood:
        return this.flood(order, attack, handle);
      case AttackKind.retryStorm:
        return this.storm(order, attack, handle);
      case AttackKind.cancelCreating:
      case AttackKind.cancelConfirming: {
        const reached = await within(this.latches.get(order.orderId)!.promise, PHASE_TIMEOUT_MS);
        if (reached === undefined)
          this.step(
            order,
            attack.kind === AttackKind.cancelCreating
              ? 'wait for the create in flight'
              : 'wait for a 429 on the confirm',
            'missed',
          );
        await delay(attack.afterMs);
        await this.cancel(
          order,
          handle,
          attack.kind === AttackKind.cancelCreating
            ? 'cancel while creating'
            : 'cancel while the confirm is retried',
        );
        return;
      }
      case AttackKind.cancelDunning: {
        await this.untilState(order, handle, [ChargeState.dunning]);
        await delay(attack.afterMs);
        await this.cancel(order, handle, 'cancel while dunning');
        return;
      }
      case AttackKind.cancelRequiresAction: {
        const status = await this.untilState(order, handle, [ChargeState.dunning]);
        const intentId = status?.paymentIntentId ?? this.stack.apiTap.intentOf(order.orderId);
        if (intentId) await this.customerConfirms(order, intentId);
        await this.untilState(order, handle, [ChargeState.requiresAction]);
        await delay(attack.afterMs);
        await this.cancel(order, handle, 'cancel while requires_action');
        return;
      }
    }
  }

  /**
   * The charge's current run: its id, whether it runs, and what its search attributes say (its
   * state and intent: read from the server, so polling them costs the workers nothing, unlike a
   * query); `undefined` if the workflow id never ran.
   */
  private async current(handle: WorkflowHandle<typeof chargeCustomer>): Promise<
    | {
        runId: string;
        running: boolean;
        state: string | undefined;
        paymentIntentId: string | undefined;
      }
    | undefined
  > {
    try {
      const d = await this.retrying(() => handle.describe());
      return {
        runId: d.runId,
        running: d.status.name === 'RUNNING',
        state: d.typedSearchAttributes.get(BillingStatus),
        paymentIntentId: d.typedSearchAttributes.get(BillingPaymentIntentId),
      };
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return undefined;
      throw error;
    }
  }

  /** A raw SDK start; returns the run id it got (a new one, or the existing with USE_EXISTING). */
  private async start(
    order: PlannedOrder,
    workflowId: string,
    input: ChargeInput,
    policy: ConflictPolicy,
    label = `start ${policy}`,
  ): Promise<string | undefined> {
    const name = label.startsWith('start') ? label : `${label} (${policy})`;
    const before = await this.current(this.client.workflow.getHandle(workflowId)).catch(
      () => undefined,
    );
    try {
      const handle = await this.retrying(() =>
        this.client.workflow.start<typeof chargeCustomer>('chargeCustomer', {
          taskQueue: TASK_QUEUE,
          workflowId,
          args: [input],
          workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
          workflowIdConflictPolicy: policy,
        }),
      );
      const runId = handle.firstExecutionRunId;
      this.step(
        order,
        name,
        'ok',
        runId === before?.runId
          ? `joined the running run ${runId}`
          : `new run ${runId}${before?.running ? ' (the running one terminated)' : ''}`,
      );
      return runId;
    } catch (error) {
      this.step(
        order,
        name,
        error instanceof WorkflowExecutionAlreadyStartedError ? 'refused' : 'error',
        message(error),
      );
      return undefined;
    }
  }

  /** Waits for a run to end and records how (a failure's type, or the outcome). */
  private async runOutcome(
    order: PlannedOrder,
    workflowId: string,
    runId: string,
    label: string,
  ): Promise<void> {
    const handle = this.client.workflow.getHandle<typeof chargeCustomer>(workflowId, runId, {
      followRuns: false,
    });
    try {
      const ended = await within(
        this.retrying(() => handle.result(), END_TIMEOUT_MS),
        END_TIMEOUT_MS,
      );
      if (ended === undefined) this.step(order, label, 'missed', 'still running');
      else
        this.step(
          order,
          label,
          'ok',
          `${ended.value.outcome} ${ended.value.amount} ${ended.value.currency}`,
        );
    } catch (error) {
      const cause = error instanceof WorkflowFailedError ? error.cause : undefined;
      const type = cause instanceof ApplicationFailure ? cause.type : undefined;
      this.step(
        order,
        label,
        type ? 'refused' : 'error',
        type ? `failed ${type}: ${cause?.message ?? ''}` : message(error),
      );
    }
  }

  /** Waits until the charge's current run has ended (any status); false if it did not. */
  private async untilEnded(
    order: PlannedOrder,
    handle: WorkflowHandle<typeof chargeCustomer>,
  ): Promise<boolean> {
    const deadline = Date.now() + END_TIMEOUT_MS;
    while (Date.now() < deadline) {
      const run = await this.current(handle).catch(() => undefined);
      if (run && !run.running) return true;
      await delay(1000);
    }
    this.step(order, 'wait for the end', 'missed', 'still running');
    return false;
  }

  /** Waits until the charge is in one of `states`; its intent then, or `undefined` (ended, timed out). */
  private async untilState(
    order: PlannedOrder,
    handle: WorkflowHandle<typeof chargeCustomer>,
    states: ChargeState[],
  ): Promise<{ paymentIntentId: string | undefined } | undefined> {
    const deadline = Date.now() + PHASE_TIMEOUT_MS;
    let last = 'no answer';
    while (Date.now() < deadline) {
      try {
        const run = await this.current(handle);
        if (run && !run.running) {
          this.step(order, `wait for ${states.join('/')}`, 'ended');
          return undefined;
        }
        if (run && states.some((s) => s === run.state)) return run;
        if (run) last = `last seen ${run.state ?? 'no state yet'}`;
      } catch (error) {
        if (!(error instanceof Error)) throw error;
        last = message(error);
      }
      await delay(PHASE_POLL_MS);
    }
    this.step(order, `wait for ${states.join('/')}`, 'missed', last);
    return undefined;
  }

  /** Waits until the charge knows its intent (it exists at Stripe); false if it never did. */
  private async untilIntent(
    order: PlannedOrder,
    handle: WorkflowHandle<typeof chargeCustomer>,
  ): Promise<boolean> {
    const deadline = Date.now() + PHASE_TIMEOUT_MS;
    let last = 'no answer';
    while (Date.now() < deadline) {
      try {
        const run = await this.current(handle);
        if (run?.paymentIntentId) return true;
        if (run && !run.running) return this.stack.apiTap.intentOf(order.orderId) !== undefined;
        if (run) last = `last seen ${run.state ?? 'no state yet'}`;
      } catch (error) {
        if (!(error instanceof Error)) throw error;
        last = message(error);
      }
      await delay(PHASE_POLL_MS);
    }
    this.step(order, 'wait for the intent', 'missed', `${last}: no conflicting start`);
    return false;
  }

  /** Sends a signal directly to Temporal; records refusals for the signal limit. */
  private async signal(
    order: PlannedOrder,
    handle: WorkflowHandle<typeof chargeCustomer>,
    name: string,
    args: unknown[],
    label?: string,
  ): Promise<StepResult> {
    const { result, detail } = await this.sendSignal(order, handle, name, args);
    if (label) this.step(order, label, result, detail);
    return result;
  }

  private async sendSignal(
    order: PlannedOrder,
    handle: WorkflowHandle<typeof chargeCustomer>,
    name: string,
    args: unknown[],
  ): Promise<{ result: StepResult; detail: string }> {
    this.record.signalsSent++;
    try {
      await this.retrying(() => handle.signal(name, ...args), 10_000);
      return { result: 'ok', detail: '' };
    } catch (error) {
      const detail = message(error);
      if (isSignalLimit(error)) {
        this.record.signalRefusals.push({ orderId: order.orderId, detail });
        return { result: 'refused', detail };
      }
      return { result: error instanceof WorkflowNotFoundError ? 'ended' : 'error', detail };
    }
  }

  private async cancel(
    order: PlannedOrder,
    handle: WorkflowHandle<typeof chargeCustomer>,
    label: string,
  ): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      this.record.signalsSent++;
      try {
        await this.retrying(() => handle.signal(cancelSignal, { reason: `chaos: ${label}` }));
        this.step(order, label, 'ok');
        return;
      } catch (error) {
        if (isSignalLimit(error))
          this.record.signalRefusals.push({ orderId: order.orderId, detail: message(error) });
        if (!isSignalLimit(error) || Date.now() > deadline) {
          this.step(
            order,
            label,
            error instanceof WorkflowNotFoundError
              ? 'ended'
              : isSignalLimit(error)
                ? 'refused'
                : 'error',
            message(error),
          );
          return;
        }
        await delay(1000);
      }
    }
  }

  private async reset(
    order: PlannedOrder,
    handle: WorkflowHandle<typeof chargeCustomer>,
    to: 'first' | 'last',
  ): Promise<void> {
    const label = `reset to the ${to} workflow task`;
    const deadline = Date.now() + PHASE_TIMEOUT_MS;
    for (;;) {
      try {
        const { runId } = await this.retrying(() => handle.describe());
        const history = await this.retrying(() =>
          this.client.workflow.getHandle(handle.workflowId, runId).fetchHistory(),
        );
        const completed = (history.events ?? [])
          .filter((e) => e.workflowTaskCompletedEventAttributes && e.eventId)
          .map((e) => e.eventId!);
        const target = to === 'first' ? completed[0] : completed.at(-1);
        if (target === undefined) {
          if (Date.now() > deadline) {
            this.step(order, label, 'missed', 'no completed workflow task');
            return;
          }
          await delay(500);
          continue;
        }
        const answer = await this.client.workflowService.resetWorkflowExecution({
          namespace: this.client.options.namespace,
          workflowExecution: { workflowId: handle.workflowId, runId },
          reason: `chaos: ${label}`,
          workflowTaskFinishEventId: target,
          requestId: randomUUID(),
        });
        this.step(order, label, 'ok', `event ${String(target)} → run ${answer.runId}`);
        return;
      } catch (error) {
        if (Date.now() > deadline) {
          this.step(order, label, 'error', message(error));
          return;
        }
        await delay(1000);
      }
    }
  }

  /** The customer confirms on-session with a card that needs authentication: `requires_action`. */
  private async customerConfirms(order: PlannedOrder, paymentIntentId: string): Promise<void> {
    try {
      const intent = await this.retrying(
        () =>
          this.stack.stripe.paymentIntents.confirm(
            paymentIntentId,
            { payment_method: CUSTOMER_3DS_METHOD, return_url: 'https://shop.example/return' },
            { idempotencyKey: `chaos-customer/${order.orderId}/3ds` },
          ),
        20_000,
      );
      this.step(order, 'the customer confirms on-session (3DS card)', 'ok', intent.status);
    } catch (error) {
      this.step(order, 'the customer confirms on-session (3DS card)', 'error', message(error));
    }
  }

  private async flood(
    order: PlannedOrder,
    attack: Attack,
    handle: WorkflowHandle<typeof chargeCustomer>,
  ): Promise<void> {
    await this.untilState(order, handle, [ChargeState.dunning]);
    const total = attack.signals ?? 0;
    const started = Date.now();
    const counts: Record<StepResult, number> = { ok: 0, refused: 0, ended: 0, missed: 0, error: 0 };
    let firstError = '';
    let next = 0;
    await Promise.all(
      Array.from({ length: FLOOD_CONCURRENCY }, async () => {
        while (next < total) {
          const [name, args] = junkSignal(next++, true);
          const { result, detail } = await this.sendSignal(order, handle, name, args);
          counts[result]++;
          if (result !== 'ok') firstError ||= detail;
        }
      }),
    );
    this.step(
      order,
      `flood of ${total} signals`,
      counts.ok === total ? 'ok' : counts.refused > 0 ? 'refused' : 'error',
      `${((Date.now() - started) / 1000).toFixed(1)} s: ${counts.ok} accepted, ${counts.refused} refused (signal limit), ${counts.ended} after the end, ${counts.error} errors${firstError ? ` (first: ${firstError.slice(0, 200)})` : ''}`,
    );
    await this.cancel(order, handle, 'cancel after the flood');
  }

  private async storm(
    order: PlannedOrder,
    attack: Attack,
    handle: WorkflowHandle<typeof chargeCustomer>,
  ): Promise<void> {
    await this.untilState(order, handle, [ChargeState.dunning]);
    const size = attack.stormSize ?? 0;
    const answers = await Promise.all(
      Array.from({ length: size }, () =>
        handle.executeUpdate(retryNowUpdate, { args: [{}] }).then(
          (answer): RetryNowResult | string => answer,
          (error: unknown) => message(error),
        ),
      ),
    );
    const ok = answers.filter((a): a is RetryNowResult => typeof a !== 'string');
    const accepted = ok.filter((a) => a.accepted && !a.merged).length;
    const merged = ok.filter((a) => a.accepted && a.merged).length;
    this.step(
      order,
      `retryNow storm of ${size}`,
      'ok',
      `${accepted} accepted, ${merged} merged, ${ok.length - accepted - merged} rejected, ${size - ok.length} errors`,
    );
    await delay(3000);
    if (attack.stormEnd === 'card') {
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline) {
        try {
          const answer = await handle.executeUpdate(retryNowUpdate, {
            args: [{ paymentMethodId: RETRY_CARD }],
          });
          if (answer.accepted && !answer.merged) {
            this.step(order, 'retryNow with a good card', 'ok');
            return;
          }
          if (/ended/.test(answer.reason ?? '')) {
            this.step(order, 'retryNow with a good card', 'ended', answer.reason ?? '');
            return;
          }
        } catch (error) {
          if (error instanceof WorkflowNotFoundError) {
            this.step(order, 'retryNow with a good card', 'ended');
            return;
          }
        }
        await delay(700);
      }
      this.step(order, 'retryNow with a good card', 'missed', 'not accepted within 60 s: cancel');
    }
    await this.cancel(order, handle, 'cancel after the storm');
  }
}
