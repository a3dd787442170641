// Events (`/v1/events`, newest first, with `type`, `types[]`, `created[…]` and
// `delivery_success` filters) and charges (retrieve, `expand[]=refunds` for its newest 10
// refunds), read-only views over the store.
import { z } from 'zod';
import { resourceMissing } from '../errors.js';
import { inRange, listParams, param, parseParams } from '../params.js';
import type { ApiHandler } from '../router.js';
import type { StripeEventLike, StripeObject } from '../store.js';
import { render, renderList } from './expand.js';
import { newestFirst, paginate } from './pagination.js';

/** Webhook delivery facts about an event, from the dispatcher. */
export interface DeliveryStatus {
  /** Whether the event reached every webhook target (`delivery_success`). */
  status(eventId: string): 'pending' | 'delivered' | 'failed';
  /** Deliveries still outstanding (`pending_webhooks`). */
  pendingCount(eventId: string): number;
}

const listQuery = z
  .object({
    type: param.string().optional(),
    types: param.list(z.string()).optional(),
    created: param.range().optional(),
    delivery_success: param.boolean().optional(),
    ...listParams,
  })
  .strict();

function typeMatches(pattern: string, type: string): boolean {
  return pattern.endsWith('.*') ? type.startsWith(pattern.slice(0, -1)) : pattern === type;
}

/** The event routes; `status` comes from the webhook dispatcher. */
export function eventRoutes(delivery: DeliveryStatus) {
  const list: ApiHandler = (request, sim) => {
    const params = parseParams(listQuery, request.params);
    const events = [...sim.store.events()]
      .reverse()
      .filter(
        (e) =>
          (params.type === undefined || typeMatches(params.type, e.type)) &&
          (params.types === undefined || params.types.some((t) => typeMatches(t, e.type))) &&
          inRange(e.created, params.created) &&
          (params.delivery_success === undefined ||
            (delivery.status(e.id) === 'delivered') === params.delivery_success),
      )
      .map((e): StripeObject => ({
        ...(e as unknown as StripeObject),
        pending_webhooks: delivery.pendingCount(e.id),
      }));
    const { page, hasMore } = paginate(events, params);
    return { status: 200, body: renderList(sim.store, '/v1/events', page, hasMore, params.expand) };
  };

  const retrieve: ApiHandler = (request, sim) => {
    const id = request.pathParams.id ?? '';
    const event: StripeEventLike | undefined = sim.store.events().find((e) => e.id === id);
    if (!event) throw resourceMissing('event', id, 'id');
    return {
      status: 200,
      body: { ...structuredClone(event), pending_webhooks: delivery.pendingCount(event.id) },
    };
  };

  const retrieveCharge: ApiHandler = (request, sim) => {
    const { expand } = parseParams(
      z.object({ expand: param.list(z.string()).optional() }).strict(),
      request.params,
    );
    const charge = sim.store.charges.get(request.pathParams.id ?? '');
    if (!charge) throw resourceMissing('charge', request.pathParams.id ?? '', 'id');
    const body = render(
      sim.store,
      charge,
      expand?.filter((path) => path !== 'refunds'),
    );
    // Since API version 2022-11-15 a charge's refunds are included only when expanded.
    if (expand?.includes('refunds')) {
      const refunds = newestFirst(
        [...sim.store.refunds.values()].filter((r) => r.charge === charge.id),
      );
      body.refunds = renderList(
        sim.store,
        `/v1/charges/${charge.id}/refunds`,
        refunds.slice(0, 10),
        refunds.length > 10,
      );
    }
    return { status: 200, body };
  };

  return [
    { method: 'GET', pattern: '/v1/events', handler: list },
    { method: 'GET', pattern: '/v1/events/:id', handler: retrieve },
    { method: 'GET', pattern: '/v1/charges/:id', handler: retrieveCharge },
  ] as const;
}
