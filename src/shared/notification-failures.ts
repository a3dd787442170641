// Failure types the notifyCustomer activity raises. Pure, so the workflow can switch on them;
// the notifiers that produce them live in src/notifications/.

/** The `type` of every ApplicationFailure the notification activity throws. */
export const NotificationFailureType = {
  /** The notification payload does not parse (our bug): non-retryable; details name the field. */
  invalid: 'NotificationInvalid',
  /** Nobody to send to (e.g. the Stripe customer has no email): non-retryable; the campaign goes on. */
  undeliverable: 'NotificationUndeliverable',
  /** Another worker holds the send of this id right now: retried after its lease. */
  inProgress: 'NotificationInProgress',
} as const;
export type NotificationFailureType =
  (typeof NotificationFailureType)[keyof typeof NotificationFailureType];
