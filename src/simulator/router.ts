// The seam between HTTP and the Stripe resources: request/response types handed to each
// handler, path patterns with `:params` (shared with fault rules), and the route table lookup.
import type { SimClock } from './clock.js';
import type { FormObject } from './form.js';
import type { IdGenerator } from './random.js';
import type { RefundRuleBook } from './resources/refunds.js';
import type { RequestOrigin, Store } from './store.js';

/** One API request after authentication and decoding. */
export interface ApiRequest {
  method: string;
  path: string;
  /** Values of the route's `:params`. */
  pathParams: Record<string, string>;
  /** Decoded form body (POST) or query string (GET, DELETE). */
  params: FormObject;
  origin: RequestOrigin;
}

/** A successful response; failures are thrown as StripeApiError. */
export interface ApiResponse {
  status: number;
  body: unknown;
}

/** What handlers may touch. */
export interface SimContext {
  store: Store;
  clock: SimClock;
  ids: IdGenerator;
  /**
   * Simulated ms a bank debit stays `processing`; also how long a pending refund waits to settle,
   * a `pm_card_refundFail` refund to fail, and test evidence to decide a dispute.
   */
  processingDelayMs: number;
  /** Rules that make refunds pend, fail later or succeed later (`/_sim/refunds/rules`). */
  refundRules: RefundRuleBook;
  /** Simulated ms from an intent's creation until search finds it; changeable while running. */
  searchLagMs: number;
}

/** A resource handler: synchronous, so a request's state change is atomic. */
export type ApiHandler = (request: ApiRequest, sim: SimContext) => ApiResponse;

/** One entry of the route table. */
export interface Route {
  method: 'GET' | 'POST' | 'DELETE';
  pattern: string;
  handler: ApiHandler;
}

/**
 * Matches `/v1/payment_intents/:id/confirm` style patterns (`*` matches any one segment, a
 * trailing `**` any rest) against a path; returns the params or undefined.
 */
export function matchPath(pattern: string, path: string): Record<string, string> | undefined {
  const want = pattern.split('/').filter(Boolean);
  const have = path.split('/').filter(Boolean);
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const segment = want[i] ?? '';
    if (segment === '**') return params;
    const actual = have[i];
    if (actual === undefined) return undefined;
    if (segment.startsWith(':')) params[segment.slice(1)] = decodeURIComponent(actual);
    else if (segment !== '*' && segment !== actual) return undefined;
  }
  return want.length === have.length ? params : undefined;
}

/** Looks requests up in an ordered route table (static routes before `:id` ones). */
export class Router {
  constructor(private readonly routes: readonly Route[]) {}

  /** The first matching route and its params; `knownPath` tells 404 from 405-ish misses. */
  match(
    method: string,
    path: string,
  ): { route: Route; pathParams: Record<string, string> } | undefined {
    for (const route of this.routes) {
      if (route.method !== method) continue;
      const pathParams = matchPath(route.pattern, path);
      if (pathParams) return { route, pathParams };
    }
    return undefined;
  }
}
