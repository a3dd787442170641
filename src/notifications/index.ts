// Customer notifications: the Notifier seam, the two notifiers that ship (outbox, email), and
// the factory the worker uses to pick one from configuration.
import type Stripe from 'stripe';
import type { Config } from '../config.js';
import { EmailNotifier, stripeRecipientResolver, type ResolveRecipient } from './email.js';
import type { Notifier } from './notifier.js';
import { OutboxNotifier } from './outbox.js';

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
export { renderNotification, formatAmount, declineReason } from './render.js';

/** The configuration the factory reads. */
export type NotifierConfig = Pick<Config, 'NOTIFIER' | 'OUTBOX_PATH' | 'SMTP_URL' | 'NOTIFY_FROM'>;

/** What a notifier may need besides configuration. */
export interface NotifierDependencies {
  /** Reads the customer's email for the email notifier (unless `resolveRecipient` is given). */
  stripe?: Stripe | undefined;
  /** Overrides the Stripe lookup of the recipient. */
  resolveRecipient?: ResolveRecipient | undefined;
}

/**
 * The configured notifier: `outbox` (default) writes OUTBOX_PATH; `email` sends over SMTP_URL
 * from NOTIFY_FROM and keeps its sent-log at OUTBOX_PATH. Throws, naming what is missing, when
 * the email notifier lacks a setting or a way to find recipients.
 */
export function createNotifier(config: NotifierConfig, deps: NotifierDependencies = {}): Notifier {
  switch (config.NOTIFIER) {
    case 'outbox':
      return new OutboxNotifier({ path: config.OUTBOX_PATH });
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
      });
    }
  }
}
