// Refunds in the chaos mix (issue 14): once an order's charge succeeded, its planned refund
// requests go through the client at their times (repeated ids, concurrent requests over the
// capture), under the same faults and kills; each answer is recorded for the checker.
import { setMaxListeners } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import type { ConnectionLike } from '@temporalio/client';
import type { ChargeHandle } from '../src/client/index.js';
import type { RefundResult } from '../src/shared/refunds.js';
import type { PlannedOrder } from './plan.js';
import type { ChaosStack } from './stack.js';

/** How long the driver tries to get a charge's outcome before its refunds (Temporal may restart). */
const OUTCOME_DEADLINE_MS = 240_000;
/**
 * How long a refund's answer is awaited. Answers are awaited after the drain and Stripe's final
 * flush, as the charges' outcomes are: a refund whose webhook Stripe is still retrying (refused
 * while the frontend or PostgreSQL was down, on the ×30 clock's backoff) waits for that retry,
 * the backfill or the flush, not for a deadline counted from its request.
 */
const ANSWER_DEADLINE_MS = 900_000;

/** One refund request and what it answered. */
export interface RefundRequestRecord {
  orderId: string;
  refundId: string;
  amount: number | undefined;
  at: number;
  /** The workflow's result, when it came within the deadline. */
  result?: RefundResult;
  /** Why there is no result (the charge did not succeed, Temporal down past the deadline). */
  skipped?: string;
  error?: string;
}

const message = (error: unknown) =>
  error instanceof Error ? `${error.name}: ${error.message}` : String(error);

/**
 * Retries `call` through Temporal restarts until it answers or the deadline passes. Each call is
 * bounded by the deadline too, and cancelled there (its gRPC call aborted through the
 * connection): a workflow's `result()` is a long poll that waits as long as the workflow does (a
 * refund stuck until its 12-hour re-read would hold the whole run, or, abandoned, retry into a
 * closed connection).
 */
async function persist<T>(
  connection: ConnectionLike,
  call: () => Promise<T>,
  deadline: number,
): Promise<T> {
  const started = Date.now();
  for (;;) {
    const abort = new AbortController();
    // The connection adds a listener per gRPC call it makes under the signal, and a long-polled
    // `result()` makes one per poll: many listeners on one short-lived signal are expected.
    setMaxListeners(Infinity, abort.signal);
    const timer = setTimeout(() => abort.abort(), Math.max(0, deadline - Date.now()));
    try {
      return await connection.withAbortSignal(abort.signal, call);
    } catch (error) {
      if (abort.signal.aborted)
        throw new Error(`no answer within ${Math.round((deadline - started) / 1000)} s`, {
          cause: error,
        });
      if (Date.now() >= deadline) throw error;
      await delay(500);
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * Makes the order's planned refunds (if its charge succeeded). Each record gets its answer later:
 * the promise that writes it goes into `answers`, which the run awaits after the drain.
 */
export async function driveRefunds(
  stack: ChaosStack,
  order: PlannedOrder,
  charge: ChargeHandle,
  answers: Promise<void>[],
): Promise<RefundRequestRecord[]> {
  const planned = order.refunds ?? [];
  const deadline = Date.now() + OUTCOME_DEADLINE_MS;
  let outcome: string;
  try {
    outcome = (await persist(stack.client.connection, () => charge.result(), deadline)).outcome;
  } catch (error) {
    outcome = `no outcome: ${message(error)}`;
  }
  const base = Date.now();
  if (outcome !== 'succeeded')
    return planned.map((p) => ({
      orderId: order.orderId,
      refundId: p.refundId,
      amount: p.amount,
      at: base,
      skipped: `the charge ended ${outcome}`,
    }));
  return Promise.all(
    planned.map(async (p): Promise<RefundRequestRecord> => {
      await delay(p.afterMs);
      const record: RefundRequestRecord = {
        orderId: order.orderId,
        refundId: p.refundId,
        amount: p.amount,
        at: Date.now(),
      };
      try {
        const handle = await persist(
          stack.client.connection,
          () =>
            stack.billing.refund(order.orderId, {
              refundId: p.refundId,
              reason: 'requested_by_customer',
              ...(p.amount !== undefined && { amount: p.amount }),
            }),
          Date.now() + OUTCOME_DEADLINE_MS,
        );
        answers.push(
          persist(
            stack.client.connection,
            () => handle.result(),
            Date.now() + ANSWER_DEADLINE_MS,
          ).then(
            (result) => void (record.result = result),
            (error: unknown) => void (record.error = message(error)),
          ),
        );
      } catch (error) {
        record.error = message(error);
      }
      return record;
    }),
  );
}
