// Derived Stripe idempotency keys (DESIGN.md invariant 2): a pure function of workflow state,
// so replay, worker crash and activity retry all send the same key for the same request.
import { fnv1a } from '../shared/hash.js';

/** Mutating Stripe operations a charge performs; each has its own key sequence. */
export const KeyOperation = {
  create: 'create',
  confirm: 'confirm',
  cancel: 'cancel',
  /** Not a Stripe call: customer notifications are deduplicated by the same kind of id. */
  notify: 'notify',
  /** Not a Stripe call: the final-action hook gets an id of the same kind. */
  final: 'final',
} as const;
export type KeyOperation = (typeof KeyOperation)[keyof typeof KeyOperation];

/** Mutating Stripe operations of the refund and dispute workflows (keys of their own workflow ids). */
export const AfterChargeKeyOperation = {
  refund: 'refund',
  evidence: 'evidence',
} as const;
export type AfterChargeKeyOperation =
  (typeof AfterChargeKeyOperation)[keyof typeof AfterChargeKeyOperation];

/** Stripe rejects idempotency keys longer than this. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

export interface KeyParts {
  /** Namespaces keys per deployment (e.g. `db` or `db-staging`); no `/`. */
  prefix: string;
  /** The charge workflow id, `charge:<orderId>`. */
  workflowId: string;
  /**
   * Narrows the key to one run (its run id) for requests that must never be replayed into
   * another run: a new run reads the intent first and takes fresh keys. No `/`.
   */
  scope?: string | undefined;
  operation: KeyOperation | AfterChargeKeyOperation;
  /** Advances only after the previous request reached a definitive answer or was reconciled. */
  sequence: number;
}

/**
 * `prefix/workflowId[/scope]/operation/sequence`, at most 255 characters. A workflow id so long that the
 * key would exceed the limit is shortened to its head plus a hash of the whole id, which keeps
 * the key deterministic and distinct. Throws on a prefix with `/`, or a bad sequence.
 */
export function deriveIdempotencyKey({
  prefix,
  workflowId,
  scope,
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
  if (scope !== undefined && (scope === '' || scope.includes('/'))) {
    throw new TypeError(
      `idempotency key scope must be non-empty and contain no '/', got ${JSON.stringify(scope)}`,
    );
  }
  const tail = `${scope === undefined ? '' : `/${scope}`}/${operation}/${sequence}`;
  const room = MAX_IDEMPOTENCY_KEY_LENGTH - prefix.length - 1 - tail.length;
  if (room < 20)
    throw new TypeError(`idempotency key prefix is too long (${prefix.length} characters)`);
  const id =
    workflowId.length <= room
      ? workflowId
      : `${workflowId.slice(0, room - 10)}~${fnv1a(workflowId).toString(16).padStart(8, '0')}`;
  return `${prefix}/${id}${tail}`;
}

/**
 * The id of a customer notification (`prefix/workflowId/notify/<kind>/<attempt>`): derived like a
 * key, so a retried or replayed notification carries the same id and the notifier sends it once.
 */
export function notificationId(
  parts: Omit<KeyParts, 'operation' | 'sequence'>,
  kind: string,
  attempt: number,
): string {
  return `${deriveIdempotencyKey({ ...parts, operation: KeyOperation.notify, sequence: attempt })}/${kind}`;
}
