// The receiver over HTTP against the shared dev server: what it accepts (signed by stripe-node's
// generateTestHeaderString and by the simulator), what it rejects (400/413, nothing signalled,
// nothing secret logged), rotation, and where each kind of event is routed.
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chargeWorkflowId } from '../../src/shared/ids.js';
import {
  BODY_LIMIT_BYTES,
  eventually,
  including,
  signalsOnceRecorded,
  startWebhookStack,
  type WebhookStack,
} from './stack.js';

const NEW_SECRET = 'whsec_receiver_new_0123456789';
const OLD_SECRET = 'whsec_receiver_old_9876543210';
const webhooks = Stripe.webhooks;

let stack: WebhookStack;
beforeAll(async () => {
  stack = await startWebhookStack('receiver', { secrets: [NEW_SECRET, OLD_SECRET] });
});
afterAll(async () => stack?.close());

let eventSeq = 0;
/** A Stripe-shaped event body about `object`. */
function eventBody(type: string, object: Record<string, unknown>, extra: object = {}): string {
  return JSON.stringify({
    id: `evt_receiver_${process.pid}_${eventSeq++}`,
    object: 'event',
    api_version: '2026-10-28.endive',
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
    data: { object },
    ...extra,
  });
}

function post(body: string | Buffer, signature?: string | string[]): Promise<Response> {
  const headers = new Headers({ 'content-type': 'application/json' });
  for (const value of [signature ?? []].flat()) headers.append('stripe-signature', value);
  return fetch(stack.receiver.webhookUrl, { method: 'POST', headers, body });
}

const sign = (payload: string, secret = NEW_SECRET, timestamp?: number) =>
  webhooks.generateTestHeaderString({
    payload,
    secret,
    ...(timestamp !== undefined && { timestamp }),
  });

/** A bank-debit charge waiting in `processing` (the simulator settles it only when told). */
async function waitingCharge() {
  const input = stack.order('pm_usBankAccount_success');
  const handle = await stack.chargeUntil(input, 'processing');
  const { paymentIntentId } = await handle.status();
  return {
    input,
    handle,
    workflowId: chargeWorkflowId(input.orderId),
    paymentIntentId: paymentIntentId!,
  };
}

describe('webhook receiver: HTTP surface', () => {
  it('answers GET /healthz, 404 elsewhere, 405 for GET on the webhook path', async () => {
    const health = await fetch(`${stack.receiver.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ ok: true });
    expect((await fetch(`${stack.receiver.url}/nope`)).status).toBe(404);
    const get = await fetch(stack.receiver.webhookUrl);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
  });

  it('a valid event signed by stripe-node gets 200 only with its compact signal in the workflow history', async () => {
    const { workflowId, paymentIntentId, handle } = await waitingCharge();
    const body = eventBody('payment_intent.processing', {
      id: paymentIntentId,
      object: 'payment_intent',
      status: 'processing',
      metadata: { workflow_id: workflowId },
      amount: 2500,
    });
    const response = await post(body, sign(body));
    expect(response.status).toBe(200);
    const id = (JSON.parse(body) as { id: string }).id;
    expect(await response.json()).toMatchObject({
      received: true,
      eventId: id,
      delivery: 'workflow',
      workflowIds: [workflowId],
    });
    // Acknowledged means recorded (durable in the server; in history once any running task ends).
    await signalsOnceRecorded(stack.client, workflowId, including(id));
    const history = await stack.client.workflow.getHandle(workflowId).fetchHistory();
    const signal = (history.events ?? [])
      .map((e) => e.workflowExecutionSignaledEventAttributes)
      .find(
        (a) =>
          a?.signalName === 'stripeEvent' &&
          Buffer.from(a.input!.payloads![0]!.data!).toString().includes(id),
      );
    const payload = JSON.parse(
      Buffer.from(signal!.input!.payloads![0]!.data!).toString(),
    ) as Record<string, unknown>;
    expect(payload).toEqual({
      id,
      type: 'payment_intent.processing',
      created: expect.any(Number) as number,
      objectId: paymentIntentId,
    });
    const status = await handle.status();
    expect(status.events.received).toBeGreaterThanOrEqual(1);
  });

  it('rotation: events signed with the new or the old secret are both accepted', async () => {
    const { workflowId, paymentIntentId } = await waitingCharge();
    const object = {
      id: paymentIntentId,
      object: 'payment_intent',
      metadata: { workflow_id: workflowId },
    };
    const signedNew = eventBody('payment_intent.processing', object);
    const signedOld = eventBody('payment_intent.processing', object);
    for (const [body, secret] of [
      [signedNew, NEW_SECRET],
      [signedOld, OLD_SECRET],
    ] as const) {
      const response = await post(body, sign(body, secret));
      expect({ status: response.status, answer: await response.json() }).toMatchObject({
        status: 200,
        answer: { delivery: 'workflow', workflowIds: [workflowId] },
      });
    }
    await signalsOnceRecorded(
      stack.client,
      workflowId,
      including(...[signedNew, signedOld].map((b) => (JSON.parse(b) as { id: string }).id)),
    );
  });

  it('forged, stale, future, wrong-secret, malformed and oversized requests get 400/413, signal nothing and log no secret', async () => {
    const { workflowId, paymentIntentId } = await waitingCharge();
    const body = eventBody('payment_intent.succeeded', {
      id: paymentIntentId,
      object: 'payment_intent',
      metadata: { workflow_id: workflowId },
    });
    const now = Math.floor(Date.now() / 1000);
    const goodHeader = sign(body);
    const forged = goodHeader.replace(
      /v1=([0-9a-f])/,
      (_m, c: string) => `v1=${c === '0' ? '1' : '0'}`,
    );
    const notJson = '{"id": "evt_1", "object": "event", ';
    const notEvent = JSON.stringify({
      hello: 'world',
      data: { object: { metadata: { workflow_id: workflowId } } },
    });
    const oversized = `${body.slice(0, -1)},"padding":"${'x'.repeat(BODY_LIMIT_BYTES)}"}`;
    const cases: {
      name: string;
      body: string;
      signature?: string | string[];
      status: number;
      error?: string;
    }[] = [
      { name: 'missing header', body, status: 400, error: 'missing_signature' },
      {
        name: 'forged signature',
        body,
        signature: forged,
        status: 400,
        error: 'signature_mismatch',
      },
      {
        name: 'wrong secret',
        body,
        signature: sign(body, 'whsec_someone_else'),
        status: 400,
        error: 'signature_mismatch',
      },
      {
        name: 'stale (10 min old)',
        body,
        signature: sign(body, NEW_SECRET, now - 600),
        status: 400,
        error: 'timestamp_too_old',
      },
      {
        name: 'future (10 min ahead)',
        body,
        signature: sign(body, NEW_SECRET, now + 600),
        status: 400,
        error: 'timestamp_in_future',
      },
      {
        name: 'tampered body',
        body: body.replace('succeeded', 'processing'),
        signature: goodHeader,
        status: 400,
        error: 'signature_mismatch',
      },
      {
        name: 'garbage header',
        body,
        signature: 'hello',
        status: 400,
        error: 'malformed_signature',
      },
      { name: 'two signature headers', body, signature: [goodHeader, goodHeader], status: 400 },
      {
        name: 'signed, not JSON',
        body: notJson,
        signature: sign(notJson),
        status: 400,
        error: 'malformed_body',
      },
      {
        name: 'signed, not an event',
        body: notEvent,
        signature: sign(notEvent),
        status: 400,
        error: 'invalid_event',
      },
      {
        name: 'oversized',
        body: oversized,
        signature: sign(oversized),
        status: 413,
        error: 'body_too_large',
      },
    ];
    for (const c of cases) {
      const response = await post(c.body, c.signature);
      expect({ name: c.name, status: response.status }).toEqual({ name: c.name, status: c.status });
      const answer = (await response.json()) as { error: string };
      if (c.error)
        expect({ name: c.name, error: answer.error }).toEqual({ name: c.name, error: c.error });
    }
    // A valid event after them, once in history, proves nothing before it was signalled.
    const sentinel = eventBody('payment_intent.processing', {
      id: paymentIntentId,
      metadata: { workflow_id: workflowId },
    });
    expect((await post(sentinel, sign(sentinel))).status).toBe(200);
    const signalled = await signalsOnceRecorded(
      stack.client,
      workflowId,
      including((JSON.parse(sentinel) as { id: string }).id),
    );
    const rejectedIds = [body, notJson, notEvent, oversized].map(
      (b) => /"id":\s*"([^"]+)"/.exec(b)?.[1],
    );
    for (const rejected of rejectedIds) expect(signalled).not.toContain(rejected);
    expect(signalled.filter((i) => i.startsWith('evt_receiver_'))).toHaveLength(1);
    const logged = stack.logs.map((l) => l.line).join('\n');
    for (const secret of [NEW_SECRET, OLD_SECRET, 'whsec_someone_else'])
      expect(logged).not.toContain(secret);
    expect(logged).not.toMatch(/v1=[0-9a-f]{16}/);
    expect(logged).not.toContain(goodHeader);
  });

  it('an event signed by the simulator for an intent no workflow owns lands in the unmatched-events workflow', async () => {
    const intent = await stack.stripe.paymentIntents.create({
      amount: 700,
      currency: 'usd',
      customer: stack.customerId,
    });
    // payment_intent.created is acknowledged and goes nowhere (no workflow needs it);
    // payment_intent.canceled is kept until a charge owns the intent.
    await stack.stripe.paymentIntents.cancel(intent.id);
    await stack.sim.flushWebhooks();
    const view = await eventually(async () => {
      const v = await stack.unmatched();
      return v?.entries.some((e) => e.signal.objectId === intent.id) ? v : undefined;
    }, 'the unmatched event');
    const entries = view.entries.filter((e) => e.signal.objectId === intent.id);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      state: 'pending',
      signal: { type: 'payment_intent.canceled' },
      route: { kind: 'payment_intent', paymentIntentId: intent.id },
    });
    expect(entries[0]!.reason).toContain(intent.id);
    for (const type of ['payment_intent.created', 'payment_intent.canceled']) {
      const delivery = stack.sim
        .webhookDeliveries()
        .filter((d) => d.type === type)
        .at(-1);
      expect(delivery?.result).toBe(200);
    }
  });

  it('a customer-level event wakes every open charge of that customer', async () => {
    const [a, b] = [await waitingCharge(), await waitingCharge()];
    // Both charges are findable by BillingCustomerId once visibility caught up.
    await eventually(async () => {
      const found: string[] = [];
      for await (const wf of stack.client.workflow.list({
        query: `BillingCustomerId = '${stack.customerId}' AND ExecutionStatus = 'Running'`,
      }))
        found.push(wf.workflowId);
      return found.includes(a.workflowId) && found.includes(b.workflowId) ? true : undefined;
    }, 'visibility');
    const body = eventBody('payment_method.attached', {
      id: 'pm_receiver_new',
      object: 'payment_method',
      customer: stack.customerId,
    });
    const response = await post(body, sign(body));
    expect(response.status).toBe(200);
    const answer = (await response.json()) as { delivery: string; workflowIds: string[] };
    expect(answer.delivery).toBe('workflow');
    expect(answer.workflowIds).toEqual(expect.arrayContaining([a.workflowId, b.workflowId]));
    const id = (JSON.parse(body) as { id: string }).id;
    await signalsOnceRecorded(stack.client, a.workflowId, including(id));
    await signalsOnceRecorded(stack.client, b.workflowId, including(id));
  });

  it('a customer-level event of a customer without open charges is kept as unmatched; a type nobody handles is acknowledged and sent nowhere', async () => {
    const lonely = eventBody('setup_intent.succeeded', {
      id: 'seti_1',
      object: 'setup_intent',
      customer: 'cus_nobody',
    });
    const other = eventBody('invoice.paid', { id: 'in_1', object: 'invoice' });
    for (const [body, delivery] of [
      [lonely, 'unmatched'],
      [other, 'ignored'],
    ] as const) {
      const response = await post(body, sign(body));
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ delivery });
    }
    const view = await stack.unmatched();
    const byId = new Map(view?.entries.map((e) => [e.signal.id, e]));
    expect(byId.get((JSON.parse(lonely) as { id: string }).id)).toMatchObject({
      state: 'pending',
      route: { kind: 'customer', customerId: 'cus_nobody' },
    });
    expect(byId.has((JSON.parse(other) as { id: string }).id)).toBe(false);
  });
});
