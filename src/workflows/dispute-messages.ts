// Message contracts of the dispute workflow (issue 14): its status query and the
// submitEvidence update, defined once and imported by the workflow, the client and the CLI.
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type {
  DisputeSnapshot,
  SubmitEvidenceInput,
  SubmitEvidenceResult,
} from '../shared/disputes.js';

export interface DisputeStatusView {
  dispute: DisputeSnapshot | undefined;
  /** Reminders sent, as days before the deadline. */
  remindersSent: number[];
  /** ISO time of the next reminder, if one is due. */
  nextReminderAt?: string | undefined;
  alerts: string[];
}

export const disputeStatusQuery = defineQuery<DisputeStatusView>('disputeStatus');
/** Sends evidence to Stripe (and, by default, submits it to the bank), with a derived key. */
export const submitEvidenceUpdate = defineUpdate<SubmitEvidenceResult, [SubmitEvidenceInput]>(
  'submitEvidence',
);

/** Failure types with which a dispute run fails. */
export const DisputeFailureType = {
  wrongWorkflowId: 'WrongWorkflowId',
  invalidInput: 'InvalidDisputeInput',
} as const;
