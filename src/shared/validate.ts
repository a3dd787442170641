// A small validator for the values that cross into workflow code (inputs, signal and update
// payloads, the dunning policy), shared by clients and workflows.
//
// Why not zod here: with reuseV8Context every workflow execution evaluates its own copy of the
// modules in the workflow bundle. Zod's modules plus our schemas cost about 840 KiB of heap and
// 14 ms of CPU for each workflow the worker creates or replays (see README, Performance).
// This module is about 10 KiB of heap. Zod stays outside the bundle (configuration, the
// simulator, the receiver's Stripe event parsing).
//
// The API is a small subset of zod's (safeParse/parse, optional/default/refine, chainable
// checks), and every issue names its field.

export type Path = (string | number)[];

/** One problem with a value: where (`path`, empty for the value itself) and what. */
export interface Issue {
  path: Path;
  message: string;
}

/** Formats issues as `field: problem; field: problem`, naming each field. */
export function describeIssues(error: { issues: readonly Issue[] }): string {
  return error.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`).join('; ');
}

/** A value that failed validation; `issues` lists every problem found. */
export class ValidationError extends Error {
  constructor(readonly issues: Issue[]) {
    super(describeIssues({ issues }));
    this.name = 'ValidationError';
  }
}

export type SafeParseResult<T> =
  | { success: true; data: T; error?: undefined }
  | { success: false; data?: undefined; error: ValidationError };

const INVALID: unique symbol = Symbol('invalid');
type Invalid = typeof INVALID;
type Run<T> = (value: unknown, path: Path, issues: Issue[]) => T | Invalid;

/** The output (validated) type of a schema. */
export type Infer<S extends Schema<unknown, unknown>> = S['_output'];
/** The input type of a schema (what callers may pass: defaults not yet applied). */
export type Input<S extends Schema<unknown, unknown>> = S['_input'];

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number' && Number.isNaN(value)) return 'NaN';
  return typeof value;
}

function expected(what: string, value: unknown, message: string | undefined): string {
  if (message) return message;
  return value === undefined ? 'is required' : `expected ${what}, got ${typeName(value)}`;
}

/** Plain data only (JSON's shapes): defaults are cloned so no two parses share an array. */
function cloneData<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

export class Schema<Out, In = Out> {
  declare readonly _output: Out;
  declare readonly _input: In;

  constructor(protected readonly run: Run<Out>) {}

  /** Validates `value` (never throws). */
  safeParse(value: unknown): SafeParseResult<Out> {
    const issues: Issue[] = [];
    const data = this.run(value, [], issues);
    if (data === INVALID || issues.length > 0) {
      return {
        success: false,
        error: new ValidationError(issues.length > 0 ? issues : [{ path: [], message: 'invalid' }]),
      };
    }
    return { success: true, data };
  }

  /** Validates `value`; throws ValidationError naming every bad field. */
  parse(value: unknown): Out {
    const result = this.safeParse(value);
    if (!result.success) throw result.error;
    return result.data;
  }

  /** @internal Runs this schema at `path`, collecting issues (for composite schemas). */
  check(value: unknown, path: Path, issues: Issue[]): Out | Invalid {
    return this.run(value, path, issues);
  }

  /** `undefined` passes (and stays undefined). */
  optional(): Schema<Out | undefined, In | undefined> {
    return new Schema<Out | undefined, In | undefined>((value, path, issues) =>
      value === undefined ? undefined : this.run(value, path, issues),
    );
  }

  /** `undefined` becomes (a copy of) `fallback`. */
  default(fallback: Out): Schema<Out, In | undefined> {
    return new Schema((value, path, issues) =>
      value === undefined ? cloneData(fallback) : this.run(value, path, issues),
    );
  }

  /** `undefined` is validated as `input` instead (an object whose fields have their own defaults). */
  defaultInput(input: In): Schema<Out, In | undefined> {
    return new Schema((value, path, issues) =>
      this.run(value === undefined ? cloneData(input) : value, path, issues),
    );
  }

  /** An extra rule on a value that passed: `message` when `predicate` is false. */
  refine(predicate: (value: Out) => boolean, message: string): Schema<Out, In> {
    return new Schema((value, path, issues) => {
      const out = this.run(value, path, issues);
      if (out === INVALID) return INVALID;
      if (!predicate(out)) {
        issues.push({ path, message });
        return INVALID;
      }
      return out;
    });
  }
}

type Rule<T> = { ok: (value: T) => boolean; message: string };

/** A schema for one primitive type with chainable rules, checked in order (all are reported). */
abstract class RuleSchema<T, Self extends RuleSchema<T, Self>> extends Schema<T> {
  constructor(
    protected readonly rules: readonly Rule<T>[],
    protected readonly typeMessage: string | undefined,
  ) {
    super((value, path, issues) => {
      if (!this.isType(value)) {
        issues.push({ path, message: expected(this.typeLabel, value, this.typeMessage) });
        return INVALID;
      }
      let valid = true;
      for (const rule of this.rules) {
        if (!rule.ok(value)) {
          issues.push({ path, message: rule.message });
          valid = false;
        }
      }
      return valid ? value : INVALID;
    });
  }

  protected abstract readonly typeLabel: string;
  protected abstract isType(value: unknown): value is T;
  protected abstract with(rule: Rule<T>): Self;
}

export class StringSchema extends RuleSchema<string, StringSchema> {
  protected readonly typeLabel = 'a string';
  protected isType(value: unknown): value is string {
    return typeof value === 'string';
  }
  protected with(rule: Rule<string>): StringSchema {
    return new StringSchema([...this.rules, rule], this.typeMessage);
  }
  min(length: number, message = `must be at least ${length} characters`): StringSchema {
    return this.with({ ok: (s) => s.length >= length, message });
  }
  max(length: number, message = `must be at most ${length} characters`): StringSchema {
    return this.with({ ok: (s) => s.length <= length, message });
  }
  regex(pattern: RegExp, message = `must match ${String(pattern)}`): StringSchema {
    return this.with({ ok: (s) => pattern.test(s), message });
  }
}

export class NumberSchema extends RuleSchema<number, NumberSchema> {
  protected readonly typeLabel = 'a number';
  protected isType(value: unknown): value is number {
    return typeof value === 'number' && Number.isFinite(value);
  }
  protected with(rule: Rule<number>): NumberSchema {
    return new NumberSchema([...this.rules, rule], this.typeMessage);
  }
  int(message = 'must be a whole number'): NumberSchema {
    return this.with({ ok: Number.isInteger, message });
  }
  positive(message = 'must be positive'): NumberSchema {
    return this.with({ ok: (n) => n > 0, message });
  }
  nonnegative(message = 'must not be negative'): NumberSchema {
    return this.with({ ok: (n) => n >= 0, message });
  }
  min(least: number, message = `must be at least ${least}`): NumberSchema {
    return this.with({ ok: (n) => n >= least, message });
  }
  max(most: number, message = `must be at most ${most}`): NumberSchema {
    return this.with({ ok: (n) => n <= most, message });
  }
}

class BooleanSchema extends RuleSchema<boolean, BooleanSchema> {
  protected readonly typeLabel = 'true or false';
  protected isType(value: unknown): value is boolean {
    return typeof value === 'boolean';
  }
  protected with(rule: Rule<boolean>): BooleanSchema {
    return new BooleanSchema([...this.rules, rule], this.typeMessage);
  }
}

export class ArraySchema<Out, In> extends Schema<Out[], In[]> {
  constructor(
    readonly item: Schema<Out, In>,
    private readonly maxItems = Infinity,
    private readonly maxMessage = '',
  ) {
    super((value, path, issues) => {
      if (!Array.isArray(value)) {
        issues.push({ path, message: expected('an array', value, undefined) });
        return INVALID;
      }
      if (value.length > this.maxItems) {
        issues.push({ path, message: this.maxMessage });
        return INVALID;
      }
      const out: Out[] = [];
      let valid = true;
      value.forEach((element, index) => {
        const parsed = this.item.check(element, [...path, index], issues);
        if (parsed === INVALID) valid = false;
        else out.push(parsed);
      });
      return valid ? out : INVALID;
    });
  }
  max(count: number, message = `must have at most ${count} items`): ArraySchema<Out, In> {
    return new ArraySchema(this.item, count, message);
  }
}

type AnySchema = Schema<any, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
export type Shape = Record<string, AnySchema>;
type Flatten<T> = { [K in keyof T]: T[K] } & {};
type OptionalKeys<S extends Shape, Side extends '_output' | '_input'> = {
  [K in keyof S]: undefined extends S[K][Side] ? K : never;
}[keyof S];
type ObjectType<S extends Shape, Side extends '_output' | '_input'> = Flatten<
  { [K in Exclude<keyof S, OptionalKeys<S, Side>>]: S[K][Side] } & {
    [K in OptionalKeys<S, Side>]?: S[K][Side];
  }
>;
type PartialShape<S extends Shape> = {
  [K in keyof S]: Schema<S[K]['_output'] | undefined, S[K]['_input'] | undefined>;
};

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * An object with known fields. `strict` rejects unknown fields (each one named); otherwise they
 * are dropped. Fields whose value is undefined are left out of the output.
 */
export class ObjectSchema<S extends Shape> extends Schema<
  ObjectType<S, '_output'>,
  ObjectType<S, '_input'>
> {
  constructor(
    readonly shape: S,
    readonly strict: boolean,
  ) {
    super((value, path, issues) => {
      if (!isPlainObject(value)) {
        issues.push({ path, message: expected('an object', value, undefined) });
        return INVALID;
      }
      const out: Record<string, unknown> = {};
      let valid = true;
      for (const [key, schema] of Object.entries(this.shape)) {
        const parsed: unknown = schema.check(value[key], [...path, key], issues);
        if (parsed === INVALID) valid = false;
        else if (parsed !== undefined) out[key] = parsed;
      }
      if (this.strict) {
        for (const key of Object.keys(value)) {
          if (!Object.hasOwn(this.shape, key)) {
            issues.push({ path: [...path, key], message: 'is not a known field' });
            valid = false;
          }
        }
      }
      return valid ? (out as ObjectType<S, '_output'>) : INVALID;
    });
  }

  /** Every field optional (no defaults filled in). */
  partial(): ObjectSchema<PartialShape<S>> {
    const shape = Object.fromEntries(
      Object.entries(this.shape).map(([key, schema]) => [key, schema.optional()]),
    ) as PartialShape<S>;
    return new ObjectSchema(shape, this.strict);
  }

  /** More fields (later ones replace earlier ones of the same name). */
  extend<E extends Shape>(extra: E): ObjectSchema<Flatten<Omit<S, keyof E> & E>> {
    const shape: Flatten<Omit<S, keyof E> & E> = { ...this.shape, ...extra };
    return new ObjectSchema(shape, this.strict);
  }
}

class LiteralSchema<T extends string | number | boolean> extends Schema<T> {
  constructor(readonly value: T) {
    super((input, path, issues) => {
      if (input === value) return value;
      issues.push({ path, message: `must be ${JSON.stringify(value)}` });
      return INVALID;
    });
  }
}

/** Builders, named as in zod. */
export const v = {
  string: (typeMessage?: string) => new StringSchema([], typeMessage),
  number: (typeMessage?: string) => new NumberSchema([], typeMessage),
  boolean: (typeMessage?: string) => new BooleanSchema([], typeMessage),
  literal: <T extends string | number | boolean>(value: T) => new LiteralSchema(value),
  /** One of the values of `values` (an array, or an object of constants). */
  enum<T extends string>(values: readonly T[] | Record<string, T>): Schema<T> {
    const allowed: readonly T[] = Array.isArray(values) ? values : Object.values(values);
    return new Schema((value, path, issues) => {
      if (allowed.includes(value as T)) return value as T;
      issues.push({ path, message: `must be one of ${allowed.map((a) => `"${a}"`).join(', ')}` });
      return INVALID;
    });
  },
  array: <Out, In>(item: Schema<Out, In>) => new ArraySchema(item),
  /** Unknown fields are dropped. */
  object: <S extends Shape>(shape: S) => new ObjectSchema(shape, false),
  /** Unknown fields are rejected, each named. */
  strictObject: <S extends Shape>(shape: S) => new ObjectSchema(shape, true),
  /** An object used as a map: every key and every value checked. */
  record<V>(key: Schema<string>, value: Schema<V>): Schema<Record<string, V>> {
    return new Schema((input, path, issues) => {
      if (!isPlainObject(input)) {
        issues.push({ path, message: expected('an object', input, undefined) });
        return INVALID;
      }
      const out: Record<string, V> = {};
      let valid = true;
      for (const [k, item] of Object.entries(input)) {
        const parsedKey = key.check(k, [...path, k], issues);
        const parsed = value.check(item, [...path, k], issues);
        if (parsedKey === INVALID || parsed === INVALID) valid = false;
        // defineProperty: a key such as `__proto__` (JSON.parse makes it an own key) stays data.
        else
          Object.defineProperty(out, parsedKey, {
            value: parsed,
            enumerable: true,
            writable: true,
            configurable: true,
          });
      }
      return valid ? out : INVALID;
    });
  },
  /** One of `options`, chosen by the literal value of field `key`. */
  discriminatedUnion<
    K extends string,
    O extends ObjectSchema<Record<K, LiteralSchema<string>> & Shape>,
  >(key: K, options: readonly O[]): Schema<O['_output'], O['_input']> {
    const byValue = new Map(options.map((option) => [option.shape[key].value, option]));
    return new Schema((value, path, issues) => {
      if (!isPlainObject(value)) {
        issues.push({ path, message: expected('an object', value, undefined) });
        return INVALID;
      }
      const option = byValue.get(value[key] as string);
      if (!option) {
        issues.push({
          path: [...path, key],
          message: `must be one of ${[...byValue.keys()].map((k) => `"${k}"`).join(', ')}`,
        });
        return INVALID;
      }
      return option.check(value, path, issues);
    });
  },
};
