// chargeCustomer: charges one order at most once and never loses the outcome (DESIGN.md
// invariants 1–4, 6). One PaymentIntent per order; every confirm of it carries a key derived
// from workflow state; Stripe is the truth, signals only wake the workflow up to re-read it.
import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  TimeoutFailure,
  condition,
  continueAsNew,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setDefaultSignalHandler,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { BillingActivities } from '../activities/index.js';
import {
  IntentStatus,
  type PaymentError,
  type PaymentIntentSnapshot,
} from '../shared/payment-intent.js';
import {
  classifyDecline,
  DeclineKind,
  dunningPolicySchema,
  jitterMs,
  mergeDunningOverrides,
  NO_PAYMENT_METHOD,
  type DunningPolicy,
} from '../shared/dunning.js';
import { orderIdFromWorkflowId, chargeWorkflowId } from '../shared/ids.js';
import { NotificationKind } from '../shared/notifications.js';
import {
  cancelSchema,
  chargeInputSchema,
  describeIssues,
  retryNowSchema,
  stripeEventSignalSchema,
  type ChargeInput,
  type ParsedChargeInput,
} from '../shared/schemas.js';
import {
  BillingAttempt,
  BillingCustomerId,
  BillingNextAttemptAt,
  BillingOrderId,
  BillingPaymentIntentId,
  BillingStatus,
} from '../shared/search-attributes.js';
import { StripeFailureType, type StripeErrorInfo } from '../shared/stripe-failures.js';
import { ChargeStep, nextStep } from './charge-steps.js';
import {
  deriveIdempotencyKey,
  IDEMPOTENCY_KEY_PREFIX,
  KeyOperation,
  notificationId,
} from './idempotency-key.js';
import {
  ChargeFailureType,
  ChargeOutcome,
  ChargeState,
  cancelSignal,
  type ChargeConflictDetails,
  retryNowUpdate,
  statusQuery,
  stripeEventSignal,
  type ChargeResult,
  type ChargeStatus,
  type RetryNowResult,
} from './messages.js';

export { IDEMPOTENCY_KEY_PREFIX } from './idempotency-key.js';
/** How often a waiting charge re-reads its intent when no webhook comes (invariant 4). */
export const POLL_INTERVAL_MS = 24 * 3600 * 1000;
/** Event ids remembered for dedupe; older ones fall out (Stripe redelivers for 3 days at most). */
export const SEEN_EVENTS_LIMIT = 500;
/**
 * Events that cannot tell the workflow anything it does not already know in that state, so they
 * are recorded (dedupe) without a re-read: a decline is learned from the confirm's own answer,
 * so `payment_failed` while dunning is news only elsewhere (processing, authentication), and
 * while confirming only in runs before {@link SETTLEMENT_NEWS_PATCH}; `created` never is.
 */
const NO_NEWS: ReadonlySet<string> = new Set(
  ['creating', 'confirming', 'reconciling', 'dunning', 'processing', 'requires_action'].flatMap(
    (s) => [
      `${s}:payment_intent.created`,
      ...(s === 'confirming' || s === 'dunning' ? [`${s}:payment_intent.payment_failed`] : []),
    ],
  ),
);

/** Customer-level events that may mean a new payment method: an early retry during dunning. */
export const PAYMENT_METHOD_EVENTS: ReadonlySet<string> = new Set([
  'payment_method.attached',
  'customer.updated',
  'setup_intent.succeeded',
]);
const DAY_MS = 24 * 3600 * 1000;
const CAP_MARGIN_MS = 3600 * 1000;

/**
 * The patch that marks runs with this release's defences against callers that bypass the
 * client (identity check, search before create, run-scoped keys, checked payment methods,
 * merged retries, interruptible confirms, signal-flood continue-as-new). Runs recorded before it
 * replay exactly as they ran.
 */
export const EXACTLY_ONCE_PATCH = 'exactly-once-v2';
/**
 * The patch that reads a `payment_failed` arriving while a confirm is answering as news: it may
 * be a bank debit's settlement, delivered before the workflow has the confirm's `processing`
 * (the confirm's own decline is no longer signalled: the receiver answers it, docs/webhooks.md).
 * Asked only when such an event arrives, so a charge without one records no marker.
 */
export const SETTLEMENT_NEWS_PATCH = 'settlement-news-v1';
/**
 * Signals (of any name, valid or not) one run takes before it continues as new. Temporal refuses
 * signals past 10,000 per run (`history.maximumSignalsPerExecution`), and does not count them
 * in `continueAsNewSuggested` (temporalio/temporal#10941): far below that limit, so a flood
 * never leaves cancel and webhooks refused while the charge sleeps.
 */
export const SIGNALS_PER_RUN = 500;
/** Junk signals logged per run; the rest are only counted (a flood must not flood the logs). */
const JUNK_LOGGED_PER_RUN = 10;
/**
 * How long after a `retryNow` attempt another `retryNow` without a new payment method is
 * refused: the same card declined moments ago declines again, and each try counts against the
 * card networks' limits. A storm of requests therefore makes one attempt, not one per decline.
 */
export const SAME_CARD_RETRY_COOLDOWN_MS = 10 * 60 * 1000;
/** Operations whose keys are scoped to the run (see `key`). */
const RUN_SCOPED: ReadonlySet<KeyOperation> = new Set([KeyOperation.confirm, KeyOperation.cancel]);

// Mutating calls: Temporal retries them with the same key, and gives up well inside Stripe's
// 24 h key retention (invariant 3); the workflow then reconciles and moves to a new key.
// A crashed worker is detected by the missed heartbeat, in seconds.
const mutating: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: '10 seconds',
  scheduleToCloseTimeout: '1 hour',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
};
// Reads have no key to protect: retried until Stripe answers.
const reading: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 minutes' },
};
const acts = proxyActivities<BillingActivities>(mutating);
// Notifications and the final action must not hold up money: bounded retries, then logged.
const sideEffects: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  scheduleToCloseTimeout: '1 hour',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes' },
};

/** The dunning campaign's memory (DESIGN.md step 4): carried across continue-as-new. */
export interface CampaignState {
  /** Declined attempts handled so far. */
  failures: number;
  /** `state.attempts` when the last decline was handled (each decline is handled once). */
  handledAttempt: number;
  kind: DeclineKind;
  /** When the campaign gives up (ms), set at the first failure. */
  endsAt: number;
  /** The next scheduled attempt (ms); undefined while waiting for a new method. */
  nextAttemptAt: number | undefined;
  /** The payment method that failed last; an early retry needs a different one. */
  failedPaymentMethodId: string | undefined;
}

/** What survives continue-as-new: everything keys, dedupe and the campaign depend on. */
export interface CarriedState {
  paymentIntentId: string | undefined;
  sequences: Record<KeyOperation, number>;
  attempts: number;
  /** Times (ms) of every confirm attempt in the last 30 days, for the card-network cap. */
  attemptTimes: number[];
  paymentMethodId: string | undefined;
  lastError: PaymentError | undefined;
  seenEventIds: string[];
  cancelReason: string | undefined;
  /** The campaign gave up: the intent is being canceled and the outcome is `failed`. */
  gaveUp: boolean;
  /** The attempt whose requires_action the customer was told about (told once per attempt). */
  actionNotifiedAttempt: number;
  /** When the customer was first asked to authenticate for that attempt (ms). */
  actionSince: number;
  /** Identifies the last decline handled, so a stale `last_payment_error` is not a new one. */
  lastDeclineFingerprint: string | undefined;
  /** When retryNow last asked for an attempt (ms): the same card is not retried again at once. */
  lastRetryNowAt?: number | undefined;
  /** Methods Stripe refused outright (e.g. detached): never tried again. */
  unusableMethodIds: string[];
  campaign: CampaignState | undefined;
  /** An attempt was asked for (retryNow, a new method) when the run continued as new. */
  retryRequested?: boolean | undefined;
  /** A new-method event not yet looked at when the run continued as new. */
  methodEvent?: { type: string; objectId: string } | undefined;
}

function initialState(input: ChargeInput): CarriedState {
  return {
    paymentIntentId: undefined,
    sequences: { create: 0, confirm: 0, cancel: 0, notify: 0, final: 0 },
    attempts: 0,
    attemptTimes: [],
    paymentMethodId: input.paymentMethodId,
    lastError: undefined,
    seenEventIds: [],
    cancelReason: undefined,
    gaveUp: false,
    actionNotifiedAttempt: 0,
    actionSince: 0,
    lastDeclineFingerprint: undefined,
    unusableMethodIds: [],
    campaign: undefined,
  };
}

/** The Stripe failure type and details inside an activity failure, if it is one of ours. */
function stripeFailure(error: unknown): { type: string; info: StripeErrorInfo } | undefined {
  if (!(error instanceof ActivityFailure)) return undefined;
  const cause = error.cause;
  if (cause instanceof ApplicationFailure && cause.type) {
    const info: StripeErrorInfo = cause.details?.[0] ?? {};
    return { type: cause.type, info };
  }
  // The activity ran out of time (schedule-to-close): as unknown as a lost response.
  if (cause instanceof TimeoutFailure)
    return { type: StripeFailureType.ambiguous, info: { message: cause.message } };
  return undefined;
}

/** Outcomes whose effect on Stripe is unknown: reconcile by reading the intent. */
// Connection errors and 409/429 reach the workflow only when Temporal's retries ran out
// (schedule-to-close): as unknown as a 5xx, so they are reconciled too.
const UNCERTAIN: ReadonlySet<string> = new Set([
  StripeFailureType.ambiguous,
  StripeFailureType.unexpectedState,
  StripeFailureType.connection,
  StripeFailureType.retryable,
]);

/** The charge's dunning policy; a bad one fails the execution, never the task (which would retry forever). */
function resolvePolicy(input: ParsedChargeInput): DunningPolicy {
  const resolved = dunningPolicySchema.safeParse(mergeDunningOverrides(input.dunning));
  if (resolved.success) return resolved.data;
  throw ApplicationFailure.nonRetryable(
    `invalid dunning policy: ${describeIssues(resolved.error)}`,
    'InvalidDunningPolicy',
  );
}

/** Fails the execution loudly (our bug or config): never retried into a second charge. */
function loud(error: unknown, what: string): never {
  const failure = stripeFailure(error);
  if (!failure) throw error;
  throw ApplicationFailure.create({
    type: failure.type,
    message: `${what} failed: ${failure.info.message ?? failure.type}`,
    nonRetryable: true,
    details: [failure.info],
    cause: error as Error,
  });
}

/** Margin for the clocks of Temporal and Stripe when bounding the look-first list by time. */
const CLOCK_SKEW_SECONDS = 3600;

/**
 * Whether the create with key sequence `sequence` must first look for an intent this workflow
 * already made (see `createPaymentIntent`). A fresh chain's first key needs no look: the key
 * returns the same intent for 24 h, and no other run used it. After an ambiguous create (a
 * later key) the intent may exist under the earlier key: look among the intents created since
 * this run started. Before the exactly-once patch, a reset or continued run listed all of the
 * customer's intents (its create may be more than 24 h old, its key pruned); released runs find
 * such an intent with Stripe Search instead (`searchFirst`).
 */
function lookFirstForCreate(sequence: number, v2: boolean): false | { createdSince?: number } {
  const info = workflowInfo();
  const firstRun =
    info.runId === info.firstExecutionRunId && info.runId === info.originalExecutionRunId;
  // Released runs search by order id first (one request), which finds an intent from any
  // earlier run or key; only the fresh intent of this run's own ambiguous create needs a list.
  if (!firstRun && !v2) return {};
  if (sequence === 0) return false;
  return { createdSince: Math.floor(info.runStartTime.getTime() / 1000) - CLOCK_SKEW_SECONDS };
}

/**
 * Charges `input.amount` to the customer once. Returns `succeeded`, `failed` (declined and the
 * dunning campaign gave up, with the last decline) or `canceled`; fails the execution only on a
 * bug or misconfiguration (invalid request, idempotency error, bad credentials), which must be
 * fixed, not retried.
 */
export async function chargeCustomer(
  rawInput: ChargeInput,
  carried?: CarriedState,
): Promise<ChargeResult> {
  const parsed = chargeInputSchema.safeParse(rawInput);
  if (!parsed.success) {
    throw ApplicationFailure.nonRetryable(
      `invalid chargeCustomer input: ${describeIssues(parsed.error)}`,
      'InvalidChargeInput',
    );
  }
  const input = parsed.data;
  const policy = resolvePolicy(input);
  const { workflowId, runId } = workflowInfo();
  const v2 = patched(EXACTLY_ONCE_PATCH);
  if (v2 && orderIdFromWorkflowId(workflowId) !== input.orderId) {
    // One order, one workflow id: a run under another id could make a second intent.
    throw ApplicationFailure.create({
      type: ChargeFailureType.wrongWorkflowId,
      message: `chargeCustomer for order ${input.orderId} must run as workflow id "${chargeWorkflowId(input.orderId)}", not "${workflowId}"`,
      nonRetryable: true,
    });
  }
  const state: CarriedState = carried ?? initialState(input);

  // ---- what the handlers record (no I/O in handlers: the main body acts on it) ----
  let dirty = false; // a Stripe event about the intent arrived since the last read
  let methodEvent: { type: string; objectId: string } | undefined = state.methodEvent; // the customer's methods changed
  state.methodEvent = undefined;
  let retryRequested = state.retryRequested ?? false; // retryNow, a new method, or a scheduled attempt that is due
  state.retryRequested = undefined;
  let finished = false;
  let confirmInFlight = false; // a confirm's answer is outstanding: retry requests merge into it
  let checkingMethod: string | undefined; // a retryNow's method being checked with Stripe
  let signalsThisRun = 0; // every signal this run took, of any name, valid or not
  const status: ChargeStatus = {
    state: ChargeState.creating,
    attempt: state.attempts,
    paymentIntentId: state.paymentIntentId,
    events: { received: 0, duplicates: 0, ignored: 0 },
  };
  /** Whether an event of `type` cannot tell this run anything in its current state. */
  const noNews = (type: string): boolean =>
    NO_NEWS.has(`${status.state}:${type}`) &&
    !(
      v2 &&
      status.state === ChargeState.confirming &&
      type === 'payment_intent.payment_failed' &&
      patched(SETTLEMENT_NEWS_PATCH)
    );
  /** The run took so many signals that it must continue as new, whatever it is waiting for. */
  const flooded = () => v2 && signalsThisRun >= SIGNALS_PER_RUN;
  const ignored = (what: string, fields: Record<string, unknown>) => {
    status.events.ignored = (status.events.ignored ?? 0) + 1;
    if (status.events.ignored <= JUNK_LOGGED_PER_RUN) log.warn(what, fields);
  };

  setHandler(statusQuery, () => ({
    ...status,
    attempt: state.attempts,
    lastError: state.lastError,
    campaign: state.campaign && {
      failures: state.campaign.failures,
      kind: state.campaign.kind,
      endsAt: new Date(state.campaign.endsAt).toISOString(),
    },
  }));
  setHandler(stripeEventSignal, (event) => {
    signalsThisRun++;
    const valid = stripeEventSignalSchema.safeParse(event);
    if (!valid.success) {
      ignored('stripeEvent signal rejected', { problem: describeIssues(valid.error) });
      return;
    }
    if (state.seenEventIds.includes(valid.data.id)) {
      status.events.duplicates++; // Stripe delivers at least once: a duplicate changes nothing
      return;
    }
    status.events.received++;
    state.seenEventIds.push(valid.data.id);
    if (state.seenEventIds.length > SEEN_EVENTS_LIMIT) state.seenEventIds.shift();
    if (PAYMENT_METHOD_EVENTS.has(valid.data.type)) methodEvent = valid.data;
    // Only an event about a PaymentIntent can be news about this charge (the receiver routes
    // nothing else here); other types are recorded without a re-read, so a flood of them costs
    // Stripe nothing.
    else if (!noNews(valid.data.type) && (!v2 || valid.data.type.startsWith('payment_intent.')))
      dirty = true;
  });
  setHandler(cancelSignal, (payload) => {
    signalsThisRun++;
    // Anyone can signal (e.g. `temporal workflow signal` with no input): junk is logged, not fatal.
    const valid = cancelSchema.safeParse(payload);
    if (!valid.success) {
      ignored('cancel signal rejected', { problem: describeIssues(valid.error) });
      return;
    }
    state.cancelReason ??= valid.data.reason;
  });
  if (v2) {
    // Signals of other names would be buffered by the SDK for a handler that never comes, and
    // still count against Temporal's per-run limit: count them and let them go.
    setDefaultSignalHandler((signalName) => {
      signalsThisRun++;
      ignored('signal of an unknown name ignored', { signalName });
    });
  }
  setHandler(
    retryNowUpdate,
    async ({ paymentMethodId }): Promise<RetryNowResult> => {
      if (finished)
        return { accepted: false, reason: `the charge already ended (${status.state})` };
      if (status.state === ChargeState.processing) {
        return { accepted: false, reason: 'a payment is processing; it cannot be retried' };
      }
      // At most one requested attempt is pending: a storm of requests makes one attempt, and
      // each decline is handled before the next (the campaign counts every failure once).
      const pending = v2 && pendingAttempt();
      if (pending) {
        return paymentMethodId && paymentMethodId !== (checkingMethod ?? state.paymentMethodId)
          ? {
              accepted: false,
              reason: `${pending}; ask again with ${paymentMethodId} after its answer`,
            }
          : { accepted: true, merged: true, reason: `merged: ${pending}` };
      }
      const sameCardAt = (state.lastRetryNowAt ?? -Infinity) + SAME_CARD_RETRY_COOLDOWN_MS;
      const sameCard = !paymentMethodId || paymentMethodId === state.paymentMethodId;
      if (v2 && sameCard && sameCardAt > Date.now()) {
        return {
          accepted: false,
          reason: `a retry of this card was made ${humanDuration(Date.now() - (state.lastRetryNowAt ?? 0))} ago (${state.lastError?.declineCode ?? state.lastError?.code ?? 'no answer yet'}); it can be retried again from ${new Date(sameCardAt).toISOString()}, or pass a new paymentMethodId`,
        };
      }
      const capFreeAt = nextAttemptAllowedAt();
      if (capFreeAt > Date.now()) {
        return {
          accepted: false,
          reason: `${policy.maxAttemptsPer30Days} attempts in 30 days reached; next possible at ${new Date(capFreeAt).toISOString()}`,
        };
      }
      const campaign = state.campaign;
      if (
        !paymentMethodId &&
        campaign &&
        campaign.kind !== DeclineKind.soft &&
        status.state === ChargeState.dunning
      ) {
        return {
          accepted: false,
          reason: `the last decline (${state.lastError?.declineCode ?? state.lastError?.code}) needs a new payment method: pass paymentMethodId`,
        };
      }
      if (v2 && paymentMethodId) {
        // A method named by a caller is checked with Stripe before it is used (invariant 4).
        checkingMethod = paymentMethodId;
        const problem = await checkPaymentMethod(paymentMethodId, 'retryNow', {
          unattached: true,
        }).finally(() => (checkingMethod = undefined));
        if (problem) return { accepted: false, reason: problem };
        if (finished)
          return { accepted: false, reason: `the charge already ended (${status.state})` };
      }
      if (paymentMethodId) state.paymentMethodId = paymentMethodId;
      retryRequested = true;
      if (v2) state.lastRetryNowAt = Date.now();
      return { accepted: true };
    },
    {
      validator: (arg) => {
        const valid = retryNowSchema.safeParse(arg);
        if (!valid.success)
          throw new Error(`invalid retryNow input: ${describeIssues(valid.error)}`);
      },
    },
  );

  /** Why a new attempt cannot be asked for now (one is pending or in flight), if so. */
  function pendingAttempt(): string | undefined {
    if (checkingMethod) return `a retry with ${checkingMethod} is being checked with Stripe`;
    if (confirmInFlight) return `attempt ${state.attempts} is in flight`;
    if (retryRequested) return `attempt ${state.attempts + 1} is already pending`;
    return undefined;
  }

  /**
   * Checks with Stripe that a payment method named by a signal or an update can be charged to
   * this customer: it exists and is attached to them (or, for a caller's retryNow, to nobody
   * yet, which Stripe lets an off-session confirm use once). The problem, or `undefined`.
   */
  async function checkPaymentMethod(
    paymentMethodId: string,
    from: string,
    { unattached = false } = {},
  ): Promise<string | undefined> {
    const owner = await acts.retrievePaymentMethod.executeWithOptions(
      { ...reading, summary: `check ${paymentMethodId} (from ${from}) with Stripe` },
      [paymentMethodId],
    );
    if (!owner) return `Stripe has no payment method ${paymentMethodId}`;
    if (owner.customerId === input.customerId) return undefined;
    if (owner.customerId === null && unattached) return undefined;
    return owner.customerId === null
      ? `${paymentMethodId} is not attached to customer ${input.customerId}`
      : `${paymentMethodId} belongs to another customer, not ${input.customerId}`;
  }

  // ---- observability: one upsert per state change, of only what changed ----
  function setState(next: ChargeState, nextAttemptAt?: Date): void {
    status.state = next;
    status.attempt = state.attempts;
    status.paymentIntentId = state.paymentIntentId;
    status.nextAttemptAt = nextAttemptAt?.toISOString();
    // A dunning retry stays `dunning` for operators until its answer (one upsert per attempt).
    if (next === ChargeState.confirming && state.campaign) return;
    const current = workflowInfo().typedSearchAttributes;
    const changed = [
      { key: BillingOrderId, value: input.orderId },
      { key: BillingCustomerId, value: input.customerId },
      { key: BillingPaymentIntentId, value: state.paymentIntentId ?? null },
      { key: BillingStatus, value: next },
      { key: BillingAttempt, value: state.attempts },
      { key: BillingNextAttemptAt, value: nextAttemptAt ?? null },
    ].filter(({ key, value }) => {
      const now: unknown = current.get(key);
      return value instanceof Date
        ? !(now instanceof Date) || now.getTime() !== value.getTime()
        : (now ?? null) !== value;
    });
    if (changed.length > 0) upsertSearchAttributes(changed);
  }

  function key(operation: KeyOperation): string {
    return deriveIdempotencyKey({
      prefix: IDEMPOTENCY_KEY_PREFIX,
      workflowId,
      // A confirm or cancel key belongs to this run: a restarted, reset or continued run reads
      // the intent first and never replays an earlier run's answers (or trips over its other
      // parameters). The create key stays the order's, so it finds the order's intent for 24 h.
      scope: v2 && RUN_SCOPED.has(operation) ? runId : undefined,
      operation,
      sequence: state.sequences[operation],
    });
  }

  const read = (paymentIntentId: string, why: string) =>
    acts.retrievePaymentIntent.executeWithOptions(
      { ...reading, summary: `read ${paymentIntentId}: ${why}` },
      [paymentIntentId],
    );

  /** Waits until `done()` or `untilMs`, interruptibly; the timer reads as a sentence in the UI. */
  async function waitUntil(
    untilMs: number,
    done: () => boolean,
    summary: string,
  ): Promise<boolean> {
    return condition(() => done() || flooded(), Math.max(1, untilMs - Date.now()), { summary });
  }

  // ---- phase 1: the order's one PaymentIntent. Survives a lost create response (same key
  // replays it) and a 5xx/timeout (find it by metadata; a new key only if Stripe has none). ----
  async function ensureIntent(): Promise<PaymentIntentSnapshot> {
    if (state.paymentIntentId) return read(state.paymentIntentId, 'resume after continue-as-new');
    setState(ChargeState.creating);
    for (let uncertain = 0; ; uncertain++) {
      const idempotencyKey = key(KeyOperation.create);
      try {
        return await acts.createPaymentIntent.executeWithOptions(
          {
            ...mutating,
            summary: `create PaymentIntent ${input.amount} ${input.currency} (key …/create/${state.sequences.create})`,
          },
          [
            {
              idempotencyKey,
              workflowId,
              orderId: input.orderId,
              customerId: input.customerId,
              amount: input.amount,
              currency: input.currency,
              paymentMethodId: input.paymentMethodId,
              description: input.description,
              metadata: input.metadata,
              lookFirst: lookFirstForCreate(state.sequences.create, v2),
              ...(v2 && { searchFirst: true }),
            },
          ],
        );
      } catch (error) {
        if (!UNCERTAIN.has(stripeFailure(error)?.type ?? ''))
          loud(error, 'creating the PaymentIntent');
        // The old key's outcome is unknown; the create activity first looks for an intent
        // tagged with this workflow, so the next key returns it rather than making a second.
        setState(ChargeState.reconciling);
        state.sequences.create++;
        await backoff(uncertain);
      }
    }
  }

  /** After repeated ambiguous answers, wait before the next try (the first retry is immediate). */
  async function backoff(uncertain: number): Promise<void> {
    if (uncertain === 0) return;
    const seconds = Math.min(3600, 10 * 2 ** (uncertain - 1));
    await condition(() => state.cancelReason !== undefined, `${seconds} seconds`, {
      summary: `Stripe answered ambiguously ${uncertain + 1}×: wait ${seconds}s`,
    });
  }

  /** Takes back the attempt just counted: Stripe did not act on it. */
  function notAnAttempt(): void {
    state.attempts--;
    state.attemptTimes.pop();
  }

  /**
   * A payment method to confirm with: the one we have, else the customer's default (unless it
   * is one that already failed or was unusable). False when there is none.
   */
  async function ensurePaymentMethod(): Promise<boolean> {
    if (state.paymentMethodId) return true;
    const found = await acts.retrieveDefaultPaymentMethod.executeWithOptions(
      { ...reading, summary: "no payment method at hand: read the customer's default" },
      [input.customerId],
    );
    if (
      !found ||
      found === state.campaign?.failedPaymentMethodId ||
      state.unusableMethodIds.includes(found)
    )
      return false;
    state.paymentMethodId = found;
    return true;
  }

  /** When the card-network cap next allows an attempt (now, if it does already). */
  function nextAttemptAllowedAt(): number {
    const windowStart = Date.now() - 30 * DAY_MS - CAP_MARGIN_MS;
    state.attemptTimes = state.attemptTimes.filter((t) => t > windowStart);
    if (state.attemptTimes.length < policy.maxAttemptsPer30Days) return Date.now();
    const oldestCounted =
      state.attemptTimes[state.attemptTimes.length - policy.maxAttemptsPer30Days];
    // An hour's margin: the issuer counts on its own clock, not ours.
    return (oldestCounted ?? Date.now()) + 30 * DAY_MS + CAP_MARGIN_MS;
  }

  // ---- phase 2: one confirm attempt. A decline is definitive (next key); a 5xx or timeout is
  // reconciled by reading the intent, and the next key is used only after that read. ----
  async function confirm(current: PaymentIntentSnapshot): Promise<PaymentIntentSnapshot> {
    const intentId = current.id;
    const allowedAt = nextAttemptAllowedAt();
    if (allowedAt > Date.now()) {
      // The cap (below the card networks' limit) holds even when the schedule would exceed it.
      setState(ChargeState.dunning, new Date(allowedAt));
      await waitUntil(
        allowedAt,
        () => state.cancelReason !== undefined,
        `dunning: attempt ${state.attempts + 1} waits for the ${policy.maxAttemptsPer30Days}-in-30-days cap`,
      );
      if (state.cancelReason !== undefined) return read(intentId, 'canceled while capped');
      if (nextAttemptAllowedAt() > Date.now()) {
        // Woken to continue as new: the attempt stays asked for, in the next run.
        retryRequested = true;
        return current;
      }
    }
    state.attempts++;
    state.attemptTimes.push(Date.now());
    setState(ChargeState.confirming);
    const idempotencyKey = key(KeyOperation.confirm);
    const call = () =>
      acts.confirmPaymentIntent.executeWithOptions(
        {
          ...mutating,
          summary: `confirm attempt ${state.attempts} off-session (key …/confirm/${state.sequences.confirm})`,
        },
        [{ idempotencyKey, paymentIntentId: intentId, paymentMethodId: state.paymentMethodId }],
      );
    confirmInFlight = true;
    try {
      const intent = await (v2 ? untilCanceled(call) : call());
      state.sequences.confirm++; // a definitive, stored answer
      uncertain = 0;
      return intent;
    } catch (error) {
      if (isCancellation(error)) {
        // A cancel stopped the attempt before its answer (e.g. while 429s were being retried):
        // its key is never sent again; what it did, if anything, shows in the intent.
        state.sequences.confirm++;
        setState(ChargeState.reconciling);
        const intent = await read(intentId, 'reconcile a confirm stopped by cancel');
        const declined =
          intent.lastPaymentError && declineFingerprint(intent) !== state.lastDeclineFingerprint;
        if (!MOVED.has(intent.status) && !declined) notAnAttempt();
        return intent;
      }
      const failure = stripeFailure(error);
      if (failure?.type === StripeFailureType.declined) {
        state.sequences.confirm++; // Stripe cached the decline under the key: never reuse it
        uncertain = 0;
        return failure.info.paymentIntent ?? read(intentId, 'after decline');
      }
      if (
        failure?.type === StripeFailureType.invalidRequest &&
        failure.info.param === 'payment_method'
      ) {
        // The method (from the input, retryNow or a webhook) cannot be used with this intent:
        // no attempt was made; the charge waits for another method instead of failing.
        log.warn('payment method rejected by Stripe', { code: failure.info.code });
        notAnAttempt();
        state.sequences.confirm++;
        state.lastError = { code: failure.info.code, message: failure.info.message };
        if (state.paymentMethodId) state.unusableMethodIds.push(state.paymentMethodId);
        state.paymentMethodId = undefined;
        return read(intentId, 'after an unusable payment method');
      }
      if (!failure || !UNCERTAIN.has(failure.type))
        loud(error, `confirm attempt ${state.attempts}`);
      state.lastError = { code: failure.info.code, message: failure.info.message };
      setState(ChargeState.reconciling);
      const intent = await read(intentId, `reconcile after ${failure.type}`);
      // Whatever the old key did is now visible in `intent`; that key is never sent again.
      state.sequences.confirm++;
      const declined =
        intent.lastPaymentError && declineFingerprint(intent) !== state.lastDeclineFingerprint;
      if (MOVED.has(intent.status) || declined) {
        uncertain = 0;
        return intent;
      }
      // Nothing happened: not an attempt (not counted, not capped, never a decline); redo it.
      notAnAttempt();
      await backoff(uncertain++);
      retryRequested = true;
      return intent;
    } finally {
      confirmInFlight = false;
    }
  }

  /**
   * Runs a Stripe call that a cancel interrupts: the activity is canceled (Temporal schedules
   * no further retries of it) and the call rejects with a cancellation, so the caller reconciles.
   */
  async function untilCanceled<T>(call: () => Promise<T>): Promise<T> {
    const scope = new CancellationScope();
    let settled = false;
    const running = scope.run(call).finally(() => (settled = true));
    await condition(() => settled || state.cancelReason !== undefined);
    if (!settled) scope.cancel();
    return running;
  }

  // ---- phase 3: wait for Stripe to finish (processing, authentication). A webhook wakes the
  // workflow early; without one it re-reads on a timer, so a lost webhook only delays. ----
  async function waitForChange(
    intent: PaymentIntentSnapshot,
    waiting: ChargeState,
    alsoWakeOn: () => boolean = () => false,
  ): Promise<PaymentIntentSnapshot> {
    // Never less than the poll interval: a processing payment can take days, whatever the campaign.
    const until = Date.now() + POLL_INTERVAL_MS;
    setState(waiting, new Date(until));
    await waitUntil(
      until,
      () => dirty || alsoWakeOn(),
      `${waiting}: wait for a Stripe event, re-read at the latest in 1 day`,
    );
    dirty = false;
    return read(intent.id, 'woken');
  }

  /** Cancels the intent unless money moved; returns the intent as Stripe then has it. */
  async function cancelIntent(intent: PaymentIntentSnapshot): Promise<PaymentIntentSnapshot> {
    try {
      return await acts.cancelPaymentIntent.executeWithOptions(
        {
          ...mutating,
          summary: `cancel: ${state.cancelReason} (key …/cancel/${state.sequences.cancel})`,
        },
        [{ idempotencyKey: key(KeyOperation.cancel), paymentIntentId: intent.id }],
      );
    } catch (error) {
      if (!UNCERTAIN.has(stripeFailure(error)?.type ?? ''))
        loud(error, 'canceling the PaymentIntent');
      state.sequences.cancel++;
      const now = await read(intent.id, 'reconcile cancel');
      if (now.status !== IntentStatus.canceled) await backoff(cancelUncertain++);
      return now;
    }
  }

  /** Tells the customer, once per id; a broken notifier is logged, never allowed to block money. */
  async function notify(kind: NotificationKind, nextAttemptAt?: number): Promise<void> {
    try {
      await acts.notifyCustomer.executeWithOptions(
        { ...sideEffects, summary: `notify customer: ${kind}` },
        [
          {
            id: notificationId(
              { prefix: IDEMPOTENCY_KEY_PREFIX, workflowId },
              kind,
              state.attempts,
            ),
            kind,
            orderId: input.orderId,
            customerId: input.customerId,
            paymentIntentId: state.paymentIntentId,
            amount: input.amount,
            currency: input.currency,
            attempt: state.attempts,
            nextAttemptAt:
              nextAttemptAt === undefined ? undefined : new Date(nextAttemptAt).toISOString(),
            declineCode: state.lastError?.declineCode ?? state.lastError?.code,
          },
        ],
      );
    } catch (error) {
      log.error('customer notification failed after retries', { kind, error });
    }
  }

  // ---- phase 4: dunning. Each decline is classified once: a soft one is retried on the
  // schedule (the same intent, a new key), a hard one waits for a new payment method; either
  // way a new method (webhook), retryNow or cancel interrupts the wait. ----
  async function onDecline(intent: PaymentIntentSnapshot): Promise<void> {
    state.lastError = intent.lastPaymentError ?? state.lastError;
    state.lastDeclineFingerprint = declineFingerprint(intent);
    const now = Date.now();
    const failures = (state.campaign?.failures ?? 0) + 1;
    const kind = classifyDecline(state.lastError ?? {}, policy);
    const totalDays = policy.retryDelaysDays.reduce((a, b) => a + b, 0);
    const delayDays = kind === DeclineKind.soft ? policy.retryDelaysDays[failures - 1] : undefined;
    state.campaign = {
      failures,
      handledAttempt: state.attempts,
      kind,
      endsAt:
        state.campaign?.endsAt ??
        // The schedule plus the most jitter its retries can add.
        now + totalDays * DAY_MS + policy.retryDelaysDays.length * policy.jitterMinutes * 60_000,
      nextAttemptAt:
        delayDays === undefined
          ? undefined
          : now + delayDays * DAY_MS + jitterMs(workflowId, failures, policy.jitterMinutes),
      failedPaymentMethodId: intent.paymentMethodId ?? state.paymentMethodId,
    };
    const next = state.campaign.nextAttemptAt;
    if (kind === DeclineKind.actionRequired) {
      if (policy.notify.actionRequired) await notify(NotificationKind.actionRequired);
    } else if (
      policy.notify.paymentFailed === 'every' ||
      (policy.notify.paymentFailed === 'first' && failures === 1)
    ) {
      await notify(NotificationKind.paymentFailed, next);
    }
    if (
      next !== undefined &&
      failures === policy.retryDelaysDays.length &&
      policy.notify.finalWarning
    ) {
      await notify(NotificationKind.finalWarning, next);
    }
  }

  /** Waits for the next attempt, a new method, a webhook or a cancel; gives up at the end. */
  async function awaitNextAttempt(): Promise<PaymentIntentSnapshot | undefined> {
    const campaign = state.campaign!;
    const until = campaign.nextAttemptAt ?? campaign.endsAt;
    if (campaign.kind === DeclineKind.soft && campaign.nextAttemptAt === undefined) return giveUp();
    setState(
      ChargeState.dunning,
      campaign.nextAttemptAt === undefined ? undefined : new Date(until),
    );
    const wait = humanDuration(until - Date.now());
    const woke = await waitUntil(
      until,
      () =>
        dirty || methodEvent !== undefined || retryRequested || state.cancelReason !== undefined,
      campaign.nextAttemptAt === undefined
        ? `dunning: ${campaign.kind} decline, wait up to ${wait} for a new payment method`
        : `dunning: attempt ${state.attempts + 1} in ${wait}`,
    );
    if (!woke) {
      if (campaign.nextAttemptAt === undefined) return giveUp();
      retryRequested = true; // the scheduled attempt is due
      return undefined;
    }
    if (methodEvent) await adoptNewPaymentMethod(methodEvent);
    if (dirty) {
      dirty = false;
      return read(state.paymentIntentId!, 'a Stripe event arrived during dunning');
    }
    return undefined;
  }

  /** A customer-level event: retry early if the customer now has a different payment method. */
  async function adoptNewPaymentMethod(event: { type: string; objectId: string }): Promise<void> {
    methodEvent = undefined;
    const candidate = event.objectId.startsWith('pm_')
      ? event.objectId
      : await acts.retrieveDefaultPaymentMethod.executeWithOptions(
          { ...reading, summary: `read the customer's default payment method (${event.type})` },
          [input.customerId],
        );
    if (
      !candidate ||
      candidate === state.campaign?.failedPaymentMethodId ||
      state.unusableMethodIds.includes(candidate)
    )
      return;
    if (nextAttemptAllowedAt() > Date.now()) return; // the cap holds; the schedule will get there
    if (v2 && candidate === event.objectId) {
      // The method named in the signal is a claim (anyone can signal): it is used only if Stripe
      // shows it attached to this customer. A bad one changes nothing.
      const problem = await checkPaymentMethod(candidate, event.type);
      if (problem) {
        ignored('payment method from a signal not used', { problem });
        return;
      }
    }
    if (v2 && pendingAttempt()) return; // a requested attempt already comes
    state.paymentMethodId = candidate;
    retryRequested = true;
  }

  /** Ends the campaign unpaid: the intent is canceled (with its own key) by the main loop. */
  function giveUp(): undefined {
    state.gaveUp = true;
    state.cancelReason ??= `dunning gave up after ${state.attempts} attempts`;
    return undefined;
  }

  /** The campaign's end when unpaid (gave up, or canceled mid-campaign): hook, then notify. */
  async function endCampaign(): Promise<void> {
    if (!state.campaign && !state.gaveUp) return;
    // Independent of each other: run together (one workflow task fewer in the history).
    await Promise.all([
      runFinalAction(),
      policy.notify.gaveUp ? notify(NotificationKind.gaveUp) : undefined,
    ]);
  }

  async function runFinalAction(): Promise<void> {
    try {
      await acts.runFinalAction.executeWithOptions(
        { ...sideEffects, summary: `final action: ${policy.finalAction}` },
        [
          {
            id: key(KeyOperation.final),
            action: policy.finalAction,
            orderId: input.orderId,
            customerId: input.customerId,
            paymentIntentId: state.paymentIntentId,
            reason: state.gaveUp ? 'gave_up' : `canceled: ${state.cancelReason}`,
          },
        ],
      );
    } catch (error) {
      log.error('final action failed after retries', { action: policy.finalAction, error });
    }
  }

  /** No method to charge: the customer must give one (a webhook or retryNow wakes us). */
  async function awaitPaymentMethod(intent: PaymentIntentSnapshot): Promise<PaymentIntentSnapshot> {
    if (!state.campaign) {
      await onDecline({
        ...intent,
        lastPaymentError: {
          code: NO_PAYMENT_METHOD,
          message: 'no payment method: none given, no usable default',
        },
      });
    } else if (state.campaign.kind !== DeclineKind.actionRequired) {
      state.campaign.kind = DeclineKind.actionRequired;
      state.campaign.nextAttemptAt = undefined;
      if (policy.notify.actionRequired) await notify(NotificationKind.actionRequired);
    }
    return (await awaitNextAttempt()) ?? intent;
  }

  /** The customer must authenticate: an event, retryNow (e.g. a new method) or cancel moves us on. */
  async function awaitAuthentication(
    intent: PaymentIntentSnapshot,
  ): Promise<PaymentIntentSnapshot> {
    if (state.actionNotifiedAttempt !== state.attempts) {
      state.actionNotifiedAttempt = state.attempts;
      state.actionSince = Date.now();
      if (policy.notify.actionRequired) await notify(NotificationKind.actionRequired);
    }
    const next = await waitForChange(
      intent,
      ChargeState.requiresAction,
      () => retryRequested || methodEvent !== undefined || state.cancelReason !== undefined,
    );
    if (methodEvent) await adoptNewPaymentMethod(methodEvent);
    const totalDays = policy.retryDelaysDays.reduce((a, b) => a + b, 0);
    const deadline = Math.max(
      state.campaign?.endsAt ?? 0,
      state.actionSince + Math.max(POLL_INTERVAL_MS, totalDays * DAY_MS),
    );
    if (next.status === IntentStatus.requiresAction && !retryRequested && Date.now() >= deadline) {
      state.lastError = {
        code: 'authentication_required',
        message: 'the customer did not authenticate in time',
      };
      giveUp();
    }
    return next;
  }

  /**
   * The intent found for the order must be the one this run was asked for: another amount,
   * currency or customer fails loudly with what Stripe holds, and nothing is charged.
   */
  function assertOrderIntent(found: PaymentIntentSnapshot): void {
    const fields = [
      found.amount !== input.amount && 'amount',
      found.currency !== input.currency && 'currency',
      found.customerId !== input.customerId && 'customerId',
    ].filter((f): f is string => f !== false);
    if (fields.length === 0) return;
    const details: ChargeConflictDetails = {
      paymentIntentId: found.id,
      status: found.status,
      held: { amount: found.amount, currency: found.currency, customerId: found.customerId },
      asked: { amount: input.amount, currency: input.currency, customerId: input.customerId },
      fields,
    };
    throw ApplicationFailure.create({
      type: ChargeFailureType.conflict,
      message: `order ${input.orderId}: ${found.id} has ${found.amount} ${found.currency} for ${found.customerId ?? 'no customer'}, ${found.status}; this run asked ${input.amount} ${input.currency} for ${input.customerId} (${fields.join(', ')} differ)`,
      nonRetryable: true,
      details: [details],
    });
  }

  function finish(outcome: ChargeOutcome, intent: PaymentIntentSnapshot | undefined): ChargeResult {
    finished = true;
    setState(
      outcome === ChargeOutcome.succeeded
        ? ChargeState.succeeded
        : outcome === ChargeOutcome.canceled
          ? ChargeState.canceled
          : ChargeState.failed,
    );
    return {
      outcome,
      paymentIntentId: intent?.id ?? state.paymentIntentId,
      attempts: state.attempts,
      amount: input.amount,
      currency: input.currency,
      ...(outcome === ChargeOutcome.failed && { failure: state.lastError }),
    };
  }

  function shouldContinueAsNew(): boolean {
    const info = workflowInfo();
    return (
      info.continueAsNewSuggested ||
      info.historyLength > policy.continueAsNewAfterEvents ||
      flooded()
    );
  }

  // ---- the state machine: act on the intent's real state until it is final ----
  let uncertain = 0; // consecutive ambiguous answers, for backoff
  let cancelUncertain = 0;
  let intent = await ensureIntent();
  if (v2) assertOrderIntent(intent);
  state.paymentIntentId = intent.id;
  for (;;) {
    // Only between steps with nothing pending: a retry, a new method or an unread event that a
    // handler recorded is acted on first. A flooded run goes at once: the next run re-reads the
    // intent anyway, and takes over a requested retry and a new-method event.
    if (flooded() || (shouldContinueAsNew() && !retryRequested && !methodEvent && !dirty)) {
      await condition(allHandlersFinished);
      if (v2) Object.assign(state, { retryRequested, methodEvent });
      return continueAsNew<typeof chargeCustomer>(input, state);
    }
    const declined = intent.lastPaymentError !== undefined && state.attempts > 0;
    const step = nextStep({
      status: intent.status,
      declined,
      declineHandled: state.campaign?.handledAttempt === state.attempts,
      cancelRequested: state.cancelReason !== undefined,
      retryRequested,
      released: v2,
    });
    switch (step) {
      case ChargeStep.succeed:
        if (state.campaign && policy.notify.recovered) await notify(NotificationKind.recovered);
        return finish(ChargeOutcome.succeeded, intent);
      case ChargeStep.end:
        await endCampaign();
        return finish(state.gaveUp ? ChargeOutcome.failed : ChargeOutcome.canceled, intent);
      case ChargeStep.awaitProcessing:
        intent = await waitForChange(intent, ChargeState.processing);
        break;
      case ChargeStep.failUnexpectedState:
        // We never create manual-capture intents; an intent in this state was changed elsewhere.
        throw ApplicationFailure.nonRetryable(
          `PaymentIntent ${intent.id} requires capture; chargeCustomer does not capture`,
          'UnexpectedIntentState',
        );
      case ChargeStep.cancel:
        intent = await cancelIntent(intent);
        break;
      case ChargeStep.handleDecline:
        // Every decline is counted and told before anything else happens, even with a retry
        // already asked for: the next step makes that attempt.
        await onDecline(intent);
        break;
      case ChargeStep.attempt:
        retryRequested = false;
        intent = (await ensurePaymentMethod())
          ? await confirm(intent)
          : await awaitPaymentMethod(intent);
        break;
      case ChargeStep.awaitAuthentication:
        intent = await awaitAuthentication(intent);
        break;
      case ChargeStep.dunning:
        // Declined (by a confirm, or by a failed authentication); runs from before the patch
        // count the decline here.
        if (state.campaign?.handledAttempt !== state.attempts) await onDecline(intent);
        intent = (await awaitNextAttempt()) ?? intent;
        break;
    }
  }
}

/** "2 days", "1 day", "6 hours", "86 seconds": a wait as a person says it (timer summaries). */
export function humanDuration(ms: number): string {
  const units = [
    ['day', DAY_MS],
    ['hour', 3_600_000],
    ['minute', 60_000],
    ['second', 1_000],
  ] as const;
  for (const [unit, size] of units) {
    const count = Math.round(ms / size);
    if (count >= 1 && (ms >= size || unit === 'second'))
      return `${count} ${unit}${count === 1 ? '' : 's'}`;
  }
  return '0 seconds';
}

/** Which attempt a decline belongs to: its failed charge, else its codes and the latest charge. */
function declineFingerprint(intent: PaymentIntentSnapshot): string | undefined {
  const error = intent.lastPaymentError;
  if (!error) return undefined;
  return error.chargeId ?? [intent.latestChargeId, error.code, error.declineCode].join('|');
}

/** Statuses that mean a confirm took effect (money moved or is moving, or the customer must act). */
const MOVED: ReadonlySet<string> = new Set([
  IntentStatus.succeeded,
  IntentStatus.processing,
  IntentStatus.requiresAction,
  IntentStatus.canceled,
]);
