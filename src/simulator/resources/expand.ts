// `expand[]` support: replaces id references with the objects they name, as Stripe does for
// the fields the project reads (customer, payment_method, latest_charge, a refund's or dispute's
// charge and payment_intent, nested in lists).
import type { StripeObject, Store } from '../store.js';

function lookup(store: Store, id: string): StripeObject | undefined {
  return (
    store.customers.get(id) ??
    store.paymentMethods.get(id) ??
    store.charges.get(id) ??
    store.paymentIntents.get(id) ??
    store.setupIntents.get(id) ??
    store.refunds.get(id) ??
    store.disputes.get(id)
  );
}

function expandPath(store: Store, target: Record<string, unknown>, path: string[]): void {
  const [head, ...rest] = path;
  if (head === undefined) return;
  const value = target[head];
  if (rest.length === 0) {
    if (typeof value === 'string') {
      const found = lookup(store, value);
      if (found) target[head] = structuredClone(found);
    }
    return;
  }
  if (Array.isArray(value)) {
    for (const item of value)
      if (item && typeof item === 'object')
        expandPath(store, item as Record<string, unknown>, rest);
  } else if (value && typeof value === 'object') {
    expandPath(store, value as Record<string, unknown>, rest);
  }
}

/** A deep copy of `object` with the `expand` paths (dot-separated) expanded. */
export function render(
  store: Store,
  object: StripeObject,
  expand: readonly string[] = [],
): StripeObject {
  const copy = structuredClone(object);
  for (const path of expand) expandPath(store, copy, path.split('.'));
  return copy;
}

/** Renders a list response (`{ object: 'list', data, has_more, url }`), with `data.…` expansions. */
export function renderList(
  store: Store,
  url: string,
  items: readonly StripeObject[],
  hasMore: boolean,
  expand: readonly string[] = [],
): StripeObject {
  const list: StripeObject = {
    id: '',
    object: 'list',
    data: items.map((i) => structuredClone(i)),
    has_more: hasMore,
    url,
  };
  for (const path of expand) expandPath(store, list, path.split('.'));
  delete (list as Partial<StripeObject>).id;
  return list;
}
