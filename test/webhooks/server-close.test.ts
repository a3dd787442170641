// The receiver's shutdown over HTTP: close() waits for a request still being handled even when
// its client went away, so no Temporal call outlives the receiver and its connection.
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { WebhookResponse } from '../../src/webhooks/handler.js';
import { startWebhookServer } from '../../src/webhooks/server.js';

describe('webhook receiver: close()', () => {
  it('waits for a handler whose client disconnected', async () => {
    let started!: () => void;
    const handlerStarted = new Promise<void>((resolve) => (started = resolve));
    let finish!: (response: WebhookResponse) => void;
    const receiver = await startWebhookServer({
      port: 0,
      bodyLimitBytes: 1024,
      handler: () => {
        started();
        return new Promise<WebhookResponse>((resolve) => (finish = resolve));
      },
    });

    const client = request(receiver.webhookUrl, { method: 'POST' });
    client.on('error', () => {}); // the abort below
    client.end('{}');
    await handlerStarted;
    client.destroy(); // the sender gives up (Stripe's own timeout, a crashed proxy)

    let closed = false;
    const serverClosed = new Promise<void>((resolve) => receiver.server.once('close', resolve));
    const closing = receiver.close().then(() => (closed = true));
    await serverClosed; // no connection left: node's own close is done
    await new Promise((resolve) => setImmediate(resolve));
    expect(closed).toBe(false);

    finish({ status: 200, headers: {}, body: '' });
    await closing;
    expect(closed).toBe(true);
  });
});
