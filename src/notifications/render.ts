// The words of each notification: subject, plain text and simple HTML per kind, with the amount
// formatted from minor units and a short, customer-safe reason for a decline. No secrets, no card
// data: a notification carries neither, and lost/stolen/fraud codes read as a plain decline.
import { NotificationKind, type CustomerNotification } from '../shared/notifications.js';

/** A rendered message. */
export interface RenderedNotification {
  subject: string;
  text: string;
  html: string;
}

/** How to render: locale for numbers and dates, and the time zone of the next-attempt date. */
export interface RenderOptions {
  /** BCP 47 locale; default `en-US`. */
  locale?: string | undefined;
  /** IANA time zone for dates; default `UTC`. */
  timeZone?: string | undefined;
  /** Shown as the sender in the closing line; default `Billing`. */
  senderName?: string | undefined;
}

// Stripe's zero- and three-decimal currencies (https://docs.stripe.com/currencies#zero-decimal);
// every other currency is two-decimal in Stripe's minor units, whatever ISO 4217 says.
const ZERO_DECIMAL = new Set(
  'bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf'.split(' '),
);
const THREE_DECIMAL = new Set('bhd jod kwd omr tnd'.split(' '));

/** Digits after the decimal point of `currency` in Stripe's minor units. */
export function currencyExponent(currency: string): number {
  const code = currency.toLowerCase();
  if (ZERO_DECIMAL.has(code)) return 0;
  if (THREE_DECIMAL.has(code)) return 3;
  return 2;
}

/** `1234, 'usd'` → `$12.34`; `500, 'jpy'` → `¥500`. */
export function formatAmount(amount: number, currency: string, locale = 'en-US'): string {
  const digits = currencyExponent(currency);
  return new Intl.NumberFormat(locale, {
    style: 'currency',
    currency: currency.toUpperCase(),
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  }).format(amount / 10 ** digits);
}

/** An ISO date-time as a long date, e.g. `March 5, 2026`. */
export function formatDate(iso: string, locale = 'en-US', timeZone = 'UTC'): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeZone }).format(new Date(iso));
}

// Short reasons by Stripe decline code (https://docs.stripe.com/declines/codes). Stripe advises
// showing lost_card, stolen_card, pickup_card and fraudulent to the customer as a generic decline.
const DECLINE_REASONS: Readonly<Record<string, string>> = {
  insufficient_funds: 'the card has insufficient funds',
  expired_card: 'the card has expired',
  incorrect_cvc: "the card's security code is incorrect",
  invalid_cvc: "the card's security code is incorrect",
  incorrect_number: 'the card number is incorrect',
  invalid_number: 'the card number is incorrect',
  invalid_expiry_month: "the card's expiry date is incorrect",
  invalid_expiry_year: "the card's expiry date is incorrect",
  card_velocity_exceeded: "the card's limit has been reached",
  withdrawal_count_limit_exceeded: "the card's limit has been reached",
  card_not_supported: 'the card does not support this kind of purchase',
  currency_not_supported: 'the card does not support this currency',
  authentication_required: 'your bank asks you to confirm the payment',
  processing_error: 'the bank could not process the payment',
  try_again_later: 'the bank could not process the payment',
  issuer_not_available: 'the bank could not be reached',
  reenter_transaction: 'the bank could not process the payment',
  do_not_honor: 'the bank declined the payment',
  generic_decline: 'the bank declined the payment',
};

/** A customer-safe reason for a decline code; unknown and sensitive codes read as a plain decline. */
export function declineReason(code: string | undefined): string {
  return (code && DECLINE_REASONS[code]) || 'the card was declined';
}

const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

/** Renders one notification. Pure: the same notification and options give the same message. */
export function renderNotification(
  n: CustomerNotification,
  options: RenderOptions = {},
): RenderedNotification {
  const locale = options.locale ?? 'en-US';
  const amount = formatAmount(n.amount, n.currency, locale);
  const next = n.nextAttemptAt && formatDate(n.nextAttemptAt, locale, options.timeZone ?? 'UTC');
  const reason = declineReason(n.declineCode);
  const order = `order ${n.orderId}`;
  const updateCard = 'To avoid an interruption, please update your payment method.';

  const { subject, paragraphs } = ((): { subject: string; paragraphs: string[] } => {
    switch (n.kind) {
      case NotificationKind.paymentFailed:
        return {
          subject: `Your payment of ${amount} did not go through`,
          paragraphs: [
            `We could not collect ${amount} for ${order} (attempt ${n.attempt}): ${reason}.`,
            next
              ? `We will try again on ${next}. ${updateCard}`
              : `We will not retry this card automatically. ${updateCard}`,
          ],
        };
      case NotificationKind.actionRequired:
        return {
          subject: `Action required: confirm your payment of ${amount}`,
          paragraphs: [
            `Your payment of ${amount} for ${order} needs your attention: ${n.declineCode ? reason : 'your bank asks you to confirm it'}.`,
            'Please confirm the payment or add a new payment method.',
          ],
        };
      case NotificationKind.finalWarning:
        return {
          subject: `Final notice: last attempt to collect ${amount}`,
          paragraphs: [
            `We still could not collect ${amount} for ${order}: ${reason}.`,
            next
              ? `We will make the last attempt on ${next}. ${updateCard}`
              : `The next attempt will be the last. ${updateCard}`,
          ],
        };
      case NotificationKind.recovered:
        return {
          subject: `Payment of ${amount} received, thank you`,
          paragraphs: [`We have received your payment of ${amount} for ${order}. Thank you!`],
        };
      case NotificationKind.gaveUp:
        return {
          subject: `We could not collect your payment of ${amount}`,
          paragraphs: [
            `After ${n.attempt} attempt${n.attempt === 1 ? '' : 's'}, we could not collect ${amount} for ${order}: ${reason}.`,
            'We have stopped retrying. Please contact us to settle the payment.',
          ],
        };
      case NotificationKind.refundFailed:
        return {
          subject: `Your refund of ${amount} could not be completed`,
          paragraphs: [
            `We could not refund ${amount} for ${order} to your original payment method${n.declineCode ? ` (${n.declineCode.replaceAll('_', ' ')})` : ''}.`,
            'Please contact us so that we can return the money another way.',
          ],
        };
    }
  })();

  const sender = options.senderName ?? 'Billing';
  const text = [...paragraphs, `— ${sender}`].join('\n\n') + '\n';
  const html = [
    '<!doctype html>',
    `<html><body style="font-family: sans-serif; line-height: 1.5">`,
    ...paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`),
    `<p>— ${escapeHtml(sender)}</p>`,
    '</body></html>',
    '',
  ].join('\n');
  return { subject, text, html };
}
