// Customer notifications: the Notifier seam, the two notifiers that ship (outbox, email), and
// the factory the worker uses to pick one from configuration.
import type Stripe from 'stripe';
import type { Config } from '../config.js';
import { EmailNotifier, stripeRecipientResolver, type ResolveRecipient } from './email.js';
import type { Notifier } from './notifier.js';
import { OutboxNotifier } from './outbox.js';
import { PostgresSentLog } from './outbox-postgres.js';

export * from './notifier.js';
export { OutboxNotifier, type OutboxNotifierOptions } from './outbox.js';
export {
  EmailNotifier,
  messageIdFor,
  stripeRecipientResolver,
  type EmailNotifierOptions,
  type MailTransport,
  type ResolveRecipient,
} from './email.js';
export { OutboxFile, readOutbox, defaultOutboxPath, type OutboxEntry } from './outbox-file.js';
export { PostgresSentLog, NOTIFICATIONS_TABLE, type SentLog } from './outbox-postgres.js';
export { renderNotification, formatAmount, declineReason } from './render.js';

/** The configuration the factory reads. */
export type NotifierConfig = Pick<Config, 'NOTIFIER' | 'OUTBOX_PATH' | 'SMTP_URL' | 'NOTIFY_FROM'> &
  Partial<Pick<Config, 'NOTIFICATIONS_DATABASE_URL'>>;

/** What a notifier may need besides configuration. */
export interface NotifierDependencies {
  /** Reads the customer's email for the email notifier (unless `resolveRecipient` is given). */
  stripe?: Stripe | undefined;
  /** Overrides the Stripe lookup of the recipient. */
  resolveRecipient?: ResolveRecipient | undefined;
}

/**
 * The configured notifier: `outbox` (default) writes OUTBOX_PATH; `email` sends over SMTP_URL
 * from NOTIFY_FROM and keeps its sent-log at OUTBOX_PATH. With NOTIFICATIONS_DATABASE_URL, the
 * outbox and the sent-log are a PostgreSQL table instead (one row per notification id), which
 * workers on several hosts share. Throws, naming what is missing, when the email notifier lacks
 * a setting or a way to find recipients.
 */
export function createNotifier(config: NotifierConfig, deps: NotifierDependencies = {}): Notifier {
  const sentLog = config.NOTIFICATIONS_DATABASE_URL
    ? new PostgresSentLog(config.NOTIFICATIONS_DATABASE_URL)
    : undefined;
  switch (config.NOTIFIER) {
    case 'outbox':
      return new OutboxNotifier({ path: config.OUTBOX_PATH, sentLog });
    case 'email': {
      if (!config.SMTP_URL) throw new Error('NOTIFIER=email needs SMTP_URL (e.g. smtp://host:587)');
      if (!config.NOTIFY_FROM)
        throw new Error('NOTIFIER=email needs NOTIFY_FROM (e.g. "Billing <billing@example.com>")');
      const resolveRecipient =
        deps.resolveRecipient ?? (deps.stripe && stripeRecipientResolver(deps.stripe));
      if (!resolveRecipient)
        throw new Error(
          'NOTIFIER=email needs a Stripe client (or resolveRecipient) to find emails',
        );
      return new EmailNotifier({
        smtpUrl: config.SMTP_URL,
        from: config.NOTIFY_FROM,
        resolveRecipient,
        sentLogPath: config.OUTBOX_PATH,
        sentLog,
      });
    }
  }
}
