// What crosses a boundary into a dispute: the workflow input, the evidence update, the snapshot
// the dispute activities return, and the alerts to operators. Pure (no zod: see validate.ts).
import { DISPUTE_ID_PATTERN } from './after-charge-ids.js';
import { v, type Infer, type Input } from './validate.js';

/** Stripe's dispute statuses (https://docs.stripe.com/api/disputes/object#dispute_object-status). */
export const DisputeStatus = {
  warningNeedsResponse: 'warning_needs_response',
  warningUnderReview: 'warning_under_review',
  warningClosed: 'warning_closed',
  needsResponse: 'needs_response',
  underReview: 'under_review',
  won: 'won',
  lost: 'lost',
} as const;
export type DisputeStatus = (typeof DisputeStatus)[keyof typeof DisputeStatus];

/** The statuses a dispute ends in; the workflow's outcome is one of them. */
export const CLOSED_DISPUTE_STATUSES: ReadonlySet<string> = new Set([
  DisputeStatus.won,
  DisputeStatus.lost,
  DisputeStatus.warningClosed,
]);
/** The statuses in which Stripe waits for our evidence (reminders run only then). */
export const RESPONSE_NEEDED_STATUSES: ReadonlySet<string> = new Set([
  DisputeStatus.needsResponse,
  DisputeStatus.warningNeedsResponse,
]);

/** Days before `evidence_details.due_by` at which operators are reminded, by default. */
export const DEFAULT_REMINDER_DAYS = [3, 1] as const;

export const disputeInputSchema = v.strictObject({
  disputeId: v.string().regex(DISPUTE_ID_PATTERN, 'must be a Stripe dispute id (dp_…)'),
  /** Days before the evidence deadline at which to remind operators (each once). */
  remindBeforeDays: v
    .array(v.number().positive('must be positive').max(60, 'must be at most 60 days'))
    .default([...DEFAULT_REMINDER_DAYS]),
});
export type DisputeInput = Input<typeof disputeInputSchema>;
export type ParsedDisputeInput = Infer<typeof disputeInputSchema>;

/**
 * The evidence fields (https://docs.stripe.com/api/disputes/update#update_dispute-evidence): text
 * fields and file ids (`file_…`), all strings. Unknown names are refused by Stripe, not here.
 */
export const submitEvidenceSchema = v.strictObject({
  evidence: v
    .record(
      v
        .string()
        .regex(/^[a-z_]{1,60}$/, 'evidence field names are snake_case, e.g. product_description'),
      v.string().max(20_000, 'must be at most 20000 characters'),
    )
    .refine((e) => Object.keys(e).length > 0, 'must name at least one evidence field'),
  /** Submit to the bank now (default); false only saves the evidence on the dispute. */
  submit: v.boolean().optional(),
});
export type SubmitEvidenceInput = Infer<typeof submitEvidenceSchema>;

/** A Stripe dispute as the workflow acts on it. */
export interface DisputeSnapshot {
  id: string;
  status: DisputeStatus;
  amount: number;
  currency: string;
  reason: string;
  chargeId: string | undefined;
  paymentIntentId: string | undefined;
  /** `metadata.order_id` of the intent, when chargeCustomer made it. */
  orderId: string | undefined;
  customerId: string | undefined;
  /** `evidence_details.due_by`, ms since the epoch. */
  dueBy: number | undefined;
  /** `evidence_details.submission_count`. */
  submissionCount: number;
}

/** When operators hear about a dispute. */
export const OperatorAlertKind = {
  disputeOpened: 'dispute_opened',
  evidenceDue: 'dispute_evidence_due',
  disputeClosed: 'dispute_closed',
} as const;
export type OperatorAlertKind = (typeof OperatorAlertKind)[keyof typeof OperatorAlertKind];

/** One alert to operators; sent at most once per `id` (derived by the workflow). */
export interface OperatorAlert {
  id: string;
  kind: OperatorAlertKind;
  disputeId: string;
  orderId?: string | undefined;
  amount: number;
  currency: string;
  status: string;
  reason: string;
  /** ISO time of the evidence deadline. */
  dueBy?: string | undefined;
  /** One line for a person. */
  message: string;
}

export interface SubmitEvidenceResult {
  accepted: boolean;
  /** The dispute's status as Stripe has it after the call. */
  status?: string | undefined;
  reason?: string | undefined;
}

/** How a dispute ended (Stripe's final status). */
export interface DisputeResult {
  outcome: 'won' | 'lost' | 'warning_closed';
  disputeId: string;
  orderId: string | undefined;
  amount: number;
  currency: string;
  /** Alerts sent to operators (ids). */
  alerts: string[];
}
