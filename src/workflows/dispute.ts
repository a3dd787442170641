// handleDispute: follows one Stripe dispute (`dispute:<disputeId>`, started by the receiver on
// charge.dispute.created) to its end (issue 14). It records the order and the amount, alerts
// operators at once and again before the evidence deadline (durable timers that the
// submitEvidence update interrupts), and ends with Stripe's won / lost / warning_closed. Every
// wake-up (webhook, reminder, daily re-read) reads the dispute from Stripe before acting.
import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  log,
  proxyActivities,
  setDefaultSignalHandler,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { BillingActivities } from '../activities/index.js';
import { disputeWorkflowId } from '../shared/after-charge-ids.js';
import {
  CLOSED_DISPUTE_STATUSES,
  OperatorAlertKind,
  RESPONSE_NEEDED_STATUSES,
  disputeInputSchema,
  submitEvidenceSchema,
  type DisputeInput,
  type DisputeResult,
  type DisputeSnapshot,
  type SubmitEvidenceResult,
} from '../shared/disputes.js';
import { describeIssues, stripeEventSignalSchema } from '../shared/schemas.js';
import {
  BillingAmount,
  BillingDisputeDueBy,
  BillingOrderId,
  BillingPaymentIntentId,
  BillingStatus,
} from '../shared/search-attributes.js';
import {
  mutatingActivity,
  readingActivity,
  sideEffectActivity,
  stripeFailure,
  UNCERTAIN_OUTCOMES,
} from './after-charge-outcomes.js';
import { IDEMPOTENCY_KEY_PREFIX, humanDuration } from './charge-customer.js';
import {
  DisputeFailureType,
  disputeStatusQuery,
  submitEvidenceUpdate,
  type DisputeStatusView,
} from './dispute-messages.js';
import {
  AfterChargeKeyOperation,
  deriveIdempotencyKey,
  notificationId,
} from './idempotency-key.js';
import { stripeEventSignal } from './messages.js';

/** With no webhook, the dispute is re-read this often (a lost webhook only delays the end). */
export const DISPUTE_REREAD_MS = 24 * 3600 * 1000;
/** History events after which the run continues as new, carrying its state. */
export const DISPUTE_EVENTS_PER_RUN = 5_000;
const DAY_MS = 24 * 3600 * 1000;
const SEEN_EVENTS_LIMIT = 200;

const acts = proxyActivities<BillingActivities>(readingActivity);

/** What survives continue-as-new. */
export interface DisputeCarried {
  remindersSent: number[];
  alerts: string[];
  evidenceSequence: number;
  seen: string[];
}

/**
 * Follows the dispute until Stripe closes it; returns its final status. Reminders go out
 * `remindBeforeDays` before `evidence_details.due_by` while Stripe waits for evidence.
 */
export async function handleDispute(
  rawInput: DisputeInput,
  carried?: DisputeCarried,
): Promise<DisputeResult> {
  const parsed = disputeInputSchema.safeParse(rawInput);
  if (!parsed.success)
    throw ApplicationFailure.nonRetryable(
      `invalid handleDispute input: ${describeIssues(parsed.error)}`,
      DisputeFailureType.invalidInput,
    );
  const input = parsed.data;
  const { workflowId, runId } = workflowInfo();
  if (workflowId !== disputeWorkflowId(input.disputeId))
    throw ApplicationFailure.create({
      type: DisputeFailureType.wrongWorkflowId,
      message: `handleDispute for ${input.disputeId} must run as workflow id "${disputeWorkflowId(input.disputeId)}", not "${workflowId}"`,
      nonRetryable: true,
    });
  const reminderDays = [...new Set(input.remindBeforeDays)].sort((a, b) => b - a);
  const state: DisputeCarried = carried ?? {
    remindersSent: [],
    alerts: [],
    evidenceSequence: 0,
    seen: [],
  };

  let dispute: DisputeSnapshot | undefined;
  let dirty = false;
  let evidenceChanged = false;
  let submitting = false;
  let finished = false;
  let nextReminderAt: number | undefined;
  let ignored = 0;

  setHandler(disputeStatusQuery, (): DisputeStatusView => ({
    dispute,
    remindersSent: state.remindersSent,
    nextReminderAt:
      nextReminderAt === undefined ? undefined : new Date(nextReminderAt).toISOString(),
    alerts: state.alerts,
  }));
  setHandler(stripeEventSignal, (event) => {
    const valid = stripeEventSignalSchema.safeParse(event);
    if (!valid.success || state.seen.includes(valid.data.id)) return void ignored++;
    state.seen.push(valid.data.id);
    if (state.seen.length > SEEN_EVENTS_LIMIT) state.seen.shift();
    dirty = true; // a claim: the dispute is re-read before anything is concluded
  });
  setDefaultSignalHandler(() => void ignored++);
  setHandler(
    submitEvidenceUpdate,
    async ({ evidence, submit = true }): Promise<SubmitEvidenceResult> => {
      await condition(() => (dispute !== undefined && !submitting) || finished);
      if (finished || !dispute)
        return { accepted: false, status: dispute?.status, reason: 'the dispute is closed' };
      submitting = true;
      try {
        if (!RESPONSE_NEEDED_STATUSES.has(dispute.status))
          return {
            accepted: false,
            status: dispute.status,
            reason: `dispute ${input.disputeId} is ${dispute.status}; Stripe takes evidence only while it needs a response`,
          };
        // Run-scoped: another run (a restart) may send other evidence under its own keys.
        const idempotencyKey = deriveIdempotencyKey({
          prefix: IDEMPOTENCY_KEY_PREFIX,
          workflowId,
          scope: runId,
          operation: AfterChargeKeyOperation.evidence,
          sequence: state.evidenceSequence,
        });
        const before = dispute.submissionCount;
        try {
          dispute = await acts.submitDisputeEvidence.executeWithOptions(
            {
              ...mutatingActivity,
              summary: `${submit ? 'submit' : 'save'} evidence (${Object.keys(evidence).join(', ')}) (key …/evidence/${state.evidenceSequence})`,
            },
            [{ disputeId: input.disputeId, evidence, submit, idempotencyKey }],
          );
          state.evidenceSequence++;
          evidenceChanged = true;
          return { accepted: true, status: dispute.status };
        } catch (error) {
          const failure = stripeFailure(error);
          if (!failure) throw error;
          state.evidenceSequence++; // that key has an answer or is reconciled: never sent again
          if (UNCERTAIN_OUTCOMES.has(failure.type)) {
            dispute = await read('reconcile an evidence submission with an unknown outcome');
            evidenceChanged = true;
            const took =
              dispute.submissionCount > before || !RESPONSE_NEEDED_STATUSES.has(dispute.status);
            return took
              ? { accepted: true, status: dispute.status }
              : {
                  accepted: false,
                  status: dispute.status,
                  reason: `Stripe's answer was lost (${failure.type}) and the dispute shows no new submission; send the evidence again`,
                };
          }
          return {
            accepted: false,
            status: dispute.status,
            reason: `Stripe refused the evidence: ${failure.info.message ?? failure.type}`,
          };
        }
      } finally {
        submitting = false;
      }
    },
    {
      validator: (arg) => {
        const valid = submitEvidenceSchema.safeParse(arg);
        if (!valid.success)
          throw new Error(`invalid submitEvidence input: ${describeIssues(valid.error)}`);
      },
    },
  );

  const read = (why: string) =>
    acts.retrieveDispute.executeWithOptions(
      { ...readingActivity, summary: `read ${input.disputeId}: ${why}` },
      [input.disputeId],
    );

  function record(d: DisputeSnapshot): void {
    upsertSearchAttributes([
      { key: BillingStatus, value: d.status },
      { key: BillingAmount, value: d.amount },
      ...(d.orderId ? [{ key: BillingOrderId, value: d.orderId }] : []),
      ...(d.paymentIntentId ? [{ key: BillingPaymentIntentId, value: d.paymentIntentId }] : []),
      ...(d.dueBy !== undefined ? [{ key: BillingDisputeDueBy, value: new Date(d.dueBy) }] : []),
    ]);
  }

  async function alert(
    kind: OperatorAlertKind,
    d: DisputeSnapshot,
    sequence: number,
    message: string,
  ) {
    const id = notificationId({ prefix: IDEMPOTENCY_KEY_PREFIX, workflowId }, kind, sequence);
    if (state.alerts.includes(id)) return;
    try {
      await acts.alertOperators.executeWithOptions(
        { ...sideEffectActivity, summary: `alert operators: ${kind}` },
        [
          {
            id,
            kind,
            disputeId: d.id,
            orderId: d.orderId,
            amount: d.amount,
            currency: d.currency,
            status: d.status,
            reason: d.reason,
            dueBy: d.dueBy === undefined ? undefined : new Date(d.dueBy).toISOString(),
            message,
          },
        ],
      );
      state.alerts.push(id);
    } catch (error) {
      log.error('operator alert failed after retries', { kind, error });
    }
  }

  const what = (d: DisputeSnapshot) =>
    `dispute ${d.id} (${d.reason}) over ${d.amount} ${d.currency}${d.orderId ? ` of order ${d.orderId}` : ''}`;

  /** Reminders whose time has come while Stripe waits for evidence: the latest one only. */
  async function remind(d: DisputeSnapshot): Promise<void> {
    nextReminderAt = undefined;
    if (!RESPONSE_NEEDED_STATUSES.has(d.status) || d.dueBy === undefined) return;
    const now = Date.now();
    if (now >= d.dueBy) return;
    const due = reminderDays.filter(
      (days) => !state.remindersSent.includes(days) && now >= d.dueBy! - days * DAY_MS,
    );
    const latest = due[due.length - 1];
    if (latest !== undefined) {
      await alert(
        OperatorAlertKind.evidenceDue,
        d,
        Math.round(latest * 24),
        `${what(d)}: evidence due ${new Date(d.dueBy).toISOString()} (in ${humanDuration(d.dueBy - now)}); durable-billing dispute submit-evidence ${d.id} --file <json>`,
      );
      state.remindersSent.push(...due);
    }
    const upcoming = reminderDays
      .filter((days) => !state.remindersSent.includes(days))
      .map((days) => d.dueBy! - days * DAY_MS)
      .filter((at) => at > now);
    nextReminderAt = upcoming.length > 0 ? Math.min(...upcoming) : undefined;
  }

  dispute = await read(carried ? 'resume after continue-as-new' : 'the dispute was opened');
  record(dispute);
  if (!carried && dispute.dueBy !== undefined) {
    // Reminders whose time had already come are said by the opening alert, which names the deadline.
    const openedAt = Date.now();
    const dueBy = dispute.dueBy;
    state.remindersSent.push(...reminderDays.filter((days) => openedAt >= dueBy - days * DAY_MS));
  }
  await alert(
    OperatorAlertKind.disputeOpened,
    dispute,
    0,
    `${what(dispute)} is ${dispute.status}${dispute.dueBy === undefined ? '' : `; evidence due ${new Date(dispute.dueBy).toISOString()}`}`,
  );
  for (;;) {
    if (CLOSED_DISPUTE_STATUSES.has(dispute.status)) {
      finished = true;
      await alert(
        OperatorAlertKind.disputeClosed,
        dispute,
        0,
        `${what(dispute)} closed: ${dispute.status}`,
      );
      await condition(allHandlersFinished);
      return {
        outcome: dispute.status as DisputeResult['outcome'],
        disputeId: dispute.id,
        orderId: dispute.orderId,
        amount: dispute.amount,
        currency: dispute.currency,
        alerts: state.alerts,
      };
    }
    await remind(dispute);
    const info = workflowInfo();
    if (info.continueAsNewSuggested || info.historyLength > DISPUTE_EVENTS_PER_RUN) {
      await condition(() => !submitting);
      await condition(allHandlersFinished);
      return continueAsNew<typeof handleDispute>(input, state);
    }
    const wakeAt = Math.min(nextReminderAt ?? Infinity, Date.now() + DISPUTE_REREAD_MS);
    const reminder = nextReminderAt !== undefined && wakeAt === nextReminderAt;
    dirty = false;
    evidenceChanged = false;
    const woke = await condition(() => dirty || evidenceChanged, Math.max(1, wakeAt - Date.now()), {
      summary: reminder
        ? `${dispute.status}: remind operators in ${humanDuration(wakeAt - Date.now())}`
        : `${dispute.status}: wait for a Stripe event, re-read at the latest in 1 day`,
    });
    if (woke && evidenceChanged && !dirty) {
      record(dispute); // the update read it already
      continue;
    }
    dispute = await read(
      woke ? 'a Stripe event arrived' : reminder ? 'a reminder is due' : 'daily re-read',
    );
    record(dispute);
  }
}
