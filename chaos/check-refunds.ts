// The refund invariants of a chaos run (issue 14), judged from Stripe's side (the simulator's
// ledger) and the answers the driver got: no order refunded more than it captured; each refund
// id carried out at most once; no refund request told an outcome that Stripe does not show.
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { refundIdsFromWorkflowId } from '../src/shared/after-charge-ids.js';
import type { Ledger } from '../src/simulator/index.js';
import type { InvariantRow } from './check.js';
import type { RefundRequestRecord } from './refunds.js';

const EXAMPLES = 5;

function row(name: string): InvariantRow & { add(example: string): void } {
  const r = {
    name,
    count: 0,
    examples: [] as string[],
    add(example: string) {
      r.count++;
      if (r.examples.length < EXAMPLES) r.examples.push(example);
    },
  };
  return r;
}

export interface RefundCheck {
  invariants: InvariantRow[];
  observations: Record<string, number>;
}

/** The refund rows (each must be 0) and what the refund requests did. */
export function checkRefunds(
  ledger: Ledger,
  requests: readonly RefundRequestRecord[],
): RefundCheck {
  const overRefunded = row('orders refunded more than captured (Stripe ledger, pending included)');
  const doubled = row('refund ids carried out more than once (Stripe ledger, metadata.refund_id)');
  const misreported = row('refund results that disagree with Stripe');
  const noAnswer = row('refund requests with no answer');

  for (const [orderId, order] of Object.entries(ledger.orders)) {
    const refunds = order.refunds;
    if (!refunds) continue;
    if (refunds.amountRefunded > order.amountCaptured)
      overRefunded.add(
        `${orderId}: ${refunds.amountRefunded} refunded of ${order.amountCaptured} captured`,
      );
    for (const [refundId, count] of Object.entries(refunds.byRefundId))
      if (count > 1) doubled.add(`${orderId} ${refundId}: ${count} refunds at Stripe`);
  }

  const outcomes: Record<string, number> = {};
  for (const request of requests) {
    if (request.skipped) {
      outcomes.skipped = (outcomes.skipped ?? 0) + 1;
      continue;
    }
    const result = request.result;
    if (!result) {
      noAnswer.add(`${request.orderId} ${request.refundId}: ${request.error ?? 'no result'}`);
      continue;
    }
    outcomes[result.outcome] = (outcomes[result.outcome] ?? 0) + 1;
    const atStripe = ledger.orders[request.orderId]?.refunds?.byRefundId[request.refundId] ?? 0;
    // Succeeded: Stripe holds exactly that refund. Refused: Stripe holds none under the id.
    if (result.outcome === 'succeeded' && atStripe !== 1)
      misreported.add(`${request.orderId} ${request.refundId}: succeeded, Stripe has ${atStripe}`);
    if (result.outcome === 'refused' && atStripe !== 0)
      misreported.add(`${request.orderId} ${request.refundId}: refused, Stripe has ${atStripe}`);
  }

  return {
    invariants: [overRefunded, doubled, misreported, noAnswer].map(({ name, count, examples }) => ({
      name,
      count,
      examples,
    })),
    observations: Object.fromEntries(
      Object.entries(outcomes).map(([outcome, n]) => [`refund requests: ${outcome}`, n]),
    ),
  };
}

/** A refund workflow id's runs as Temporal has them: when each ran, and the events it was signalled. */
interface RefundRun {
  startedAt: number;
  closedAt: number | undefined;
  signalIds: Set<string>;
}

/**
 * The receiver's answers that name refund workflows (route-after-charge.ts), judged against
 * Temporal as the checker judges those naming charges: `workflow` holds when a run of the id has
 * the event in its history; `closed` when a run had started and none was open for
 * `windowMs` before the answer.
 */
export interface RefundAcks {
  /** undefined when no id of `workflowIds` is a refund workflow (not this module's to judge). */
  holds(
    claim: string | undefined,
    workflowIds: readonly string[],
    eventId: string,
    answeredAt: number,
  ): boolean | undefined;
}

/** Reads every refundOrder run and the stripeEvent signals in its history. */
export async function loadRefundAcks(client: Client, windowMs: number): Promise<RefundAcks> {
  const runs = new Map<string, RefundRun[]>();
  for await (const info of client.workflow.list({
    query: "WorkflowType = 'refundOrder'",
    pageSize: 1000,
  })) {
    const history = await client.workflow.getHandle(info.workflowId, info.runId).fetchHistory();
    const signalIds = new Set<string>();
    for (const event of history.events ?? []) {
      const signalled = event.workflowExecutionSignaledEventAttributes;
      if (signalled?.signalName !== 'stripeEvent') continue;
      const payload = signalled.input?.payloads?.[0];
      const id = payload && defaultPayloadConverter.fromPayload<{ id?: unknown }>(payload).id;
      if (typeof id === 'string') signalIds.add(id);
    }
    const list = runs.get(info.workflowId) ?? [];
    list.push({
      startedAt: info.startTime.getTime(),
      closedAt: info.closeTime?.getTime(),
      signalIds,
    });
    runs.set(info.workflowId, list);
  }
  const openAt = (list: readonly RefundRun[], from: number, to: number) =>
    list.some((r) => r.startedAt <= from && (r.closedAt ?? Infinity) >= to);
  return {
    holds(claim, workflowIds, eventId, answeredAt) {
      if (!workflowIds.some((id) => refundIdsFromWorkflowId(id) !== undefined)) return undefined;
      return workflowIds.every((id) => {
        const list = runs.get(id) ?? [];
        if (claim === 'workflow') return list.some((r) => r.signalIds.has(eventId));
        if (claim === 'closed')
          return (
            list.some((r) => r.startedAt <= answeredAt) &&
            !openAt(list, answeredAt - windowMs, answeredAt)
          );
        return false;
      });
    },
  };
}
