// Key derivation is pure and stable: same inputs, same key; any input change, another key.
import { describe, expect, it } from 'vitest';
import {
  deriveIdempotencyKey,
  isAwaitedChargeKey,
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

describe('isAwaitedChargeKey', () => {
  const run = '0193a5b2-7c1e-7d2a-9f3b-1c2d3e4f5a6b';
  const scoped = (workflowId: string, operation: 'confirm' | 'cancel' | 'create', sequence = 1) =>
    deriveIdempotencyKey({ prefix: 'db', workflowId, scope: run, operation, sequence });

  it("is true for a charge's own confirm and cancel keys, run-scoped or from before scopes", () => {
    expect(isAwaitedChargeKey(scoped('charge:o-1', 'confirm', 3), 'charge:o-1')).toBe(true);
    expect(isAwaitedChargeKey(scoped('charge:o-1', 'cancel', 0), 'charge:o-1')).toBe(true);
    expect(isAwaitedChargeKey('db/charge:o-1/confirm/1', 'charge:o-1')).toBe(true);
    // A workflow id with slashes, and one so long that its key holds a hash of it.
    expect(isAwaitedChargeKey(scoped('charge:a/b/c', 'confirm'), 'charge:a/b/c')).toBe(true);
    const long = `charge:${'x'.repeat(300)}`;
    expect(isAwaitedChargeKey(scoped(long, 'confirm'), long)).toBe(true);
  });

  it('is false for any other key: another order, prefix or operation, or a foreign key', () => {
    const key = scoped('charge:o-1', 'confirm');
    expect(isAwaitedChargeKey(key, 'charge:o-2')).toBe(false);
    expect(isAwaitedChargeKey(key, 'charge:o-')).toBe(false);
    expect(isAwaitedChargeKey(key.replace(/^db\//, 'db-staging/'), 'charge:o-1')).toBe(false);
    // The create key is the order's, not a run's: another run may be the one that reads it.
    expect(isAwaitedChargeKey(scoped('charge:o-1', 'create'), 'charge:o-1')).toBe(false);
    expect(isAwaitedChargeKey('db/charge:o-1/create/0', 'charge:o-1')).toBe(false);
    expect(isAwaitedChargeKey('db/charge:o-1/notify/1', 'charge:o-1')).toBe(false);
    expect(isAwaitedChargeKey('db/charge:o-1/confirm/01', 'charge:o-1')).toBe(false);
    expect(isAwaitedChargeKey('6f1c9a0e-5d7b-4a43-9c55-0b7e1f9d2c11', 'charge:o-1')).toBe(false);
    expect(isAwaitedChargeKey('', 'charge:o-1')).toBe(false);
  });
});
