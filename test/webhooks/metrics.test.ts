// The receiver's metrics over HTTP: every rejection counted by reason (the 413s the server
// refuses before the handler too), ack latencies by status, all served at GET /metrics.
import { Client, Connection } from '@temporalio/client';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStripeWebhookHandler } from '../../src/webhooks/handler.js';
import { createReceiverMetrics, WebhookMetricName } from '../../src/webhooks/metrics.js';
import { startWebhookServer, type WebhookServer } from '../../src/webhooks/server.js';
import { metricValue } from '../observability/prometheus.js';

const secret = 'whsec_metrics_test';
const limit = 2048;
// Rejections never reach Temporal: a connection to nowhere proves it.
const client = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) });
let server: WebhookServer;

beforeAll(async () => {
  const metrics = createReceiverMetrics({ processMetrics: false });
  const handler = createStripeWebhookHandler({
    client,
    secrets: [secret],
    taskQueue: 'unused',
    bodyLimitBytes: limit,
    metrics,
  });
  server = await startWebhookServer({ handler, port: 0, bodyLimitBytes: limit, metrics });
});
afterAll(async () => {
  await server.close();
  await client.connection.close();
});

const post = async (body: string, headers: Record<string, string> = {}) =>
  (await fetch(server.webhookUrl, { method: 'POST', body, headers })).status;

describe('GET /metrics', () => {
  it('counts each rejection by reason and times every answer', async () => {
    const body = '{"id":"evt_1"}';
    const header = (payload: string, options: { secret?: string; timestamp?: number } = {}) =>
      Stripe.webhooks.generateTestHeaderString({ payload, secret, ...options });
    expect(await post(body)).toBe(400);
    expect(await post(body, { 'stripe-signature': 'garbage' })).toBe(400);
    expect(await post(body, { 'stripe-signature': header(body, { secret: 'whsec_other' }) })).toBe(
      400,
    );
    expect(await post(body, { 'stripe-signature': header(body, { secret: 'whsec_other' }) })).toBe(
      400,
    );
    expect(
      await post(body, {
        'stripe-signature': header(body, { timestamp: Math.floor(Date.now() / 1000) - 3600 }),
      }),
    ).toBe(400);
    expect(await post('not json', { 'stripe-signature': header('not json') })).toBe(400);
    expect(await post(body, { 'stripe-signature': header(body) })).toBe(400);
    expect(await post('x'.repeat(limit + 1))).toBe(413);

    const response = await fetch(`${server.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await response.text();
    const rejected = (reason: string) => metricValue(text, WebhookMetricName.rejected, { reason });
    expect(rejected('missing_signature')).toBe(1);
    expect(rejected('malformed_signature')).toBe(1);
    expect(rejected('signature_mismatch')).toBe(2);
    expect(rejected('timestamp_too_old')).toBe(1);
    expect(rejected('malformed_body')).toBe(1);
    expect(rejected('invalid_event')).toBe(1);
    expect(rejected('body_too_large')).toBe(1);
    expect(rejected('timestamp_in_future')).toBe(0);
    expect(metricValue(text, WebhookMetricName.received)).toBe(8);
    expect(metricValue(text, WebhookMetricName.verified)).toBe(0);
    expect(metricValue(text, `${WebhookMetricName.ackSeconds}_count`, { status: '400' })).toBe(7);
    expect(metricValue(text, `${WebhookMetricName.ackSeconds}_count`, { status: '413' })).toBe(1);
    // Every kind × delivery exists from the first scrape, at 0.
    expect(text).toContain('billing_webhook_routed_total{kind="customer",delivery="unmatched"} 0');
    expect(text).not.toContain(secret);
  });

  it('answers only GET', async () => {
    expect((await fetch(`${server.url}/metrics`, { method: 'POST' })).status).toBe(405);
  });
});
