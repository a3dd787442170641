// The order's refund lock on the time-skipping server with the real activities and the
// simulator: a holder whose run ends mid-turn (terminated) does not hold the order's refunds for
// ever: the lock's holder check finds it gone, and the next refund goes ahead.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refundLockWorkflowId } from '../../src/shared/after-charge-ids.js';
import { RefundState } from '../../src/workflows/refund-messages.js';
import { refundLockStatusQuery } from '../../src/workflows/refund-lock.js';
import { startAfterChargeStack, type AfterChargeStack } from '../helpers/after-charge-stack.js';
import { createTimeSkippingEnv } from '../helpers/temporal.js';

let env: TestWorkflowEnvironment;
let stack: AfterChargeStack;
beforeAll(async () => {
  env = await createTimeSkippingEnv();
  stack = await startAfterChargeStack('refund-lock', { temporal: { kind: 'time-skipping', env } });
});
afterAll(async () => {
  await stack?.close();
  await env?.teardown();
});

async function until<T>(probe: () => Promise<T | undefined>, what: string): Promise<T> {
  for (let i = 0; i < 400; i++) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('refundLock', () => {
  it('passes the turn of a holder that was terminated mid-turn to the next refund', async () => {
    // A refund asked before the order's payment exists holds the lock while it looks again for
    // the intent (a durable timer, under the lock): the run is terminated right there.
    const input = stack.order({ amount: 2000 });
    const stuck = await stack.billing.refund(input.orderId, {
      refundId: 'stuck',
      amount: 500,
      reason: 'duplicate',
    });
    const lock = stack.client.workflow.getHandle(refundLockWorkflowId(input.orderId));
    await until(async () => {
      const [view, status, history] = await Promise.all([
        lock.query(refundLockStatusQuery),
        stuck.status(),
        stuck.workflow.fetchHistory(),
      ]);
      // In its timer, not in an activity (the time-skipping server counts a terminated run's
      // running activity as in progress, and would stop skipping).
      // Workflow tasks (scheduled, started, completed: 5, 6, 7) aside, the last event is a
      // TimerStarted (17).
      const last = (history.events ?? [])
        .filter((e) => ![5, 6, 7].includes(Number(e.eventType)))
        .at(-1)?.eventType;
      return view.holder?.workflowId === stuck.workflowId &&
        status.state === RefundState.checking &&
        Number(last) === 17
        ? true
        : undefined;
    }, 'the first refund to hold the lock');
    await stuck.workflow.terminate('test: the holder dies mid-turn');

    // The order is paid; the next refund queues behind the dead holder's turn.
    expect((await (await stack.billing.startCharge(input)).result()).outcome).toBe('succeeded');
    const next = await stack.billing.refund(input.orderId, {
      refundId: 'next',
      amount: 700,
      reason: 'duplicate',
    });
    // Waiting for the result lets the server skip to the lock's holder check (5 minutes).
    const result = await next.result();
    expect(result).toMatchObject({ outcome: 'succeeded', amount: 700, remaining: 1300 });
    const view = await lock.query(refundLockStatusQuery);
    expect(view.grants).toBe(2);
    expect(view.holder).toBeUndefined();
  });
});
