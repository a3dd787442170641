// Figure 6, Stripe requests per create: stripe-node's own `request` and `response` events during
// real charges, attributed to the activity that sent them, for a customer with no other
// PaymentIntents and then for one with `intents` (10,000) of them. A create that finds the
// order's intent in O(1) requests (DESIGN.md invariant 1, issue 12) costs the same at both points.
import { asyncLocalStorage } from '@temporalio/activity';
import type Stripe from 'stripe';
import { ChargeOutcome } from '../src/client/index.js';
import { WebhookFaultKind } from '../src/simulator/index.js';
import { median, progress, runClosedLoop } from './measure.js';
import { BENCH_TASK_QUEUE, type BenchStack } from './stack.js';

export interface RequestSizes {
  /** PaymentIntents put on the busy customer before its charges run. */
  intents: number;
  /** Charges per customer, one at a time. */
  charges: number;
  /** Creates in flight while the busy customer's intents are put in place. */
  seedConcurrency: number;
}

/** Stripe requests by `METHOD /path`, ids in the path written `{id}`. */
export type RequestCounts = Record<string, number>;

export interface RequestPoint {
  /** The customer's PaymentIntents (as Stripe lists them) when its first charge started. */
  intentsOnCustomer: number;
  charges: number;
  /** Requests per create activity (every attempt of it), by method and path: the mean. */
  perCreate: RequestCounts;
  perCreateTotal: number;
  /** Requests per charge, by activity type, then by method and path: the mean. */
  perCharge: Record<string, RequestCounts>;
  perChargeTotal: number;
  /** Activity attempts beyond the first (a retry repeats its requests). */
  retries: number;
  /** Requests of the charges' activities that had no `response` event (0: all answered). */
  unanswered: number;
  /** Requests sent outside any activity while the charges ran (0: all attributed). */
  unattributed: number;
  /** Median round trip stripe-node measured for the create's search, ms (not a goal). */
  searchMedianMs: number;
}

export interface RequestsResult {
  sizes: RequestSizes;
  /** Wall seconds to create the busy customer's intents through stripe-node. */
  seedSeconds: number;
  /** The baseline: a fresh customer. */
  empty: RequestPoint;
  /** The customer with `sizes.intents` intents. */
  busy: RequestPoint;
  /** Whether a create sent the same requests (methods, paths and counts) at both points. */
  equal: boolean;
}

/** The create's lookup, as stripe-node reports its path. */
export const SEARCH_ROUTE = 'GET /v1/payment_intents/search';

/** `POST /v1/payment_intents/pi_123/confirm` → `POST /v1/payment_intents/{id}/confirm`. */
export function routeOf(method: string, path: string): string {
  const bare = path.split('?', 1)[0] ?? path;
  return `${method.toUpperCase()} ${bare.replace(/\/[a-z]{2,5}_[A-Za-z0-9]{6,}(?=\/|$)/g, '/{id}')}`;
}

/** stripe-node's event API, typed (its declarations say `any` for `on` and `off`). */
interface StripeRequestEvents {
  on(name: 'request', listener: (event: Stripe.RequestEvent) => void): void;
  on(name: 'response', listener: (event: Stripe.ResponseEvent) => void): void;
  off(name: 'request', listener: (event: Stripe.RequestEvent) => void): void;
  off(name: 'response', listener: (event: Stripe.ResponseEvent) => void): void;
}

/** What one activity execution (all its attempts) sent to Stripe. */
interface ActivityRequests {
  workflowId: string;
  activityType: string;
  attempts: Set<number>;
  sent: RequestCounts;
  requests: number;
  responses: number;
  searchMs: number[];
}

function add(counts: RequestCounts, route: string, n = 1): void {
  counts[route] = (counts[route] ?? 0) + n;
}

/**
 * Listens to the client's request and response events. Activities run inside the SDK's
 * AsyncLocalStorage context, and stripe-node emits both events in the call's promise chain, so
 * the current activity context says which activity a request belongs to.
 */
function recordRequests(client: Stripe) {
  const stripe = client as unknown as StripeRequestEvents;
  const activities = new Map<string, ActivityRequests>();
  let unattributed = 0;
  const current = (): ActivityRequests | undefined => {
    const info = asyncLocalStorage.getStore()?.info;
    // Standalone activities have no workflow; a charge's always do.
    const workflowId = info?.workflowExecution?.workflowId;
    if (!info || workflowId === undefined) return undefined;
    const key = `${workflowId}/${info.activityId}`;
    let entry = activities.get(key);
    if (!entry) {
      entry = {
        workflowId,
        activityType: info.activityType,
        attempts: new Set(),
        sent: {},
        requests: 0,
        responses: 0,
        searchMs: [],
      };
      activities.set(key, entry);
    }
    entry.attempts.add(info.attempt);
    return entry;
  };
  const onRequest = (event: Stripe.RequestEvent): void => {
    const entry = current();
    if (!entry) {
      unattributed++;
      return;
    }
    entry.requests++;
    add(entry.sent, routeOf(event.method, event.path));
  };
  const onResponse = (event: Stripe.ResponseEvent): void => {
    const entry = current();
    if (!entry) return;
    entry.responses++;
    if (routeOf(event.method, event.path) === SEARCH_ROUTE) entry.searchMs.push(event.elapsed);
  };
  stripe.on('request', onRequest);
  stripe.on('response', onResponse);
  return {
    activities: () => [...activities.values()],
    unattributed: () => unattributed,
    stop(): void {
      stripe.off('request', onRequest);
      stripe.off('response', onResponse);
    },
  };
}

/** Sums request counts and divides by `n`. */
function meanCounts(all: readonly RequestCounts[], n: number): RequestCounts {
  const total: RequestCounts = {};
  for (const counts of all) for (const [route, k] of Object.entries(counts)) add(total, route, k);
  return Object.fromEntries(
    Object.entries(total)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([route, k]) => [route, k / n]),
  );
}

function sum(counts: RequestCounts): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

export function sameCounts(a: RequestCounts, b: RequestCounts): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((k) => a[k] === b[k]);
}

/** The customer's PaymentIntents, as Stripe lists them (one request per 100). */
async function countIntents(stripe: Stripe, customerId: string): Promise<number> {
  let count = 0;
  for await (const intent of stripe.paymentIntents.list({ customer: customerId, limit: 100 }))
    if (intent.id) count++;
  return count;
}

/**
 * Puts `sizes.intents` unconfirmed intents of other orders on the customer, straight through
 * stripe-node. Their `payment_intent.created` webhooks are dropped by a fault rule that expires
 * with the last of them: 10,000 events for workflows that do not exist would only load the
 * receiver and the unmatched-events workflow, which this figure does not measure. (Clearing the
 * webhook target instead is no good: a delivery still due then never leaves the queue, and the
 * dispatcher's pass retries it in a loop that starves the event loop.)
 */
async function seedIntents(
  stack: BenchStack,
  customerId: string,
  sizes: RequestSizes,
  runId: string,
): Promise<number> {
  const t0 = performance.now();
  stack.sim.webhookFaults.add({
    kind: WebhookFaultKind.drop,
    eventType: 'payment_intent.created',
    times: sizes.intents,
  });
  await runClosedLoop(
    sizes.intents,
    sizes.seedConcurrency,
    (i) =>
      stack.stripe.paymentIntents.create({
        amount: 1000 + (i % 100),
        currency: 'usd',
        customer: customerId,
        metadata: { order_id: `${runId}-seeded-${i}`, workflow_id: `charge:${runId}-seeded-${i}` },
      }),
    (done) => {
      if (done % 2500 === 0) progress(`requests: ${done}/${sizes.intents} intents created`);
    },
  );
  return (performance.now() - t0) / 1000;
}

/** Runs `sizes.charges` card charges for the customer, one at a time, and counts their requests. */
async function measurePoint(
  stack: BenchStack,
  customerId: string,
  sizes: RequestSizes,
  tag: string,
): Promise<RequestPoint> {
  const intentsOnCustomer = await countIntents(stack.stripe, customerId);
  const recorder = recordRequests(stack.stripe);
  const workflowIds = new Set<string>();
  try {
    for (let i = 0; i < sizes.charges; i++) {
      const handle = await stack.billing.startCharge({
        orderId: `${tag}-${i}`,
        customerId,
        amount: 2500,
        currency: 'usd',
        paymentMethodId: 'pm_card_visa',
      });
      workflowIds.add(handle.workflowId);
      const result = await handle.result();
      if (result.outcome !== ChargeOutcome.succeeded)
        throw new Error(`${handle.workflowId} ended ${result.outcome}, not succeeded`);
    }
  } finally {
    recorder.stop();
  }
  const ours = recorder.activities().filter((a) => workflowIds.has(a.workflowId));
  const creates = ours.filter((a) => a.activityType === 'createPaymentIntent');
  if (creates.length === 0)
    throw new Error(`${tag}: no createPaymentIntent activity sent a request`);
  const perCreate = meanCounts(
    creates.map((a) => a.sent),
    creates.length,
  );
  const types = [...new Set(ours.map((a) => a.activityType))].sort();
  const perCharge = Object.fromEntries(
    types.map((type) => [
      type,
      meanCounts(
        ours.filter((a) => a.activityType === type).map((a) => a.sent),
        sizes.charges,
      ),
    ]),
  );
  return {
    intentsOnCustomer,
    charges: sizes.charges,
    perCreate,
    perCreateTotal: sum(perCreate),
    perCharge,
    perChargeTotal: Object.values(perCharge).reduce((a, c) => a + sum(c), 0),
    retries: ours.reduce((a, x) => a + x.attempts.size - 1, 0),
    unanswered: ours.reduce((a, x) => a + x.requests - x.responses, 0),
    unattributed: recorder.unattributed(),
    searchMedianMs: median(creates.flatMap((a) => a.searchMs)),
  };
}

function describePoint(point: RequestPoint): string {
  const routes = Object.entries(point.perCreate)
    .map(([route, k]) => `${route} ×${k}`)
    .join(', ');
  return `${point.perCreateTotal} per create (${routes}), ${point.perChargeTotal} per charge, search ${point.searchMedianMs.toFixed(1)} ms`;
}

export async function benchRequests(
  stack: BenchStack,
  sizes: RequestSizes,
  runId: string,
): Promise<RequestsResult> {
  const fresh = async (label: string) =>
    (await stack.stripe.customers.create({ email: `bench-${label}@example.com` })).id;
  const emptyCustomer = await fresh('requests-empty');
  const busyCustomer = await fresh('requests-busy');
  const worker = await stack.createWorker(BENCH_TASK_QUEUE);
  return worker.runUntil(async () => {
    // The baseline first, before the store holds the busy customer's intents.
    progress(`requests: ${sizes.charges} charges for a customer with no other intents`);
    const empty = await measurePoint(stack, emptyCustomer, sizes, `${runId}-req-empty`);
    progress(`requests: with 0 intents: ${describePoint(empty)}`);
    progress(`requests: putting ${sizes.intents} intents on one customer`);
    const seedSeconds = await seedIntents(stack, busyCustomer, sizes, runId);
    progress(`requests: ${sizes.intents} intents created in ${seedSeconds.toFixed(1)} s`);
    const busy = await measurePoint(stack, busyCustomer, sizes, `${runId}-req-busy`);
    progress(`requests: with ${busy.intentsOnCustomer} intents: ${describePoint(busy)}`);
    return { sizes, seedSeconds, empty, busy, equal: sameCounts(empty.perCreate, busy.perCreate) };
  });
}
