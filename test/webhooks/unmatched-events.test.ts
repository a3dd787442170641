// The unmatched-events workflow: keeps what no charge could take (query), dedupes by event id,
// continues-as-new to stay small without losing anything, and re-routes on request once the
// target becomes findable by search attribute.
import { WorkflowIdReusePolicy } from '@temporalio/client';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chargeWorkflowId } from '../../src/shared/ids.js';
import { BillingPaymentIntentId } from '../../src/shared/search-attributes.js';
import { createStripeWebhookHandler, type WebhookRequest } from '../../src/webhooks/handler.js';
import {
  rerouteUpdate,
  unmatchedEventsQuery,
  type unmatchedEvents,
} from '../../src/workflows/unmatched-events.js';
import {
  eventually,
  including,
  signalsOnceRecorded,
  startWebhookStack,
  type WebhookStack,
} from './stack.js';

const SECRET = 'whsec_unmatched_test';
let stack: WebhookStack;
beforeAll(async () => {
  stack = await startWebhookStack('unmatched', { secrets: [SECRET] });
});
afterAll(async () => stack?.close());

let seq = 0;
function signed(
  type: string,
  object: Record<string, unknown>,
  id = `evt_unmatched_${process.pid}_${seq++}`,
): WebhookRequest & { id: string } {
  const rawBody = JSON.stringify({
    id,
    object: 'event',
    type,
    created: Math.floor(Date.now() / 1000),
    data: { object },
  });
  return {
    id,
    rawBody,
    headers: {
      'stripe-signature': Stripe.webhooks.generateTestHeaderString({
        payload: rawBody,
        secret: SECRET,
      }),
    },
  };
}

describe('unmatched-events workflow', () => {
  it('continues as new every few events, keeps every event and its dedupe across runs, and re-routes on request', async () => {
    const workflowId = `${stack.unmatchedWorkflowId}:small`;
    // Started first with a tiny run size; the receiver's signal-with-start then signals this run.
    const first = await stack.client.workflow.start<typeof unmatchedEvents>('unmatchedEvents', {
      workflowId,
      taskQueue: stack.taskQueue,
      args: [{ maxEventsPerRun: 3 }],
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
    });
    const handler = createStripeWebhookHandler({
      client: stack.client,
      secrets: [SECRET],
      taskQueue: stack.taskQueue,
      unmatchedWorkflowId: workflowId,
    });

    // Handled events no charge owns (types no workflow handles never reach this workflow).
    const others = Array.from({ length: 7 }, (_, i) =>
      signed('payment_intent.processing', {
        id: `pi_nobody_${process.pid}_${Date.now()}_${i}`,
        object: 'payment_intent',
      }),
    );
    for (const request of others) expect((await handler(request)).status).toBe(200);
    // A redelivery of an event held by an earlier run is still recognised.
    expect((await handler(others[0]!)).status).toBe(200);
    // An intent no charge has yet.
    const paymentIntentId = `pi_unmatched_${process.pid}_${Date.now()}`;
    const early = signed('payment_intent.succeeded', {
      id: paymentIntentId,
      object: 'payment_intent',
    });
    expect((await handler(early)).body).toContain('"delivery":"unmatched"');

    // A run continues as new once it holds 3 events; how the 8 spread over runs depends on how
    // they bunch into workflow tasks, so the check waits for the chain to settle: the latest run
    // holds fewer than 3 (or it would continue as new) and the totals came along.
    const handle = stack.client.workflow.getHandle(workflowId);
    await eventually(
      async () =>
        (await handle.describe()).runId !== first.firstExecutionRunId ? true : undefined,
      'continue-as-new',
    );
    const view = await eventually(async () => {
      const settled = await handle.query(unmatchedEventsQuery);
      return settled.eventsThisRun < 3 && settled.totals.received === 8 ? settled : undefined;
    }, 'the last run to settle');
    const firstHistory = await stack.client.workflow
      .getHandle(workflowId, first.firstExecutionRunId)
      .fetchHistory();
    expect(
      firstHistory.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes,
    ).toBeTruthy();
    expect(view.totals).toMatchObject({ received: 8, duplicates: 1 });
    const otherIds = new Set(others.map((o) => o.id));
    expect(
      view.entries.filter((e) => otherIds.has(e.signal.id)).map((e) => [e.signal.id, e.state]),
    ).toEqual(others.map((o) => [o.id, 'pending']));
    expect(view.entries.find((e) => e.signal.id === early.id)).toMatchObject({
      state: 'pending',
      attempts: 0,
    });
    // Dedupe survives continue-as-new.
    expect((await handler(others[1]!)).status).toBe(200);
    expect((await handle.query(unmatchedEventsQuery)).totals).toMatchObject({
      received: 8,
      duplicates: 2,
    });

    // The charge for that intent appears (here: a chargeCustomer run no worker polls, carrying
    // the intent's search attribute); a re-route now finds it and signals it.
    const orderId = `unmatched-${process.pid}-${Date.now()}`;
    const charge = await stack.client.workflow.start('chargeCustomer', {
      workflowId: chargeWorkflowId(orderId),
      taskQueue: `${stack.taskQueue}-nobody`,
      args: [{ orderId, customerId: stack.customerId, amount: 100, currency: 'usd' }],
      typedSearchAttributes: [{ key: BillingPaymentIntentId, value: paymentIntentId }],
    });
    try {
      let result = { delivered: 0, remaining: 1 };
      for (let i = 0; i < 100 && result.delivered === 0; i++) {
        // Bounded: visibility indexes the new run within milliseconds.
        result = await stack.client.workflow
          .getHandle(workflowId)
          .executeUpdate(rerouteUpdate, { args: [{}] });
      }
      expect(result).toEqual({ delivered: 1, remaining: others.length });
      expect(
        await signalsOnceRecorded(stack.client, charge.workflowId, including(early.id)),
      ).toEqual([early.id]);
      const after = await stack.client.workflow.getHandle(workflowId).query(unmatchedEventsQuery);
      expect(after.delivered.find((d) => d.id === early.id)).toMatchObject({
        delivery: 'workflow',
        workflowIds: [charge.workflowId],
      });
      expect(after.entries.some((e) => e.signal.id === early.id)).toBe(false);
      // Delivered ids are remembered: a late redelivery does not come back as unmatched work.
      await handler(early);
      expect(
        await signalsOnceRecorded(stack.client, charge.workflowId, (ids) => ids.length === 2),
      ).toEqual([early.id, early.id]);
    } finally {
      await charge.terminate('test over');
      await stack.client.workflow.getHandle(workflowId).terminate('test over');
    }
  });
});
