// The Stripe calls the activities send, as sent (method, path, parameters), recorded one line
// per distinct shape when `STRIPE_CALL_LOG` names a directory. The test suite sets it and checks
// every recorded call against stripe-mock (Stripe's OpenAPI spec): the contract is what the code
// sends, so a new call is checked the day it is made, with no list to keep up to date.
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { asyncLocalStorage } from '@temporalio/activity';
import type Stripe from 'stripe';

/** The environment variable naming the directory the calls are recorded in. */
export const STRIPE_CALL_LOG_ENV = 'STRIPE_CALL_LOG';

/** One recorded call. */
export interface StripeCall {
  /** The activity that sent it. */
  activity: string;
  method: string;
  /** The path as sent, with its ids and (for GET) its query string. */
  path: string;
  /** The form parameters of a POST (stripe-node's params object). */
  body?: Record<string, unknown> | undefined;
  /** What makes two calls the same call: method, path with ids as `:id`, parameter names. */
  shape: string;
}

/** stripe-node's `request` event; `body` is there with `emitEventBodies: true`. */
interface RequestEventWithBody {
  method: string;
  path: string;
  body?: Record<string, unknown>;
}

/** The part of the client that emits request events (stripe-node types `on` loosely). */
interface RequestEmitter {
  on(name: 'request', listener: (event: RequestEventWithBody) => void): void;
}

/** A path segment that is a Stripe object id (`pi_…`, `cus_…`, `pm_card_visa`, `evt_…`). */
const ID_SEGMENT = /^[a-z]{2,6}_[A-Za-z0-9_]+$/;

/** The parameter names of a form body or query, nested ones as Stripe writes them (`created[gte]`). */
function parameterNames(value: unknown, prefix = ''): string[] {
  if (value === null || typeof value !== 'object') return [prefix];
  // Metadata keys are the caller's data, not the API's parameters.
  if (prefix === 'metadata') return ['metadata[…]'];
  const entries = Array.isArray(value)
    ? value.map((v, i) => [String(i), v] as const)
    : Object.entries(value);
  return entries.flatMap(([k, v]) =>
    parameterNames(v, prefix === '' ? k : `${prefix}[${Array.isArray(value) ? '' : k}]`),
  );
}

/** The shape of a call: two calls of one shape are checked once. */
export function callShape(method: string, path: string, body?: Record<string, unknown>): string {
  const [pathname = '', query = ''] = path.split('?', 2);
  const template = pathname
    .split('/')
    .map((s) => (ID_SEGMENT.test(s) ? ':id' : s))
    .join('/');
  const names = new Set<string>(
    [...new URLSearchParams(query).keys()].map((k) =>
      k.startsWith('metadata[') ? 'metadata[…]' : k.replace(/\[\d+\]/g, '[]'),
    ),
  );
  if (body) for (const name of parameterNames(body)) names.add(name);
  return `${method} ${template} ${[...names].sort().join('&')}`.trim();
}

/**
 * Records the calls `stripe` sends from inside an activity into `<dir>/<pid>.jsonl`, each shape
 * once per process. Calls made outside an activity (tests setting up customers, say) are not the
 * project's calls and are left out. `stripe` must be made with `emitEventBodies: true`.
 */
export function recordStripeCalls(stripe: Stripe, dir: string): void {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${process.pid}.jsonl`);
  const seen = new Set<string>();
  const emitter: RequestEmitter = stripe;
  emitter.on('request', (event) => {
    const context = asyncLocalStorage.getStore();
    if (!context) return;
    const { method, path, body } = event;
    const shape = callShape(method, path, body);
    const activity = context.info.activityType;
    if (seen.has(`${activity} ${shape}`)) return;
    seen.add(`${activity} ${shape}`);
    const call: StripeCall = { activity, method, path, body, shape };
    appendFileSync(file, `${JSON.stringify(call)}\n`);
  });
}
