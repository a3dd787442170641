// Routing by search attribute when an order was restarted: the earlier, closed run carries the
// intent's BillingPaymentIntentId, the new open run has not set it yet. The event must reach the
// open run, never be answered `closed` (found by the adversarial chaos run). Real dev server.
import { WorkflowIdReusePolicy } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BillingPaymentIntentId } from '../../src/shared/search-attributes.js';
import { chargeWorkflowId } from '../../src/shared/ids.js';
import { createEventRouter } from '../../src/webhooks/route.js';
import { RouteKind } from '../../src/shared/stripe-events.js';
import { connectDevServer, uniqueTaskQueue, type DevServer } from '../helpers/temporal.js';
import { eventually } from './stack.js';

let server: DevServer;
beforeAll(async () => {
  server = await connectDevServer();
});
afterAll(async () => {
  await server?.close();
});

describe('routing an event of a restarted order', () => {
  it('signals the open run of the workflow id when only its closed run carries the intent id', async () => {
    // No worker polls this queue: both runs stay as started, which is all routing looks at.
    const taskQueue = uniqueTaskQueue('route-restart');
    const orderId = `route-restart-${process.pid}-${Date.now()}`;
    const workflowId = chargeWorkflowId(orderId);
    const paymentIntentId = `pi_restart${Date.now()}`;
    const input = { orderId, customerId: 'cus_route', amount: 1500, currency: 'usd' };
    const first = await server.client.workflow.start('chargeCustomer', {
      taskQueue,
      workflowId,
      args: [input],
      typedSearchAttributes: [{ key: BillingPaymentIntentId, value: paymentIntentId }],
    });
    await first.terminate('restarted by an operator');
    const second = await server.client.workflow.start('chargeCustomer', {
      taskQueue,
      workflowId,
      args: [input],
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
    });
    await eventually(
      async () => {
        let found = false;
        for await (const execution of server.client.workflow.list({
          query: `${BillingPaymentIntentId.name} = '${paymentIntentId}'`,
        }))
          found ||= execution.runId === first.firstExecutionRunId;
        return found || undefined;
      },
      'visibility to show the closed run with the intent id',
      { attempts: 100, waitMs: 50 },
    );

    const router = createEventRouter({ client: server.client, taskQueue });
    const result = await router.route(
      {
        signal: {
          id: 'evt_restart',
          type: 'payment_intent.succeeded',
          created: 1,
          objectId: paymentIntentId,
        },
        route: { kind: RouteKind.paymentIntent, paymentIntentId },
      },
      { fallback: 'none' },
    );

    expect(result).toMatchObject({ delivery: 'workflow', workflowIds: [workflowId] });
    const history = await second.fetchHistory();
    const signalled = (history.events ?? []).filter(
      (e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'stripeEvent',
    );
    expect(signalled).toHaveLength(1);
    await second.terminate('test over');
  });
});
