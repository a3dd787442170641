// The notifier seam: what the notifyCustomer activity calls. Implementations (outbox, email, or
// your own) must be idempotent by notification id: the same id never reaches the customer twice.
import type { CustomerNotification } from '../shared/notifications.js';

/** The outcome of one `send`. */
export interface NotifierResult {
  /** The notification id, echoed. */
  id: string;
  /** True when this id was already sent (by this or another worker): nothing was sent now. */
  duplicate: boolean;
}

/**
 * Sends customer notifications, at most once per `CustomerNotification.id` (see each
 * implementation for the exact window). `send` may be called again with the same notification
 * after a crash or retry, possibly concurrently on another worker; it must then report
 * `duplicate: true` instead of sending. It throws to ask for a retry; a
 * `NotificationUndeliverableError` means retrying cannot help.
 */
export interface Notifier {
  send(notification: CustomerNotification): Promise<NotifierResult>;
}

/** Nobody can receive this notification (e.g. no email on the customer); retrying does not help. */
export class NotificationUndeliverableError extends Error {
  override readonly name = 'NotificationUndeliverableError';
  constructor(
    readonly notificationId: string,
    reason: string,
    options?: ErrorOptions,
  ) {
    super(`notification ${notificationId} cannot be delivered: ${reason}`, options);
  }
}

/** Another sender holds this id's claim; retry after `retryAfterMs` (its lease ends by then). */
export class NotificationInProgressError extends Error {
  override readonly name = 'NotificationInProgressError';
  constructor(
    readonly notificationId: string,
    readonly retryAfterMs: number,
  ) {
    super(
      `notification ${notificationId} is being sent by another worker; retry in ${Math.ceil(retryAfterMs / 1000)} s`,
    );
  }
}
