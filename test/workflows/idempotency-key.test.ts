// Key derivation is pure and stable: same inputs, same key; any input change, another key.
import { describe, expect, it } from 'vitest';
import {
  deriveIdempotencyKey,
  MAX_IDEMPOTENCY_KEY_LENGTH,
} from '../../src/workflows/idempotency-key.js';

const parts = {
  prefix: 'db',
  workflowId: 'charge:order-1',
  operation: 'confirm',
  sequence: 2,
} as const;

describe('deriveIdempotencyKey', () => {
  it('is prefix/workflowId/operation/sequence', () => {
    expect(deriveIdempotencyKey(parts)).toBe('db/charge:order-1/confirm/2');
  });

  it('gives the same key for the same parts and a different key when any part changes', () => {
    const key = deriveIdempotencyKey(parts);
    expect(deriveIdempotencyKey({ ...parts })).toBe(key);
    const variants = [
      { ...parts, prefix: 'db-staging' },
      { ...parts, workflowId: 'charge:order-2' },
      { ...parts, operation: 'cancel' as const },
      { ...parts, sequence: 3 },
    ].map(deriveIdempotencyKey);
    expect(new Set([key, ...variants]).size).toBe(5);
  });

  it('keeps very long workflow ids under 255 characters, distinct and stable', () => {
    const long = (c: string) => ({ ...parts, workflowId: `charge:${'x'.repeat(300)}${c}` });
    const a = deriveIdempotencyKey(long('a'));
    const b = deriveIdempotencyKey(long('b'));
    expect(a.length).toBeLessThanOrEqual(MAX_IDEMPOTENCY_KEY_LENGTH);
    expect(a).not.toBe(b);
    expect(deriveIdempotencyKey(long('a'))).toBe(a);
    expect(a.endsWith('/confirm/2')).toBe(true);
  });

  it('rejects a prefix with a slash and a negative or fractional sequence, naming the part', () => {
    expect(() => deriveIdempotencyKey({ ...parts, prefix: 'a/b' })).toThrow(/prefix/);
    expect(() => deriveIdempotencyKey({ ...parts, sequence: -1 })).toThrow(/sequence/);
    expect(() => deriveIdempotencyKey({ ...parts, sequence: 1.5 })).toThrow(/sequence/);
  });
});
