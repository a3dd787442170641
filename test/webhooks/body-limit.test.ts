// The receiver's body limit over real HTTP (node:http, so the test controls Content-Length,
// Expect and chunking): an oversized body gets the documented 413, which the client reads,
// never a reset or a 100 Continue; a body within the limit still reaches Temporal.
import { request, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createStripeWebhookHandler,
  DEFAULT_BODY_LIMIT_BYTES,
} from '../../src/webhooks/handler.js';
import { startWebhookServer, type WebhookServer } from '../../src/webhooks/server.js';
import { connectDevServer, uniqueTaskQueue, type DevServer } from '../helpers/temporal.js';

const SECRET = 'whsec_body_limit_test';
const LIMIT = DEFAULT_BODY_LIMIT_BYTES;
const MiB = 1024 * 1024;

let temporal: DevServer;
let receiver: WebhookServer;
let unmatchedWorkflowId: string;
beforeAll(async () => {
  temporal = await connectDevServer();
  const taskQueue = uniqueTaskQueue('body-limit');
  unmatchedWorkflowId = `stripe-events:unmatched:${taskQueue}`;
  const handler = createStripeWebhookHandler({
    client: temporal.client,
    secrets: [SECRET],
    taskQueue,
    unmatchedWorkflowId,
  });
  receiver = await startWebhookServer({ handler, port: 0, bodyLimitBytes: LIMIT });
});
afterAll(async () => {
  await receiver?.close();
  await temporal?.client.workflow
    .getHandle(unmatchedWorkflowId)
    .terminate('test over')
    .catch((error: unknown) => {
      if (!(error instanceof Error && error.name === 'WorkflowNotFoundError')) throw error;
    });
  await temporal?.close();
});

interface Exchange {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** Whether the server sent `100 Continue`. */
  continued: boolean;
  /** The client's connection, for what happens to it after the answer. */
  socket: Socket;
}

/**
 * One POST to the receiver. `send` writes the body (it may keep writing until `answered()`);
 * the promise rejects if the connection fails before a whole answer is read, which is what a
 * reset instead of a 413 looks like to Stripe. Errors after the answer (writes into a
 * connection the server closed, as `Connection: close` said it would) are the client's own.
 */
function post(
  headers: OutgoingHttpHeaders,
  send: (req: ReturnType<typeof request>, answered: () => boolean) => void,
): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    let continued = false;
    let answered = false;
    let complete = false;
    const req = request(receiver.webhookUrl, { method: 'POST', headers });
    req.on('continue', () => (continued = true));
    req.on('error', (error) => {
      if (!complete) reject(error);
    });
    req.on('response', (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        complete = true;
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
          continued,
          socket: req.socket!,
        });
      });
    });
    send(req, () => answered);
  });
}

/**
 * Writes a chunked body until the answer arrives (or `max` bytes), minding backpressure;
 * `progress.sent` counts what it handed to node.
 */
async function writeUntilAnswered(
  req: ReturnType<typeof request>,
  answered: () => boolean,
  max: number,
  progress: { sent: number },
): Promise<void> {
  const chunk = Buffer.alloc(64 * 1024, 'x');
  while (progress.sent < max && !answered() && !req.destroyed) {
    progress.sent += chunk.length;
    if (!req.write(chunk))
      await new Promise<void>((resolve) => {
        // 'close' too: a connection the server ended never drains.
        const done = (): void => {
          req.off('drain', done).off('close', done);
          resolve();
        };
        req.on('drain', done).on('close', done);
      });
  }
  if (!answered() && !req.destroyed) req.end();
}

const closed = (socket: Socket): Promise<void> =>
  socket.destroyed ? Promise.resolve() : new Promise((resolve) => socket.once('close', resolve));

function expectTooLarge(answer: Exchange): void {
  expect(answer.status).toBe(413);
  expect(answer.headers.connection).toBe('close');
  expect(JSON.parse(answer.body)).toMatchObject({ error: 'body_too_large' });
}

let seq = 0;
/** A signed event of a type no charge handles (it goes to the unmatched-events workflow). */
function signedEvent(size: number): { body: Buffer; signature: string } {
  const event = JSON.stringify({
    id: `evt_body_limit_${process.pid}_${seq++}`,
    object: 'event',
    type: 'invoice.created',
    created: Math.floor(Date.now() / 1000),
    data: { object: { id: 'in_body_limit', object: 'invoice' } },
    padding: '',
  });
  const body = event.replace('"padding":""', `"padding":"${'x'.repeat(size - event.length)}"`);
  return {
    body: Buffer.from(body),
    signature: Stripe.webhooks.generateTestHeaderString({ payload: body, secret: SECRET }),
  };
}

describe('webhook receiver: body limit', () => {
  it('answers a 9 MiB body with Content-Length 413 before reading it, and the client reads it', async () => {
    const body = Buffer.alloc(9 * MiB, 'x');
    const answer = await post({ 'content-length': body.length }, (req) => req.end(body));
    expectTooLarge(answer);
    await closed(answer.socket);
  });

  it('answers Expect: 100-continue with a Content-Length over the limit 413 and never 100', async () => {
    const size = 9 * MiB;
    let bodySent = false;
    const answer = await post({ 'content-length': size, expect: '100-continue' }, (req) => {
      req.flushHeaders();
      // A client that waits for 100 sends the body only on it: here it never comes.
      req.once('continue', () => {
        bodySent = true;
        req.end(Buffer.alloc(size, 'x'));
      });
    });
    expectTooLarge(answer);
    expect(answer.continued).toBe(false);
    expect(bodySent).toBe(false);
  });

  it('answers a chunked body 413 once it grows past the limit, then closes the connection', async () => {
    // Endless, as far as the receiver can tell: the client stops only when it reads the answer.
    const max = 256 * MiB;
    const progress = { sent: 0 };
    const answer = await post(
      {},
      (req, answered) => void writeUntilAnswered(req, answered, max, progress),
    );
    expectTooLarge(answer);
    expect(progress.sent).toBeLessThan(max);
    await closed(answer.socket);
  });

  it('still delivers a body within the limit, with Content-Length, chunked or after 100-continue', async () => {
    const plain = signedEvent(LIMIT - 1024);
    const answer = await post(
      { 'content-length': plain.body.length, 'stripe-signature': plain.signature },
      (req) => req.end(plain.body),
    );
    expect({ status: answer.status, body: JSON.parse(answer.body) as unknown }).toMatchObject({
      status: 200,
      // A type no workflow handles: acknowledged, sent nowhere.
      body: { received: true, delivery: 'ignored' },
    });

    const chunked = signedEvent(LIMIT);
    const streamed = await post({ 'stripe-signature': chunked.signature }, (req) => {
      for (let at = 0; at < chunked.body.length; at += 100_000)
        req.write(chunked.body.subarray(at, at + 100_000));
      req.end();
    });
    expect(streamed.status).toBe(200);

    const expecting = signedEvent(LIMIT);
    const continued = await post(
      {
        'content-length': expecting.body.length,
        expect: '100-continue',
        'stripe-signature': expecting.signature,
      },
      (req) => {
        req.flushHeaders();
        req.once('continue', () => req.end(expecting.body));
      },
    );
    expect({ status: continued.status, continued: continued.continued }).toEqual({
      status: 200,
      continued: true,
    });
  });
});
