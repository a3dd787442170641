// Schemas for everything that crosses a boundary into a charge: the workflow input, and the
// signal and update payloads. Pure (no zod: see validate.ts), so workflow code and clients share
// them.
import { dunningOverrideSchema } from './dunning.js';
import { v, type Infer, type Input } from './validate.js';

export { describeIssues } from './validate.js';

/** Stripe ids are ASCII words like `cus_123`; we only check their shape, Stripe checks the rest. */
const stripeId = (prefix: string) =>
  v
    .string()
    .regex(
      new RegExp(`^${prefix}_[A-Za-z0-9_]+$`),
      `must be a Stripe id starting with "${prefix}_"`,
    );

export const chargeInputSchema = v.strictObject({
  orderId: v
    .string()
    .min(1, 'must not be empty')
    .max(200, 'must be at most 200 characters')
    .regex(/^[A-Za-z0-9._:-]+$/, 'may contain only letters, digits and . _ : -'),
  customerId: stripeId('cus'),
  amount: v
    .number('must be a number of minor units (cents), e.g. 1999 for 19.99')
    .int('must be a whole number of minor units (cents)')
    .positive('must be positive')
    .max(99_999_999, 'must be at most 99999999 minor units (Stripe’s limit)'),
  currency: v.string().regex(/^[a-z]{3}$/, 'must be a lower-case ISO 4217 code such as "usd"'),
  paymentMethodId: stripeId('pm').optional(),
  description: v.string().max(1000, 'must be at most 1000 characters').optional(),
  metadata: v
    .record(
      v.string().max(40, 'metadata keys must be at most 40 characters'),
      v.string().max(500, 'metadata values must be at most 500 characters'),
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
export type ChargeInput = Input<typeof chargeInputSchema>;
/** A validated input (what the workflow works with). */
export type ParsedChargeInput = Infer<typeof chargeInputSchema>;

/** The compact event the receiver signals (DESIGN.md, Contracts): a wake-up, not the truth. */
export const stripeEventSignalSchema = v.object({
  id: v.string().min(1),
  type: v.string().min(1),
  created: v.number().int().nonnegative(),
  objectId: v.string().min(1),
  account: v.string().optional(),
});
export type StripeEventSignal = Infer<typeof stripeEventSignalSchema>;

export const retryNowSchema = v.strictObject({ paymentMethodId: stripeId('pm').optional() });
export type RetryNowInput = Infer<typeof retryNowSchema>;

export const cancelSchema = v.strictObject({ reason: v.string().min(1, 'must say why').max(500) });
export type CancelInput = Infer<typeof cancelSchema>;
