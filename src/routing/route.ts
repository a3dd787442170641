// Routing of a verified event to the workflows it is about, in the order DESIGN.md gives:
// PaymentIntent events by `metadata.workflow_id`, then by the `BillingPaymentIntentId` search
// attribute; customer-level events to every open charge of the customer; refunds and disputes
// to theirs. Handled events no workflow takes yet (visibility lags) go to one of the sharded
// unmatched-events workflows; types no workflow handles go nowhere (`ignored`). Used by the
// receiver and by the re-routing and backfill activities, so it lives apart from both.
import {
  isGrpcServiceError,
  ServiceError,
  type Client,
  type WorkflowExecutionInfo,
} from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { orderIdFromWorkflowId } from '../shared/ids.js';
import { BillingCustomerId, BillingPaymentIntentId } from '../shared/search-attributes.js';
import {
  RouteKind,
  UNMATCHED_EVENTS_SHARDS,
  UNMATCHED_EVENTS_WORKFLOW_ID,
  unmatchedEventsShard,
  unmatchedEventsWorkflowId,
  type RoutedStripeEvent,
  type UnmatchedStripeEvent,
} from '../shared/stripe-events.js';
import { stripeEventSignal } from '../workflows/messages.js';
import { unmatchedEventSignal } from '../workflows/unmatched-messages.js';
import { hasEnded, routeAfterCharge } from '../webhooks/route-after-charge.js';

/** How an event was made durable. */
export const Delivery = {
  /** Signalled to the open workflow(s) it is about. */
  workflow: 'workflow',
  /** Every workflow it is about has ended (its outcome is already in history): nothing to wake. */
  closed: 'closed',
  /**
   * The event reports the answer to a confirm or cancel its charge sent (the event's
   * `request.idempotency_key` is one the charge derived): that run awaits this very answer as
   * its activity's result, and reads the intent if the answer is lost, so nothing is signalled.
   */
  answered: 'answered',
  /** Recorded, by signal-with-start, in an unmatched-events workflow. */
  unmatched: 'unmatched',
  /** A type no workflow handles (or a payload no workflow can be found for, ever): sent nowhere. */
  ignored: 'ignored',
  /** Not delivered anywhere (only when the caller asked for no fallback). */
  undelivered: 'undelivered',
} as const;
export type Delivery = (typeof Delivery)[keyof typeof Delivery];

/** Which lookup found the target. */
export const MatchedBy = {
  metadata: 'metadata',
  searchAttribute: 'search_attribute',
  customer: 'customer',
  /** A dispute event, by the dispute's own id (route-after-charge.ts). */
  objectId: 'object_id',
} as const;
export type MatchedBy = (typeof MatchedBy)[keyof typeof MatchedBy];

export type RouteResult =
  | { delivery: typeof Delivery.workflow; workflowIds: string[]; matchedBy: MatchedBy }
  | { delivery: typeof Delivery.closed; workflowIds: string[] }
  | { delivery: typeof Delivery.answered; workflowIds: [string]; key: string }
  | { delivery: typeof Delivery.unmatched; reason: string; workflowId: string }
  | { delivery: typeof Delivery.ignored; reason: string }
  | { delivery: typeof Delivery.undelivered; reason: string };

export interface EventRouterOptions {
  client: Client;
  /** Task queue the unmatched-events workflow is started on (the billing worker's). */
  taskQueue: string;
  /**
   * One unmatched-events workflow of this exact id instead of the shards
   * (`stripe-events:unmatched:<n>`, {@link UNMATCHED_EVENTS_SHARDS} of them); tests use their own.
   */
  unmatchedWorkflowId?: string;
  /** Shards under `unmatchedWorkflowId` as a prefix (`<id>:<n>`); default 1 with an id, else 8. */
  unmatchedShards?: number;
  /**
   * Signal an event that answers its charge's own confirm or cancel too ({@link Delivery.answered}
   * otherwise): every webhook in the charge's history, at the cost docs/performance.md measures.
   */
  signalAnswers?: boolean;
}

/** What to do with an event no workflow takes: record it as unmatched, or report it undelivered. */
export type Fallback = 'unmatched' | 'none';

/** Open charges of one customer signalled at once, at most; more are signalled in waves. */
const SIGNAL_CONCURRENCY = 16;
/** Charges a customer-level event wakes, at most (a customer rarely has more than a few open). */
const MAX_CUSTOMER_CHARGES = 1000;

/**
 * A signal's fate: taken by an open run; refused because the id's last run has ended (`ended`,
 * the server says so: {@link WORKFLOW_ENDED_MESSAGE}); or refused with no such run (`closed`,
 * which covers both an ended run and an id that never ran here).
 */
type Outcome = 'signalled' | 'ended' | 'closed';

/**
 * What the Temporal server answers (NotFound) to a signal for a workflow id whose last run has
 * ended: its `consts.ErrWorkflowCompleted`, the same for completed, failed, terminated and
 * timed-out runs, and unchanged since the server's first releases. An id that never ran gets
 * `workflow not found for ID: …` instead. Recognising it spares the describe that would tell the
 * two apart, on the commonest late event: a card's `payment_intent.succeeded` after its charge
 * ended. Any other NotFound still gets the describe.
 */
const WORKFLOW_ENDED_MESSAGE = 'workflow execution already completed';

/** The reason an event is kept as unmatched when visibility refused its lookup or was too slow. */
const VISIBILITY_UNAVAILABLE =
  'the visibility lookup was rate-limited or too slow; re-routed later';
// gRPC status codes (grpc/doc/statuscodes.md); @grpc/grpc-js is not a direct dependency.
const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_RESOURCE_EXHAUSTED = 8;

/**
 * Time a receiver gives one visibility lookup, within its request deadline: a lookup that takes
 * longer (a rate-limited one waits a second for the SDK's retry) keeps the event as unmatched.
 */
export const LOOKUP_BUDGET_MS = 1000;
/** Time a receiver gives one unmatched shard before it tries the next one. */
export const SHARD_BUDGET_MS = 1500;
/**
 * Signal-with-starts one event gets before routing fails (the receiver answers 503): three
 * shards' budgets fit in the receiver's default deadline of 5 s.
 */
const UNMATCHED_TRIES = 3;
/** Ids per `IN (…)` visibility query of a batch lookup. */
const LOOKUP_BATCH = 50;

/** Ids that go into a visibility query: plain Stripe ids (no quotes, no spaces). */
const QUERYABLE_ID = /^[A-Za-z0-9_]+$/;
function isQueryableId(id: string): boolean {
  return QUERYABLE_ID.test(id);
}

function grpcCode(error: unknown): number | undefined {
  const grpc = error instanceof ServiceError ? error.cause : error;
  if (!isGrpcServiceError(grpc)) return undefined;
  const code: number = grpc.code;
  return code;
}

/** A Temporal rate limit (the SDK's ServiceError wraps the gRPC error as its cause). */
function isRateLimited(error: unknown): boolean {
  return grpcCode(error) === GRPC_RESOURCE_EXHAUSTED;
}

function isDeadlineExceeded(error: unknown): boolean {
  return grpcCode(error) === GRPC_DEADLINE_EXCEEDED;
}

/** Charge workflows a lookup found. */
interface Found {
  open: string[];
  closed: string[];
}

/** How routing finds charges: one query per event, or prefetched for a batch. */
interface Lookups {
  /** Charges whose `BillingPaymentIntentId` is the id; `undefined`: visibility did not answer. */
  byIntent(paymentIntentId: string): Promise<Found | undefined>;
  /** Open charges whose `BillingCustomerId` is the id; `undefined` as above. */
  openOfCustomer(customerId: string): Promise<Found | undefined>;
}

export interface RouteOptions {
  /** What to do with an event no workflow takes; default `'unmatched'`. */
  fallback?: Fallback;
  /**
   * The caller's deadline (epoch ms; the receiver's request deadline): lookups and unmatched
   * shards then get bounded shares of it instead of waiting out the SDK's retries.
   */
  deadline?: number;
}

/**
 * A router over a Temporal client. `route` resolves once every signal it sent was accepted by
 * the Temporal server, and rejects on any Temporal error (the caller answers 503 and Stripe
 * redelivers; duplicates are deduped by the workflows).
 */
export function createEventRouter({
  client,
  taskQueue,
  unmatchedWorkflowId,
  unmatchedShards = unmatchedWorkflowId === undefined ? UNMATCHED_EVENTS_SHARDS : 1,
  signalAnswers = false,
}: EventRouterOptions) {
  const prefix = unmatchedWorkflowId ?? UNMATCHED_EVENTS_WORKFLOW_ID;
  /** The workflow ids an event may be kept in, its own shard first. */
  function unmatchedTargets(event: RoutedStripeEvent): string[] {
    if (unmatchedShards <= 1) return [prefix];
    const first = unmatchedEventsShard(event.signal.objectId, unmatchedShards);
    return Array.from({ length: unmatchedShards }, (_, i) =>
      unmatchedEventsWorkflowId((first + i) % unmatchedShards, prefix),
    );
  }

  /**
   * Signal-with-start into the event's shard; if that one refuses (a continue-as-new in flight,
   * an overloaded run), the next shard, then one more ({@link UNMATCHED_TRIES} tries; with fewer
   * shards, such as one `unmatchedWorkflowId`, the same one again, since a refusal is brief): the
   * event is durable in whichever took it, and its re-routing dedupes by event id. Throws the
   * last error when none took it.
   */
  async function keepUnmatched(
    event: RoutedStripeEvent,
    reason: string,
    deadline: number | undefined,
  ): Promise<string> {
    const shards = unmatchedTargets(event);
    const targets = Array.from({ length: UNMATCHED_TRIES }, (_, i) => shards[i % shards.length]!);
    let lastError: unknown;
    for (const workflowId of targets) {
      const keep = () =>
        client.workflow.signalWithStart('unmatchedEvents', {
          workflowId,
          taskQueue,
          args: [{}],
          signal: unmatchedEventSignal,
          signalArgs: [{ ...event, reason } satisfies UnmatchedStripeEvent],
        });
      try {
        // With a deadline, a shard gets a share of it: the SDK retries a busy shard's refusal
        // after a second, and the next shard may take the event at once.
        if (deadline === undefined) await keep();
        else await client.withDeadline(Math.min(deadline, Date.now() + SHARD_BUDGET_MS), keep);
        return workflowId;
      } catch (error) {
        lastError = error;
        if (deadline !== undefined && Date.now() >= deadline) break;
      }
    }
    throw lastError;
  }

  async function signal(workflowId: string, event: RoutedStripeEvent): Promise<Outcome> {
    try {
      await client.workflow.getHandle(workflowId).signal(stripeEventSignal, event.signal);
      return 'signalled';
    } catch (error) {
      if (error instanceof WorkflowNotFoundError)
        return error.message === WORKFLOW_ENDED_MESSAGE ? 'ended' : 'closed';
      throw error;
    }
  }

  /** Signals every id; `undefined` when none was open. */
  async function signalAll(
    workflowIds: string[],
    event: RoutedStripeEvent,
    matchedBy: MatchedBy,
  ): Promise<RouteResult> {
    const signalled: string[] = [];
    for (let i = 0; i < workflowIds.length; i += SIGNAL_CONCURRENCY) {
      const wave = workflowIds.slice(i, i + SIGNAL_CONCURRENCY);
      const outcomes = await Promise.all(wave.map((id) => signal(id, event)));
      wave.forEach((id, j) => outcomes[j] === 'signalled' && signalled.push(id));
    }
    return signalled.length > 0
      ? { delivery: Delivery.workflow, workflowIds: signalled, matchedBy }
      : { delivery: Delivery.closed, workflowIds };
  }

  /**
   * Charge workflows matching a visibility query, open and closed; `undefined` when visibility
   * could not answer in time: the cluster's visibility rate limit refused the query
   * (`frontend.namespaceRPS.visibility`, 10/s per frontend by default; the SDK retries such a
   * refusal after a second), or, with a `deadline`, the query outlived {@link LOOKUP_BUDGET_MS}.
   * The event is then kept as unmatched, durable at once, and its re-routing runs the query later
   * instead of the receiver answering 503.
   */
  async function findCharges(
    query: string,
    deadline: number | undefined,
    onEach?: (execution: WorkflowExecutionInfo) => void,
    cap = MAX_CUSTOMER_CHARGES,
  ): Promise<Found | undefined> {
    const open: string[] = [];
    const closed: string[] = [];
    const list = async () => {
      for await (const execution of client.workflow.list({ query, pageSize: 100 })) {
        if (orderIdFromWorkflowId(execution.workflowId) === undefined) continue;
        (execution.status.name === 'RUNNING' ? open : closed).push(execution.workflowId);
        onEach?.(execution);
        if (open.length + closed.length >= cap) break;
      }
    };
    try {
      if (deadline === undefined) await list();
      else await client.withDeadline(Math.min(deadline, Date.now() + LOOKUP_BUDGET_MS), list);
    } catch (error) {
      if (isRateLimited(error)) return undefined;
      if (deadline !== undefined && isDeadlineExceeded(error) && Date.now() < deadline)
        return undefined;
      throw error;
    }
    return { open: [...new Set(open)], closed: [...new Set(closed)] };
  }

  const charges = (condition: string) => `WorkflowType = 'chargeCustomer' AND ${condition}`;
  const openCharges = (condition: string) =>
    charges(`ExecutionStatus = 'Running' AND ${condition}`);

  /** Lookups of one event, each its own query. */
  function singleLookups(deadline: number | undefined): Lookups {
    return {
      byIntent: (id) => findCharges(charges(`${BillingPaymentIntentId.name} = '${id}'`), deadline),
      openOfCustomer: (id) =>
        findCharges(openCharges(`${BillingCustomerId.name} = '${id}'`), deadline),
    };
  }

  /**
   * Lookups of many events at once: one `IN (…)` query per {@link LOOKUP_BATCH} intents and
   * one per as many customers, instead of one query per event (a shard re-routing what it holds
   * would otherwise spend the namespace's visibility rate on its own backlog).
   */
  async function batchLookups(events: readonly RoutedStripeEvent[]): Promise<Lookups> {
    const intents = new Set<string>();
    const customers = new Set<string>();
    for (const { route } of events) {
      // An intent whose metadata names its workflow is signalled without a lookup; only when
      // that workflow never ran here is it looked up, on its own (below).
      if (
        route.kind === RouteKind.paymentIntent &&
        route.workflowId === undefined &&
        isQueryableId(route.paymentIntentId)
      )
        intents.add(route.paymentIntentId);
      if (route.kind === RouteKind.customer && route.customerId && isQueryableId(route.customerId))
        customers.add(route.customerId);
    }
    const [byIntent, byCustomer] = await Promise.all([
      prefetch([...intents], BillingPaymentIntentId, charges),
      prefetch([...customers], BillingCustomerId, openCharges),
    ]);
    const single = singleLookups(undefined);
    return {
      byIntent: (id) =>
        byIntent.has(id) ? Promise.resolve(byIntent.get(id)) : single.byIntent(id),
      openOfCustomer: (id) =>
        byCustomer.has(id) ? Promise.resolve(byCustomer.get(id)) : single.openOfCustomer(id),
    };
  }

  /** What each id finds, by the keyword attribute the query filters on (`undefined`: refused). */
  async function prefetch(
    ids: string[],
    attribute: typeof BillingPaymentIntentId, // a Keyword key, as BillingCustomerId is
    query: (condition: string) => string,
  ): Promise<Map<string, Found | undefined>> {
    const found = new Map<string, Found | undefined>();
    for (let i = 0; i < ids.length; i += LOOKUP_BATCH) {
      const chunk = ids.slice(i, i + LOOKUP_BATCH);
      const each = new Map<string, Found>(chunk.map((id) => [id, { open: [], closed: [] }]));
      const result = await findCharges(
        query(`${attribute.name} IN (${chunk.map((id) => `'${id}'`).join(', ')})`),
        undefined,
        (execution) => {
          const target = each.get(execution.typedSearchAttributes.get(attribute) ?? '');
          if (!target) return;
          const list = execution.status.name === 'RUNNING' ? target.open : target.closed;
          if (!list.includes(execution.workflowId)) list.push(execution.workflowId);
        },
        MAX_CUSTOMER_CHARGES * chunk.length,
      );
      for (const id of chunk) found.set(id, result === undefined ? undefined : each.get(id));
    }
    return found;
  }

  async function routeToWorkflows(
    event: RoutedStripeEvent,
    lookups: Lookups,
  ): Promise<RouteResult | string> {
    const { route } = event;
    switch (route.kind) {
      case RouteKind.paymentIntent: {
        if (!signalAnswers && route.workflowId !== undefined && route.awaitedKey !== undefined)
          return {
            delivery: Delivery.answered,
            workflowIds: [route.workflowId],
            key: route.awaitedKey,
          };
        if (route.workflowId !== undefined) {
          const outcome = await signal(route.workflowId, event);
          if (outcome === 'signalled')
            return {
              delivery: Delivery.workflow,
              workflowIds: [route.workflowId],
              matchedBy: MatchedBy.metadata,
            };
          if (outcome === 'ended' || (await hasEnded(client, route.workflowId)))
            return { delivery: Delivery.closed, workflowIds: [route.workflowId] };
          // The id in the metadata never ran here (another environment, or a typo): look it up.
        }
        if (!isQueryableId(route.paymentIntentId))
          return { delivery: Delivery.ignored, reason: 'the intent id is not a Stripe id' };
        const found = await lookups.byIntent(route.paymentIntentId);
        if (found === undefined) return VISIBILITY_UNAVAILABLE;
        const { open, closed } = found;
        if (open.length > 0) return signalAll(open, event, MatchedBy.searchAttribute);
        // Only closed runs carry the intent's id, but a newer run of the same workflow id may be
        // open and not have set the attribute yet (a restart reads the intent before it upserts):
        // signal the id, which reaches its open run if there is one, and is `closed` otherwise.
        if (closed.length > 0) return signalAll(closed, event, MatchedBy.searchAttribute);
        return `no charge workflow has ${BillingPaymentIntentId.name} = ${route.paymentIntentId} (yet)`;
      }
      case RouteKind.customer: {
        if (route.customerId === undefined) return 'the event does not name its customer';
        if (!isQueryableId(route.customerId))
          return { delivery: Delivery.ignored, reason: 'the customer id is not a Stripe id' };
        const found = await lookups.openOfCustomer(route.customerId);
        if (found === undefined) return VISIBILITY_UNAVAILABLE;
        const { open } = found;
        if (open.length > 0) {
          const result = await signalAll(open, event, MatchedBy.customer);
          if (result.delivery === Delivery.workflow) return result;
        }
        return `no open charge of customer ${route.customerId}`;
      }
      case RouteKind.refund:
      case RouteKind.dispute:
        // Refunds and disputes (issue 14): src/webhooks/route-after-charge.ts.
        return routeAfterCharge({ client, taskQueue }, event);
      case RouteKind.other:
        return { delivery: Delivery.ignored, reason: `no workflow handles ${event.signal.type}` };
    }
  }

  /** A routing result, or what becomes of an event no workflow took (`reason`). */
  async function settle(
    event: RoutedStripeEvent,
    result: RouteResult | string,
    fallback: Fallback,
    deadline: number | undefined,
  ): Promise<RouteResult> {
    if (typeof result !== 'string') return result;
    if (fallback === 'none') return { delivery: Delivery.undelivered, reason: result };
    const workflowId = await keepUnmatched(event, result, deadline);
    return { delivery: Delivery.unmatched, reason: result, workflowId };
  }

  return {
    /** Where unmatched events are kept: the shards' ids, or the one id a caller named. */
    unmatchedWorkflowIds:
      unmatchedShards <= 1
        ? [prefix]
        : Array.from({ length: unmatchedShards }, (_, i) => unmatchedEventsWorkflowId(i, prefix)),

    /** Delivers `event` (see {@link RouteResult}); with `fallback: 'unmatched'` nothing is left undelivered. */
    async route(
      event: RoutedStripeEvent,
      { fallback = 'unmatched', deadline }: RouteOptions = {},
    ): Promise<RouteResult> {
      return settle(
        event,
        await routeToWorkflows(event, singleLookups(deadline)),
        fallback,
        deadline,
      );
    },

    /**
     * Routes many events as {@link route} does, with their lookups batched (one visibility query
     * per {@link LOOKUP_BATCH} intents or customers); results are in input order.
     */
    async routeMany(
      events: readonly RoutedStripeEvent[],
      { fallback = 'unmatched' }: { fallback?: Fallback } = {},
    ): Promise<RouteResult[]> {
      const lookups = await batchLookups(events);
      return Promise.all(
        events.map(async (event): Promise<RouteResult> => {
          return settle(event, await routeToWorkflows(event, lookups), fallback, undefined);
        }),
      );
    },
  };
}

/** The router `createEventRouter` returns. */
export type EventRouter = ReturnType<typeof createEventRouter>;
