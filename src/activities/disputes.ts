// Dispute activities (issue 14): read a dispute (with the order it belongs to), send evidence
// with the key the workflow derived, and alert operators. Stripe errors go through the one
// outcome table.
import type Stripe from 'stripe';
import type { OperatorAlerter } from '../notifications/operator-alerts.js';
import type { DisputeSnapshot, DisputeStatus, OperatorAlert } from '../shared/disputes.js';
import { chargeWorkflowId } from '../shared/ids.js';
import { stripeCall } from './payment-intents.js';

export interface SubmitDisputeEvidenceInput {
  idempotencyKey: string;
  disputeId: string;
  evidence: Record<string, string>;
  submit: boolean;
}

const id = (ref: string | { id: string } | null | undefined) =>
  typeof ref === 'string' ? ref : ref?.id;

/** Dispute activities over an injected Stripe client and operator alerter. */
export function createDisputeActivities(stripe: Stripe, alerts: OperatorAlerter) {
  /** The dispute as the workflow acts on it; the order from its intent, if chargeCustomer made it. */
  async function snapshot(dispute: Stripe.Dispute): Promise<DisputeSnapshot> {
    const paymentIntentId = id(dispute.payment_intent);
    let orderId: string | undefined;
    let customerId: string | undefined;
    if (paymentIntentId) {
      const intent = await stripe.paymentIntents.retrieve(paymentIntentId);
      const order = intent.metadata?.['order_id'];
      if (order && intent.metadata?.['workflow_id'] === chargeWorkflowId(order)) orderId = order;
      customerId = id(intent.customer);
    }
    const due = dispute.evidence_details?.due_by;
    return {
      id: dispute.id,
      status: dispute.status as DisputeStatus,
      amount: dispute.amount,
      currency: dispute.currency,
      reason: dispute.reason,
      chargeId: id(dispute.charge),
      paymentIntentId,
      orderId,
      customerId,
      dueBy: typeof due === 'number' ? due * 1000 : undefined,
      submissionCount: dispute.evidence_details?.submission_count ?? 0,
    };
  }

  return {
    /** Reads the dispute (and its intent's order): the truth every wake-up acts on. */
    async retrieveDispute(disputeId: string): Promise<DisputeSnapshot> {
      return stripeCall(async () => snapshot(await stripe.disputes.retrieve(disputeId)), {
        readOnly: true,
      });
    },

    /** Sends evidence (and submits it, unless `submit` is false) under the workflow's key. */
    async submitDisputeEvidence(input: SubmitDisputeEvidenceInput): Promise<DisputeSnapshot> {
      const updated = await stripeCall(() =>
        stripe.disputes.update(
          input.disputeId,
          { evidence: input.evidence, submit: input.submit },
          { idempotencyKey: input.idempotencyKey },
        ),
      );
      return stripeCall(() => snapshot(updated), { readOnly: true });
    },

    /** Alerts operators once per alert id (the alerter dedupes). */
    async alertOperators(alert: OperatorAlert): Promise<{ id: string; duplicate: boolean }> {
      return alerts.send(alert);
    },
  };
}
