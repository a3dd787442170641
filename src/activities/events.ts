// Event activities: route Stripe events through the shared router (src/routing/route.ts; the
// unmatched-events workflows re-routing what they hold), and page `/v1/events` since a cursor for the backfill.
// Both use a Temporal client: the injected one, else the worker's own (activity context).
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type Stripe from 'stripe';
import type { RoutedStripeEvent } from '../shared/stripe-events.js';
import { stripeWebhookEventSchema, toRoutedEvent } from '../webhooks/event.js';
import { createEventRouter, Delivery, type RouteResult } from '../routing/route.js';
import { toActivityFailure } from './stripe-errors.js';

/** A Temporal client for routing, and the task queue the unmatched-events workflow runs on. */
export interface RoutingTarget {
  client: Client;
  taskQueue: string;
}

export interface BackfillPageInput {
  /** Unix seconds: events created at or after this. */
  since: number;
  /** The last event id of the previous page (Stripe lists newest first). */
  startingAfter?: string | undefined;
  limit: number;
  unmatchedWorkflowId?: string | undefined;
}

export interface BackfillPage {
  events: number;
  signalled: number;
  closed: number;
  /** Answers to a charge's own confirm or cancel (its idempotency key): nothing to wake. */
  answered: number;
  unmatched: number;
  /** Types no workflow handles (acknowledged nowhere, as the receiver does). */
  ignored: number;
  /** Events Stripe listed that are not shaped like events we route (skipped, counted). */
  skipped: number;
  /** Newest `created` on the page (0 when empty). */
  maxCreated: number;
  lastEventId: string | undefined;
  hasMore: boolean;
}

/** Event activities over an injected Stripe client and, optionally, a Temporal client. */
export function createEventActivities(stripe: Stripe, temporal?: RoutingTarget) {
  function router(unmatchedWorkflowId: string | undefined) {
    const context = Context.current();
    return createEventRouter({
      client: temporal?.client ?? context.client,
      taskQueue: temporal?.taskQueue ?? context.info.taskQueue,
      ...(unmatchedWorkflowId !== undefined && { unmatchedWorkflowId }),
    });
  }

  return {
    /**
     * Routes each event to its workflow(s) without the unmatched fallback (the caller holds
     * what stays `undelivered`), with the lookups batched. Results are in input order.
     */
    async routeStripeEvents(events: RoutedStripeEvent[]): Promise<RouteResult[]> {
      return router(undefined).routeMany(events, { fallback: 'none' });
    },

    /** Lists one page of events since `since` and routes each, unroutable ones into unmatched. */
    async backfillStripeEventsPage(input: BackfillPageInput): Promise<BackfillPage> {
      let list: Stripe.ApiList<Stripe.Event>;
      try {
        list = await stripe.events.list({
          created: { gte: input.since },
          limit: input.limit,
          ...(input.startingAfter !== undefined && { starting_after: input.startingAfter }),
        });
      } catch (error) {
        throw toActivityFailure(error);
      }
      const route = router(input.unmatchedWorkflowId);
      const page: BackfillPage = {
        events: list.data.length,
        signalled: 0,
        closed: 0,
        answered: 0,
        unmatched: 0,
        ignored: 0,
        skipped: 0,
        maxCreated: 0,
        lastEventId: list.data.at(-1)?.id,
        hasMore: list.has_more,
      };
      const parsed = list.data.map((raw) => {
        page.maxCreated = Math.max(page.maxCreated, raw.created);
        const event = stripeWebhookEventSchema.safeParse(raw);
        return event.success ? toRoutedEvent(event.data) : undefined;
      });
      const routable = parsed.filter((event) => event !== undefined);
      page.skipped = parsed.length - routable.length;
      for (const result of await route.routeMany(routable)) {
        if (result.delivery === Delivery.workflow) page.signalled++;
        else if (result.delivery === Delivery.closed) page.closed++;
        else if (result.delivery === Delivery.answered) page.answered++;
        else if (result.delivery === Delivery.ignored) page.ignored++;
        else page.unmatched++;
      }
      Context.current().heartbeat(page.lastEventId);
      return page;
    },
  };
}
