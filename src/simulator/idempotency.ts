// Stripe's idempotency semantics (docs.stripe.com/api/idempotent_requests): the first response
// to a POST with a key — status and body, 500s included — is saved per account and key and
// replayed with `Idempotent-Replayed: true`; the same key with other parameters is a 400
// idempotency_error; a key still executing is a 409; validation failures are not saved; keys
// expire after 24 h of simulated time.
import type { SimClock } from './clock.js';

/** A saved response. */
export interface SavedResponse {
  status: number;
  body: string;
  requestId: string;
}

/** Keys are pruned once they are at least this old (Stripe: 24 hours). */
export const IDEMPOTENCY_KEY_TTL_MS = 24 * 60 * 60 * 1000;

/** Stripe's maximum idempotency key length. */
export const IDEMPOTENCY_KEY_MAX_LENGTH = 255;

interface Entry {
  fingerprint: string;
  createdAt: number;
  response: SavedResponse | undefined;
}

/** The outcome of presenting a key. */
export type IdempotencyLookup =
  | { kind: 'fresh'; finish: (response: SavedResponse | undefined) => void }
  | { kind: 'replay'; response: SavedResponse }
  | { kind: 'mismatch' }
  | { kind: 'in_use' };

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** What Stripe compares between two uses of a key: the endpoint and the parameters. */
export function requestFingerprint(method: string, path: string, params: unknown): string {
  return `${method} ${path} ${canonical(params)}`;
}

/** Saved idempotent results per `scope` (account) and key. */
export class IdempotencyStore {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly clock: SimClock,
    private readonly ttlMs = IDEMPOTENCY_KEY_TTL_MS,
  ) {}

  /**
   * Presents a key. On `fresh` the key is held (concurrent uses get `in_use`) until `finish`
   * is called with the response to save, or `undefined` to release it unsaved.
   */
  begin(scope: string, key: string, fingerprint: string): IdempotencyLookup {
    const id = `${scope}\u0000${key}`;
    const existing = this.entries.get(id);
    if (existing && existing.createdAt + this.ttlMs <= this.clock.now()) this.entries.delete(id);
    const entry = this.entries.get(id);
    if (entry) {
      if (entry.fingerprint !== fingerprint) return { kind: 'mismatch' };
      if (!entry.response) return { kind: 'in_use' };
      return { kind: 'replay', response: entry.response };
    }
    const fresh: Entry = { fingerprint, createdAt: this.clock.now(), response: undefined };
    this.entries.set(id, fresh);
    return {
      kind: 'fresh',
      finish: (response) => {
        if (response) fresh.response = response;
        else if (this.entries.get(id) === fresh) this.entries.delete(id);
      },
    };
  }
}
