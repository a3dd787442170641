// chargeCustomer: charges one order at most once and never loses the outcome (DESIGN.md
// invariants 1–4, 6). One PaymentIntent per order; every confirm of it carries a key derived
// from workflow state; Stripe is the truth, signals only wake the workflow up to re-read it.
import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  TimeoutFailure,
  condition,
  continueAsNew,
  log,
  proxyActivities,
  setHandler,
  sleep,
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
  chargeInputSchema,
  describeIssues,
  retryNowSchema,
  stripeEventSignalSchema,
  type ChargeInput,
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
import { deriveIdempotencyKey, KeyOperation } from './idempotency-key.js';
import {
  ChargeOutcome,
  ChargeState,
  cancelSignal,
  retryNowUpdate,
  statusQuery,
  stripeEventSignal,
  type ChargeResult,
  type ChargeStatus,
} from './messages.js';

/** Namespaces every idempotency key this workflow derives. */
export const IDEMPOTENCY_KEY_PREFIX = 'db';
/** How often a waiting charge re-reads its intent when no webhook comes (invariant 4). */
export const POLL_INTERVAL_MS = 24 * 3600 * 1000;
/** Event ids remembered for dedupe; older ones fall out (Stripe redelivers for 3 days at most). */
export const SEEN_EVENTS_LIMIT = 500;

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
const stripe = proxyActivities<BillingActivities>(mutating);

/** What survives continue-as-new: everything keys and dedupe depend on. */
export interface CarriedState {
  paymentIntentId: string | undefined;
  sequences: Record<KeyOperation, number>;
  attempts: number;
  paymentMethodId: string | undefined;
  lastError: PaymentError | undefined;
  seenEventIds: string[];
  cancelReason: string | undefined;
}

function initialState(input: ChargeInput): CarriedState {
  return {
    paymentIntentId: undefined,
    sequences: { create: 0, confirm: 0, cancel: 0 },
    attempts: 0,
    paymentMethodId: input.paymentMethodId,
    lastError: undefined,
    seenEventIds: [],
    cancelReason: undefined,
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
const UNCERTAIN: ReadonlySet<string> = new Set([
  StripeFailureType.ambiguous,
  StripeFailureType.unexpectedState,
]);

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

/**
 * Charges `input.amount` to the customer once. Returns `succeeded`, `failed` (declined, with
 * the decline) or `canceled`; fails the execution only on a bug or misconfiguration
 * (invalid request, idempotency error, bad credentials), which must be fixed, not retried.
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
  const { workflowId } = workflowInfo();
  const state: CarriedState = carried ?? initialState(input);

  // ---- what the handlers record (no I/O in handlers: the main body acts on it) ----
  let dirty = false; // a Stripe event arrived since the last read
  let retryRequested = false;
  let finished = false;
  const status: ChargeStatus = {
    state: ChargeState.creating,
    attempt: state.attempts,
    paymentIntentId: state.paymentIntentId,
    events: { received: 0, duplicates: 0 },
  };

  setHandler(statusQuery, () => ({
    ...status,
    attempt: state.attempts,
    lastError: state.lastError,
  }));
  setHandler(stripeEventSignal, (event) => {
    const valid = stripeEventSignalSchema.safeParse(event);
    if (!valid.success) {
      log.warn('stripeEvent signal rejected', { problem: describeIssues(valid.error) });
      return;
    }
    if (state.seenEventIds.includes(valid.data.id)) {
      status.events.duplicates++; // Stripe delivers at least once: a duplicate changes nothing
      return;
    }
    status.events.received++;
    state.seenEventIds.push(valid.data.id);
    if (state.seenEventIds.length > SEEN_EVENTS_LIMIT) state.seenEventIds.shift();
    dirty = true;
  });
  setHandler(cancelSignal, ({ reason }) => {
    state.cancelReason ??= reason || 'canceled';
  });
  setHandler(
    retryNowUpdate,
    ({ paymentMethodId }) => {
      if (finished)
        return { accepted: false, reason: `the charge already ended (${status.state})` };
      if (paymentMethodId) state.paymentMethodId = paymentMethodId;
      retryRequested = true;
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

  // ---- observability: one upsert per state change, of only what changed ----
  function setState(next: ChargeState, nextAttemptAt?: Date): void {
    status.state = next;
    status.attempt = state.attempts;
    status.paymentIntentId = state.paymentIntentId;
    status.nextAttemptAt = nextAttemptAt?.toISOString();
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
      operation,
      sequence: state.sequences[operation],
    });
  }

  const read = (paymentIntentId: string, why: string) =>
    stripe.retrievePaymentIntent.executeWithOptions(
      { ...reading, summary: `read ${paymentIntentId}: ${why}` },
      [paymentIntentId],
    );

  // ---- phase 1: the order's one PaymentIntent. Survives a lost create response (same key
  // replays it) and a 5xx/timeout (find it by metadata; a new key only if Stripe has none). ----
  async function ensureIntent(): Promise<PaymentIntentSnapshot> {
    if (state.paymentIntentId) return read(state.paymentIntentId, 'resume');
    setState(ChargeState.creating);
    for (let uncertain = 0; ; uncertain++) {
      const idempotencyKey = key(KeyOperation.create);
      try {
        return await stripe.createPaymentIntent.executeWithOptions(
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
            },
          ],
        );
      } catch (error) {
        if (!UNCERTAIN.has(stripeFailure(error)?.type ?? ''))
          loud(error, 'creating the PaymentIntent');
        setState(ChargeState.reconciling);
        const found = await stripe.findPaymentIntentForWorkflow.executeWithOptions(
          { ...reading, summary: 'reconcile: did the ambiguous create make an intent?' },
          [{ customerId: input.customerId, workflowId }],
        );
        if (found) return found;
        state.sequences.create++; // proven: nothing was created under the old key
        await backoff(uncertain);
      }
    }
  }

  /** After repeated ambiguous answers, wait before the next try (the first retry is immediate). */
  async function backoff(uncertain: number): Promise<void> {
    if (uncertain === 0) return;
    const seconds = Math.min(3600, 10 * 2 ** (uncertain - 1));
    await sleep(`${seconds} seconds`, {
      summary: `Stripe answered ambiguously ${uncertain + 1}×: wait ${seconds}s`,
    });
  }

  // ---- phase 2: one confirm attempt. A decline is definitive (next key); a 5xx or timeout is
  // reconciled by reading the intent, and the next key is used only after that read. ----
  async function confirm(intentId: string): Promise<PaymentIntentSnapshot> {
    state.attempts++;
    setState(ChargeState.confirming);
    const idempotencyKey = key(KeyOperation.confirm);
    try {
      const intent = await stripe.confirmPaymentIntent.executeWithOptions(
        {
          ...mutating,
          summary: `confirm attempt ${state.attempts} off-session (key …/confirm/${state.sequences.confirm})`,
        },
        [{ idempotencyKey, paymentIntentId: intentId, paymentMethodId: state.paymentMethodId }],
      );
      state.sequences.confirm++; // a definitive, stored answer
      uncertain = 0;
      return intent;
    } catch (error) {
      const failure = stripeFailure(error);
      if (failure?.type === StripeFailureType.declined) {
        state.sequences.confirm++; // Stripe cached the decline under the key: never reuse it
        uncertain = 0;
        const { code, declineCode, adviceCode, message } = failure.info;
        state.lastError = { code, declineCode, adviceCode, message };
        return failure.info.paymentIntent ?? read(intentId, 'after decline');
      }
      if (!failure || !UNCERTAIN.has(failure.type))
        loud(error, `confirm attempt ${state.attempts}`);
      state.lastError = { code: failure.info.code, message: failure.info.message };
      setState(ChargeState.reconciling);
      const intent = await read(intentId, `reconcile after ${failure.type}`);
      // Whatever the old key did is now visible in `intent`; that key is never sent again.
      state.sequences.confirm++;
      if (MOVED.has(intent.status)) uncertain = 0;
      else await backoff(uncertain++);
      return intent;
    }
  }

  // ---- phase 3: wait for Stripe to finish (processing, authentication). A webhook wakes the
  // workflow early; without one it re-reads on a timer, so a lost webhook only delays. ----
  async function waitForChange(
    intent: PaymentIntentSnapshot,
    waiting: ChargeState,
    alsoWakeOn: () => boolean = () => false,
  ): Promise<PaymentIntentSnapshot> {
    setState(waiting, new Date(Date.now() + POLL_INTERVAL_MS));
    await condition(() => dirty || alsoWakeOn(), POLL_INTERVAL_MS, {
      summary: `${waiting}: wait for a Stripe event, re-read at the latest in 1 day`,
    });
    dirty = false;
    return read(intent.id, 'woken');
  }

  /** Cancels the intent unless money moved; returns the intent as Stripe then has it. */
  async function cancelIntent(intent: PaymentIntentSnapshot): Promise<PaymentIntentSnapshot> {
    try {
      return await stripe.cancelPaymentIntent.executeWithOptions(
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
      return read(intent.id, 'reconcile cancel');
    }
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
      ...(outcome === ChargeOutcome.failed && { failure: state.lastError }),
    };
  }

  // ---- the state machine: act on the intent's real state until it is final ----
  let uncertain = 0; // consecutive ambiguous answers, for backoff
  let intent = await ensureIntent();
  state.paymentIntentId = intent.id;
  for (;;) {
    if (workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      return continueAsNew<typeof chargeCustomer>(input, state);
    }
    switch (intent.status) {
      case IntentStatus.succeeded:
        return finish(ChargeOutcome.succeeded, intent);
      case IntentStatus.canceled:
        return finish(ChargeOutcome.canceled, intent);
      case IntentStatus.processing:
        // Money is on its way (bank debits take days): it cannot be canceled or retried, only awaited.
        intent = await waitForChange(intent, ChargeState.processing);
        continue;
      case IntentStatus.requiresCapture:
        // We never create manual-capture intents; an intent in this state was changed elsewhere.
        throw ApplicationFailure.nonRetryable(
          `PaymentIntent ${intent.id} requires capture; chargeCustomer does not capture`,
          'UnexpectedIntentState',
        );
      default:
        break;
    }
    if (state.cancelReason !== undefined) {
      intent = await cancelIntent(intent);
    } else if (retryRequested) {
      retryRequested = false;
      intent = await confirm(intent.id);
    } else if (intent.status === IntentStatus.requiresAction) {
      // The customer must authenticate: an event, a retryNow (e.g. a new method) or a cancel moves us on.
      intent = await waitForChange(
        intent,
        ChargeState.requiresAction,
        () => retryRequested || state.cancelReason !== undefined,
      );
    } else if (intent.lastPaymentError && state.attempts > 0) {
      // Declined (by a confirm, or by a failed authentication). Dunning extends this point;
      // for now a decline ends the charge with the decline recorded.
      state.lastError = intent.lastPaymentError;
      return finish(ChargeOutcome.failed, intent);
    } else {
      intent = await confirm(intent.id);
    }
  }
}

/** Statuses that mean a confirm took effect (money moved or is moving, or the customer must act). */
const MOVED: ReadonlySet<string> = new Set([
  IntentStatus.succeeded,
  IntentStatus.processing,
  IntentStatus.requiresAction,
  IntentStatus.canceled,
]);
