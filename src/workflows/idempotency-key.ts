// Derived Stripe idempotency keys (DESIGN.md invariant 2): a pure function of workflow state,
// so replay, worker crash and activity retry all send the same key for the same request.

/** Mutating Stripe operations a charge performs; each has its own key sequence. */
export const KeyOperation = {
  create: 'create',
  confirm: 'confirm',
  cancel: 'cancel',
} as const;
export type KeyOperation = (typeof KeyOperation)[keyof typeof KeyOperation];

/** Stripe rejects idempotency keys longer than this. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

export interface KeyParts {
  /** Namespaces keys per deployment (e.g. `db` or `db-staging`); no `/`. */
  prefix: string;
  /** The charge workflow id, `charge:<orderId>`. */
  workflowId: string;
  operation: KeyOperation;
  /** Advances only after the previous request reached a definitive answer or was reconciled. */
  sequence: number;
}

/** 32-bit FNV-1a, hex: enough to keep over-long keys distinct and stable (not a security hash). */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}

/**
 * `prefix/workflowId/operation/sequence`, at most 255 characters. A workflow id so long that the
 * key would exceed the limit is shortened to its head plus a hash of the whole id, which keeps
 * the key deterministic and distinct. Throws on a prefix with `/`, or a bad sequence.
 */
export function deriveIdempotencyKey({
  prefix,
  workflowId,
  operation,
  sequence,
}: KeyParts): string {
  if (prefix === '' || prefix.includes('/')) {
    throw new TypeError(
      `idempotency key prefix must be non-empty and contain no '/', got ${JSON.stringify(prefix)}`,
    );
  }
  if (!Number.isSafeInteger(sequence) || sequence < 0) {
    throw new TypeError(`idempotency key sequence must be a whole number ≥ 0, got ${sequence}`);
  }
  const tail = `/${operation}/${sequence}`;
  const room = MAX_IDEMPOTENCY_KEY_LENGTH - prefix.length - 1 - tail.length;
  if (room < 20)
    throw new TypeError(`idempotency key prefix is too long (${prefix.length} characters)`);
  const id =
    workflowId.length <= room
      ? workflowId
      : `${workflowId.slice(0, room - 10)}~${fnv1a(workflowId)}`;
  return `${prefix}/${id}${tail}`;
}
