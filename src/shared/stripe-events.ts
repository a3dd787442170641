// Where a verified Stripe event goes (the receiver's routing, DESIGN.md Contracts): the route
// read from the event, and the record the unmatched-events workflow keeps. Pure (no zod: see validate.ts), so
// the receiver, the routing activities and workflow code share it.
import { fnv1a } from './hash.js';
import { RefundReason } from './refunds.js';
import { stripeEventSignalSchema } from './schemas.js';
import { v, type Infer } from './validate.js';

/** What an event is about, as far as routing is concerned. */
export const RouteKind = {
  /** A `payment_intent.*` event: goes to the charge that owns the intent. */
  paymentIntent: 'payment_intent',
  /** A customer-level event (new payment method, new default, setup intent succeeded): every open charge of the customer. */
  customer: 'customer',
  /** A `refund.*` event: goes to the refund workflow its `metadata.workflow_id` names (issue 14). */
  refund: 'refund',
  /** A `charge.dispute.*` event: signal-with-start of `dispute:<disputeId>` (issue 14). */
  dispute: 'dispute',
  /** Anything else: kept in the unmatched-events workflow for inspection, never re-routed. */
  other: 'other',
} as const;
export type RouteKind = (typeof RouteKind)[keyof typeof RouteKind];

/** The ids routing needs, read once from the verified event body. */
export const eventRouteSchema = v.discriminatedUnion('kind', [
  v.object({
    kind: v.literal(RouteKind.paymentIntent),
    paymentIntentId: v.string().min(1),
    /** `data.object.metadata.workflow_id`, when present (stripped or thin payloads lack it). */
    workflowId: v.string().min(1).optional(),
    /**
     * The event's `request.idempotency_key`, when it is a confirm or cancel key that `workflowId`
     * derived: the event reports the answer to a request that run awaits (nothing to wake).
     */
    awaitedKey: v.string().min(1).optional(),
  }),
  v.object({
    kind: v.literal(RouteKind.customer),
    /** Undefined when a thin payload did not say which customer. */
    customerId: v.string().min(1).optional(),
  }),
  v.object({
    kind: v.literal(RouteKind.refund),
    refundId: v.string().min(1),
    /** `data.object.metadata.workflow_id`, when it names a refund workflow. */
    workflowId: v.string().min(1).optional(),
    /** `refund.failed`, or a refund whose `status` is `failed` (a hint: Stripe is re-read). */
    failed: v.literal(true).optional(),
    /** `data.object.reason`, when it is one of Stripe's refund reasons. */
    reason: v.enum(RefundReason).optional(),
  }),
  v.object({ kind: v.literal(RouteKind.dispute), disputeId: v.string().min(1) }),
  v.object({ kind: v.literal(RouteKind.other) }),
]);
export type EventRoute = Infer<typeof eventRouteSchema>;

/** A verified event reduced to what is signalled (`signal`) and how to route it (`route`). */
export const routedStripeEventSchema = v.object({
  signal: stripeEventSignalSchema,
  route: eventRouteSchema,
});
export type RoutedStripeEvent = Infer<typeof routedStripeEventSchema>;

/** The unmatched-events signal payload: the event and why it could not be delivered. */
export const unmatchedStripeEventSchema = routedStripeEventSchema.extend({
  reason: v.string().min(1),
});
export type UnmatchedStripeEvent = Infer<typeof unmatchedStripeEventSchema>;

/**
 * The event types a workflow handles, the only ones the receiver sends to Temporal. Any other
 * type is acknowledged (200, `delivery: 'ignored'`) and counted, and reaches no workflow: Stripe
 * advises endpoints to subscribe only to what they need, but a merchant's endpoint often gets
 * everything. `*` ends a prefix. A handled type can still be ignored when its payload cannot be
 * routed (a `customer.updated` that did not change the default payment method, an id that is not
 * a Stripe id).
 */
export const HANDLED_EVENT_TYPES = [
  /** The charge that owns the intent (chargeCustomer), but not `payment_intent.created`. */
  'payment_intent.*',
  /** A new way to pay: open charges of the customer retry early. */
  'payment_method.attached',
  'setup_intent.succeeded',
  'customer.updated',
  /** The refund workflow its `metadata.workflow_id` names (refundOrder). */
  'refund.*',
  /** `dispute:<disputeId>`, started by the first (handleDispute). */
  'charge.dispute.*',
] as const;

/**
 * Types under a handled prefix that no workflow needs in any state: a charge made the intent
 * itself, so `payment_intent.created` tells it nothing (it was a signal, a history event and a
 * persistence write per charge, for no re-read).
 */
export const UNNEEDED_EVENT_TYPES: ReadonlySet<string> = new Set(['payment_intent.created']);

/**
 * The event types to subscribe a Stripe webhook endpoint to (its `enabled_events`, which takes
 * exact types or `*`): every type of {@link HANDLED_EVENT_TYPES} that Stripe sends, without
 * {@link UNNEEDED_EVENT_TYPES}. An endpoint subscribed to more works the same; each extra event
 * costs a delivery and a signature check and is answered `ignored`.
 */
export const WEBHOOK_ENDPOINT_EVENT_TYPES = [
  'payment_intent.amount_capturable_updated',
  'payment_intent.canceled',
  'payment_intent.partially_funded',
  'payment_intent.payment_failed',
  'payment_intent.processing',
  'payment_intent.requires_action',
  'payment_intent.succeeded',
  'payment_method.attached',
  'setup_intent.succeeded',
  'customer.updated',
  'refund.created',
  'refund.updated',
  'refund.failed',
  'charge.dispute.created',
  'charge.dispute.updated',
  'charge.dispute.closed',
  'charge.dispute.funds_withdrawn',
  'charge.dispute.funds_reinstated',
] as const;

/** Whether a workflow handles events of `type` (see {@link HANDLED_EVENT_TYPES}). */
export function isHandledEventType(type: string): boolean {
  if (UNNEEDED_EVENT_TYPES.has(type)) return false;
  return HANDLED_EVENT_TYPES.some((pattern) =>
    pattern.endsWith('*') ? type.startsWith(pattern.slice(0, -1)) : type === pattern,
  );
}

/**
 * Prefix of the unmatched-events workflows. Handled events that match no workflow yet are kept
 * in {@link UNMATCHED_EVENTS_SHARDS} of them, `stripe-events:unmatched:<n>`, chosen by a hash of
 * the event's object id (one object's events stay together), so that no single workflow takes a
 * merchant's whole stream and no continue-as-new of one refuses what another can take.
 */
export const UNMATCHED_EVENTS_WORKFLOW_ID = 'stripe-events:unmatched';
/** How many unmatched-events workflows share the events (fixed: an event's shard is a hash). */
export const UNMATCHED_EVENTS_SHARDS = 8;

/** Workflow id of unmatched-events shard `shard`. */
export function unmatchedEventsWorkflowId(
  shard: number,
  prefix = UNMATCHED_EVENTS_WORKFLOW_ID,
): string {
  return `${prefix}:${shard}`;
}

/** The shard an object's unmatched events go to first. */
export function unmatchedEventsShard(objectId: string, shards = UNMATCHED_EVENTS_SHARDS): number {
  return fnv1a(objectId) % shards;
}
/** Id of the Schedule that runs the events backfill; its runs get this id plus a timestamp. */
export const BACKFILL_SCHEDULE_ID = 'stripe-events:backfill';

/** Workflow id of a backfill started by hand (`npm run backfill`), unique per start time. */
export function manualBackfillWorkflowId(startedAt: Date): string {
  return `${BACKFILL_SCHEDULE_ID}:manual:${startedAt.toISOString()}`;
}
