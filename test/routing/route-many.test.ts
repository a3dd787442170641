// The router on the dev server: a batch of events is looked up with one `IN (…)` visibility query
// for its intents and one for its customers, and each event still reaches exactly the charges a
// lookup of its own would find (issue 15: an unmatched shard re-routing its backlog one query per
// event spent the namespace's visibility rate, so the receiver's own lookups were refused).
import { Client, type WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventRouter, Delivery } from '../../src/routing/route.js';
import { chargeWorkflowId } from '../../src/shared/ids.js';
import { BillingCustomerId, BillingPaymentIntentId } from '../../src/shared/search-attributes.js';
import { RouteKind, type RoutedStripeEvent } from '../../src/shared/stripe-events.js';
import { connectDevServer, uniqueTaskQueue, type DevServer } from '../helpers/temporal.js';
import { eventually, signalsOnceRecorded, including } from '../webhooks/stack.js';

let server: DevServer;
const run = `${process.pid}_${Date.now()}`;
const taskQueue = uniqueTaskQueue('route-many');
const charges: WorkflowHandle[] = [];

beforeAll(async () => {
  server = await connectDevServer();
});
afterAll(async () => {
  await Promise.all(charges.map((c) => c.terminate('test over')));
  await server?.close();
});

/** A charge run no worker polls, carrying the attributes routing looks up. */
async function charge(name: string, paymentIntentId: string, customerId: string) {
  const orderId = `route-many-${run}-${name}`;
  const handle = await server.client.workflow.start('chargeCustomer', {
    workflowId: chargeWorkflowId(orderId),
    taskQueue: `${taskQueue}-nobody`,
    args: [{ orderId, customerId, amount: 100, currency: 'usd' }],
    typedSearchAttributes: [
      { key: BillingPaymentIntentId, value: paymentIntentId },
      { key: BillingCustomerId, value: customerId },
    ],
  });
  charges.push(handle);
  return handle;
}

/**
 * A client on the shared server that counts the router's visibility queries (`list`) and
 * describes; `calls` can be reset between steps.
 */
function countingClient() {
  const calls = { queries: 0, describes: 0 };
  const client = new Client({ connection: server.client.connection, namespace: server.namespace });
  const list = client.workflow.list.bind(client.workflow);
  client.workflow.list = (options) => (calls.queries++, list(options));
  const getHandle = client.workflow.getHandle.bind(client.workflow);
  client.workflow.getHandle = ((...args: Parameters<typeof getHandle>) => {
    const handle = getHandle(...args);
    const describe = handle.describe.bind(handle);
    handle.describe = () => (calls.describes++, describe());
    return handle;
  }) as typeof client.workflow.getHandle;
  return { client, calls };
}

function event(id: string, route: RoutedStripeEvent['route']): RoutedStripeEvent {
  const objectId =
    route.kind === RouteKind.paymentIntent
      ? route.paymentIntentId
      : route.kind === RouteKind.customer
        ? (route.customerId ?? 'customer')
        : 'other';
  return { signal: { id, type: 'payment_intent.processing', created: 1, objectId }, route };
}

describe('routeMany', () => {
  it('one visibility query per kind for the whole batch, each event to the charges its own lookup would find', async () => {
    const customer = `cus_rm_${run}`;
    const [a, b, c] = await Promise.all([
      charge('a', `pi_rm_a_${run}`, customer),
      charge('b', `pi_rm_b_${run}`, customer),
      charge('c', `pi_rm_c_${run}`, `cus_rm_other_${run}`),
    ]);
    const probe = createEventRouter({ client: server.client, taskQueue });
    // Visibility indexes the new runs shortly after their start.
    await eventually(async () => {
      const [found] = await probe.routeMany(
        [event(`evt_rm_probe_${run}`, { kind: RouteKind.customer, customerId: customer })],
        { fallback: 'none' },
      );
      return found?.delivery === Delivery.workflow && found.workflowIds.length === 2
        ? true
        : undefined;
    }, 'visibility of the charges');

    const { client, calls } = countingClient();
    const router = createEventRouter({ client, taskQueue });
    const batch = [
      event(`evt_rm_1_${run}`, {
        kind: RouteKind.paymentIntent,
        paymentIntentId: `pi_rm_a_${run}`,
      }),
      event(`evt_rm_2_${run}`, {
        kind: RouteKind.paymentIntent,
        paymentIntentId: `pi_rm_c_${run}`,
      }),
      event(`evt_rm_3_${run}`, {
        kind: RouteKind.paymentIntent,
        paymentIntentId: `pi_rm_none_${run}`,
      }),
      event(`evt_rm_4_${run}`, { kind: RouteKind.customer, customerId: customer }),
      event(`evt_rm_5_${run}`, { kind: RouteKind.customer, customerId: `cus_rm_none_${run}` }),
      // A forged id (anyone can signal a shard) never reaches a query, and spoils none.
      event(`evt_rm_6_${run}`, {
        kind: RouteKind.paymentIntent,
        paymentIntentId: "pi_x' OR 'a'='a",
      }),
      // Named by its metadata: signalled directly, and not part of the batch's query.
      event(`evt_rm_7_${run}`, {
        kind: RouteKind.paymentIntent,
        paymentIntentId: `pi_rm_b_other_${run}`,
        workflowId: b.workflowId,
      }),
    ];
    const results = await router.routeMany(batch, { fallback: 'none' });
    expect(calls.queries).toBe(2);
    expect(results).toEqual([
      { delivery: Delivery.workflow, workflowIds: [a.workflowId], matchedBy: 'search_attribute' },
      { delivery: Delivery.workflow, workflowIds: [c.workflowId], matchedBy: 'search_attribute' },
      {
        delivery: Delivery.undelivered,
        reason: `no charge workflow has BillingPaymentIntentId = pi_rm_none_${run} (yet)`,
      },
      {
        delivery: Delivery.workflow,
        workflowIds: expect.arrayContaining([a.workflowId, b.workflowId]) as string[],
        matchedBy: 'customer',
      },
      { delivery: Delivery.undelivered, reason: `no open charge of customer cus_rm_none_${run}` },
      { delivery: Delivery.ignored, reason: 'the intent id is not a Stripe id' },
      { delivery: Delivery.workflow, workflowIds: [b.workflowId], matchedBy: 'metadata' },
    ]);
    // The same events one at a time find the same charges, with a query each.
    calls.queries = 0;
    const one = await Promise.all(
      batch.slice(0, 5).map((e) => router.route(e, { fallback: 'none' })),
    );
    expect(one).toEqual(results.slice(0, 5));
    expect(calls.queries).toBe(5);

    // Each charge got the events its own lookup finds.
    for (const [charge, events] of [
      [a, [1, 4]],
      [b, [4, 7]],
      [c, [2]],
    ] as const) {
      const ids = events.map((n) => `evt_rm_${n}_${run}`);
      expect(await signalsOnceRecorded(client, charge.workflowId, including(...ids))).toEqual(
        expect.arrayContaining(ids),
      );
    }
  }, 60_000);
});

describe('route', () => {
  it('answers an event for an ended charge closed without a describe; an id that never ran is described, then looked up', async () => {
    const ended = await charge('ended', `pi_rm_ended_${run}`, `cus_rm_ended_${run}`);
    await ended.terminate('ended for the test');
    charges.splice(charges.indexOf(ended), 1);
    const { client, calls } = countingClient();
    const router = createEventRouter({ client, taskQueue });

    const late = event(`evt_rm_late_${run}`, {
      kind: RouteKind.paymentIntent,
      paymentIntentId: `pi_rm_ended_${run}`,
      workflowId: ended.workflowId,
    });
    expect(await router.route(late, { fallback: 'none' })).toEqual({
      delivery: Delivery.closed,
      workflowIds: [ended.workflowId],
    });
    expect(calls).toEqual({ describes: 0, queries: 0 });

    const elsewhere = chargeWorkflowId(`route-many-${run}-never-ran`);
    const stray = event(`evt_rm_stray_${run}`, {
      kind: RouteKind.paymentIntent,
      paymentIntentId: `pi_rm_stray_${run}`,
      workflowId: elsewhere,
    });
    expect(await router.route(stray, { fallback: 'none' })).toMatchObject({
      delivery: Delivery.undelivered,
    });
    expect(calls).toEqual({ describes: 1, queries: 1 });
  });
});
