// Stripe's cursor pagination over newest-first lists: `limit`, `starting_after`, `ending_before`;
// and the list endpoint shared by the objects that hang off a charge (refunds, disputes).
import { z } from 'zod';
import { invalidParam } from '../errors.js';
import { inRange, listParams, param, parseParams } from '../params.js';
import type { ApiHandler } from '../router.js';
import type { Store, StripeObject } from '../store.js';
import { renderList } from './expand.js';

/** Pages `items` (already newest first) the way Stripe's list endpoints do. */
export function paginate(
  items: readonly StripeObject[],
  options: {
    limit?: number | undefined;
    starting_after?: string | undefined;
    ending_before?: string | undefined;
  },
): { page: StripeObject[]; hasMore: boolean } {
  const limit = options.limit ?? 10;
  if (limit < 1 || limit > 100)
    throw invalidParam('This value must be between 1 and 100 (inclusive).', 'limit');
  if (options.starting_after !== undefined) {
    const index = items.findIndex((i) => i.id === options.starting_after);
    const rest = index === -1 ? [] : items.slice(index + 1);
    return { page: rest.slice(0, limit), hasMore: rest.length > limit };
  }
  if (options.ending_before !== undefined) {
    const index = items.findIndex((i) => i.id === options.ending_before);
    const before = index === -1 ? [] : items.slice(0, index);
    return {
      page: before.slice(Math.max(0, before.length - limit)),
      hasMore: before.length > limit,
    };
  }
  return { page: items.slice(0, limit), hasMore: items.length > limit };
}

/** Newest first by `created`, ties broken by reverse insertion order (Stripe's list order). */
export function newestFirst(items: Iterable<StripeObject>): StripeObject[] {
  return [...items]
    .map((item, index) => ({ item, index }))
    .sort((a, b) => Number(b.item.created) - Number(a.item.created) || b.index - a.index)
    .map(({ item }) => item);
}

const chargeObjectQuery = z
  .object({
    charge: param.string().optional(),
    payment_intent: param.string().optional(),
    created: param.range().optional(),
    ...listParams,
  })
  .strict();

/**
 * A list endpoint over objects tied to a charge (`GET /v1/refunds`, `GET /v1/disputes`): the
 * `charge`, `payment_intent` and `created` filters, newest first, paginated.
 */
export function listChargeObjects(
  objects: (store: Store) => Iterable<StripeObject>,
  url: string,
): ApiHandler {
  return (request, sim) => {
    const params = parseParams(chargeObjectQuery, request.params);
    const items = newestFirst(
      [...objects(sim.store)].filter(
        (o) =>
          (params.charge === undefined || o.charge === params.charge) &&
          (params.payment_intent === undefined || o.payment_intent === params.payment_intent) &&
          inRange(Number(o.created), params.created),
      ),
    );
    const { page, hasMore } = paginate(items, params);
    return { status: 200, body: renderList(sim.store, url, page, hasMore, params.expand) };
  };
}
