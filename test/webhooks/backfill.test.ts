// Backfill after an outage: every webhook of two charges is dropped; the backfill (by hand, and
// from its Schedule with the cursor carried between runs) pages /v1/events and routes each event
// as the receiver would, so both charges finish, each charged once however often it is routed.
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChargeHandle } from '../../src/client/index.js';
import { runBackfill, ensureBackfillSchedule } from '../../src/webhooks/backfill.js';
import type { BackfillResult } from '../../src/workflows/backfill-events.js';
import { eventually, PROCESSING_DELAY_MS, startWebhookStack, type WebhookStack } from './stack.js';

let stack: WebhookStack;
beforeAll(async () => {
  stack = await startWebhookStack('backfill');
});
afterAll(async () => stack?.close());

const backfill = (since: number) =>
  runBackfill(stack.client, {
    taskQueue: stack.taskQueue,
    since,
    input: { unmatchedWorkflowId: stack.unmatchedWorkflowId },
  });

describe('backfill', () => {
  it('after an outage that lost every webhook, routes each lost event to its workflow exactly once in effect', async () => {
    stack.sim.webhookFaults.add({ kind: 'drop', eventType: 'payment_intent.*', times: 1000 });
    const since = Math.floor(stack.sim.now() / 1000) - 1;
    const charges: ChargeHandle[] = [];
    for (let i = 0; i < 2; i++)
      charges.push(await stack.chargeUntil(stack.order('pm_usBankAccount_success'), 'processing'));
    for (const charge of charges)
      expect((await charge.status()).events).toEqual({ received: 0, duplicates: 0, ignored: 0 });

    // Each charge lost `created` (no workflow needs it: ignored) and `processing`, the answer to
    // its own confirm (its idempotency key: `answered`, nothing to wake).
    const first = await backfill(since);
    expect(first.events).toBeGreaterThanOrEqual(4);
    expect(first.answered).toBeGreaterThanOrEqual(2);
    expect(first.ignored).toBeGreaterThanOrEqual(2);
    expect(first.signalled).toBe(0);
    for (const charge of charges)
      expect((await charge.status()).events).toEqual({ received: 0, duplicates: 0, ignored: 0 });

    // The debits settle; their `succeeded` webhooks (Stripe's own, no request) are lost too; the
    // next backfill, from the cursor, wakes both charges.
    stack.sim.advanceTime(PROCESSING_DELAY_MS);
    const second = await backfill(first.cursor);
    expect(second.signalled).toBeGreaterThanOrEqual(2);
    for (const charge of charges) {
      expect(await charge.result()).toMatchObject({ outcome: 'succeeded', attempts: 1 });
      expect((await charge.status()).events).toMatchObject({ received: 1, ignored: 0 });
    }

    // Routing every event again changes nothing: the charges have ended, each charged once.
    const again = await backfill(since);
    expect(again.signalled).toBe(0);
    expect(again.closed).toBeGreaterThanOrEqual(2);
    expect(again.answered).toBeGreaterThanOrEqual(2);
    for (const charge of charges)
      expect(stack.sim.ledger().orders[charge.orderId]).toMatchObject({
        successfulCharges: 1,
        amountCaptured: 2500,
      });
    expect(
      stack.sim.webhookDeliveries().filter((d) => d.type.startsWith('payment_intent.')),
    ).toEqual([]);
  });

  it('the Schedule is created idempotently and hands each run the previous run’s cursor', async () => {
    const scheduleId = `stripe-events:backfill:${stack.taskQueue}`;
    const options = {
      scheduleId,
      taskQueue: stack.taskQueue,
      intervalMinutes: 60,
      paused: true,
      input: { unmatchedWorkflowId: stack.unmatchedWorkflowId, lookbackSeconds: 3600 },
    };
    await ensureBackfillSchedule(stack.client, options);
    const schedule = await ensureBackfillSchedule(stack.client, {
      ...options,
      intervalMinutes: 30,
    });
    try {
      const described = await schedule.describe();
      expect(described.spec.intervals?.map((i) => i.every)).toEqual([30 * 60_000]);

      const runResult = async (n: number): Promise<BackfillResult> => {
        const action = await eventually(
          async () => (await schedule.describe()).info.recentActions[n - 1]?.action,
          `scheduled run ${n}`,
        );
        return stack.client.workflow
          .getHandle(action.workflow.workflowId, action.workflow.firstExecutionRunId)
          .result() as Promise<BackfillResult>;
      };
      await schedule.trigger(ScheduleOverlapPolicy.SKIP);
      const first = await runResult(1);
      expect(first.since).toBeGreaterThan(Math.floor(Date.now() / 1000) - 3600 - 120);
      // The Schedule records a run's result when it sees the run close.
      await eventually(
        async () =>
          (await schedule.describe()).info.runningActions.length === 0 ? true : undefined,
        'the Schedule to see run 1 close',
      );
      await schedule.trigger(ScheduleOverlapPolicy.SKIP);
      const second = await runResult(2);
      expect(second.since).toBe(first.cursor);
    } finally {
      await schedule.delete();
    }
  });
});
