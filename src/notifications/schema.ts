// The notification payload as it crosses a boundary (workflow → activity, outbox file → reader):
// one zod schema matching the contract in src/shared/notifications.ts.
import { z } from 'zod';
import { NotificationKind, type CustomerNotification } from '../shared/notifications.js';

const nonEmpty = z.string().min(1, 'must not be empty');

/** Parses a `CustomerNotification`; an error's path names the bad field. */
export const customerNotificationSchema = z.object({
  id: nonEmpty.max(255, 'must be at most 255 characters'),
  kind: z.enum(Object.values(NotificationKind) as [NotificationKind, ...NotificationKind[]]),
  orderId: nonEmpty,
  customerId: nonEmpty,
  paymentIntentId: z.string().optional(),
  amount: z.number().int('must be a whole number of minor units').nonnegative('must be ≥ 0'),
  currency: z
    .string()
    .regex(/^[a-zA-Z]{3}$/, 'must be a three-letter ISO currency code such as usd'),
  attempt: z.number().int('must be a whole number').nonnegative('must be ≥ 0'),
  nextAttemptAt: z.iso.datetime({ offset: true, error: 'must be an ISO date-time' }).optional(),
  declineCode: z.string().optional(),
}) satisfies z.ZodType<CustomerNotification>;
