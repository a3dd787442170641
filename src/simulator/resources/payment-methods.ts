// PaymentMethods: Stripe's test ids (`pm_card_visa`, …) resolve to a fresh PaymentMethod the
// way Stripe clones them; retrieve, attach to / detach from a customer, list a customer's.
import { z } from 'zod';
import { invalidParam, resourceMissing } from '../errors.js';
import { listParams, param, parseParams } from '../params.js';
import type { ApiHandler, SimContext } from '../router.js';
import type { RequestOrigin, StripeObject } from '../store.js';
import { testPaymentMethod, type TestPaymentMethod } from '../test-payment-methods.js';
import { render, renderList } from './expand.js';
import { newestFirst, paginate } from './pagination.js';

function fingerprint(sim: SimContext): string {
  return sim.ids.next('fp', 16).slice(3);
}

function buildPaymentMethod(sim: SimContext, test: TestPaymentMethod): StripeObject {
  const base = {
    id: sim.ids.next('pm'),
    object: 'payment_method',
    allow_redisplay: 'unspecified',
    billing_details: {
      address: {
        city: null,
        country: null,
        line1: null,
        line2: null,
        postal_code: null,
        state: null,
      },
      email: null,
      name: null,
      phone: null,
      tax_id: null,
    },
    created: sim.clock.nowSeconds(),
    customer: null,
    livemode: false,
    metadata: {},
  };
  const instrument = test.instrument;
  if (instrument.type === 'card') {
    const year = new Date(sim.clock.now()).getUTCFullYear();
    return {
      ...base,
      card: {
        brand: instrument.brand,
        checks: {
          address_line1_check: null,
          address_postal_code_check: null,
          cvc_check: 'unchecked',
        },
        country: 'US',
        display_brand: instrument.brand,
        exp_month: 12,
        exp_year: year + 3,
        fingerprint: fingerprint(sim),
        funding: instrument.funding,
        generated_from: null,
        last4: instrument.last4,
        networks: { available: [instrument.brand], preferred: null },
        regulated_status: 'unregulated',
        three_d_secure_usage: { supported: true },
        wallet: null,
      },
      type: 'card',
    };
  }
  return {
    ...base,
    billing_details: { ...base.billing_details, name: 'Jenny Rosen' },
    type: 'us_bank_account',
    us_bank_account: {
      account_holder_type: 'individual',
      account_type: 'checking',
      bank_name: 'STRIPE TEST BANK',
      financial_connections_account: null,
      fingerprint: fingerprint(sim),
      last4: instrument.last4,
      networks: { preferred: 'ach', supported: ['ach'] },
      routing_number: instrument.routingNumber,
      status_details: {},
    },
  };
}

/**
 * The PaymentMethod an id names: a stored one, or a new one cloned from a documented test id
 * (Stripe never hands out `pm_card_visa` itself as an object id). Throws 404 when unknown.
 */
export function resolvePaymentMethod(
  sim: SimContext,
  id: string,
  paramName?: string,
): StripeObject {
  const stored = sim.store.paymentMethods.get(id);
  if (stored) return stored;
  const test = testPaymentMethod(id);
  if (!test) throw resourceMissing('PaymentMethod', id, paramName);
  const created = buildPaymentMethod(sim, test);
  sim.store.paymentMethods.set(created.id, created);
  sim.store.paymentMethodBehaviour.set(created.id, test.behaviour);
  return created;
}

/** Attaches a PaymentMethod to a customer (emits `payment_method.attached`); idempotent for the same customer. */
export function attachPaymentMethod(
  sim: SimContext,
  pm: StripeObject,
  customerId: string,
  origin: RequestOrigin,
): void {
  if (pm.customer === customerId) return;
  if (pm.customer !== null) {
    throw invalidParam(
      `The payment method you provided has already been attached to a customer.`,
      'payment_method',
      'payment_method_unexpected_state',
    );
  }
  pm.customer = customerId;
  sim.store.emit('payment_method.attached', pm, origin);
}

const expandOnly = z.object({ expand: param.list(z.string()).optional() }).strict();

const retrieve: ApiHandler = (request, sim) => {
  const { expand } = parseParams(expandOnly, request.params);
  const pm = resolvePaymentMethod(sim, request.pathParams.id ?? '');
  return { status: 200, body: render(sim.store, pm, expand) };
};

const attachParams = z
  .object({ customer: param.string(), expand: param.list(z.string()).optional() })
  .strict();

const attach: ApiHandler = (request, sim) => {
  const params = parseParams(attachParams, request.params);
  const customer = sim.store.customers.get(params.customer);
  if (!customer) throw resourceMissing('customer', params.customer, 'customer');
  const pm = resolvePaymentMethod(sim, request.pathParams.id ?? '');
  attachPaymentMethod(sim, pm, customer.id, request.origin);
  return { status: 200, body: render(sim.store, pm, params.expand) };
};

const detach: ApiHandler = (request, sim) => {
  const { expand } = parseParams(expandOnly, request.params);
  const pm = sim.store.paymentMethods.get(request.pathParams.id ?? '');
  if (!pm) throw resourceMissing('PaymentMethod', request.pathParams.id ?? '');
  if (pm.customer === null) {
    throw invalidParam(
      'The payment method you provided is not attached to a customer so detachment is impossible.',
      undefined,
      'payment_method_unexpected_state',
    );
  }
  const previousCustomer = pm.customer;
  pm.customer = null;
  sim.store.emit('payment_method.detached', pm, request.origin, { customer: previousCustomer });
  return { status: 200, body: render(sim.store, pm, expand) };
};

const listQuery = z
  .object({ customer: param.string().optional(), type: param.string().optional(), ...listParams })
  .strict();

const list: ApiHandler = (request, sim) => {
  const params = parseParams(listQuery, request.params);
  const items = newestFirst(
    [...sim.store.paymentMethods.values()].filter(
      (pm) =>
        pm.customer !== null &&
        (params.customer === undefined || pm.customer === params.customer) &&
        (params.type === undefined || pm.type === params.type),
    ),
  );
  const { page, hasMore } = paginate(items, params);
  return {
    status: 200,
    body: renderList(sim.store, '/v1/payment_methods', page, hasMore, params.expand),
  };
};

/** The PaymentMethod routes. */
export const paymentMethodRoutes = [
  { method: 'GET', pattern: '/v1/payment_methods', handler: list },
  { method: 'GET', pattern: '/v1/payment_methods/:id', handler: retrieve },
  { method: 'POST', pattern: '/v1/payment_methods/:id/attach', handler: attach },
  { method: 'POST', pattern: '/v1/payment_methods/:id/detach', handler: detach },
] as const;
