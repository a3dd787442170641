// The words of each notification: every kind renders its amount, order and dates; amounts come
// from Stripe's minor units per currency; decline reasons are short and never reveal fraud flags.
import { describe, expect, it } from 'vitest';
import {
  currencyExponent,
  declineReason,
  formatAmount,
  renderNotification,
} from '../../src/notifications/render.js';
import { NotificationKind } from '../../src/shared/notifications.js';
import { notification } from './fixtures.js';

describe('renderNotification', () => {
  const expected: Record<NotificationKind, { subject: string; body: string[] }> = {
    payment_failed: {
      subject: 'Your payment of $12.34 did not go through',
      body: [
        '(attempt 2)',
        'the card has insufficient funds',
        'We will try again on March 5, 2026',
      ],
    },
    action_required: {
      subject: 'Action required: confirm your payment of $12.34',
      body: ['your bank asks you to confirm the payment', 'add a new payment method'],
    },
    final_warning: {
      subject: 'Final notice: last attempt to collect $12.34',
      body: ['We will make the last attempt on March 5, 2026'],
    },
    recovered: {
      subject: 'Payment of $12.34 received, thank you',
      body: ['We have received your payment of $12.34 for order order-1'],
    },
    gave_up: {
      subject: 'We could not collect your payment of $12.34',
      body: ['After 4 attempts', 'We have stopped retrying'],
    },
    refund_failed: {
      subject: 'Your refund of $12.34 could not be completed',
      body: ['We could not refund $12.34 for order order-1', '(insufficient funds)'],
    },
  };

  it.each(Object.values(NotificationKind))(
    'renders %s with its amount, order and dates',
    (kind) => {
      const declineCode =
        kind === NotificationKind.actionRequired ? 'authentication_required' : 'insufficient_funds';
      const attempt = kind === NotificationKind.gaveUp ? 4 : 2;
      const rendered = renderNotification(notification({ kind, attempt, declineCode }));

      expect(rendered.subject).toBe(expected[kind].subject);
      for (const fragment of expected[kind].body) {
        expect(rendered.text).toContain(fragment);
        expect(rendered.html).toContain(fragment);
      }
      expect(rendered.text).toContain('order-1');
    },
  );

  it('says when no retry is scheduled, and dates follow the given time zone', () => {
    const last = renderNotification(notification({ nextAttemptAt: undefined }));
    expect(last.text).toContain('We will not retry this card automatically');

    const late = notification({ nextAttemptAt: '2026-03-05T23:30:00Z' });
    expect(renderNotification(late).text).toContain('March 5, 2026');
    expect(renderNotification(late, { timeZone: 'Asia/Tokyo' }).text).toContain('March 6, 2026');
  });

  it('escapes app-supplied text in the HTML part', () => {
    const { html } = renderNotification(notification({ orderId: '<script>x</script>' }));
    expect(html).toContain('&lt;script&gt;x&lt;/script&gt;');
    expect(html).not.toContain('<script>');
  });
});

describe('formatAmount', () => {
  it.each([
    [1234, 'usd', 'en-US', '$12.34'],
    [500, 'jpy', 'en-US', '¥500'],
    [1234, 'kwd', 'en-US', 'KWD\u00a01.234'],
    [1234, 'eur', 'de-DE', '12,34\u00a0€'],
    [100000, 'huf', 'en-US', 'HUF\u00a01,000.00'],
  ])('%i minor units of %s (%s) → %s', (amount, currency, locale, shown) => {
    expect(formatAmount(amount, currency, locale)).toBe(shown);
  });

  it("follows Stripe's zero- and three-decimal currency lists", () => {
    expect([currencyExponent('JPY'), currencyExponent('krw'), currencyExponent('bhd')]).toEqual([
      0, 0, 3,
    ]);
    expect(currencyExponent('usd')).toBe(2);
  });
});

describe('declineReason', () => {
  it('gives a short reason for common codes', () => {
    expect(declineReason('insufficient_funds')).toBe('the card has insufficient funds');
    expect(declineReason('expired_card')).toBe('the card has expired');
  });

  it('shows lost, stolen and fraud codes (and unknown ones) as a plain decline', () => {
    for (const code of [
      'lost_card',
      'stolen_card',
      'pickup_card',
      'fraudulent',
      'new_code',
      undefined,
    ])
      expect(declineReason(code)).toBe('the card was declined');
  });
});
