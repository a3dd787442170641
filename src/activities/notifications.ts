// The notifyCustomer activity: validates the workflow's notification and hands it to the
// injected notifier, translating the notifier's typed errors into typed Temporal failures.
import { ApplicationFailure } from '@temporalio/common';
import {
  NotificationInProgressError,
  NotificationUndeliverableError,
} from '../notifications/notifier.js';
import type { Notifier, NotifierResult } from '../notifications/notifier.js';
import { customerNotificationSchema } from '../notifications/schema.js';
import { NotificationFailureType } from '../shared/notification-failures.js';
import type { CustomerNotification } from '../shared/notifications.js';

export { NotificationFailureType };

/** Notification activities over an injected notifier (outbox, email, or a test fake). */
export function createNotificationActivities(notifier: Notifier) {
  return {
    /**
     * Sends one customer notification, at most once per `notification.id` (the notifier's
     * guarantee; a retry of this activity returns `duplicate: true`). Fails with a typed
     * ApplicationFailure: `NotificationInvalid` and `NotificationUndeliverable` are
     * non-retryable (the campaign should go on without this message); `NotificationInProgress`
     * is retried once another worker's claim on the id has lapsed. Anything else is retried.
     */
    async notifyCustomer(notification: CustomerNotification): Promise<NotifierResult> {
      const parsed = customerNotificationSchema.safeParse(notification);
      if (!parsed.success)
        throw ApplicationFailure.create({
          type: NotificationFailureType.invalid,
          nonRetryable: true,
          message: `invalid notification: ${parsed.error.issues
            .map((issue) => `${issue.path.join('.') || '(notification)'} ${issue.message}`)
            .join('; ')}`,
          cause: parsed.error,
        });
      try {
        return await notifier.send(parsed.data);
      } catch (error) {
        throw toNotificationFailure(error);
      }
    },
  };
}

/** The notifier's typed errors as Temporal failures; anything else unchanged (retried). */
export function toNotificationFailure(error: unknown): unknown {
  if (error instanceof NotificationUndeliverableError)
    return ApplicationFailure.create({
      type: NotificationFailureType.undeliverable,
      nonRetryable: true,
      message: error.message,
      details: [{ notificationId: error.notificationId }],
      cause: error,
    });
  if (error instanceof NotificationInProgressError)
    return ApplicationFailure.create({
      type: NotificationFailureType.inProgress,
      message: error.message,
      nextRetryDelay: error.retryAfterMs,
      details: [{ notificationId: error.notificationId }],
      cause: error,
    });
  return error;
}
