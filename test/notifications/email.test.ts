// The email notifier against a real SMTP server started here: what the customer receives, and
// that a retried or concurrent send of one notification id reaches the customer once.
import type Stripe from 'stripe';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  EmailNotifier,
  messageIdFor,
  stripeRecipientResolver,
} from '../../src/notifications/email.js';
import { readOutbox } from '../../src/notifications/outbox-file.js';
import {
  NotificationInProgressError,
  NotificationUndeliverableError,
} from '../../src/notifications/notifier.js';
import { notification, scratchOutbox } from './fixtures.js';
import { startSmtpServer, type SmtpFixture } from './smtp-fixture.js';

const FROM = 'Billing <billing@shop.example>';
const emails: Record<string, string | undefined> = { cus_123: 'ada@customer.example' };

let smtp: SmtpFixture;
let outbox: Awaited<ReturnType<typeof scratchOutbox>>;
const notifiers: EmailNotifier[] = [];

const emailNotifier = () => {
  const notifier = new EmailNotifier({
    smtpUrl: smtp.url,
    from: FROM,
    resolveRecipient: async (customerId) => emails[customerId],
    sentLogPath: outbox.path,
  });
  notifiers.push(notifier);
  return notifier;
};

beforeAll(async () => {
  smtp = await startSmtpServer();
});
afterAll(() => smtp.close());
beforeEach(async () => {
  smtp.received.length = 0;
  outbox = await scratchOutbox();
});
afterEach(async () => {
  await Promise.all(notifiers.splice(0).map((n) => n.close()));
  await outbox.cleanup();
});

describe('EmailNotifier', () => {
  it('emails the rendered notification: recipient, subject, body and a Message-ID from its id', async () => {
    const n = notification();

    expect(await emailNotifier().send(n)).toEqual({ id: n.id, duplicate: false });

    expect(smtp.received).toHaveLength(1);
    const [mail] = smtp.received;
    expect(mail?.envelopeTo).toEqual(['ada@customer.example']);
    expect(mail?.envelopeFrom).toBe('billing@shop.example');
    expect(mail?.headers.get('to')).toBe('ada@customer.example');
    expect(mail?.headers.get('subject')).toBe('Your payment of $12.34 did not go through');
    expect(mail?.headers.get('message-id')).toBe(messageIdFor(n.id, 'shop.example'));
    expect(mail?.headers.get('x-notification-id')).toBe(n.id);
    expect(mail?.text).toContain('We could not collect $12.34 for order order-1 (attempt 2)');
    expect(mail?.text).toContain('We will try again on March 5, 2026');
    expect(mail?.html).toContain('<p>We will try again on March 5, 2026.');

    const [entry] = await readOutbox(outbox.path);
    expect(entry).toMatchObject({
      id: n.id,
      channel: 'email',
      to: 'ada@customer.example',
      messageId: messageIdFor(n.id, 'shop.example'),
    });
  });

  it('a retried send of the same id, here or on another worker, sends nothing', async () => {
    const n = notification();
    await emailNotifier().send(n);

    expect(await emailNotifier().send(n)).toEqual({ id: n.id, duplicate: true });
    expect(await notifiers[0]?.send(n)).toEqual({ id: n.id, duplicate: true });
    expect(smtp.received).toHaveLength(1);
  });

  it('concurrent sends of one id send one email', async () => {
    const notifier = emailNotifier();
    const n = notification();

    const results = await Promise.all(Array.from({ length: 5 }, () => notifier.send(n)));

    expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
    expect(smtp.received).toHaveLength(1);
  });

  it('two workers racing on one id send one email; the other reports a duplicate or waits for the claim', async () => {
    const n = notification();

    const settled = await Promise.allSettled([emailNotifier().send(n), emailNotifier().send(n)]);

    expect(smtp.received).toHaveLength(1);
    const sent = settled.filter((s) => s.status === 'fulfilled' && !s.value.duplicate);
    expect(sent).toHaveLength(1);
    for (const other of settled.filter((s) => !sent.includes(s))) {
      if (other.status === 'rejected')
        expect(other.reason).toBeInstanceOf(NotificationInProgressError);
      else expect(other.value.duplicate).toBe(true);
    }
  });

  it('a transient refusal (451) fails the send, frees the id, and the retry delivers once', async () => {
    const notifier = emailNotifier();
    const n = notification();
    smtp.refuseNext({ code: 451, message: 'try again later' });

    const failure = await notifier.send(n).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(Error);
    expect(failure).not.toBeInstanceOf(NotificationUndeliverableError);
    expect((failure as Error).cause).toMatchObject({ responseCode: 451 });

    expect(await notifier.send(n)).toEqual({ id: n.id, duplicate: false });
    expect(await notifier.send(n)).toEqual({ id: n.id, duplicate: true });
    expect(smtp.received).toHaveLength(1);
  });

  it('a permanent refusal (550) is undeliverable', async () => {
    smtp.refuseNext({ code: 550, message: 'mailbox unavailable' });

    await expect(emailNotifier().send(notification())).rejects.toBeInstanceOf(
      NotificationUndeliverableError,
    );
  });

  it('a customer without an email address is undeliverable and nothing is sent', async () => {
    const n = notification({ customerId: 'cus_without_email' });

    await expect(emailNotifier().send(n)).rejects.toThrow(
      /customer cus_without_email has no email address/,
    );
    expect(smtp.received).toHaveLength(0);
    expect(await readOutbox(outbox.path)).toEqual([]);
  });
});

describe('stripeRecipientResolver', () => {
  const stripeWith = (customer: object) =>
    ({ customers: { retrieve: async () => customer } }) as unknown as Stripe;

  it("reads the Stripe customer's email, and none for a deleted customer", async () => {
    expect(
      await stripeRecipientResolver(stripeWith({ id: 'cus_1', email: 'a@b.example' }))('cus_1'),
    ).toBe('a@b.example');
    expect(
      await stripeRecipientResolver(stripeWith({ id: 'cus_1', email: null }))('cus_1'),
    ).toBeUndefined();
    expect(
      await stripeRecipientResolver(stripeWith({ id: 'cus_1', deleted: true }))('cus_1'),
    ).toBeUndefined();
  });
});
