// Refunds and disputes seen from app code (issue 14): start a refund request, follow it, find
// and act on disputes. `BillingClient.refund` and the dispute methods delegate here.
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  WorkflowNotFoundError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import {
  disputeIdFromWorkflowId,
  disputeWorkflowId,
  refundWorkflowId,
} from '../shared/after-charge-ids.js';
import {
  submitEvidenceSchema,
  type SubmitEvidenceInput,
  type SubmitEvidenceResult,
  type DisputeResult,
} from '../shared/disputes.js';
import { chargeWorkflowId } from '../shared/ids.js';
import { refundInputSchema, type RefundInput, type RefundResult } from '../shared/refunds.js';
import {
  BillingAmount,
  BillingDisputeDueBy,
  BillingOrderId,
  BillingPaymentIntentId,
  BillingStatus,
} from '../shared/search-attributes.js';
import type { handleDispute } from '../workflows/dispute.js';
import {
  disputeStatusQuery,
  submitEvidenceUpdate,
  type DisputeStatusView,
} from '../workflows/dispute-messages.js';
import {
  RefundState,
  refundStatusQuery,
  type RefundStatusView,
} from '../workflows/refund-messages.js';
import type { refundOrder } from '../workflows/refund.js';
import { parseInput } from './index.js';

/** What `refund` takes besides the order id. */
export type RefundRequest = Omit<RefundInput, 'orderId' | 'paymentIntentHint' | 'followRefund'>;

/** One refund request of an order: its workflow, seen from app code. */
export class RefundHandle {
  constructor(
    readonly orderId: string,
    readonly refundId: string,
    readonly workflow: WorkflowHandle<typeof refundOrder>,
  ) {}

  get workflowId(): string {
    return this.workflow.workflowId;
  }

  /** Where the refund is (works while it runs and after it ended). */
  status(): Promise<RefundStatusView> {
    return this.workflow.query(refundStatusQuery);
  }

  /**
   * Waits for the outcome: `succeeded`, `failed` (Stripe failed it later; the customer was
   * told), `canceled`, or `refused` (with the reason and the amount that remains).
   */
  result(): Promise<RefundResult> {
    return this.workflow.result();
  }
}

/**
 * Starts the refund request `request.refundId` of `orderId`, or returns the one already made
 * under that refund id (running or ended, whatever it was asked): a refund id is carried out at
 * most once, and repeating it returns the first request's result. Validates first
 * (`InvalidInputError` naming each bad field; nothing starts).
 */
export async function startRefund(
  client: Client,
  taskQueue: string,
  orderId: string,
  request: RefundRequest,
): Promise<RefundHandle> {
  const input = parseInput(refundInputSchema, { ...request, orderId }, 'refund input');
  const workflowId = refundWorkflowId(input.orderId, input.refundId);
  const handle = new RefundHandle(
    input.orderId,
    input.refundId,
    client.workflow.getHandle<typeof refundOrder>(workflowId),
  );
  const paymentIntentHint = await chargeIntentOf(client, input.orderId);
  try {
    await client.workflow.start<typeof refundOrder>('refundOrder', {
      taskQueue,
      workflowId,
      args: [{ ...input, ...(paymentIntentHint && { paymentIntentHint }) }],
      // A courtesy: the workflow's own look-first makes any other start harmless too.
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      typedSearchAttributes: [
        { key: BillingOrderId, value: input.orderId },
        { key: BillingStatus, value: RefundState.waitingForLock },
      ],
      staticSummary: `refund ${input.amount ?? 'the rest'} of order ${input.orderId} (${input.reason}), refund id ${input.refundId}`,
    });
  } catch (error) {
    // Ended already: that run is the answer.
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
  }
  return handle;
}

/** The intent the order's charge workflow names (a hint for the refund), if it has run here. */
async function chargeIntentOf(client: Client, orderId: string): Promise<string | undefined> {
  try {
    const described = await client.workflow.getHandle(chargeWorkflowId(orderId)).describe();
    return described.typedSearchAttributes.get(BillingPaymentIntentId);
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return undefined;
    throw error;
  }
}

/** One dispute: its workflow, seen from app code and the CLI. */
export class DisputeHandle {
  constructor(
    readonly disputeId: string,
    readonly workflow: WorkflowHandle<typeof handleDispute>,
  ) {}

  status(): Promise<DisputeStatusView> {
    return this.workflow.query(disputeStatusQuery);
  }

  /** Sends evidence to Stripe (submitted to the bank unless `submit: false`); says why not. */
  submitEvidence(input: SubmitEvidenceInput): Promise<SubmitEvidenceResult> {
    const args: [SubmitEvidenceInput] = [parseInput(submitEvidenceSchema, input, 'evidence')];
    return this.workflow.executeUpdate(submitEvidenceUpdate, { args });
  }

  /** Waits for Stripe's final status: won, lost or warning_closed. */
  result(): Promise<DisputeResult> {
    return this.workflow.result();
  }
}

/** The refund request `refundId` of `orderId` (its latest run). */
export function getRefund(client: Client, orderId: string, refundId: string): RefundHandle {
  return new RefundHandle(
    orderId,
    refundId,
    client.workflow.getHandle<typeof refundOrder>(refundWorkflowId(orderId, refundId)),
  );
}

/** The dispute `disputeId` (its latest run). */
export function getDispute(client: Client, disputeId: string): DisputeHandle {
  return new DisputeHandle(
    disputeId,
    client.workflow.getHandle<typeof handleDispute>(disputeWorkflowId(disputeId)),
  );
}

/**
 * The visibility query of open disputes whose evidence is due before `now + days` and that
 * still wait for it — the same filter operators paste into the Temporal UI.
 */
export function disputesDueQuery(now: Date, days: number): string {
  const until = new Date(now.getTime() + days * 24 * 3600 * 1000).toISOString();
  return [
    "WorkflowType = 'handleDispute'",
    "ExecutionStatus = 'Running'",
    `${BillingStatus.name} IN ('needs_response', 'warning_needs_response')`,
    `${BillingDisputeDueBy.name} <= '${until}'`,
  ].join(' AND ');
}

/** One listed dispute, from the visibility record alone (no worker needed). */
export interface ListedDispute {
  disputeId: string;
  workflowId: string;
  status: string | undefined;
  orderId: string | undefined;
  amount: number | undefined;
  dueBy: string | undefined;
}

/** Open disputes due within `days`, soonest first. */
export async function listDisputesDue(
  client: Client,
  days: number,
  { now = new Date(), limit = 100 }: { now?: Date; limit?: number } = {},
): Promise<{ query: string; disputes: ListedDispute[] }> {
  const query = disputesDueQuery(now, days);
  const disputes: ListedDispute[] = [];
  for await (const info of client.workflow.list({ query, pageSize: Math.min(limit, 100) })) {
    const a = info.typedSearchAttributes;
    disputes.push({
      disputeId: disputeIdFromWorkflowId(info.workflowId) ?? info.workflowId,
      workflowId: info.workflowId,
      status: a.get(BillingStatus),
      orderId: a.get(BillingOrderId),
      amount: a.get(BillingAmount),
      dueBy: a.get(BillingDisputeDueBy)?.toISOString(),
    });
    if (disputes.length >= limit) break;
  }
  disputes.sort((x, y) => (x.dueBy ?? '').localeCompare(y.dueBy ?? ''));
  return { query, disputes };
}
