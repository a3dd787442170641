// The email notifier: renders each notification and sends it over SMTP with nodemailer, once
// per id. The outbox file doubles as its durable sent-log: claim the id, send, record it; a
// retry finds the record and sends nothing.
import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { createTransport, type NodemailerError, type SendMailOptions } from 'nodemailer';
import type Stripe from 'stripe';
import { toActivityFailure } from '../activities/stripe-errors.js';
import type { CustomerNotification } from '../shared/notifications.js';
import {
  NotificationInProgressError,
  NotificationUndeliverableError,
  type Notifier,
  type NotifierResult,
} from './notifier.js';
import { OutboxFile, defaultOutboxPath } from './outbox-file.js';
import type { SentLog } from './outbox-postgres.js';
import { renderNotification, type RenderOptions } from './render.js';

/** Finds the customer's email address; `undefined` when there is none (nothing is sent). */
export type ResolveRecipient = (customerId: string) => Promise<string | undefined>;

/** The part of a nodemailer transporter the notifier uses (inject your own, e.g. a pool). */
export interface MailTransport {
  sendMail(message: SendMailOptions): Promise<{ messageId: string }>;
  close(): void;
}

/**
 * How long a sender holds an id while its SMTP exchange runs. Another worker retrying the same
 * id waits this long before sending it again, so it must outlast the SMTP timeouts below.
 */
export const DEFAULT_SEND_LEASE_MS = 120_000;

/** SMTP timeouts, well inside the lease (nodemailer's defaults run to minutes). */
export const SMTP_TIMEOUTS = {
  connectionTimeout: 10_000,
  greetingTimeout: 10_000,
  socketTimeout: 30_000,
} as const;

/** Options of `EmailNotifier`. */
export interface EmailNotifierOptions {
  /** `smtp://host:port` or `smtps://user:pass@host:465`; or pass `transport` instead. */
  smtpUrl?: string | undefined;
  /** A ready transport; takes precedence over `smtpUrl`. */
  transport?: MailTransport | undefined;
  /** The From header, e.g. `Billing <billing@example.com>`. */
  from: string;
  /** The customer's email address, by Stripe customer id. */
  resolveRecipient: ResolveRecipient;
  /** The sent-log (an outbox file); default `defaultOutboxPath()`. */
  sentLogPath?: string | undefined;
  /** Another sent-log store: `PostgresSentLog` (NOTIFICATIONS_DATABASE_URL) for several hosts. */
  sentLog?: SentLog | undefined;
  /** Domain of the derived Message-ID; default the From address's domain. */
  messageIdDomain?: string | undefined;
  /** Locale, time zone and sender name of the rendered message. */
  render?: RenderOptions | undefined;
  /** See `DEFAULT_SEND_LEASE_MS`. */
  leaseMs?: number | undefined;
}

/**
 * The Message-ID of a notification's email: a hash of its id, so every retry of one notification
 * carries the same Message-ID (which many mailbox providers also deduplicate on).
 */
export function messageIdFor(notificationId: string, domain: string): string {
  const digest = createHash('sha256').update(notificationId).digest('hex').slice(0, 40);
  return `<notify.${digest}@${domain}>`;
}

const domainOf = (from: string) => /@([^\s>]+)>?\s*$/.exec(from)?.[1];

/** The default recipient: the Stripe customer's `email` (none for a deleted customer). */
export function stripeRecipientResolver(stripe: Stripe): ResolveRecipient {
  return async (customerId) => {
    try {
      const customer = await stripe.customers.retrieve(customerId);
      return customer.deleted ? undefined : (customer.email ?? undefined);
    } catch (error) {
      // The one Stripe outcome table decides whether the activity retries.
      throw toActivityFailure(error);
    }
  };
}

/**
 * Emails notifications, at most once per id except in one window: a crash (or a lost disk)
 * after the SMTP server accepted the message and before the sent-log recorded it. The id's claim
 * then lapses after `leaseMs` and a retry sends again (at-least-once, same Message-ID).
 *
 * Per send: claim the id in the sent-log (another live claim → `NotificationInProgressError`, a
 * record → `duplicate: true`), resolve the recipient (none → `NotificationUndeliverableError`),
 * send, record (fsync), answer. A failed send releases the claim so a retry goes at once.
 */
export class EmailNotifier implements Notifier {
  readonly sentLog: SentLog;
  readonly #transport: MailTransport;
  readonly #from: string;
  readonly #resolveRecipient: ResolveRecipient;
  readonly #domain: string;
  readonly #render: RenderOptions;
  readonly #leaseMs: number;
  readonly #inFlight = new Map<string, Promise<NotifierResult>>();

  constructor(options: EmailNotifierOptions) {
    if (!options.transport && !options.smtpUrl)
      throw new Error('EmailNotifier needs SMTP_URL (smtpUrl) or a transport');
    this.#transport =
      options.transport ?? createTransport({ url: options.smtpUrl, ...SMTP_TIMEOUTS });
    this.#from = options.from;
    this.#resolveRecipient = options.resolveRecipient;
    this.#domain = options.messageIdDomain ?? domainOf(options.from) ?? 'durable-billing.invalid';
    this.#render = options.render ?? {};
    this.#leaseMs = options.leaseMs ?? DEFAULT_SEND_LEASE_MS;
    this.sentLog = options.sentLog ?? new OutboxFile(options.sentLogPath ?? defaultOutboxPath());
  }

  async send(notification: CustomerNotification): Promise<NotifierResult> {
    // Same id concurrently in this process: one sends, the others wait and report a duplicate.
    const running = this.#inFlight.get(notification.id);
    if (running) return running.then(({ id }) => ({ id, duplicate: true }));
    const run = this.#send(notification).finally(() => this.#inFlight.delete(notification.id));
    this.#inFlight.set(notification.id, run);
    return run;
  }

  async #send(notification: CustomerNotification): Promise<NotifierResult> {
    const { id } = notification;
    const claim = await this.sentLog.claim(id, this.#leaseMs);
    if (claim.outcome === 'sent') return { id, duplicate: true };
    if (claim.outcome === 'busy') throw new NotificationInProgressError(id, claim.retryAfterMs);

    const messageId = messageIdFor(id, this.#domain);
    let to: string | undefined;
    try {
      to = await this.#resolveRecipient(notification.customerId);
      if (!to)
        throw new NotificationUndeliverableError(
          id,
          `customer ${notification.customerId} has no email address; add one in Stripe`,
        );
      await this.#transport.sendMail({
        from: this.#from,
        to,
        messageId,
        headers: { 'X-Notification-Id': id },
        ...renderNotification(notification, this.#render),
      });
    } catch (error) {
      await this.#release(id, claim.token, error);
      throw this.#explain(id, error);
    }
    // Accepted by the SMTP server; a crash before this line is fsynced is the at-least-once window.
    await this.sentLog.recordSent({ id, channel: 'email', notification, messageId, to });
    return { id, duplicate: false };
  }

  async #release(id: string, token: string, error: unknown): Promise<void> {
    const reason = error instanceof Error ? error.message : String(error);
    try {
      await this.sentLog.release(id, token, reason);
    } catch (releaseError) {
      // Both matter: the send failed, and the claim now lapses only after its lease.
      throw new AggregateError(
        [error, releaseError],
        `notification ${id}: sending failed, then releasing its claim failed (a retry waits for the lease)`,
        { cause: error },
      );
    }
  }

  /** A permanent SMTP rejection (5xx) is undeliverable; anything else stays retryable. */
  #explain(id: string, error: unknown): unknown {
    if (error instanceof NotificationUndeliverableError) return error;
    const smtp = error as NodemailerError;
    if (smtp.permanent === true)
      return new NotificationUndeliverableError(
        id,
        `the SMTP server refused it (${smtp.responseCode ?? '5xx'}); check the recipient and NOTIFY_FROM`,
        { cause: error },
      );
    // A Stripe failure from the recipient lookup keeps the outcome table's retry decision.
    if (error instanceof ApplicationFailure) return error;
    return new Error(`notification ${id}: sending the email failed; it will be retried`, {
      cause: error,
    });
  }

  /** Closes the SMTP transport and the sent-log. */
  async close(): Promise<void> {
    this.#transport.close();
    await this.sentLog.close();
  }
}
