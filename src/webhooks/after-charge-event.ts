// The route of a verified refund or dispute event (issue 14), read from its type and
// `data.object`: refunds by the `metadata.workflow_id` our refund workflow set, disputes by
// their own id. The payload is only a hint: both workflows re-read Stripe before acting.
import { DISPUTE_ID_PATTERN, refundIdsFromWorkflowId } from '../shared/after-charge-ids.js';
import { RefundReason } from '../shared/refunds.js';
import { RouteKind, type EventRoute } from '../shared/stripe-events.js';

const REFUND_ID = /^(re|pyr)_[A-Za-z0-9_]+$/;

const REFUND_REASONS: ReadonlySet<unknown> = new Set(Object.values(RefundReason));
function isRefundReason(reason: unknown): reason is RefundReason {
  return REFUND_REASONS.has(reason);
}

/** The event fields this module reads (a subset of the receiver's event schema). */
export interface AfterChargeEventFields {
  type: string;
  data: {
    object: {
      id?: string | undefined;
      metadata?: Record<string, unknown> | undefined;
      status?: unknown;
      reason?: unknown;
    };
  };
}

/**
 * The route of a `refund.*` or `charge.dispute.*` event, or `undefined` for any other type
 * (routed as before). An event without a usable id is `other` (kept as unmatched).
 */
export function afterChargeRoute(event: AfterChargeEventFields): EventRoute | undefined {
  const object = event.data.object;
  if (event.type.startsWith('refund.')) {
    if (object.id === undefined || !REFUND_ID.test(object.id)) return { kind: RouteKind.other };
    const workflowId = object.metadata?.['workflow_id'];
    // A failure can come after the refund showed succeeded and its workflow ended (a closed
    // card): the router then starts a run that follows the refund and tells the customer.
    const failed = event.type === 'refund.failed' || object.status === 'failed';
    return {
      kind: RouteKind.refund,
      refundId: object.id,
      ...(typeof workflowId === 'string' &&
        refundIdsFromWorkflowId(workflowId) !== undefined && { workflowId }),
      ...(failed && { failed }),
      ...(isRefundReason(object.reason) && { reason: object.reason }),
    };
  }
  if (event.type.startsWith('charge.dispute.')) {
    // charge.dispute.funds_withdrawn/reinstated carry the dispute too: wake-ups like the others.
    if (object.id === undefined || !DISPUTE_ID_PATTERN.test(object.id))
      return { kind: RouteKind.other };
    return { kind: RouteKind.dispute, disputeId: object.id };
  }
  return undefined;
}
