// Where a verified Stripe event goes (the receiver's routing, DESIGN.md Contracts): the route
// read from the event, and the record the unmatched-events workflow keeps. Pure (zod only), so
// the receiver, the routing activities and workflow code share it.
import { z } from 'zod';
import { stripeEventSignalSchema } from './schemas.js';

/** What an event is about, as far as routing is concerned. */
export const RouteKind = {
  /** A `payment_intent.*` event: goes to the charge that owns the intent. */
  paymentIntent: 'payment_intent',
  /** A customer-level event (new payment method, new default, setup intent succeeded): every open charge of the customer. */
  customer: 'customer',
  /** Anything else: kept in the unmatched-events workflow for inspection, never re-routed. */
  other: 'other',
} as const;
export type RouteKind = (typeof RouteKind)[keyof typeof RouteKind];

/** The ids routing needs, read once from the verified event body. */
export const eventRouteSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal(RouteKind.paymentIntent),
    paymentIntentId: z.string().min(1),
    /** `data.object.metadata.workflow_id`, when present (stripped or thin payloads lack it). */
    workflowId: z.string().min(1).optional(),
  }),
  z.object({
    kind: z.literal(RouteKind.customer),
    /** Undefined when a thin payload did not say which customer. */
    customerId: z.string().min(1).optional(),
  }),
  z.object({ kind: z.literal(RouteKind.other) }),
]);
export type EventRoute = z.infer<typeof eventRouteSchema>;

/** A verified event reduced to what is signalled (`signal`) and how to route it (`route`). */
export const routedStripeEventSchema = z.object({
  signal: stripeEventSignalSchema,
  route: eventRouteSchema,
});
export type RoutedStripeEvent = z.infer<typeof routedStripeEventSchema>;

/** The unmatched-events signal payload: the event and why it could not be delivered. */
export const unmatchedStripeEventSchema = routedStripeEventSchema.extend({
  reason: z.string().min(1),
});
export type UnmatchedStripeEvent = z.infer<typeof unmatchedStripeEventSchema>;

/** Workflow id of the long-lived unmatched-events workflow (one per namespace). */
export const UNMATCHED_EVENTS_WORKFLOW_ID = 'stripe-events:unmatched';
/** Id of the Schedule that runs the events backfill; its runs get this id plus a timestamp. */
export const BACKFILL_SCHEDULE_ID = 'stripe-events:backfill';

/** Workflow id of a backfill started by hand (`npm run backfill`), unique per start time. */
export function manualBackfillWorkflowId(startedAt: Date): string {
  return `${BACKFILL_SCHEDULE_ID}:manual:${startedAt.toISOString()}`;
}
