// Webhook delivery: Stripe-compatible signatures accepted by stripe-node's constructEvent,
// retries with backoff on the simulated clock, `delivery_success`, and every webhook fault.
import type Stripe from 'stripe';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WEBHOOK_ENDPOINT_EVENT_TYPES } from '../../src/shared/stripe-events.js';
import { WebhookFaultKind, type Simulator } from '../../src/simulator/index.js';
import { startTestSimulator } from './sim-fixture.js';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver.js';

let sim: Simulator;
let stripe: Stripe;
let receiver: WebhookReceiver;

beforeEach(async () => {
  receiver = await startWebhookReceiver();
  ({ sim, stripe } = await startTestSimulator({
    webhook: { url: receiver.url, secrets: [receiver.secret, 'whsec_old'] },
  }));
});
afterEach(async () => {
  await sim.close();
  await receiver.close();
});

const verifiedTypes = (): string[] =>
  receiver.received.flatMap((r) => (r.event && r.status === 200 ? [r.event.type] : []));

async function chargeVisa(orderId: string): Promise<Stripe.PaymentIntent> {
  const pi = await stripe.paymentIntents.create({
    amount: 700,
    currency: 'usd',
    metadata: { order_id: orderId, workflow_id: `charge:${orderId}` },
  });
  return stripe.paymentIntents.confirm(pi.id, {
    payment_method: 'pm_card_visa',
    off_session: true,
  });
}

describe('webhook delivery', () => {
  it('delivers every event in order, signed so that stripe-node constructEvent accepts it, in Stripe event shape', async () => {
    const pi = await chargeVisa('o-wh');
    await sim.flushWebhooks();
    expect(verifiedTypes()).toEqual(['payment_intent.created', 'payment_intent.succeeded']);
    const event = receiver.received[1]?.event;
    expect(event).toMatchObject({
      object: 'event',
      livemode: false,
      type: 'payment_intent.succeeded',
      api_version: expect.any(String) as string,
    });
    expect(event?.id).toMatch(/^evt_/);
    expect(event?.created).toBe(Math.floor(sim.now() / 1000));
    expect(event?.data.object).toMatchObject({
      id: pi.id,
      status: 'succeeded',
      metadata: { order_id: 'o-wh' },
    });
    expect(receiver.received[0]?.signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
  });

  it('retries a delivery answered non-2xx with backoff on the simulated clock until it is accepted', async () => {
    receiver.script.push(500, 503);
    await stripe.customers.create({ email: 'retry@example.com' });
    await sim.flushWebhooks();
    expect(receiver.received.map((r) => r.status)).toEqual([500]);
    expect((await stripe.events.list({ delivery_success: false })).data.map((e) => e.type)).toEqual(
      ['customer.created'],
    );
    sim.advanceTime(60_000);
    await sim.flushWebhooks();
    expect(receiver.received.map((r) => r.status)).toEqual([500, 503]);
    sim.advanceTime(5 * 60_000);
    await sim.flushWebhooks();
    expect(receiver.received.map((r) => r.status)).toEqual([500, 503, 200]);
    expect((await stripe.events.list({ delivery_success: true })).data.map((e) => e.type)).toEqual([
      'customer.created',
    ]);
    expect(sim.webhookDeliveries().map((d) => d.attempt)).toEqual([1, 2, 3]);
  });

  it('gives up after three days of failed attempts and reports the event as not delivered', async () => {
    receiver.script.push(...Array<number>(40).fill(500));
    await stripe.customers.create({});
    for (let hour = 0; hour <= 80; hour += 1) {
      await sim.flushWebhooks();
      sim.advanceTime(3_600_000);
    }
    await sim.flushWebhooks();
    const attempts = receiver.received.length;
    expect(attempts).toBeGreaterThan(3);
    sim.advanceTime(10 * 24 * 3_600_000);
    await sim.flushWebhooks();
    expect(receiver.received.length).toBe(attempts);
    expect((await stripe.events.list({ delivery_success: false })).data).toHaveLength(1);
  });

  it('events list filters by created[gte] and type', async () => {
    await stripe.customers.create({});
    sim.advanceTime(10_000);
    const later = Math.floor(sim.now() / 1000);
    await chargeVisa('o-list');
    const recent = await stripe.events.list({ created: { gte: later } });
    expect(recent.data.map((e) => e.type)).toEqual([
      'payment_intent.succeeded',
      'payment_intent.created',
    ]);
    const succeeded = await stripe.events.list({ type: 'payment_intent.succeeded' });
    expect(succeeded.data).toHaveLength(1);
    const retrieved = await stripe.events.retrieve(succeeded.data[0]?.id ?? '');
    expect(retrieved.type).toBe('payment_intent.succeeded');
  });

  it('delivers only the types its endpoint subscribes to (enabled_events), set over HTTP under /_sim/ too', async () => {
    const response = await fetch(`${sim.url}/_sim/webhooks/target`, {
      method: 'POST',
      body: JSON.stringify({
        url: receiver.url,
        secrets: [receiver.secret],
        enabledEvents: [...WEBHOOK_ENDPOINT_EVENT_TYPES],
      }),
    });
    expect(response.status).toBe(200);
    await stripe.customers.create({});
    await chargeVisa('o-enabled');
    await sim.flushWebhooks();
    // customer.created and payment_intent.created are not in the project's subscription.
    expect(verifiedTypes()).toEqual(['payment_intent.succeeded']);
    // Stripe still has every event.
    expect((await stripe.events.list()).data.map((e) => e.type)).toEqual([
      'payment_intent.succeeded',
      'payment_intent.created',
      'customer.created',
    ]);
    expect(() =>
      sim.setWebhookTarget({ url: receiver.url, secrets: [receiver.secret], enabledEvents: [] }),
    ).toThrow(/enabledEvents needs at least one type/);
  });
});

describe('webhook faults', () => {
  it('duplicate delivers the same event N times', async () => {
    sim.webhookFaults.add({
      kind: WebhookFaultKind.duplicate,
      eventType: 'payment_intent.succeeded',
      copies: 3,
    });
    await chargeVisa('o-dup');
    await sim.flushWebhooks();
    const ids = receiver.received
      .filter((r) => r.event?.type === 'payment_intent.succeeded')
      .map((r) => r.event?.id);
    expect(ids).toHaveLength(3);
    expect(new Set(ids).size).toBe(1);
  });

  it('reorder holds an event back until the next one has been delivered', async () => {
    sim.webhookFaults.add({ kind: WebhookFaultKind.reorder, eventType: 'payment_intent.created' });
    await chargeVisa('o-reorder');
    await sim.flushWebhooks();
    expect(verifiedTypes()).toEqual(['payment_intent.succeeded', 'payment_intent.created']);
  });

  it('delay delivers late, only once the simulated clock has moved on', async () => {
    sim.webhookFaults.add({
      kind: WebhookFaultKind.delay,
      eventType: 'payment_intent.succeeded',
      delayMs: 3_600_000,
    });
    await chargeVisa('o-delay');
    await sim.flushWebhooks();
    expect(verifiedTypes()).toEqual(['payment_intent.created']);
    sim.advanceTime(3_600_000);
    await sim.flushWebhooks();
    expect(verifiedTypes()).toEqual(['payment_intent.created', 'payment_intent.succeeded']);
  });

  it('drop never delivers the event, and delivery_success=false lists it', async () => {
    sim.webhookFaults.add({ kind: WebhookFaultKind.drop, eventType: 'payment_intent.succeeded' });
    await chargeVisa('o-drop');
    await sim.flushWebhooks();
    expect(verifiedTypes()).toEqual(['payment_intent.created']);
    expect((await stripe.events.list({ delivery_success: false })).data.map((e) => e.type)).toEqual(
      ['payment_intent.succeeded'],
    );
  });

  it('strip_metadata delivers the object without metadata, while /v1/events keeps it', async () => {
    sim.webhookFaults.add({
      kind: WebhookFaultKind.stripMetadata,
      eventType: 'payment_intent.succeeded',
    });
    await chargeVisa('o-strip');
    await sim.flushWebhooks();
    const delivered = receiver.received.find(
      (r) => r.event?.type === 'payment_intent.succeeded',
    )?.event;
    expect((delivered?.data.object as Stripe.PaymentIntent).metadata).toEqual({});
    const listed = (await stripe.events.list({ type: 'payment_intent.succeeded' })).data[0];
    expect((listed?.data.object as Stripe.PaymentIntent).metadata).toMatchObject({
      order_id: 'o-strip',
    });
  });

  it('thin_payload delivers data.object as just id and object', async () => {
    sim.webhookFaults.add({
      kind: WebhookFaultKind.thinPayload,
      eventType: 'payment_intent.succeeded',
    });
    const pi = await chargeVisa('o-thin');
    await sim.flushWebhooks();
    const delivered = receiver.received.find(
      (r) => r.event?.type === 'payment_intent.succeeded',
    )?.event;
    expect(delivered?.data.object).toEqual({ id: pi.id, object: 'payment_intent' });
  });

  it.each([
    [WebhookFaultKind.badSignature, 'No signatures found matching the expected signature'],
    [WebhookFaultKind.staleTimestamp, 'Timestamp outside the tolerance zone'],
  ])(
    '%s is rejected by constructEvent; the retry is signed correctly and accepted',
    async (kind, message) => {
      sim.webhookFaults.add({ kind, eventType: 'customer.created' });
      await stripe.customers.create({});
      await sim.flushWebhooks();
      expect(receiver.received).toHaveLength(1);
      expect(receiver.received[0]?.verificationError).toContain(message);
      sim.advanceTime(60_000);
      await sim.flushWebhooks();
      expect(verifiedTypes()).toEqual(['customer.created']);
    },
  );

  it('future_timestamp signs 15 minutes ahead, which stripe-node constructEvent still accepts (it only rejects old timestamps)', async () => {
    sim.webhookFaults.add({
      kind: WebhookFaultKind.futureTimestamp,
      eventType: 'customer.created',
    });
    const before = Math.floor(Date.now() / 1000);
    await stripe.customers.create({});
    await sim.flushWebhooks();
    const timestamp = Number(/t=(\d+)/.exec(receiver.received[0]?.signature ?? '')?.[1]);
    expect(timestamp).toBeGreaterThanOrEqual(before + 15 * 60);
    expect(receiver.received[0]?.verificationError).toBeUndefined();
  });

  it('webhook faults can be added over HTTP under /_sim/', async () => {
    const response = await fetch(`${sim.url}/_sim/webhooks/faults`, {
      method: 'POST',
      body: JSON.stringify({ kind: 'drop', eventType: 'customer.*' }),
    });
    expect(response.status).toBe(200);
    await stripe.customers.create({});
    await fetch(`${sim.url}/_sim/webhooks/flush`, { method: 'POST' });
    expect(receiver.received).toHaveLength(0);
  });

  it('close() stops deliveries that are still scheduled', async () => {
    receiver.script.push(500);
    await stripe.customers.create({});
    await sim.flushWebhooks();
    await sim.close();
    sim.advanceTime(60_000);
    await sim.flushWebhooks();
    expect(receiver.received).toHaveLength(1);
  });
});
