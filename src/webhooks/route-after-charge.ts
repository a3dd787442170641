// Routing of refund and dispute events (issue 14), called from route.ts in one place: a refund
// event is signalled to the refund workflow its `metadata.workflow_id` names; a dispute event
// starts, or wakes, `dispute:<disputeId>` by signal-with-start. Both workflows re-read Stripe.
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdReusePolicy,
  type Client,
} from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { disputeWorkflowId, refundIdsFromWorkflowId } from '../shared/after-charge-ids.js';
import { RouteKind, type RoutedStripeEvent } from '../shared/stripe-events.js';
import { stripeEventSignal } from '../workflows/messages.js';

/** What the after-charge routing found (route.ts turns it into its RouteResult). */
export type AfterChargeDelivery =
  | { delivery: 'workflow'; workflowIds: string[]; matchedBy: 'metadata' | 'object_id' }
  | { delivery: 'closed'; workflowIds: string[] }
  /** Not deliverable: the reason (the event goes to the unmatched-events workflow). */
  | string;

export interface AfterChargeRoutingOptions {
  client: Client;
  /** Task queue of the billing worker, where a dispute workflow is started. */
  taskQueue: string;
}

/**
 * Whether a workflow with this id ran here and has ended (an id from another environment's
 * metadata never ran here). Shared with route.ts, whose metadata route asks the same.
 */
export async function hasEnded(client: Client, workflowId: string): Promise<boolean> {
  try {
    const description = await client.workflow.getHandle(workflowId).describe();
    return description.status.name !== 'RUNNING';
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return false;
    throw error;
  }
}

/**
 * Routes a refund or dispute event; resolves once Temporal accepted the signal. Rejects on a
 * Temporal error (the receiver answers 503 and Stripe redelivers).
 */
export async function routeAfterCharge(
  { client, taskQueue }: AfterChargeRoutingOptions,
  event: RoutedStripeEvent,
): Promise<AfterChargeDelivery> {
  const { route } = event;
  if (route.kind === RouteKind.refund) {
    // Only our refunds carry a refund workflow id; a thin payload lacks metadata, and the
    // refund workflow's poll reads the refund anyway.
    if (route.workflowId === undefined)
      return `refund ${route.refundId} names no refund workflow (metadata.workflow_id)`;
    try {
      await client.workflow.getHandle(route.workflowId).signal(stripeEventSignal, event.signal);
      return { delivery: 'workflow', workflowIds: [route.workflowId], matchedBy: 'metadata' };
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) throw error;
    }
    const ids = refundIdsFromWorkflowId(route.workflowId);
    if (
      route.failed &&
      route.reason !== undefined &&
      ids !== undefined &&
      (await hasEnded(client, route.workflowId))
    ) {
      // The refund failed after its workflow ended with `succeeded` (a card refund the bank
      // fails days later): a new run of the same id follows it, re-reads Stripe, and tells the
      // customer; its notification id is the first run's, so a repeat sends nothing twice.
      await client.workflow.signalWithStart('refundOrder', {
        workflowId: route.workflowId,
        taskQueue,
        args: [{ ...ids, reason: route.reason, followRefund: route.refundId }],
        signal: stripeEventSignal,
        signalArgs: [event.signal],
        staticSummary: `refund ${ids.refundId} of order ${ids.orderId}: Stripe says ${route.refundId} failed after the refund ended; re-read it and tell the customer`,
      });
      return { delivery: 'workflow', workflowIds: [route.workflowId], matchedBy: 'metadata' };
    }
    // Ended (its outcome is in its history) or never ran here: nothing to wake either way.
    return { delivery: 'closed', workflowIds: [route.workflowId] };
  }
  if (route.kind === RouteKind.dispute) {
    const workflowId = disputeWorkflowId(route.disputeId);
    try {
      // By type name: importing the workflow's type here would close an import circle through the
      // activities (src/routing/route.ts imports this module; the activities import the router).
      await client.workflow.signalWithStart('handleDispute', {
        workflowId,
        taskQueue,
        args: [{ disputeId: route.disputeId }],
        signal: stripeEventSignal,
        signalArgs: [event.signal],
        // A dispute is followed once: a late or redelivered event after it closed starts nothing.
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        staticSummary: `dispute ${route.disputeId}`,
      });
      return { delivery: 'workflow', workflowIds: [workflowId], matchedBy: 'object_id' };
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      return { delivery: 'closed', workflowIds: [workflowId] };
    }
  }
  return `no workflow handles ${event.signal.type}`;
}
