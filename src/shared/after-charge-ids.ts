// Workflow ids of what happens after a charge (paired helpers, as for `charge:<orderId>`):
// one refund request = `refund:<orderId>:<refundId>`, the order's refund lock =
// `refund-lock:<orderId>`, one dispute = `dispute:<disputeId>`.

const REFUND_PREFIX = 'refund:';
const REFUND_LOCK_PREFIX = 'refund-lock:';
const DISPUTE_PREFIX = 'dispute:';

/** A caller's refund id: no `:`, so `refund:<orderId>:<refundId>` parses back unambiguously. */
export const REFUND_ID_PATTERN = /^[A-Za-z0-9._-]{1,100}$/;
/** Stripe dispute ids (`dp_…`; `du_…` for some payment methods). */
export const DISPUTE_ID_PATTERN = /^(dp|du)_[A-Za-z0-9_]+$/;

/** The workflow id of refund request `refundId` of order `orderId`. */
export function refundWorkflowId(orderId: string, refundId: string): string {
  return `${REFUND_PREFIX}${orderId}:${refundId}`;
}

/** The order and refund ids inside a refund workflow id, or `undefined` if it is not one. */
export function refundIdsFromWorkflowId(
  workflowId: string,
): { orderId: string; refundId: string } | undefined {
  if (!workflowId.startsWith(REFUND_PREFIX)) return undefined;
  const rest = workflowId.slice(REFUND_PREFIX.length);
  const at = rest.lastIndexOf(':');
  if (at <= 0) return undefined;
  const refundId = rest.slice(at + 1);
  if (!REFUND_ID_PATTERN.test(refundId)) return undefined;
  return { orderId: rest.slice(0, at), refundId };
}

/** The workflow id of the lock that serialises the refunds of `orderId`. */
export function refundLockWorkflowId(orderId: string): string {
  return `${REFUND_LOCK_PREFIX}${orderId}`;
}

/** The order id inside a refund-lock workflow id, or `undefined`. */
export function orderIdFromRefundLockWorkflowId(workflowId: string): string | undefined {
  return workflowId.startsWith(REFUND_LOCK_PREFIX) && workflowId.length > REFUND_LOCK_PREFIX.length
    ? workflowId.slice(REFUND_LOCK_PREFIX.length)
    : undefined;
}

/** The workflow id that follows dispute `disputeId`. */
export function disputeWorkflowId(disputeId: string): string {
  return `${DISPUTE_PREFIX}${disputeId}`;
}

/** The dispute id inside a dispute workflow id, or `undefined`. */
export function disputeIdFromWorkflowId(workflowId: string): string | undefined {
  if (!workflowId.startsWith(DISPUTE_PREFIX)) return undefined;
  const id = workflowId.slice(DISPUTE_PREFIX.length);
  return DISPUTE_ID_PATTERN.test(id) ? id : undefined;
}
