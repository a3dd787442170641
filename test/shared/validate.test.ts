// The workflow-side validator: every rule, every issue naming its field, defaults that are not
// shared between parses, and the types the shared schemas infer.
import { readFileSync } from 'node:fs';
import { describe, expect, expectTypeOf, inject, it } from 'vitest';
import type { DunningOverride, DunningPolicy } from '../../src/shared/dunning.js';
import { dunningPolicySchema } from '../../src/shared/dunning.js';
import {
  cancelSchema,
  chargeInputSchema,
  type ChargeInput,
  type ParsedChargeInput,
  type StripeEventSignal,
} from '../../src/shared/schemas.js';
import {
  unmatchedStripeEventSchema,
  type UnmatchedStripeEvent,
} from '../../src/shared/stripe-events.js';
import { describeIssues, v, ValidationError } from '../../src/shared/validate.js';

function problems(
  schema: { safeParse(value: unknown): { error?: ValidationError } },
  value: unknown,
) {
  return schema.safeParse(value).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('validate', () => {
  it('checks types and names what was expected', () => {
    expect(problems(v.string(), 3)).toEqual([': expected a string, got number']);
    expect(problems(v.string(), undefined)).toEqual([': is required']);
    expect(problems(v.number(), Number.NaN)).toEqual([': expected a number, got NaN']);
    expect(problems(v.number(), Infinity)).toEqual([': expected a number, got number']);
    expect(problems(v.number('cents, please'), '12')).toEqual([': cents, please']);
    expect(problems(v.boolean(), 'yes')).toEqual([': expected true or false, got string']);
    expect(problems(v.array(v.string()), {})).toEqual([': expected an array, got object']);
    expect(problems(v.object({}), [])).toEqual([': expected an object, got an array']);
    expect(problems(v.object({}), null)).toEqual([': expected an object, got null']);
  });

  it('reports every broken rule of a value, in order', () => {
    const schema = v.number().int('whole').positive('positive').max(10, 'small');
    expect(problems(schema, -1.5)).toEqual([': whole', ': positive']);
    expect(problems(schema, 11)).toEqual([': small']);
    expect(schema.parse(10)).toBe(10);
    const text = v
      .string()
      .min(2)
      .max(3)
      .regex(/^[a-z]+$/, 'lower case');
    expect(problems(text, 'A')).toEqual([': must be at least 2 characters', ': lower case']);
    expect(problems(v.number().nonnegative().min(-5), -1)).toEqual([': must not be negative']);
  });

  it('names nested fields, array indexes and unknown fields', () => {
    const schema = v.strictObject({
      a: v.object({ b: v.array(v.number().int()).max(2, 'two at most') }),
      c: v.string().optional(),
    });
    expect(problems(schema, { a: { b: [1, 2.5] }, d: 1 })).toEqual([
      'a.b.1: must be a whole number',
      'd: is not a known field',
    ]);
    expect(problems(schema, { a: { b: [1, 2, 3] } })).toEqual(['a.b: two at most']);
    // A plain object drops unknown fields, and an absent optional field stays absent.
    expect(schema.parse({ a: { b: [1], x: 2 } })).toEqual({ a: { b: [1] } });
    expect(Object.keys(schema.parse({ a: { b: [] }, c: undefined }))).toEqual(['a']);
  });

  it('checks every key and value of a record', () => {
    const schema = v.record(v.string().max(2, 'short keys'), v.string().max(1, 'short values'));
    expect(problems(schema, { abc: 'x', k: 'yy', ok: 3 })).toEqual([
      'abc: short keys',
      'k: short values',
      'ok: expected a string, got number',
    ]);
    expect(schema.parse({ a: 'b' })).toEqual({ a: 'b' });
    // A key named __proto__ (an own key after JSON.parse) is kept as data, not a prototype.
    const parsed = v.record(v.string(), v.string()).parse(JSON.parse('{"__proto__":"x"}'));
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    expect(Object.keys(parsed)).toEqual(['__proto__']);
  });

  it('refines, enumerates, and picks a union member by its discriminator', () => {
    const even = v.number().refine((n) => n % 2 === 0, 'must be even');
    expect(problems(even, 3)).toEqual([': must be even']);
    expect(problems(even, 'x')).toEqual([': expected a number, got string']);
    expect(problems(v.enum(['a', 'b']), 'c')).toEqual([': must be one of "a", "b"']);
    expect(v.enum({ A: 'a' }).parse('a')).toBe('a');
    const union = v.discriminatedUnion('kind', [
      v.object({ kind: v.literal('x'), n: v.number() }),
      v.object({ kind: v.literal('y') }),
    ]);
    expect(union.parse({ kind: 'y', n: 'ignored' })).toEqual({ kind: 'y' });
    expect(problems(union, { kind: 'x' })).toEqual(['n: is required']);
    expect(problems(union, { kind: 'z' })).toEqual(['kind: must be one of "x", "y"']);
    expect(problems(v.literal('x'), 'y')).toEqual([': must be "x"']);
  });

  it('fills defaults with a fresh copy each time, and validates a default input', () => {
    const schema = v.object({
      list: v.array(v.number()).default([1, 2]),
      inner: v.object({ flag: v.boolean().default(true) }).defaultInput({}),
    });
    const first = schema.parse({});
    first.list.push(3);
    expect(schema.parse({})).toEqual({ list: [1, 2], inner: { flag: true } });
    expect(schema.parse({ inner: { flag: false } }).inner.flag).toBe(false);
  });

  it('throws a ValidationError that says every problem; parse is the same check', () => {
    const error = (() => {
      try {
        chargeInputSchema.parse({ orderId: '', amount: 1.5 });
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toBe(describeIssues(error as ValidationError));
    expect((error as Error).message).toMatch(
      /^orderId: must not be empty; .*amount: must be a whole number/,
    );
    expect((error as Error).message).toMatch(/customerId: is required/);
    expect(problems(cancelSchema, undefined)).toEqual([': is required']);
    expect(describeIssues({ issues: [{ path: [], message: 'x' }] })).toBe('(input): x');
  });

  it('infers the shared types', () => {
    expectTypeOf<ParsedChargeInput>().toEqualTypeOf<{
      orderId: string;
      customerId: string;
      amount: number;
      currency: string;
      paymentMethodId?: string | undefined;
      description?: string | undefined;
      metadata?: Record<string, string> | undefined;
      dunning?: DunningOverride | undefined;
    }>();
    expectTypeOf<ChargeInput>().toEqualTypeOf<ParsedChargeInput>();
    expectTypeOf<DunningPolicy['notify']>().toEqualTypeOf<{
      paymentFailed: 'first' | 'every' | 'never';
      actionRequired: boolean;
      finalWarning: boolean;
      recovered: boolean;
      gaveUp: boolean;
    }>();
    expectTypeOf<DunningPolicy['retryDelaysDays']>().toEqualTypeOf<number[]>();
    expectTypeOf<DunningOverride['notify']>().toEqualTypeOf<
      Partial<DunningPolicy['notify']> | undefined
    >();
    expectTypeOf<StripeEventSignal>().toEqualTypeOf<{
      id: string;
      type: string;
      created: number;
      objectId: string;
      account?: string | undefined;
    }>();
    expectTypeOf<UnmatchedStripeEvent>().toHaveProperty('reason').toEqualTypeOf<string>();
    expectTypeOf(dunningPolicySchema.parse({})).toEqualTypeOf<DunningPolicy>();
    expect(problems(unmatchedStripeEventSchema, {})).toContain('reason: is required');
  });
});

describe('the workflow bundle', () => {
  // Every workflow execution evaluates its own copy of the bundle's modules (reuseV8Context):
  // zod there cost ~840 KiB of heap and ~14 ms of CPU per workflow created or replayed.
  it('carries no zod', () => {
    const code = readFileSync(inject('workflowBundlePath'), 'utf8');
    expect(code).toContain('./src/shared/validate.ts');
    expect(code).not.toMatch(/node_modules\/zod\//);
  });
});
