// Unit: signature verification (secrets in rotation, the timestamp window in both directions,
// body and header shapes) and how a verified event is reduced to a signal and a route.
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { stripeWebhookEventSchema, toRoutedEvent } from '../../src/webhooks/event.js';
import { createStripeWebhookHandler } from '../../src/webhooks/handler.js';
import { verifyStripeWebhook } from '../../src/webhooks/verify.js';

const NOW = Date.UTC(2026, 10, 24, 12, 0, 0);
const T = NOW / 1000;
const event = (type: string, object: Record<string, unknown>, extra: object = {}) => ({
  id: 'evt_unit_1',
  object: 'event',
  type,
  created: T - 10,
  data: { object },
  ...extra,
});
const body = JSON.stringify(
  event('payment_intent.succeeded', { id: 'pi_1', object: 'payment_intent' }),
);
const sign = (secret: string, timestamp = T, payload = body) =>
  Stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp });
const verify = (header: string | undefined, secrets = ['whsec_new', 'whsec_old'], payload = body) =>
  verifyStripeWebhook(payload, header, { secrets, now: () => NOW });

describe('verifyStripeWebhook', () => {
  it('accepts any configured secret and says which one matched', () => {
    expect(verify(sign('whsec_new'))).toMatchObject({ ok: true, secretIndex: 0 });
    expect(verify(sign('whsec_old'))).toMatchObject({ ok: true, secretIndex: 1 });
    expect(verify(sign('whsec_other'))).toMatchObject({ ok: false, reason: 'signature_mismatch' });
  });

  it('allows 300 s of skew either way and rejects 301 s, past or future', () => {
    expect(verify(sign('whsec_new', T - 300)).ok).toBe(true);
    expect(verify(sign('whsec_new', T + 300)).ok).toBe(true);
    expect(verify(sign('whsec_new', T - 301))).toMatchObject({
      ok: false,
      reason: 'timestamp_too_old',
    });
    expect(verify(sign('whsec_new', T + 301))).toMatchObject({
      ok: false,
      reason: 'timestamp_in_future',
    });
  });

  it('rejects missing and malformed headers, non-JSON and non-event bodies', () => {
    expect(verify(undefined)).toMatchObject({ reason: 'missing_signature' });
    expect(verify(`t=${T}`)).toMatchObject({ reason: 'malformed_signature' });
    expect(verify(`t=${T},t=${T},v1=ab`)).toMatchObject({ reason: 'malformed_signature' });
    expect(verify('t=soon,v1=ab')).toMatchObject({ reason: 'malformed_signature' });
    expect(verify(sign('whsec_new', T, '{nope'), undefined, '{nope')).toMatchObject({
      reason: 'malformed_body',
    });
    expect(verify(sign('whsec_new', T, '[1,2]'), undefined, '[1,2]')).toMatchObject({
      reason: 'invalid_event',
    });
  });

  it('the handler refuses to exist without a secret (it never accepts unsigned events)', () => {
    expect(() =>
      createStripeWebhookHandler({ client: {} as never, secrets: [''], taskQueue: 'billing' }),
    ).toThrow(/STRIPE_WEBHOOK_SECRET/);
  });
});

describe('toRoutedEvent', () => {
  const routed = (e: unknown) => toRoutedEvent(stripeWebhookEventSchema.parse(e));

  it('PaymentIntent events: the intent, and metadata.workflow_id only if it is a charge workflow id', () => {
    expect(
      routed(
        event('payment_intent.succeeded', { id: 'pi_1', metadata: { workflow_id: 'charge:o1' } }),
      ),
    ).toEqual({
      signal: {
        id: 'evt_unit_1',
        type: 'payment_intent.succeeded',
        created: T - 10,
        objectId: 'pi_1',
      },
      route: { kind: 'payment_intent', paymentIntentId: 'pi_1', workflowId: 'charge:o1' },
    });
    expect(
      routed(
        event('payment_intent.processing', { id: 'pi_1', metadata: { workflow_id: 'other:o1' } }),
      ).route,
    ).toEqual({ kind: 'payment_intent', paymentIntentId: 'pi_1' });
    expect(
      routed(event('payment_intent.canceled', { id: 'pi_1', object: 'payment_intent' })).route,
    ).toEqual({ kind: 'payment_intent', paymentIntentId: 'pi_1' });
    // An id that could not go into a visibility query safely is not routed by it.
    expect(routed(event('payment_intent.canceled', { id: "pi_1' OR 'a'='a" })).route).toEqual({
      kind: 'other',
    });
    // No workflow needs payment_intent.created (a charge made the intent itself).
    expect(
      routed(
        event('payment_intent.created', { id: 'pi_1', metadata: { workflow_id: 'charge:o1' } }),
      ).route,
    ).toEqual({ kind: 'other' });
  });

  it("PaymentIntent events caused by the charge's own confirm or cancel carry its key (awaitedKey)", () => {
    const metadata = { workflow_id: 'charge:o1' };
    const caused = (key: string | null, workflowId = 'charge:o1') =>
      routed(
        event(
          'payment_intent.succeeded',
          { id: 'pi_1', metadata: { workflow_id: workflowId } },
          { request: { id: 'req_1', idempotency_key: key } },
        ),
      ).route;
    const confirm = 'db/charge:o1/0193a5b2-7c1e-7d2a-9f3b-1c2d3e4f5a6b/confirm/1';
    expect(caused(confirm)).toEqual({
      kind: 'payment_intent',
      paymentIntentId: 'pi_1',
      workflowId: 'charge:o1',
      awaitedKey: confirm,
    });
    const plain = { kind: 'payment_intent', paymentIntentId: 'pi_1', workflowId: 'charge:o1' };
    // Stripe's own (a settlement), an app's key, another charge's key, or the order's create key.
    expect(caused(null)).toEqual(plain);
    expect(caused('9b2f7c4e-1a3d-4e5f-8a6b-7c8d9e0f1a2b')).toEqual(plain);
    expect(caused(confirm.replace('charge:o1', 'charge:o2'))).toEqual(plain);
    expect(caused('db/charge:o1/create/0')).toEqual(plain);
    expect(routed(event('payment_intent.succeeded', { id: 'pi_1', metadata })).route).toEqual(
      plain,
    );
    // Without the charge's id in the metadata, nothing says whose key it is.
    expect(caused(confirm, 'other:o1')).toEqual({
      kind: 'payment_intent',
      paymentIntentId: 'pi_1',
    });
  });

  it('customer-level events: the customer; customer.updated only when the default payment method changed', () => {
    expect(
      routed(event('payment_method.attached', { id: 'pm_1', customer: 'cus_1' })).route,
    ).toEqual({ kind: 'customer', customerId: 'cus_1' });
    expect(
      routed(event('setup_intent.succeeded', { id: 'seti_1', customer: { id: 'cus_2' } })).route,
    ).toEqual({ kind: 'customer', customerId: 'cus_2' });
    expect(
      routed(event('payment_method.attached', { id: 'pm_1', object: 'payment_method' })).route,
    ).toEqual({ kind: 'customer' });
    const changed = event(
      'customer.updated',
      { id: 'cus_3' },
      {
        data: {
          object: { id: 'cus_3' },
          previous_attributes: { invoice_settings: { default_payment_method: null } },
        },
      },
    );
    expect(routed(changed).route).toEqual({ kind: 'customer', customerId: 'cus_3' });
    const renamed = event(
      'customer.updated',
      { id: 'cus_3' },
      { data: { object: { id: 'cus_3' }, previous_attributes: { name: 'Old' } } },
    );
    expect(routed(renamed).route).toEqual({ kind: 'other' });
  });

  it('everything else is `other`, with the Connect account carried along', () => {
    expect(routed(event('invoice.paid', { id: 'in_1' }, { account: 'acct_1' }))).toEqual({
      signal: {
        id: 'evt_unit_1',
        type: 'invoice.paid',
        created: T - 10,
        objectId: 'in_1',
        account: 'acct_1',
      },
      route: { kind: 'other' },
    });
    expect(routed(event('balance.available', { object: 'balance' })).signal.objectId).toBe(
      'balance',
    );
  });
});
