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

/** Namespaces every idempotency key the workflows derive (one deployment's keys). */
export const IDEMPOTENCY_KEY_PREFIX = 'db';

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

/** The charge's requests whose answers the run that sent them awaits (keys scoped to that run). */
const AWAITED_OPERATIONS: ReadonlySet<string> = new Set([
  KeyOperation.confirm,
  KeyOperation.cancel,
]);
/** `prefix/id[/scope]/operation/sequence`, split from the right (a workflow id may hold `/`). */
const KEY_TAIL = /^.+?\/(?:([^/]+)\/)?(confirm|cancel)\/(0|[1-9][0-9]{0,15})$/;

/**
 * Whether `key` is one `chargeCustomer` running as `workflowId` derived (with the project's
 * prefix) for a confirm or a cancel: a request whose answer that run awaits as an activity
 * result, and reconciles by reading the intent when the answer is lost. A Stripe event carrying
 * such a key in `request.idempotency_key` reports that very answer, so the receiver need not
 * wake the workflow with it (docs/webhooks.md). Recomputes the key rather than trusting its
 * shape: a key of another workflow id, another prefix or another operation is not one.
 */
export function isAwaitedChargeKey(key: string, workflowId: string): boolean {
  const match = KEY_TAIL.exec(key);
  if (!match) return false;
  const [, scope, operation, sequence] = match;
  if (!AWAITED_OPERATIONS.has(operation!)) return false;
  const derive = (withScope: string | undefined) =>
    deriveIdempotencyKey({
      prefix: IDEMPOTENCY_KEY_PREFIX,
      workflowId,
      scope: withScope,
      operation: operation as KeyOperation,
      sequence: Number(sequence),
    });
  // A key with a run scope (`…/<runId>/confirm/N`), or one of a run from before scoped keys
  // (`…/confirm/N`), whose id part may itself end in what looks like a scope.
  return (scope !== undefined && derive(scope) === key) || derive(undefined) === key;
}
