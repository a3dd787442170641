// refundOrder: carries out one refund request of an order at most once (issue 14), with the
// charge's defences: it checks its own id, takes the order's refund lock, reads Stripe (the
// charge's captured and refunded money, and any refund already carrying this refund id) before
// it creates, derives every key from its workflow id, and reconciles an unknown outcome by
// reading the charge's refunds before it takes a new key. Webhooks only wake it up.
import {
  ApplicationFailure,
  CancellationScope,
  condition,
  getExternalWorkflowHandle,
  log,
  patched,
  proxyActivities,
  setDefaultSignalHandler,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { BillingActivities } from '../activities/index.js';
import { refundLockWorkflowId, refundWorkflowId } from '../shared/after-charge-ids.js';
import { NotificationKind } from '../shared/notifications.js';
import {
  FINAL_REFUND_STATUSES,
  RefundOutcome,
  RefundStatus,
  refundInputSchema,
  type OrderRefundsView,
  type ParsedRefundInput,
  type RefundInput,
  type RefundResult,
  type RefundSnapshot,
} from '../shared/refunds.js';
import { describeIssues, stripeEventSignalSchema } from '../shared/schemas.js';
import {
  BillingAmount,
  BillingOrderId,
  BillingPaymentIntentId,
  BillingStatus,
} from '../shared/search-attributes.js';
import { StripeFailureType, type StripeErrorInfo } from '../shared/stripe-failures.js';
import {
  mutatingActivity,
  readingActivity,
  sideEffectActivity,
  stripeFailure,
  UNCERTAIN_OUTCOMES,
} from './after-charge-outcomes.js';
import { IDEMPOTENCY_KEY_PREFIX } from './charge-customer.js';
import {
  AfterChargeKeyOperation,
  deriveIdempotencyKey,
  notificationId,
} from './idempotency-key.js';
import { stripeEventSignal } from './messages.js';
import {
  RefundFailureType,
  RefundState,
  refundLockGrantedSignal,
  refundStatusQuery,
  releaseRefundLockSignal,
  type RefundStatusView,
} from './refund-messages.js';

/** The patch that keeps a wake-up which arrived between the last read and the pending wait. */
export const REFUND_WAKE_PATCH = 'refund-wake-v2';
/**
 * The patch that adopts this refund id's own refund when Stripe refuses a retry as an
 * over-refund: the first attempt made the refund and lost its answer, and the retry's key was no
 * longer Stripe's (pruned), so the retry was checked afresh. Asked only on that path.
 */
export const REFUND_ADOPT_PATCH = 'refund-adopt-own-v1';
/** How often a pending refund is re-read when no webhook comes (banks take up to ~10 days). */
export const REFUND_POLL_INTERVAL_MS = 12 * 3600 * 1000;
/** How long to wait for the lock's grant before asking again (the lock run may have ended). */
export const LOCK_REASK_MS = 2 * 60_000;
/** A new order's intent may not be searchable yet (Stripe: under a minute): look again so often. */
const NOT_FOUND_RETRIES = [20_000, 40_000] as const;
const SEEN_EVENTS_LIMIT = 100;

const acts = proxyActivities<BillingActivities>(mutatingActivity);

/** Stripe refused the refund as more than the charge has left (its own check, after ours). */
function isOverRefund(failure: { type: string; info: StripeErrorInfo }): boolean {
  return (
    failure.type === StripeFailureType.invalidRequest &&
    (failure.info.code === 'charge_already_refunded' || failure.info.code === 'amount_too_large')
  );
}

/**
 * Refunds `input.amount` (default: what remains) of the order's captured payment, once per
 * `refundId`. Returns `succeeded`, `failed` (Stripe failed it later; the customer is told),
 * `canceled`, or `refused` (nothing sent: not chargeCustomer's order, or more than what
 * remains, with the amount that remains). Fails the execution only on a bug or misuse.
 */
export async function refundOrder(rawInput: RefundInput): Promise<RefundResult> {
  const parsed = refundInputSchema.safeParse(rawInput);
  if (!parsed.success)
    throw ApplicationFailure.nonRetryable(
      `invalid refundOrder input: ${describeIssues(parsed.error)}`,
      RefundFailureType.invalidInput,
    );
  const input: ParsedRefundInput = parsed.data;
  const { workflowId, runId } = workflowInfo();
  const expectedId = refundWorkflowId(input.orderId, input.refundId);
  if (workflowId !== expectedId)
    // One refund id, one workflow id: a run under another id could make a second refund.
    throw ApplicationFailure.create({
      type: RefundFailureType.wrongWorkflowId,
      message: `refundOrder for order ${input.orderId}, refund ${input.refundId} must run as workflow id "${expectedId}", not "${workflowId}"`,
      nonRetryable: true,
    });
  const lockId = refundLockWorkflowId(input.orderId);

  // ---- what the handlers record (the main body acts on it) ----
  const status: RefundStatusView = { state: RefundState.waitingForLock, refund: undefined };
  let dirty = false; // a refund event arrived since the last read
  let wantLock = false;
  let grantToken: string | undefined;
  const strayGrants: string[] = []; // grants this run did not ask for: handed straight back
  const seen: string[] = [];
  let ignored = 0;
  let sequence = 0;

  setHandler(refundStatusQuery, () => status);
  setHandler(stripeEventSignal, (event) => {
    const valid = stripeEventSignalSchema.safeParse(event);
    if (!valid.success || seen.includes(valid.data.id)) return void ignored++;
    seen.push(valid.data.id);
    if (seen.length > SEEN_EVENTS_LIMIT) seen.shift();
    // A wake-up only: the refund is re-read from Stripe before anything is concluded.
    if (valid.data.type.startsWith('refund.') || valid.data.type.startsWith('charge.'))
      dirty = true;
  });
  setHandler(refundLockGrantedSignal, (grant) => {
    const token = typeof grant?.token === 'string' ? grant.token : undefined;
    if (token === undefined) return void ignored++;
    if (wantLock && grantToken === undefined) grantToken = token;
    else if (token !== grantToken) strayGrants.push(token);
  });
  setDefaultSignalHandler(() => void ignored++);

  function setState(state: RefundState, view?: Extract<OrderRefundsView, { kind: 'charged' }>) {
    status.state = state;
    upsertSearchAttributes([
      { key: BillingOrderId, value: input.orderId },
      { key: BillingStatus, value: state },
      ...(status.refund ? [{ key: BillingAmount, value: status.refund.amount }] : []),
      ...(view ? [{ key: BillingPaymentIntentId, value: view.paymentIntentId }] : []),
    ]);
  }

  // ---- the order's refund lock: one refund of the order checks and creates at a time ----
  async function acquireLock(): Promise<void> {
    wantLock = true;
    while (grantToken === undefined) {
      await acts.requestRefundLock.executeWithOptions(
        { ...readingActivity, summary: `ask ${lockId} for a turn` },
        [{ lockWorkflowId: lockId, orderId: input.orderId, requester: { workflowId, runId } }],
      );
      await condition(() => grantToken !== undefined, LOCK_REASK_MS);
    }
  }

  async function release(token: string): Promise<void> {
    try {
      await getExternalWorkflowHandle(lockId).signal(releaseRefundLockSignal, {
        workflowId,
        runId,
        token,
      });
    } catch (error) {
      // The lock run is gone (its turn ends with it); nothing holds the order.
      log.warn('refund lock release not delivered', { lockId, error });
    }
  }

  async function releaseLock(): Promise<void> {
    const token = grantToken;
    wantLock = false;
    grantToken = undefined;
    if (token !== undefined) await release(token);
  }

  async function releaseStrays(): Promise<void> {
    while (strayGrants.length > 0) await release(strayGrants.shift()!);
  }

  const key = () =>
    deriveIdempotencyKey({
      prefix: IDEMPOTENCY_KEY_PREFIX,
      workflowId,
      operation: AfterChargeKeyOperation.refund,
      sequence,
    });

  /** The order's money as Stripe shows it; a new intent gets a minute to become searchable. */
  async function readOrder(): Promise<OrderRefundsView> {
    for (let tries = 0; ; tries++) {
      dirty = false; // an event from here on may be news after this read
      const view = await acts.readOrderRefunds.executeWithOptions(
        {
          ...readingActivity,
          summary: `read order ${input.orderId}'s charge and refunds from Stripe`,
        },
        [
          {
            orderId: input.orderId,
            refundId: input.refundId,
            paymentIntentHint: input.paymentIntentHint,
          },
        ],
      );
      const wait = NOT_FOUND_RETRIES[tries];
      if (view.kind !== 'refused' || !view.notFound || wait === undefined) return view;
      await condition(() => false, wait, {
        summary: `no intent for order ${input.orderId} in Stripe Search yet: look again in ${wait / 1000}s`,
      });
    }
  }

  const refused = (reason: string, extra: Partial<RefundResult> = {}): RefundResult => {
    status.reason = reason;
    setState(RefundState.refused);
    return {
      outcome: RefundOutcome.refused,
      orderId: input.orderId,
      refundId: input.refundId,
      amount: input.amount,
      reason,
      ...extra,
    };
  };

  /** Creates the refund (reconciling unknown outcomes), or says why not. Under the lock. */
  async function checkAndCreate(
    view: Extract<OrderRefundsView, { kind: 'charged' }>,
  ): Promise<RefundSnapshot | RefundResult> {
    const remaining = view.captured - view.refunded;
    const amount = input.amount ?? remaining;
    const money = {
      paymentIntentId: view.paymentIntentId,
      chargeId: view.chargeId,
      currency: view.currency,
      remaining,
    };
    if (remaining <= 0 || amount > remaining)
      return refused(
        `order ${input.orderId}: asked to refund ${amount} ${view.currency}, but ${remaining} ${view.currency} of the ${view.captured} captured remains (${view.refunded} refunded or pending)`,
        money,
      );
    setState(RefundState.creating, view);
    for (let uncertain = 0; ; uncertain++) {
      try {
        dirty = false;
        return await acts.createRefund.executeWithOptions(
          {
            ...mutatingActivity,
            summary: `refund ${amount} ${view.currency} of ${view.chargeId} (key …/refund/${sequence})`,
          },
          [
            {
              idempotencyKey: key(),
              workflowId,
              orderId: input.orderId,
              refundId: input.refundId,
              chargeId: view.chargeId,
              amount,
              reason: input.reason,
              metadata: input.metadata,
            },
          ],
        );
      } catch (error) {
        const failure = stripeFailure(error);
        if (failure && isOverRefund(failure)) {
          // Stripe's own check caught what ours did not see (a refund made outside this lock).
          const now = await readOrder();
          // The refund Stripe counted may be this refund id's own, from an attempt whose answer
          // was lost: it is the result, not a refusal.
          if (now.kind === 'charged' && now.existing && patched(REFUND_ADOPT_PATCH))
            return now.existing;
          const left = now.kind === 'charged' ? now.captured - now.refunded : 0;
          return refused(
            `order ${input.orderId}: Stripe refused to refund ${amount} ${view.currency}: ${failure.info.message ?? failure.info.code}; ${left} ${view.currency} remains`,
            { ...money, remaining: left },
          );
        }
        if (!failure || !UNCERTAIN_OUTCOMES.has(failure.type)) {
          if (!failure) throw error;
          throw ApplicationFailure.create({
            type: failure.type,
            message: `refunding ${amount} ${view.currency} of order ${input.orderId} failed: ${failure.info.message ?? failure.type}`,
            nonRetryable: true,
            details: [failure.info],
            cause: error as Error,
          });
        }
        // A 5xx or timeout: Stripe may have made the refund. Look before taking a new key.
        setState(RefundState.reconciling, view);
        const found = await acts.findRefund.executeWithOptions(
          {
            ...readingActivity,
            summary: `reconcile after ${failure.type}: find refund ${input.refundId}`,
          },
          [{ chargeId: view.chargeId, orderId: input.orderId, refundId: input.refundId }],
        );
        if (found) return found;
        sequence++; // the old key's request did nothing: it is never sent again
        if (uncertain > 0) {
          const seconds = Math.min(3600, 10 * 2 ** (uncertain - 1));
          await condition(() => false, `${seconds} seconds`);
        }
      }
    }
  }

  /**
   * A follow run whose refund id has no refund at Stripe (a follow run started by hand): it
   * creates none, and says so. One that has a refund adopts it, as any run does, whatever refund
   * it was told to follow: the latest run of a refund id always reports what Stripe holds.
   */
  function nothingToFollow(
    view: Extract<OrderRefundsView, { kind: 'charged' }>,
    stripeRefundId: string,
  ): RefundResult {
    return refused(
      `order ${input.orderId}: Stripe has no refund under refund id ${input.refundId}, so ${stripeRefundId} is not its refund; a follow run creates none, and nothing was sent`,
      { paymentIntentId: view.paymentIntentId },
    );
  }

  // ---- 1. under the order's lock: read Stripe, adopt or check and create ----
  setState(RefundState.waitingForLock);
  let view: OrderRefundsView;
  let created: RefundSnapshot | RefundResult;
  // A follow run creates nothing, so it needs no turn of the lock.
  if (input.followRefund === undefined) await acquireLock();
  try {
    status.state = RefundState.checking;
    view = await readOrder();
    if (view.kind === 'refused')
      return refused(view.reason, { paymentIntentId: view.paymentIntentId });
    // Another run of this refund id (a restart, any id policy) already made it: adopt it.
    created =
      view.existing ??
      (input.followRefund !== undefined
        ? nothingToFollow(view, input.followRefund)
        : await checkAndCreate(view));
  } finally {
    await CancellationScope.nonCancellable(releaseLock);
  }
  if (!('id' in created)) return created;
  const charged = view;
  const adopted = view.existing !== undefined;
  let refund: RefundSnapshot = created;
  status.refund = refund;

  // ---- 2. a pending refund: wait for its webhook, re-read at the latest every 12 hours ----
  // Before the patch, the wait cleared `dirty` as it began, so an event that arrived after the
  // last read (while the lock was being released) was dropped as seen and the refund waited for
  // its 12-hour re-read. Now the flag is cleared only just before each read.
  const keepsWakeUps = !FINAL_REFUND_STATUSES.has(refund.status) && patched(REFUND_WAKE_PATCH);
  while (!FINAL_REFUND_STATUSES.has(refund.status)) {
    setState(RefundState.pending, charged);
    if (!keepsWakeUps) dirty = false;
    await condition(() => dirty || strayGrants.length > 0, REFUND_POLL_INTERVAL_MS);
    await releaseStrays();
    const woke = dirty;
    if (keepsWakeUps) dirty = false;
    refund = await acts.retrieveRefund.executeWithOptions(
      {
        ...readingActivity,
        summary: `read refund ${refund.id} (${woke ? 'a webhook arrived' : 'poll'})`,
      },
      [refund.id],
    );
    status.refund = refund;
  }

  // ---- 3. the outcome, as Stripe has it ----
  const moved = refund.status === RefundStatus.succeeded;
  const remaining = charged.captured - charged.refunded - (adopted || !moved ? 0 : refund.amount);
  const outcome =
    refund.status === RefundStatus.succeeded
      ? RefundOutcome.succeeded
      : refund.status === RefundStatus.canceled
        ? RefundOutcome.canceled
        : RefundOutcome.failed;
  if (outcome === RefundOutcome.failed) {
    status.reason = refund.failureReason;
    if (charged.customerId) await notifyRefundFailed(charged, refund);
  }
  setState(
    outcome === RefundOutcome.succeeded
      ? RefundState.succeeded
      : outcome === RefundOutcome.canceled
        ? RefundState.canceled
        : RefundState.failed,
    charged,
  );
  return {
    outcome,
    orderId: input.orderId,
    refundId: input.refundId,
    stripeRefundId: refund.id,
    amount: refund.amount,
    currency: refund.currency,
    paymentIntentId: charged.paymentIntentId,
    chargeId: charged.chargeId,
    remaining,
    ...(refund.failureReason !== undefined && { reason: refund.failureReason }),
  };

  async function notifyRefundFailed(
    order: Extract<OrderRefundsView, { kind: 'charged' }>,
    failed: RefundSnapshot,
  ): Promise<void> {
    try {
      await acts.notifyCustomer.executeWithOptions(
        { ...sideEffectActivity, summary: `notify customer: ${NotificationKind.refundFailed}` },
        [
          {
            id: notificationId(
              { prefix: IDEMPOTENCY_KEY_PREFIX, workflowId },
              NotificationKind.refundFailed,
              0,
            ),
            kind: NotificationKind.refundFailed,
            orderId: input.orderId,
            customerId: order.customerId!,
            paymentIntentId: order.paymentIntentId,
            amount: failed.amount,
            currency: failed.currency,
            attempt: 0,
            declineCode: failed.failureReason,
          },
        ],
      );
    } catch (error) {
      log.error('refund_failed notification failed after retries', { error });
    }
  }
}
