// The dunning policy (what happens after a decline) and the decline table it relies on. Pure:
// the workflow steps through it deterministically; clients validate overrides with it.
import { fnv1a } from './hash.js';
import { v, type Infer, type Input } from './validate.js';

/**
 * Decline codes that will not succeed on the same payment method, however often it is retried:
 * the campaign waits for a new one. From Stripe's decline-code table
 * (https://docs.stripe.com/declines/codes): the "do not retry / use another card" rows.
 */
export const HARD_DECLINE_CODES = [
  'card_not_supported',
  'currency_not_supported',
  'expired_card',
  'fraudulent',
  'incorrect_cvc',
  'incorrect_number',
  'invalid_account',
  'invalid_cvc',
  'invalid_expiry_month',
  'invalid_expiry_year',
  'invalid_number',
  'lost_card',
  'merchant_blacklist',
  'new_account_information_available',
  'not_permitted',
  'pickup_card',
  'restricted_card',
  'revocation_of_all_authorizations',
  'revocation_of_authorization',
  'security_violation',
  'service_not_allowed',
  'stolen_card',
  'stop_payment_order',
  'transaction_not_allowed',
] as const;

/** Declines the customer must act on (authenticate); off-session retries cannot fix them. */
export const ACTION_REQUIRED_DECLINE_CODES = ['authentication_required'] as const;

/**
 * Stripe's `advice_code` (https://docs.stripe.com/declines/card#retrying-issuer-declines) wins
 * over the decline code when present: it is the issuer's own advice about retrying.
 */
export const ADVICE = {
  try_again_later: 'soft',
  do_not_try_again: 'hard',
  confirm_card_data: 'hard',
} as const satisfies Record<string, DeclineKind>;

/** What a decline means for the campaign. */
export const DeclineKind = {
  /** Retry the same method on the schedule (insufficient funds, generic, do not honor, …). */
  soft: 'soft',
  /** Never retry the same method; wait for a new one. */
  hard: 'hard',
  /** The customer must authenticate or give a new method. */
  actionRequired: 'action_required',
} as const;
export type DeclineKind = (typeof DeclineKind)[keyof typeof DeclineKind];

export const NotifyFailures = { first: 'first', every: 'every', never: 'never' } as const;

/** Stripe's recommended Smart Retries default: 8 tries within 2 weeks (days after each failure). */
export const DEFAULT_RETRY_DELAYS_DAYS = [1, 2, 2, 2, 2, 2, 3];

// Each field once, without defaults: the override schema is exactly these, all optional; the
// policy schema adds the defaults. (A `.partial()` of defaulted fields would fill them in and
// let an override silently reset fields it never mentioned.)
const fields = {
  /** Wait before each retry after a decline, in days (fractions allowed, e.g. 0.001 ≈ 86 s). */
  retryDelaysDays: v
    .array(v.number().positive('retry delays must be positive (days; fractions allowed)').max(60))
    .max(30, 'at most 30 retries'),
  /** Hard cap on payment attempts in any 30-day window; later attempts are delayed. */
  maxAttemptsPer30Days: v
    .number()
    .int()
    .min(1)
    .max(14, 'must stay below the card networks’ limit (Visa: 15 reattempts in 30 days)'),
  /** Each scheduled retry is delayed by a deterministic 0…N minutes so campaigns do not wake together. */
  jitterMinutes: v
    .number()
    .min(0)
    .max(24 * 60),
  hardDeclineCodes: v.array(v.string().min(1)),
  actionRequiredDeclineCodes: v.array(v.string().min(1)),
  /** Name passed to the final-action hook when the campaign gives up or is canceled. */
  finalAction: v.string().min(1),
  /** History length after which a campaign continues as new (also when the server suggests it). */
  continueAsNewAfterEvents: v.number().int().min(50),
};
const notifyFields = {
  paymentFailed: v.enum(NotifyFailures),
  actionRequired: v.boolean(),
  finalWarning: v.boolean(),
  recovered: v.boolean(),
  gaveUp: v.boolean(),
};

export const dunningPolicySchema = v.strictObject({
  retryDelaysDays: fields.retryDelaysDays.default(DEFAULT_RETRY_DELAYS_DAYS),
  maxAttemptsPer30Days: fields.maxAttemptsPer30Days.default(8),
  jitterMinutes: fields.jitterMinutes.default(60),
  hardDeclineCodes: fields.hardDeclineCodes.default([...HARD_DECLINE_CODES]),
  actionRequiredDeclineCodes: fields.actionRequiredDeclineCodes.default([
    ...ACTION_REQUIRED_DECLINE_CODES,
  ]),
  notify: v
    .strictObject({
      paymentFailed: notifyFields.paymentFailed.default('first'),
      actionRequired: notifyFields.actionRequired.default(true),
      finalWarning: notifyFields.finalWarning.default(true),
      recovered: notifyFields.recovered.default(true),
      gaveUp: notifyFields.gaveUp.default(true),
    })
    .defaultInput({}),
  finalAction: fields.finalAction.default('mark_uncollectible'),
  continueAsNewAfterEvents: fields.continueAsNewAfterEvents.default(2_000),
});
export type DunningPolicy = Infer<typeof dunningPolicySchema>;
/** A per-charge or per-deployment override: any subset of the policy, nothing filled in. */
export const dunningOverrideSchema = v
  .strictObject({ ...fields, notify: v.strictObject(notifyFields).partial() })
  .partial();
export type DunningOverride = Input<typeof dunningOverrideSchema>;

/** The default policy. */
export const DEFAULT_DUNNING_POLICY: DunningPolicy = dunningPolicySchema.parse({});

/** Merges overrides, later winning field by field (`notify` too), without validating. */
export function mergeDunningOverrides(
  ...overrides: (DunningOverride | undefined)[]
): DunningOverride {
  const merged: Record<string, unknown> = {};
  for (const override of overrides) {
    for (const [key, value] of Object.entries(override ?? {})) {
      if (value === undefined) continue;
      merged[key] =
        key === 'notify'
          ? { ...(merged.notify as object | undefined), ...(value as object) }
          : value;
    }
  }
  return merged;
}

/** Merges overrides (later wins) over the default policy, validating the result (throws ValidationError). */
export function resolveDunningPolicy(...overrides: (DunningOverride | undefined)[]): DunningPolicy {
  return dunningPolicySchema.parse(mergeDunningOverrides(...overrides));
}

/**
 * Not a Stripe code: the charge has no payment method at all (none given, no customer default).
 * The campaign treats it like a decline the customer must act on.
 */
export const NO_PAYMENT_METHOD = 'no_payment_method';

/** Classifies a decline by the policy: advice code first, then the decline code, then `code`. */
export function classifyDecline(
  error: {
    code?: string | undefined;
    declineCode?: string | undefined;
    adviceCode?: string | undefined;
  },
  policy: Pick<DunningPolicy, 'hardDeclineCodes' | 'actionRequiredDeclineCodes'>,
): DeclineKind {
  const reason = error.declineCode ?? error.code ?? '';
  if (
    policy.actionRequiredDeclineCodes.includes(reason) ||
    error.code === 'authentication_required' ||
    error.code === NO_PAYMENT_METHOD
  ) {
    return DeclineKind.actionRequired;
  }
  const advised = error.adviceCode
    ? (ADVICE as Record<string, DeclineKind>)[error.adviceCode]
    : undefined;
  if (advised) return advised;
  // `expired_card`, `incorrect_cvc`, … arrive as `code` with no decline code.
  if (
    policy.hardDeclineCodes.includes(reason) ||
    policy.hardDeclineCodes.includes(error.code ?? '')
  ) {
    return DeclineKind.hard;
  }
  return DeclineKind.soft;
}

/** Deterministic jitter for `workflowId`'s retry `attempt`: 0 … jitterMinutes, in ms. */
export function jitterMs(workflowId: string, attempt: number, jitterMinutes: number): number {
  const span = Math.round(jitterMinutes * 60_000);
  return span === 0 ? 0 : fnv1a(`${workflowId}#${attempt}`) % (span + 1);
}
