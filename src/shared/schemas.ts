// Schemas for everything that crosses a boundary into a charge: the workflow input, and the
// signal and update payloads. Pure (zod only), so workflow code and clients share them.
import { z } from 'zod';
import { dunningOverrideSchema } from './dunning.js';

/** Stripe ids are ASCII words like `cus_123`; we only check their shape, Stripe checks the rest. */
const stripeId = (prefix: string) =>
  z
    .string()
    .regex(
      new RegExp(`^${prefix}_[A-Za-z0-9_]+$`),
      `must be a Stripe id starting with "${prefix}_"`,
    );

export const chargeInputSchema = z.strictObject({
  orderId: z
    .string()
    .min(1, 'must not be empty')
    .max(200, 'must be at most 200 characters')
    .regex(/^[A-Za-z0-9._:-]+$/, 'may contain only letters, digits and . _ : -'),
  customerId: stripeId('cus'),
  amount: z
    .number({ error: 'must be a number of minor units (cents), e.g. 1999 for 19.99' })
    .int('must be a whole number of minor units (cents)')
    .positive('must be positive')
    .max(99_999_999, 'must be at most 99999999 minor units (Stripe’s limit)'),
  currency: z.string().regex(/^[a-z]{3}$/, 'must be a lower-case ISO 4217 code such as "usd"'),
  paymentMethodId: stripeId('pm').optional(),
  description: z.string().max(1000, 'must be at most 1000 characters').optional(),
  metadata: z
    .record(
      z.string().max(40, 'metadata keys must be at most 40 characters'),
      z.string().max(500, 'metadata values must be at most 500 characters'),
    )
    .refine((m) => Object.keys(m).length <= 40, 'must have at most 40 keys (two are reserved)')
    .refine(
      (m) => !('workflow_id' in m) && !('order_id' in m),
      'must not set workflow_id or order_id (reserved)',
    )
    .optional(),
  /** Overrides of the dunning policy for this charge (see DunningPolicy). */
  dunning: dunningOverrideSchema.optional(),
});
/** What app code passes (defaults not yet applied). */
export type ChargeInput = z.input<typeof chargeInputSchema>;
/** A validated input (what the workflow works with). */
export type ParsedChargeInput = z.infer<typeof chargeInputSchema>;

/** The compact event the receiver signals (DESIGN.md, Contracts): a wake-up, not the truth. */
export const stripeEventSignalSchema = z.object({
  id: z.string().min(1),
  type: z.string().min(1),
  created: z.number().int().nonnegative(),
  objectId: z.string().min(1),
  account: z.string().optional(),
});
export type StripeEventSignal = z.infer<typeof stripeEventSignalSchema>;

export const retryNowSchema = z.strictObject({ paymentMethodId: stripeId('pm').optional() });
export type RetryNowInput = z.infer<typeof retryNowSchema>;

export const cancelSchema = z.strictObject({ reason: z.string().min(1, 'must say why').max(500) });
export type CancelInput = z.infer<typeof cancelSchema>;

/** Formats zod issues as `field: problem; field: problem`, naming each field. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`).join('; ');
}
