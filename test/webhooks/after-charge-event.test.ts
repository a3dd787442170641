// The routes of refund and dispute events (issue 14): refunds by the refund workflow their
// metadata names, disputes by their own id; anything unusable is `other` (kept as unmatched).
import { describe, expect, it } from 'vitest';
import { stripeWebhookEventSchema, toRoutedEvent } from '../../src/webhooks/event.js';

const event = (type: string, object: Record<string, unknown>) =>
  stripeWebhookEventSchema.parse({
    id: 'evt_1',
    object: 'event',
    type,
    created: 1,
    data: { object },
  });

describe('refund and dispute routes', () => {
  it('routes a refund event to the refund workflow its metadata names', () => {
    const routed = toRoutedEvent(
      event('refund.failed', {
        id: 're_1',
        object: 'refund',
        metadata: { workflow_id: 'refund:ord-1:rf-1', order_id: 'ord-1', refund_id: 'rf-1' },
      }),
    );
    expect(routed.route).toEqual({
      kind: 'refund',
      refundId: 're_1',
      workflowId: 'refund:ord-1:rf-1',
      failed: true,
    });
    expect(routed.signal).toMatchObject({ type: 'refund.failed', objectId: 're_1' });
  });

  it('marks a failure (refund.failed, or status failed) and carries a Stripe refund reason', () => {
    const failedUpdate = event('refund.updated', {
      id: 're_4',
      status: 'failed',
      reason: 'requested_by_customer',
    });
    expect(toRoutedEvent(failedUpdate).route).toEqual({
      kind: 'refund',
      refundId: 're_4',
      failed: true,
      reason: 'requested_by_customer',
    });
    // Not a failure, and a reason that is not one of the three: neither is carried.
    expect(
      toRoutedEvent(
        event('refund.updated', { id: 're_5', status: 'succeeded', reason: 'expired_uncaptured' }),
      ).route,
    ).toEqual({ kind: 'refund', refundId: 're_5' });
  });

  it('keeps a refund without (or with a foreign) workflow id routable by its id only', () => {
    expect(toRoutedEvent(event('refund.updated', { id: 're_2' })).route).toEqual({
      kind: 'refund',
      refundId: 're_2',
    });
    expect(
      toRoutedEvent(
        event('refund.updated', { id: 're_3', metadata: { workflow_id: 'charge:ord-1' } }),
      ).route,
    ).toEqual({ kind: 'refund', refundId: 're_3' });
    expect(toRoutedEvent(event('refund.created', { id: 'not-a-refund' })).route).toEqual({
      kind: 'other',
    });
  });

  it('routes every charge.dispute.* event by the dispute id', () => {
    for (const type of [
      'charge.dispute.created',
      'charge.dispute.updated',
      'charge.dispute.closed',
    ])
      expect(toRoutedEvent(event(type, { id: 'dp_1', object: 'dispute' })).route).toEqual({
        kind: 'dispute',
        disputeId: 'dp_1',
      });
    expect(toRoutedEvent(event('charge.dispute.created', { id: "dp_1' OR 1=1" })).route).toEqual({
      kind: 'other',
    });
  });

  it('leaves charge.refunded and other charge events as they were', () => {
    expect(toRoutedEvent(event('charge.refunded', { id: 'ch_1' })).route).toEqual({
      kind: 'other',
    });
  });
});
