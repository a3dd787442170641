// The request log: every API request as Stripe's side saw it (key, replay, status, the order it
// concerns), so tests and operators can check which keys reached "Stripe" and what each got.
// Bounded, oldest dropped first, so bench and chaos runs do not grow it without limit.
import { z } from 'zod';
import type { FaultKind } from './faults.js';
import type { FormObject } from './form.js';
import { matchPath } from './router.js';
import { parseSearchQuery, pinnedMetadataValue } from './search.js';
import { refId, type Store } from './store.js';

/** How many entries a simulator keeps by default; older ones are dropped. */
export const REQUEST_LOG_LIMIT = 100_000;

/** One API request, as received and answered. */
export interface RequestLogEntry {
  /** 1, 2, 3, … in the order requests were answered; never reused, also after old entries are dropped. */
  seq: number;
  /** Simulated time the request arrived (ms). */
  at: number;
  method: string;
  /** The URL path with its ids, without the query string. */
  path: string;
  /** The `Request-Id` the response carried (events name it in `request.id`). */
  requestId: string;
  /** The `Idempotency-Key` header; stripe-node sends one on every POST, its own when none is given. */
  idempotencyKey: string | null;
  /** The answer was a saved one (`Idempotent-Replayed: true`): nothing ran. */
  replayed: boolean;
  /** The endpoint ran (its side effect may have happened); false for answers given before it: auth, injected faults, replays, key conflicts, unknown routes. */
  executed: boolean;
  /** The status sent, or that would have been sent when `dropped`; null when dropped before anything ran. */
  status: number | null;
  /** The connection was destroyed instead of answering (`drop_before`, `drop_after`). */
  dropped?: true;
  /** The injected faults that applied to this request. */
  faults?: FaultKind[];
  /** `metadata.order_id` of the PaymentIntent the request concerns (from the parameters, the intent, or a search query that pins it). */
  orderId: string | null;
  /**
   * The PaymentIntent the request concerns: from the path, the one a create made, or for a
   * refund, charge or dispute request the intent its charge belongs to.
   */
  paymentIntentId: string | null;
}

/** What the server hands the log; the log numbers it. */
export type RequestLogRecord = Omit<RequestLogEntry, 'seq'>;

/**
 * Which entries to list; every given field must match. The names are those of the query string
 * of `GET /_sim/requests`, so one filter reads the same in-process and over HTTP.
 */
export interface RequestLogFilter {
  order_id?: string | undefined;
  /** A path pattern as fault rules take it (`/v1/payment_intents/:id/confirm`), or an exact path. */
  path?: string | undefined;
  method?: string | undefined;
  /** Only entries after this `seq` (a cursor: pass the last `seq` seen). */
  since?: number | undefined;
}

/** The query string of `GET /_sim/requests`, as a filter. */
export const requestLogQuerySchema = z
  .object({
    order_id: z.string().min(1).optional(),
    path: z.string().startsWith('/').optional(),
    method: z.enum(['GET', 'POST', 'DELETE']).optional(),
    since: z.string().regex(/^\d+$/, 'since is a seq: a whole number').transform(Number).optional(),
  })
  .strict() satisfies z.ZodType<RequestLogFilter, Record<string, string>>;

/** The last `limit` requests, in a ring so recording stays O(1) at the bound. */
export class RequestLog {
  private readonly ring: RequestLogEntry[] = [];
  private oldest = 0;
  private lastSeq = 0;

  constructor(private readonly limit = REQUEST_LOG_LIMIT) {
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError(`requestLogLimit needs a positive whole number, got ${limit}`);
  }

  /** Appends an entry, dropping the oldest at the bound; returns it numbered. */
  record(record: RequestLogRecord): RequestLogEntry {
    const entry: RequestLogEntry = { seq: ++this.lastSeq, ...record };
    if (this.ring.length < this.limit) this.ring.push(entry);
    else {
      this.ring[this.oldest] = entry;
      this.oldest = (this.oldest + 1) % this.limit;
    }
    return entry;
  }

  /** Matching entries, oldest first (copies). */
  list(filter: RequestLogFilter = {}): RequestLogEntry[] {
    const held = this.ring.length;
    // Sequence numbers are consecutive, so `since` skips straight to its successor.
    const firstSeq = this.lastSeq - held + 1;
    const skip =
      filter.since === undefined ? 0 : Math.min(held, Math.max(0, filter.since - firstSeq + 1));
    const found: RequestLogEntry[] = [];
    for (let i = skip; i < held; i++) {
      const entry = this.ring[(this.oldest + i) % held];
      if (!entry) continue;
      if (filter.order_id !== undefined && entry.orderId !== filter.order_id) continue;
      if (filter.method !== undefined && entry.method !== filter.method.toUpperCase()) continue;
      if (filter.path !== undefined && matchPath(filter.path, entry.path) === undefined) continue;
      found.push({ ...entry, ...(entry.faults ? { faults: [...entry.faults] } : {}) });
    }
    return found;
  }
}

const createdIntent = z.union([
  z.object({ object: z.literal('payment_intent'), id: z.string() }),
  // A create with confirm=true that was declined answers 402 with the intent inside the error.
  z.object({ error: z.object({ payment_intent: z.object({ id: z.string() }) }) }),
]);

function metadataOrderId(params: FormObject | undefined): string | undefined {
  const metadata = params?.metadata;
  if (metadata === undefined || typeof metadata === 'string' || Array.isArray(metadata))
    return undefined;
  const orderId = metadata.order_id;
  return typeof orderId === 'string' && orderId !== '' ? orderId : undefined;
}

function stringParam(params: FormObject | undefined, name: string): string | undefined {
  const value = params?.[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * The intent a refund, charge or dispute request concerns: the object in the path, else the
 * `payment_intent` or `charge` parameter (a create, a list filter).
 */
function intentOfChargeRequest(
  store: Store,
  path: string,
  params: FormObject | undefined,
): string | undefined {
  const inPath = (pattern: string): string | undefined => matchPath(pattern, path)?.id;
  const refundId = inPath('/v1/refunds/:id') ?? inPath('/v1/refunds/:id/**');
  const disputeId = inPath('/v1/disputes/:id') ?? inPath('/v1/disputes/:id/**');
  const chargeId = inPath('/v1/charges/:id') ?? stringParam(params, 'charge');
  const owner =
    (refundId !== undefined ? store.refunds.get(refundId) : undefined) ??
    (disputeId !== undefined ? store.disputes.get(disputeId) : undefined);
  if (owner) return refId(owner.payment_intent);
  return (
    stringParam(params, 'payment_intent') ??
    (chargeId !== undefined ? refId(store.charges.get(chargeId)?.payment_intent) : undefined)
  );
}

const CHARGE_PATHS = ['/v1/refunds', '/v1/charges', '/v1/disputes'];

/** What a request is about: nothing the log tracks, a search (and the order it pins), or an intent. */
type Concern =
  | { kind: 'none' }
  | { kind: 'search'; orderId: string | null }
  | { kind: 'intent'; id: string | undefined };

/**
 * The intent a `/v1/payment_intents…` request concerns (from the path, or the answer to a
 * create); for a search, the order its query pins; null for requests about anything else.
 */
function intentOfPaymentIntentRequest(
  method: string,
  path: string,
  params: FormObject | undefined,
  replyBody: string | undefined,
): Concern {
  if (path !== '/v1/payment_intents' && !path.startsWith('/v1/payment_intents/'))
    return { kind: 'none' };
  if (path === '/v1/payment_intents/search') {
    const query = params?.query;
    const parsed = typeof query === 'string' ? parseSearchQuery(query) : undefined;
    const orderId = parsed?.ok ? pinnedMetadataValue(parsed.query, 'order_id') : undefined;
    return { kind: 'search', orderId: orderId ?? null };
  }
  const inPath = matchPath('/v1/payment_intents/:id/**', path)?.id;
  if (inPath !== undefined || method !== 'POST' || replyBody === undefined)
    return { kind: 'intent', id: inPath };
  const created = createdIntent.safeParse(JSON.parse(replyBody));
  if (!created.success) return { kind: 'intent', id: undefined };
  return {
    kind: 'intent',
    id: 'id' in created.data ? created.data.id : created.data.error.payment_intent.id,
  };
}

/**
 * The PaymentIntent and order a request concerns: the intent from the path (or, for a create,
 * from the answer; for refunds, charges and disputes the intent their charge belongs to), the
 * order from the request's `metadata[order_id]`, else the intent's, else the order a search
 * query pins. Nulls for requests about anything else.
 */
export function requestSubject(
  store: Store,
  method: string,
  path: string,
  params: FormObject | undefined,
  replyBody: string | undefined,
): Pick<RequestLogEntry, 'orderId' | 'paymentIntentId'> {
  const concern: Concern = CHARGE_PATHS.some((p) => path === p || path.startsWith(`${p}/`))
    ? { kind: 'intent', id: intentOfChargeRequest(store, path, params) }
    : intentOfPaymentIntentRequest(method, path, params, replyBody);
  if (concern.kind === 'none') return { orderId: null, paymentIntentId: null };
  if (concern.kind === 'search') return { orderId: concern.orderId, paymentIntentId: null };
  const paymentIntentId = concern.id;
  const intent =
    paymentIntentId !== undefined ? store.paymentIntents.get(paymentIntentId) : undefined;
  const intentOrderId = (intent?.metadata as Record<string, string> | undefined)?.order_id;
  return {
    orderId: metadataOrderId(params) ?? intentOrderId ?? null,
    paymentIntentId: paymentIntentId ?? null,
  };
}
