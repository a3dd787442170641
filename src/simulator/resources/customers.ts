// Customers: create, retrieve, update (incl. `invoice_settings[default_payment_method]`), list.
// Emits customer.created / customer.updated with `previous_attributes`.
import { z } from 'zod';
import { resourceMissing } from '../errors.js';
import { inRange, listParams, param, parseParams, withMetadata } from '../params.js';
import type { ApiHandler, ApiRequest, SimContext } from '../router.js';
import type { StripeObject } from '../store.js';
import { render, renderList } from './expand.js';
import { newestFirst, paginate } from './pagination.js';
import { attachPaymentMethod, resolvePaymentMethod } from './payment-methods.js';

const writable = {
  email: param.string().optional(),
  name: param.string().optional(),
  description: param.string().optional(),
  phone: param.string().optional(),
  metadata: param.metadata().optional(),
  invoice_settings: z
    .object({ default_payment_method: param.string().optional() })
    .strict()
    .optional(),
  expand: param.list(z.string()).optional(),
};

const createParams = z.object({ ...writable, payment_method: param.string().optional() }).strict();
const updateParams = z.object(writable).strict();

function defaultPaymentMethod(
  sim: SimContext,
  request: ApiRequest,
  customerId: string,
  id: string | undefined,
): string | null | undefined {
  if (id === undefined) return undefined;
  if (id === '') return null;
  const pm = sim.store.paymentMethods.get(id);
  if (!pm || pm.customer !== customerId) {
    // Stripe requires the default to be attached already; test ids are attached on the fly.
    const resolved = resolvePaymentMethod(sim, id, 'invoice_settings[default_payment_method]');
    attachPaymentMethod(sim, resolved, customerId, request.origin);
    return resolved.id;
  }
  return pm.id;
}

const create: ApiHandler = (request, sim) => {
  const params = parseParams(createParams, request.params);
  const customer: StripeObject = {
    id: sim.ids.next('cus', 14),
    object: 'customer',
    address: null,
    balance: 0,
    created: sim.clock.nowSeconds(),
    currency: null,
    default_source: null,
    delinquent: false,
    description: params.description ?? null,
    discount: null,
    email: params.email ?? null,
    invoice_prefix: sim.ids.next('x', 8).slice(2).toUpperCase(),
    invoice_settings: {
      custom_fields: null,
      default_payment_method: null,
      footer: null,
      rendering_options: null,
    },
    livemode: false,
    metadata: withMetadata({}, params.metadata),
    name: params.name ?? null,
    next_invoice_sequence: 1,
    phone: params.phone ?? null,
    preferred_locales: [],
    shipping: null,
    tax_exempt: 'none',
    test_clock: null,
  };
  sim.store.customers.set(customer.id, customer);
  sim.store.emit('customer.created', customer, request.origin);
  if (params.payment_method !== undefined) {
    const pm = resolvePaymentMethod(sim, params.payment_method, 'payment_method');
    attachPaymentMethod(sim, pm, customer.id, request.origin);
  }
  const defaultPm = defaultPaymentMethod(
    sim,
    request,
    customer.id,
    params.invoice_settings?.default_payment_method,
  );
  if (defaultPm !== undefined)
    (customer.invoice_settings as Record<string, unknown>).default_payment_method = defaultPm;
  return { status: 200, body: render(sim.store, customer, params.expand) };
};

function findCustomer(sim: SimContext, id: string): StripeObject {
  const customer = sim.store.customers.get(id);
  if (!customer) throw resourceMissing('customer', id);
  return customer;
}

const retrieve: ApiHandler = (request, sim) => {
  const { expand } = parseParams(
    z.object({ expand: param.list(z.string()).optional() }).strict(),
    request.params,
  );
  return {
    status: 200,
    body: render(sim.store, findCustomer(sim, request.pathParams.id ?? ''), expand),
  };
};

const update: ApiHandler = (request, sim) => {
  const params = parseParams(updateParams, request.params);
  const customer = findCustomer(sim, request.pathParams.id ?? '');
  const previous: Record<string, unknown> = {};
  const set = (field: string, value: unknown): void => {
    if (value === undefined || JSON.stringify(customer[field]) === JSON.stringify(value)) return;
    previous[field] = structuredClone(customer[field]);
    customer[field] = value;
  };
  set('email', params.email);
  set('name', params.name);
  set('description', params.description);
  set('phone', params.phone);
  if (params.metadata)
    set('metadata', withMetadata(customer.metadata as Record<string, string>, params.metadata));
  const defaultPm = defaultPaymentMethod(
    sim,
    request,
    customer.id,
    params.invoice_settings?.default_payment_method,
  );
  if (defaultPm !== undefined)
    set('invoice_settings', {
      ...(customer.invoice_settings as object),
      default_payment_method: defaultPm,
    });
  if (Object.keys(previous).length > 0)
    sim.store.emit('customer.updated', customer, request.origin, previous);
  return { status: 200, body: render(sim.store, customer, params.expand) };
};

const listQuery = z
  .object({ email: param.string().optional(), created: param.range().optional(), ...listParams })
  .strict();

const list: ApiHandler = (request, sim) => {
  const params = parseParams(listQuery, request.params);
  const items = newestFirst(
    [...sim.store.customers.values()].filter(
      (c) =>
        (params.email === undefined || c.email === params.email) &&
        inRange(Number(c.created), params.created),
    ),
  );
  const { page, hasMore } = paginate(items, params);
  return {
    status: 200,
    body: renderList(sim.store, '/v1/customers', page, hasMore, params.expand),
  };
};

/** The Customer routes. */
export const customerRoutes = [
  { method: 'POST', pattern: '/v1/customers', handler: create },
  { method: 'GET', pattern: '/v1/customers', handler: list },
  { method: 'GET', pattern: '/v1/customers/:id', handler: retrieve },
  { method: 'POST', pattern: '/v1/customers/:id', handler: update },
] as const;
