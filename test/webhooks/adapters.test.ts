// The framework adapters over real HTTP, each in its framework (dev dependencies): Express,
// Fastify, and the Web-standard Request → Response adapter under Hono's node server. A signed
// event reaches an open charge workflow on the dev server (its history shows the signal); a
// forged one, an oversized one and a misuse of the adapter are refused with the documented status.
import { serve, type ServerType } from '@hono/node-server';
import express from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import { Hono } from 'hono';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chargeWorkflowId } from '../../src/shared/ids.js';
import { stripeWebhookHandler } from '../../src/webhooks/express.js';
import { stripeWebhookPlugin } from '../../src/webhooks/fastify.js';
import type { WebhookHandlerOptions } from '../../src/webhooks/handler.js';
import { createWebhookFetchHandler } from '../../src/webhooks/web.js';
import { connectDevServer, uniqueTaskQueue, type DevServer } from '../helpers/temporal.js';

const SECRET = 'whsec_adapters_test';
const LIMIT = 64 * 1024;

let temporal: DevServer;
let options: WebhookHandlerOptions;
let taskQueue: string;
const closers: (() => Promise<unknown>)[] = [];
beforeAll(async () => {
  temporal = await connectDevServer();
  taskQueue = uniqueTaskQueue('adapters');
  options = {
    client: temporal.client,
    secrets: [SECRET],
    taskQueue,
    unmatchedWorkflowId: `stripe-events:unmatched:${taskQueue}`,
    bodyLimitBytes: LIMIT,
  };
});
afterAll(async () => {
  for (const close of closers.reverse()) await close();
  await temporal?.close();
});

function listening(server: Server | ServerType): string {
  const { port } = server.address() as AddressInfo;
  closers.push(() => new Promise((resolve) => server.close(resolve)));
  return `http://127.0.0.1:${port}`;
}

async function expressApp(): Promise<string> {
  const app = express();
  app.post('/webhooks/stripe', stripeWebhookHandler(options));
  // The misuse the adapter refuses: a JSON parser ran before it.
  app.post('/parsed/webhooks/stripe', express.json(), stripeWebhookHandler(options));
  app.use(express.json());
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return listening(server);
}

async function fastifyApp(): Promise<string> {
  const app: FastifyInstance = Fastify();
  await app.register(stripeWebhookPlugin, options);
  // The rest of the app keeps Fastify's JSON parser.
  app.post('/echo', async (request) => request.body);
  await app.listen({ port: 0, host: '127.0.0.1' });
  closers.push(() => app.close());
  const { port } = app.server.address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}

async function honoApp(): Promise<string> {
  const app = new Hono();
  const handle = createWebhookFetchHandler(options);
  app.post('/webhooks/stripe', (c) => handle(c.req.raw));
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  return listening(server);
}

let seq = 0;
/** A started charge workflow no worker polls: open, so Temporal takes its signals. */
async function openCharge(): Promise<string> {
  const orderId = `adapters-${process.pid}-${Date.now()}-${seq++}`;
  const workflowId = chargeWorkflowId(orderId);
  await temporal.client.workflow.start('chargeCustomer', {
    workflowId,
    taskQueue,
    args: [{ orderId, customerId: 'cus_adapters', amount: 1500, currency: 'usd' }],
  });
  closers.push(() => temporal.client.workflow.getHandle(workflowId).terminate('test over'));
  return workflowId;
}

function paymentIntentEvent(workflowId: string): { id: string; body: string } {
  const id = `evt_adapters_${process.pid}_${seq++}`;
  const body = JSON.stringify({
    id,
    object: 'event',
    type: 'payment_intent.succeeded',
    created: Math.floor(Date.now() / 1000),
    data: {
      object: {
        id: `pi_adapters_${seq}`,
        object: 'payment_intent',
        status: 'succeeded',
        customer: 'cus_adapters',
        metadata: { workflow_id: workflowId },
      },
    },
  });
  return { id, body };
}

const sign = (body: string, secret = SECRET) =>
  Stripe.webhooks.generateTestHeaderString({ payload: body, secret });

async function post(url: string, body: string, signature: string) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'stripe-signature': signature },
    body,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** The `stripeEvent` signals in the workflow's history, by event id. */
async function signalledEventIds(workflowId: string): Promise<string[]> {
  const history = await temporal.client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).flatMap((event) => {
    const signalled = event.workflowExecutionSignaledEventAttributes;
    const payload = signalled?.input?.payloads?.[0]?.data;
    if (signalled?.signalName !== 'stripeEvent' || !payload) return [];
    return [(JSON.parse(Buffer.from(payload).toString()) as { id: string }).id];
  });
}

describe.each([
  ['Express', expressApp],
  ['Fastify', fastifyApp],
  ['Web Request (Hono)', honoApp],
])('%s adapter', (_name, start) => {
  let base: string;
  beforeAll(async () => {
    base = await start();
  });

  it('delivers a signed event to its open charge workflow, and answers 200 once Temporal has it', async () => {
    const workflowId = await openCharge();
    const event = paymentIntentEvent(workflowId);
    const answer = await post(`${base}/webhooks/stripe`, event.body, sign(event.body));
    expect(answer).toMatchObject({
      status: 200,
      body: { received: true, delivery: 'workflow', workflowIds: [workflowId] },
    });
    expect(await signalledEventIds(workflowId)).toEqual([event.id]);
  });

  it('refuses a forged signature with 400 and signals nothing', async () => {
    const workflowId = await openCharge();
    const event = paymentIntentEvent(workflowId);
    const answer = await post(`${base}/webhooks/stripe`, event.body, sign(event.body, 'whsec_x'));
    expect(answer).toMatchObject({ status: 400, body: { error: 'signature_mismatch' } });
    expect(await signalledEventIds(workflowId)).toEqual([]);
  });

  it('refuses a body over the limit with 413', async () => {
    const body = JSON.stringify({ padding: 'x'.repeat(LIMIT) });
    const response = await fetch(`${base}/webhooks/stripe`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': sign(body) },
      body,
    });
    expect(response.status).toBe(413);
    await response.arrayBuffer();
  });
});

describe('Express adapter misuse', () => {
  it('refuses a body that express.json() parsed first: 500 (Stripe redelivers), nothing signalled', async () => {
    const base = await expressApp();
    const workflowId = await openCharge();
    const event = paymentIntentEvent(workflowId);
    const response = await fetch(`${base}/parsed/webhooks/stripe`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': sign(event.body) },
      body: event.body,
    });
    expect(response.status).toBe(500);
    expect(await signalledEventIds(workflowId)).toEqual([]);
  });
});
