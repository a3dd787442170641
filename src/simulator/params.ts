// Request parameter schemas (zod) for Stripe's form-encoded values, and the mapping from a zod
// issue to the 400 Stripe would send (`parameter_unknown`, `parameter_missing`, …).
import { z } from 'zod';
import { invalidParam, type StripeApiError } from './errors.js';
import { formatParamPath, type FormObject, type FormValue } from './form.js';

const INTEGER = 'parameter_invalid_integer';
const BOOLEAN = 'parameter_invalid_boolean';
const ENUM = 'parameter_invalid_enum:';

/** Builders for Stripe's parameter kinds; every value arrives as a form string. */
export const param = {
  string: () => z.string(),
  /** An integer (amounts in minor units, limits, timestamps). */
  integer: () =>
    z
      .string()
      .regex(/^-?\d+$/, INTEGER)
      .transform((v) => Number(v)),
  boolean: () => z.enum(['true', 'false'], { error: BOOLEAN }).transform((v) => v === 'true'),
  oneOf: <const T extends readonly [string, ...string[]]>(values: T) =>
    z.enum(values, { error: `${ENUM}${values.join(',')}` }),
  /** `metadata[key]=value`; an empty string unsets a key on update, as on Stripe. */
  metadata: () => z.record(z.string().max(40), z.string().max(500)),
  /** `expand[]=a`, `expand[0]=a` or a repeated list, normalised to an array. */
  list: <T extends z.ZodType>(item: T) =>
    z
      .union([z.array(item), z.record(z.string().regex(/^\d+$/), item)])
      .transform((v): z.output<T>[] =>
        Array.isArray(v)
          ? v
          : Object.entries(v)
              .sort(([a], [b]) => Number(a) - Number(b))
              .map(([, x]) => x),
      ),
  /** A `created` filter: an exact timestamp or `created[gte]=…` style bounds. */
  range: () =>
    z.union([
      param.integer().transform((eq): RangeFilter => ({ gte: eq, lte: eq })),
      z
        .object({
          gt: param.integer(),
          gte: param.integer(),
          lt: param.integer(),
          lte: param.integer(),
        })
        .partial()
        .strict(),
    ]),
};

/** Applies a `metadata` update as Stripe does: given keys are set, an empty string unsets one. */
export function withMetadata(
  current: Record<string, string>,
  update: Record<string, string> | undefined,
): Record<string, string> {
  const next = { ...current };
  for (const [key, value] of Object.entries(update ?? {})) {
    if (value === '') delete next[key];
    else next[key] = value;
  }
  return next;
}

/** Bounds from a `created` style filter (seconds). */
export interface RangeFilter {
  gt?: number;
  gte?: number;
  lt?: number;
  lte?: number;
}

/** True when `value` satisfies every bound of `filter`. */
export function inRange(value: number, filter: RangeFilter | undefined): boolean {
  if (!filter) return true;
  return (
    (filter.gt === undefined || value > filter.gt) &&
    (filter.gte === undefined || value >= filter.gte) &&
    (filter.lt === undefined || value < filter.lt) &&
    (filter.lte === undefined || value <= filter.lte)
  );
}

/** Pagination and expansion parameters shared by list endpoints. */
export const listParams = {
  limit: param.integer().optional(),
  starting_after: param.string().optional(),
  ending_before: param.string().optional(),
  expand: param.list(z.string()).optional(),
};

function valueAt(raw: FormValue | undefined, path: readonly PropertyKey[]): FormValue | undefined {
  let current: FormValue | undefined = raw;
  for (const key of path) {
    if (current === undefined || typeof current === 'string') return undefined;
    current = Array.isArray(current) ? current[Number(key)] : current[String(key)];
  }
  return current;
}

function toStripeError(issue: z.core.$ZodIssue, raw: FormObject): StripeApiError {
  if (issue.code === 'unrecognized_keys') {
    const name = formatParamPath([...issue.path, issue.keys[0] ?? '']);
    return invalidParam(`Received unknown parameter: ${name}`, name, 'parameter_unknown');
  }
  const name = formatParamPath(issue.path);
  const value = valueAt(raw, issue.path);
  if (value === undefined)
    return invalidParam(`Missing required param: ${name}.`, name, 'parameter_missing');
  const shown = typeof value === 'string' ? value : JSON.stringify(value);
  if (issue.message === INTEGER)
    return invalidParam(`Invalid integer: ${shown}`, name, 'parameter_invalid_integer');
  if (issue.message === BOOLEAN) return invalidParam(`Invalid boolean: ${shown}`, name);
  if (issue.message.startsWith(ENUM)) {
    const allowed = issue.message.slice(ENUM.length).split(',');
    const list =
      allowed.length > 1
        ? `${allowed.slice(0, -1).join(', ')}, or ${allowed.at(-1) ?? ''}`
        : (allowed[0] ?? '');
    return invalidParam(`Invalid ${name}: must be one of ${list}`, name);
  }
  if (issue.code === 'too_big')
    return invalidParam(`Invalid ${name}: too long`, name, 'parameter_invalid_string_too_long');
  return invalidParam(`Invalid ${name}: ${issue.message}`, name);
}

/** Parses request parameters with a schema, throwing the 400 Stripe would send on the first problem. */
export function parseParams<T extends z.ZodType>(schema: T, raw: FormObject): z.output<T> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (!issue) throw invalidParam('Invalid request parameters', undefined);
  throw toStripeError(issue, raw);
}
