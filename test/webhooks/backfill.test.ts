// Backfill after an outage: every webhook of two charges is dropped; the backfill (by hand, and
// from its Schedule with the cursor carried between runs) pages /v1/events and routes each event,
// so both charges finish, each event counted once by its workflow however often it is routed.
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

    // Each charge lost `created` (no workflow needs it: ignored) and `processing`.
    const first = await backfill(since);
    expect(first.events).toBeGreaterThanOrEqual(4);
    expect(first.signalled).toBeGreaterThanOrEqual(2);
    expect(first.ignored).toBeGreaterThanOrEqual(2);
    for (const charge of charges)
      expect((await charge.status()).events).toEqual({ received: 1, duplicates: 0, ignored: 0 });

    // Routing the same events again changes nothing: the workflows drop them as duplicates.
    await backfill(since);
    for (const charge of charges)
      expect((await charge.status()).events).toEqual({ received: 1, duplicates: 1, ignored: 0 });

    // The debits settle; their `succeeded` webhooks are lost too; the next backfill, from the
    // cursor, wakes both charges.
    stack.sim.advanceTime(PROCESSING_DELAY_MS);
    const third = await backfill(first.cursor);
    expect(third.signalled).toBeGreaterThanOrEqual(2);
    for (const charge of charges) {
      expect(await charge.result()).toMatchObject({ outcome: 'succeeded', attempts: 1 });
      expect(stack.sim.ledger().orders[charge.orderId]).toMatchObject({
        successfulCharges: 1,
        amountCaptured: 2500,
      });
    }
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
