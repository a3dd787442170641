// src/shared/schemas.ts ported to valibot 1.x, for the schema-cost profile (bench/schema-cost.ts):
// chargeInputSchema (with the dunning override), the stripeEvent signal, and the retryNow and
// cancel payloads. Same fields, rules and messages, so the profile compares like with like;
// test/bench/schema-cost.test.ts checks it on a table of inputs against the project's schemas.
//
// What valibot does differently, and how the port keeps validate.ts's behaviour:
// - Its objects and records accept arrays (`typeof input === 'object'`): every object here is
//   behind a plain-object check, as validate.ts's are.
// - `v.number()` accepts Infinity: numbers here are a finite-number `custom` (validate.ts's
//   number type), so Infinity stops at the type as it does there.
// - A missing field is an issue of the object (its message), not of the field: the one field
//   with its own type message (amount) is passed to the object.
// - Default messages are valibot's ("Invalid type: Expected ..."): type messages here are
//   validate.ts's ("is required", "expected a string, got number", "is not a known field").
// - Two rules on one value both run in a pipe; validate.ts's chained refines stop at the first
//   failure, so the metadata rules are one rawCheck.
// Left as they are (both reject, with fewer or other issues): a strict object names only its
// first unknown field; an over-long array reports its bad items, not its length.
import * as v from 'valibot';

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number' && Number.isNaN(value)) return 'NaN';
  return typeof value;
}

/** validate.ts's type message: "is required" for a missing value, else what was expected. */
const expected =
  (what: string) =>
  (issue: v.BaseIssue<unknown>): string =>
    issue.input === undefined ? 'is required' : `expected ${what}, got ${typeName(issue.input)}`;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const plainObject = v.custom<Record<string, unknown>>(isPlainObject, expected('an object'));

/**
 * Object issues: an unknown field is named; a missing one is required, or gets its field's own
 * type message (`required`: valibot reports a missing field on the object, not the field).
 */
const objectMessage =
  (required: Record<string, string>) =>
  (issue: v.BaseIssue<unknown>): string => {
    if (issue.expected === 'never') return 'is not a known field';
    const key = issue.path?.[0]?.key;
    const own = typeof key === 'string' && issue.input === undefined ? required[key] : undefined;
    return own ?? expected('an object')(issue);
  };

const strictObject = <E extends v.ObjectEntries>(entries: E, required = {}) =>
  v.pipe(plainObject, v.strictObject(entries, objectMessage(required)));
const looseObject = <E extends v.ObjectEntries>(entries: E) =>
  v.pipe(plainObject, v.object(entries, objectMessage({})));

const string = () => v.string(expected('a string'));
/** A finite number (v.number() accepts Infinity; validate.ts's number type does not). */
const number = (message?: string) =>
  v.custom<number>(
    (value) => typeof value === 'number' && Number.isFinite(value),
    message ?? expected('a number'),
  );
const boolean = () => v.boolean(expected('true or false'));

/** Stripe ids are ASCII words like `cus_123`; we only check their shape, Stripe checks the rest. */
const stripeId = (prefix: string) =>
  v.pipe(
    string(),
    v.regex(
      new RegExp(`^${prefix}_[A-Za-z0-9_]+$`),
      `must be a Stripe id starting with "${prefix}_"`,
    ),
  );

const notifyFailures = ['first', 'every', 'never'] as const;

/** dunningOverrideSchema (src/shared/dunning.ts): any subset of the policy, nothing filled in. */
export const dunningOverrideSchema = strictObject({
  retryDelaysDays: v.optional(
    v.pipe(
      v.array(
        v.pipe(
          number(),
          v.gtValue(0, 'retry delays must be positive (days; fractions allowed)'),
          v.maxValue(60, 'must be at most 60'),
        ),
        expected('an array'),
      ),
      v.maxLength(30, 'at most 30 retries'),
    ),
  ),
  maxAttemptsPer30Days: v.optional(
    v.pipe(
      number(),
      v.integer('must be a whole number'),
      v.minValue(1, 'must be at least 1'),
      v.maxValue(14, 'must stay below the card networks’ limit (Visa: 15 reattempts in 30 days)'),
    ),
  ),
  jitterMinutes: v.optional(
    v.pipe(number(), v.minValue(0, 'must be at least 0'), v.maxValue(1440, 'must be at most 1440')),
  ),
  hardDeclineCodes: v.optional(
    v.array(
      v.pipe(string(), v.minLength(1, 'must be at least 1 characters')),
      expected('an array'),
    ),
  ),
  actionRequiredDeclineCodes: v.optional(
    v.array(
      v.pipe(string(), v.minLength(1, 'must be at least 1 characters')),
      expected('an array'),
    ),
  ),
  notify: v.optional(
    strictObject({
      paymentFailed: v.optional(
        v.picklist(notifyFailures, 'must be one of "first", "every", "never"'),
      ),
      actionRequired: v.optional(boolean()),
      finalWarning: v.optional(boolean()),
      recovered: v.optional(boolean()),
      gaveUp: v.optional(boolean()),
    }),
  ),
  finalAction: v.optional(v.pipe(string(), v.minLength(1, 'must be at least 1 characters'))),
  continueAsNewAfterEvents: v.optional(
    v.pipe(number(), v.integer('must be a whole number'), v.minValue(50, 'must be at least 50')),
  ),
});

const AMOUNT_TYPE = 'must be a number of minor units (cents), e.g. 1999 for 19.99';

export const chargeInputSchema = strictObject(
  {
    orderId: v.pipe(
      string(),
      v.minLength(1, 'must not be empty'),
      v.maxLength(200, 'must be at most 200 characters'),
      v.regex(/^[A-Za-z0-9._:-]+$/, 'may contain only letters, digits and . _ : -'),
    ),
    customerId: stripeId('cus'),
    amount: v.pipe(
      number(AMOUNT_TYPE),
      v.integer('must be a whole number of minor units (cents)'),
      v.gtValue(0, 'must be positive'),
      v.maxValue(99_999_999, 'must be at most 99999999 minor units (Stripe’s limit)'),
    ),
    currency: v.pipe(
      string(),
      v.regex(/^[a-z]{3}$/, 'must be a lower-case ISO 4217 code such as "usd"'),
    ),
    paymentMethodId: v.optional(stripeId('pm')),
    description: v.optional(v.pipe(string(), v.maxLength(1000, 'must be at most 1000 characters'))),
    metadata: v.optional(
      v.pipe(
        plainObject,
        v.record(
          v.pipe(string(), v.maxLength(40, 'metadata keys must be at most 40 characters')),
          v.pipe(string(), v.maxLength(500, 'metadata values must be at most 500 characters')),
          expected('an object'),
        ),
        v.rawCheck(({ dataset, addIssue }) => {
          if (!dataset.typed) return;
          const m = dataset.value;
          if (Object.keys(m).length > 40)
            addIssue({ message: 'must have at most 40 keys (two are reserved)' });
          else if ('workflow_id' in m || 'order_id' in m)
            addIssue({ message: 'must not set workflow_id or order_id (reserved)' });
        }),
      ),
    ),
    /** Overrides of the dunning policy for this charge (see DunningPolicy). */
    dunning: v.optional(dunningOverrideSchema),
  },
  { amount: AMOUNT_TYPE },
);
export type ChargeInput = v.InferInput<typeof chargeInputSchema>;
export type ParsedChargeInput = v.InferOutput<typeof chargeInputSchema>;

/** The compact event the receiver signals (DESIGN.md, Contracts): a wake-up, not the truth. */
export const stripeEventSignalSchema = looseObject({
  id: v.pipe(string(), v.minLength(1, 'must be at least 1 characters')),
  type: v.pipe(string(), v.minLength(1, 'must be at least 1 characters')),
  created: v.pipe(
    number(),
    v.integer('must be a whole number'),
    v.minValue(0, 'must not be negative'),
  ),
  objectId: v.pipe(string(), v.minLength(1, 'must be at least 1 characters')),
  account: v.optional(string()),
});

export const retryNowSchema = strictObject({ paymentMethodId: v.optional(stripeId('pm')) });

export const cancelSchema = strictObject({
  reason: v.pipe(
    string(),
    v.minLength(1, 'must say why'),
    v.maxLength(500, 'must be at most 500 characters'),
  ),
});

/** Formats issues as describeIssues does: `field: problem; field: problem`. */
export function describeIssues(issues: readonly v.BaseIssue<unknown>[]): string {
  return issues
    .map((i) => {
      const path = (i.path ?? []).map((p) => String(p.key)).join('.');
      return `${path || '(input)'}: ${i.message}`;
    })
    .join('; ');
}
