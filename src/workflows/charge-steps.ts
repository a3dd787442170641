// The state machine of a charge as one pure decision: given what Stripe says of the intent and
// what is pending in the workflow, the next step. chargeCustomer only carries steps out, so the
// whole machine reads (and is tested) as one table.
import { IntentStatus } from '../shared/payment-intent.js';

/** What the workflow does next. */
export const ChargeStep = {
  /** Return `succeeded` (notifying a recovered campaign). */
  succeed: 'succeed',
  /** Return `canceled`, or `failed` if the campaign gave up. */
  end: 'end',
  /** Money is on its way (bank debits take days): wait for the webhook or the daily re-read. */
  awaitProcessing: 'await_processing',
  /** A state chargeCustomer never creates (manual capture): fail loudly. */
  failUnexpectedState: 'fail_unexpected_state',
  /** Cancel the intent unless money moved. */
  cancel: 'cancel',
  /** Count and tell the decline before anything else (released runs). */
  handleDecline: 'handle_decline',
  /** Confirm: the first attempt, or one asked for (retryNow, a new method, the schedule). */
  attempt: 'attempt',
  /** The customer must authenticate: wait for them, a new method, or cancel. */
  awaitAuthentication: 'await_authentication',
  /** Declined and handled: wait for the next attempt (dunning). */
  dunning: 'dunning',
} as const;
export type ChargeStep = (typeof ChargeStep)[keyof typeof ChargeStep];

/** What the decision depends on. */
export interface StepInput {
  /** The intent's status, as last read from Stripe. */
  status: string;
  /** The intent carries a payment error from an attempt of this charge. */
  declined: boolean;
  /** That decline has been counted by the campaign. */
  declineHandled: boolean;
  cancelRequested: boolean;
  retryRequested: boolean;
  /** The run has the exactly-once patch (decline handled before a requested retry). */
  released: boolean;
}

/** The next step. Order matters: the intent's final states first, then a cancel, then the rest. */
export function nextStep(s: StepInput): ChargeStep {
  switch (s.status) {
    case IntentStatus.succeeded:
      return ChargeStep.succeed;
    case IntentStatus.canceled:
      return ChargeStep.end;
    case IntentStatus.processing:
      return ChargeStep.awaitProcessing;
    case IntentStatus.requiresCapture:
      return ChargeStep.failUnexpectedState;
  }
  const requiresAction = s.status === IntentStatus.requiresAction;
  if (s.cancelRequested) return ChargeStep.cancel;
  if (s.released && s.declined && !requiresAction && !s.declineHandled)
    return ChargeStep.handleDecline;
  if (s.retryRequested || (!s.declined && !requiresAction)) return ChargeStep.attempt;
  if (requiresAction) return ChargeStep.awaitAuthentication;
  return ChargeStep.dunning;
}
