// PaymentIntents and their state machine as Stripe has it:
// requires_payment_method → requires_confirmation → processing | requires_action | succeeded,
// any open state → canceled; a failed attempt returns to requires_payment_method with
// last_payment_error. Each transition emits its payment_intent.* event; money moves (a
// succeeded charge) only on `succeeded`.
import { z } from 'zod';
import { cardError, invalidParam, resourceMissing, unexpectedState } from '../errors.js';
import { inRange, listParams, param, parseParams, withMetadata } from '../params.js';
import type { ApiHandler, ApiRequest, SimContext } from '../router.js';
import { parseSearchQuery, pinnedMetadata } from '../search.js';
import { refId, takeDueSettlements, type RequestOrigin, type StripeObject } from '../store.js';
import type { TestBehaviour } from '../test-payment-methods.js';
import { openDispute } from './disputes.js';
import { render, renderList } from './expand.js';
import { newestFirst, paginate } from './pagination.js';
import { resolvePaymentMethod } from './payment-methods.js';

/** PaymentIntent statuses. */
export const PaymentIntentStatus = {
  requiresPaymentMethod: 'requires_payment_method',
  requiresConfirmation: 'requires_confirmation',
  requiresAction: 'requires_action',
  processing: 'processing',
  succeeded: 'succeeded',
  canceled: 'canceled',
} as const;
export type PaymentIntentStatus = (typeof PaymentIntentStatus)[keyof typeof PaymentIntentStatus];

const CONFIRMABLE: readonly string[] = [
  PaymentIntentStatus.requiresPaymentMethod,
  PaymentIntentStatus.requiresConfirmation,
  PaymentIntentStatus.requiresAction,
];
const CANCELABLE: readonly string[] = [...CONFIRMABLE, 'requires_capture'];

const offSession = z.union([param.boolean(), param.oneOf(['one_off', 'recurring'])]);
/** Accepted and stored, not interpreted (mandates, Stripe.js hints). */
const opaque = z.record(z.string(), z.unknown());

const confirmFields = {
  payment_method: param.string().optional(),
  off_session: offSession.optional(),
  return_url: param.string().optional(),
  error_on_requires_action: param.boolean().optional(),
  mandate_data: opaque.optional(),
  receipt_email: param.string().optional(),
  setup_future_usage: param.oneOf(['off_session', 'on_session']).optional(),
  payment_method_types: param.list(z.string()).optional(),
  expand: param.list(z.string()).optional(),
};

const createParams = z
  .object({
    ...confirmFields,
    amount: param.integer(),
    currency: param.string().regex(/^[a-zA-Z]{3}$/),
    customer: param.string().optional(),
    description: param.string().optional(),
    metadata: param.metadata().optional(),
    confirm: param.boolean().optional(),
    capture_method: param.oneOf(['automatic', 'automatic_async']).optional(),
    statement_descriptor: param.string().optional(),
    statement_descriptor_suffix: param.string().optional(),
    automatic_payment_methods: z
      .object({
        enabled: param.boolean(),
        allow_redirects: param.oneOf(['always', 'never']).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

const confirmParams = z.object(confirmFields).strict();

const updateParams = z
  .object({
    amount: param.integer().optional(),
    description: param.string().optional(),
    metadata: param.metadata().optional(),
    payment_method: param.string().optional(),
    receipt_email: param.string().optional(),
    expand: param.list(z.string()).optional(),
  })
  .strict();

const cancelParams = z
  .object({
    cancellation_reason: param
      .oneOf(['duplicate', 'fraudulent', 'requested_by_customer', 'abandoned'])
      .optional(),
    expand: param.list(z.string()).optional(),
  })
  .strict();

const retrieveParams = z
  .object({ client_secret: param.string().optional(), expand: param.list(z.string()).optional() })
  .strict();

const listQuery = z
  .object({ customer: param.string().optional(), created: param.range().optional(), ...listParams })
  .strict();

const searchQuery = z
  .object({
    query: param.string(),
    limit: param.integer().optional(),
    page: param.string().optional(),
    expand: param.list(z.string()).optional(),
  })
  .strict();

function findPaymentIntent(sim: SimContext, id: string): StripeObject {
  const pi = sim.store.paymentIntents.get(id);
  if (!pi) throw resourceMissing('payment_intent', id, 'intent');
  return pi;
}

/** Stripe's minimum charge, in minor units (USD 0.50; other currencies are treated alike). */
const MINIMUM_AMOUNT = 50;

/** The charge's `payment_method_details`: the card as the network saw this payment. */
function chargeDetails(
  pm: StripeObject,
  amount: number,
  succeeded: boolean,
): Record<string, unknown> {
  const type = String(pm.type);
  if (type !== 'card') return { type, [type]: structuredClone(pm[type]) };
  const card = pm.card as Record<string, unknown>;
  return {
    card: {
      amount_authorized: succeeded ? amount : null,
      authorization_code: null,
      brand: card.brand,
      checks: structuredClone(card.checks),
      country: card.country,
      exp_month: card.exp_month,
      exp_year: card.exp_year,
      extended_authorization: { status: 'disabled' },
      fingerprint: card.fingerprint,
      funding: card.funding,
      incremental_authorization: { status: 'unavailable' },
      installments: null,
      last4: card.last4,
      mandate: null,
      multicapture: { status: 'unavailable' },
      network: card.brand,
      network_token: { used: false },
      network_transaction_id: null,
      overcapture: { maximum_amount_capturable: amount, status: 'unavailable' },
      regulated_status: card.regulated_status,
      three_d_secure: null,
      wallet: null,
    },
    type: 'card',
  };
}

function createCharge(
  sim: SimContext,
  pi: StripeObject,
  pm: StripeObject,
  status: 'succeeded' | 'failed' | 'pending',
  failure?: { code: string; message: string; declineCode?: string },
): StripeObject {
  const amount = Number(pi.amount);
  const succeeded = status === 'succeeded';
  const charge: StripeObject = {
    id: sim.ids.next('ch'),
    object: 'charge',
    amount,
    amount_captured: succeeded ? amount : 0,
    amount_refunded: 0,
    application: null,
    application_fee: null,
    application_fee_amount: null,
    balance_transaction: succeeded ? sim.ids.next('txn') : null,
    billing_details: structuredClone(pm.billing_details),
    calculated_statement_descriptor: null,
    captured: succeeded,
    created: sim.clock.nowSeconds(),
    currency: pi.currency,
    customer: pi.customer,
    description: pi.description,
    disputed: false,
    failure_balance_transaction: null,
    failure_code: failure?.code ?? null,
    failure_message: failure?.message ?? null,
    fraud_details: {},
    livemode: false,
    // A charge starts with a copy of its intent's metadata (later intent updates do not follow).
    metadata: structuredClone(pi.metadata),
    on_behalf_of: null,
    outcome:
      status === 'pending'
        ? null
        : {
            advice_code: null,
            network_advice_code: null,
            network_decline_code: null,
            network_status: succeeded ? 'approved_by_network' : 'declined_by_network',
            reason: succeeded ? null : (failure?.declineCode ?? failure?.code ?? null),
            risk_level: 'normal',
            seller_message: succeeded
              ? 'Payment complete.'
              : 'The bank did not return any further details with this decline.',
            type: succeeded ? 'authorized' : 'issuer_declined',
          },
    paid: succeeded,
    payment_intent: pi.id,
    payment_method: pm.id,
    payment_method_details: chargeDetails(pm, amount, succeeded),
    receipt_email: pi.receipt_email ?? null,
    receipt_number: null,
    receipt_url: null,
    refunded: false,
    review: null,
    shipping: null,
    source_transfer: null,
    statement_descriptor: pi.statement_descriptor ?? null,
    statement_descriptor_suffix: pi.statement_descriptor_suffix ?? null,
    status,
    transfer_data: null,
    transfer_group: null,
  };
  sim.store.charges.set(charge.id, charge);
  pi.latest_charge = charge.id;
  return charge;
}

function succeed(
  sim: SimContext,
  pi: StripeObject,
  pm: StripeObject,
  origin: RequestOrigin | undefined,
  existingCharge?: StripeObject,
): void {
  const charge = existingCharge ?? createCharge(sim, pi, pm, 'succeeded');
  if (existingCharge) {
    Object.assign(existingCharge, {
      status: 'succeeded',
      paid: true,
      captured: true,
      amount_captured: existingCharge.amount,
      balance_transaction: sim.ids.next('txn'),
      outcome: {
        network_status: 'approved_by_network',
        reason: null,
        risk_level: 'normal',
        seller_message: 'Payment complete.',
        type: 'authorized',
      },
    });
  }
  pi.status = PaymentIntentStatus.succeeded;
  pi.amount_received = charge.amount;
  pi.last_payment_error = null;
  pi.next_action = null;
  sim.store.emit('payment_intent.succeeded', pi, origin);
  // Stripe's createDispute cards: the bank disputes the payment once it has gone through.
  const behaviour = sim.store.paymentMethodBehaviour.get(pm.id);
  if (behaviour?.kind === 'succeed' && behaviour.dispute)
    openDispute(sim, charge, behaviour.dispute);
}

interface Failure {
  code: string;
  message: string;
  declineCode?: string;
  adviceCode?: string;
  param?: string;
}

/** Records a failed attempt on the intent (back to requires_payment_method) and emits payment_failed. */
function fail(
  sim: SimContext,
  pi: StripeObject,
  pm: StripeObject,
  failure: Failure,
  origin: RequestOrigin | undefined,
  existingCharge?: StripeObject,
): StripeObject {
  const charge = existingCharge ?? createCharge(sim, pi, pm, 'failed', failure);
  if (existingCharge)
    Object.assign(existingCharge, {
      status: 'failed',
      failure_code: failure.code,
      failure_message: failure.message,
    });
  pi.status = PaymentIntentStatus.requiresPaymentMethod;
  pi.payment_method = null;
  pi.next_action = null;
  pi.last_payment_error = {
    type: 'card_error',
    code: failure.code,
    ...(failure.declineCode ? { decline_code: failure.declineCode } : {}),
    ...(failure.adviceCode ? { advice_code: failure.adviceCode } : {}),
    doc_url: `https://stripe.com/docs/error-codes/${failure.code.replace(/_/g, '-')}`,
    message: failure.message,
    ...(failure.param ? { param: failure.param } : {}),
    charge: charge.id,
    payment_method: structuredClone(pm),
  };
  sim.store.emit('payment_intent.payment_failed', pi, origin);
  return charge;
}

function isOffSession(value: boolean | string | undefined): boolean {
  return value === true || value === 'one_off' || value === 'recurring';
}

/**
 * One confirmation attempt. Returns normally for succeeded / processing / requires_action;
 * throws the 402 card error (saved under the idempotency key) for a decline.
 */
function attempt(
  sim: SimContext,
  pi: StripeObject,
  options: z.output<typeof confirmParams>,
  origin: RequestOrigin,
): void {
  if (!CONFIRMABLE.includes(String(pi.status))) {
    const message =
      pi.status === PaymentIntentStatus.succeeded
        ? 'You cannot confirm this PaymentIntent because it has already succeeded after being previously confirmed.'
        : `You cannot confirm this PaymentIntent because it has a status of ${String(pi.status)}. Only a PaymentIntent with one of the following statuses may be confirmed: requires_confirmation, requires_action, requires_payment_method.`;
    throw unexpectedState(message, render(sim.store, pi));
  }
  if (options.payment_method !== undefined) {
    const pm = resolvePaymentMethod(sim, options.payment_method, 'payment_method');
    if (pm.customer !== null && pi.customer !== null && pm.customer !== pi.customer) {
      throw invalidParam(
        `The provided PaymentMethod belongs to a different Customer (${refId(pm.customer) ?? ''}); confirm with a PaymentMethod attached to ${refId(pi.customer) ?? ''}.`,
        'payment_method',
      );
    }
    pi.payment_method = pm.id;
  }
  if (pi.payment_method === null) {
    throw unexpectedState(
      "You cannot confirm this PaymentIntent because it's missing a payment method. To confirm the PaymentIntent, specify a payment method.",
      render(sim.store, pi),
    );
  }
  if (options.receipt_email !== undefined) pi.receipt_email = options.receipt_email;
  if (options.setup_future_usage !== undefined) pi.setup_future_usage = options.setup_future_usage;
  const pmId = refId(pi.payment_method) ?? '';
  const pm = sim.store.paymentMethods.get(pmId);
  if (!pm) throw resourceMissing('PaymentMethod', pmId, 'payment_method');
  const types = pi.payment_method_types as string[];
  if (!types.includes(String(pm.type))) types.push(String(pm.type));

  const state = sim.store.paymentIntentState.get(pi.id);
  if (state) state.confirmations += 1;
  const behaviour: TestBehaviour = sim.store.paymentMethodBehaviour.get(pm.id) ?? {
    kind: 'succeed',
  };
  const offSessionAttempt = isOffSession(options.off_session);

  switch (behaviour.kind) {
    case 'succeed':
      succeed(sim, pi, pm, origin);
      return;
    case 'decline':
      throwDecline(sim, pi, pm, behaviour, origin);
      return;
    case 'authenticate':
      // Off-session there is nobody to authenticate: Stripe declines with authentication_required
      // and the intent goes back to requires_payment_method (Stripe support: "Manual confirmation
      // for off-session payments requiring SCA"). On-session it waits in requires_action.
      if (offSessionAttempt || options.error_on_requires_action === true) {
        throwDecline(
          sim,
          pi,
          pm,
          {
            code: 'authentication_required',
            declineCode: 'authentication_required',
            message: 'Your card was declined. This transaction requires authentication.',
          },
          origin,
        );
        return;
      }
      pi.status = PaymentIntentStatus.requiresAction;
      pi.next_action =
        options.return_url !== undefined
          ? {
              type: 'redirect_to_url',
              redirect_to_url: {
                return_url: options.return_url,
                url: `https://hooks.stripe.com/3d_secure_2/hosted/${pi.id}`,
              },
            }
          : {
              type: 'use_stripe_sdk',
              use_stripe_sdk: {
                type: 'three_d_secure_redirect',
                stripe_js: `https://hooks.stripe.com/redirect/authenticate/${pi.id}`,
                source: sim.ids.next('src'),
              },
            };
      sim.store.emit('payment_intent.requires_action', pi, origin);
      return;
    case 'bank_debit': {
      const charge = createCharge(sim, pi, pm, 'pending');
      pi.status = PaymentIntentStatus.processing;
      pi.last_payment_error = null;
      if (state) {
        state.settlement = {
          at: sim.clock.now() + sim.processingDelayMs,
          behaviour,
          chargeId: charge.id,
        };
        sim.store.settling.paymentIntents.add(pi.id);
      }
      sim.store.emit('payment_intent.processing', pi, origin);
      return;
    }
  }
}

function throwDecline(
  sim: SimContext,
  pi: StripeObject,
  pm: StripeObject,
  failure: Failure,
  origin: RequestOrigin,
): never {
  const charge = fail(sim, pi, pm, failure, origin);
  throw cardError({
    code: failure.code,
    message: failure.message,
    ...(failure.declineCode ? { declineCode: failure.declineCode } : {}),
    ...(failure.adviceCode ? { adviceCode: failure.adviceCode } : {}),
    ...(failure.param ? { param: failure.param } : {}),
    charge: charge.id,
    paymentIntent: render(sim.store, pi),
    paymentMethod: structuredClone(pm),
  });
}

/** Settles every bank debit whose processing delay has passed (simulated time). */
export function settleDuePaymentIntents(sim: SimContext): void {
  const due = takeDueSettlements(
    sim.store.settling.paymentIntents,
    sim.store.paymentIntentState,
    sim.clock.now(),
  );
  for (const [id, settlement] of due) {
    const pi = sim.store.paymentIntents.get(id);
    if (!pi || pi.status !== PaymentIntentStatus.processing) continue;
    const pm = sim.store.paymentMethods.get(refId(pi.payment_method) ?? '');
    const charge = sim.store.charges.get(settlement.chargeId);
    if (!pm || !charge) continue;
    if (settlement.behaviour.outcome === 'succeed') succeed(sim, pi, pm, undefined, charge);
    else
      fail(
        sim,
        pi,
        pm,
        { code: settlement.behaviour.code, message: settlement.behaviour.message },
        undefined,
        charge,
      );
  }
}

/**
 * Completes (or fails) the customer's authentication of an intent in requires_action, as the
 * customer would in the browser. Returns false when the intent is not waiting for it.
 */
export function completeAuthentication(
  sim: SimContext,
  id: string,
  outcome: 'succeed' | 'fail',
): boolean {
  const pi = sim.store.paymentIntents.get(id);
  if (!pi || pi.status !== PaymentIntentStatus.requiresAction) return false;
  const pm = sim.store.paymentMethods.get(refId(pi.payment_method) ?? '');
  if (!pm) return false;
  if (outcome === 'succeed') succeed(sim, pi, pm, undefined);
  else {
    fail(
      sim,
      pi,
      pm,
      {
        code: 'payment_intent_authentication_failure',
        message:
          'The provided PaymentMethod has failed authentication. You can provide payment_method_data or a new PaymentMethod to attempt to fulfill this PaymentIntent again.',
      },
      undefined,
    );
  }
  return true;
}

const create: ApiHandler = (request, sim) => {
  const params = parseParams(createParams, request.params);
  const currency = params.currency.toLowerCase();
  if (params.amount < MINIMUM_AMOUNT) {
    throw invalidParam('Amount must be at least $0.50 usd', 'amount', 'amount_too_small');
  }
  if (params.off_session !== undefined && params.confirm !== true) {
    // Stripe's reference: "This parameter can only be used with confirm=true."
    throw invalidParam(
      'You may only specify `off_session` when confirming the PaymentIntent (confirm=true).',
      'off_session',
    );
  }
  if (params.customer !== undefined && !sim.store.customers.has(params.customer)) {
    throw resourceMissing('customer', params.customer, 'customer');
  }
  const pm =
    params.payment_method !== undefined
      ? resolvePaymentMethod(sim, params.payment_method, 'payment_method')
      : undefined;
  const id = sim.ids.next('pi');
  const pi: StripeObject = {
    id,
    object: 'payment_intent',
    amount: params.amount,
    amount_capturable: 0,
    amount_details: { tip: {} },
    amount_received: 0,
    application: null,
    application_fee_amount: null,
    automatic_payment_methods: params.automatic_payment_methods
      ? {
          enabled: params.automatic_payment_methods.enabled,
          allow_redirects: params.automatic_payment_methods.allow_redirects ?? 'always',
        }
      : params.payment_method_types
        ? null
        : { allow_redirects: 'always', enabled: true },
    canceled_at: null,
    cancellation_reason: null,
    capture_method: params.capture_method ?? 'automatic_async',
    client_secret: `${id}_secret_${sim.ids.next('s', 25).slice(2)}`,
    confirmation_method: 'automatic',
    created: sim.clock.nowSeconds(),
    currency,
    customer: params.customer ?? null,
    description: params.description ?? null,
    last_payment_error: null,
    latest_charge: null,
    livemode: false,
    metadata: withMetadata({}, params.metadata),
    next_action: null,
    on_behalf_of: null,
    payment_method: pm?.id ?? null,
    payment_method_configuration_details: null,
    payment_method_options: {},
    payment_method_types: params.payment_method_types ?? ['card'],
    processing: null,
    receipt_email: params.receipt_email ?? null,
    review: null,
    setup_future_usage: params.setup_future_usage ?? null,
    shipping: null,
    source: null,
    statement_descriptor: params.statement_descriptor ?? null,
    statement_descriptor_suffix: params.statement_descriptor_suffix ?? null,
    status: pm
      ? PaymentIntentStatus.requiresConfirmation
      : PaymentIntentStatus.requiresPaymentMethod,
    transfer_data: null,
    transfer_group: null,
  };
  sim.store.paymentIntents.set(id, pi);
  sim.store.indexIntentMetadata(pi);
  sim.store.paymentIntentState.set(id, { confirmations: 0, createdAtMs: sim.clock.now() });
  sim.store.emit('payment_intent.created', pi, request.origin);
  if (params.confirm === true)
    attempt(sim, pi, { ...params, payment_method: undefined }, request.origin);
  return { status: 200, body: render(sim.store, pi, params.expand) };
};

const confirm: ApiHandler = (request, sim) => {
  const params = parseParams(confirmParams, request.params);
  const pi = findPaymentIntent(sim, request.pathParams.id ?? '');
  attempt(sim, pi, params, request.origin);
  return { status: 200, body: render(sim.store, pi, params.expand) };
};

const retrieve: ApiHandler = (request, sim) => {
  const params = parseParams(retrieveParams, request.params);
  return {
    status: 200,
    body: render(sim.store, findPaymentIntent(sim, request.pathParams.id ?? ''), params.expand),
  };
};

const update: ApiHandler = (request, sim) => {
  const params = parseParams(updateParams, request.params);
  const pi = findPaymentIntent(sim, request.pathParams.id ?? '');
  if (!CONFIRMABLE.includes(String(pi.status))) {
    throw unexpectedState(
      `This PaymentIntent's status is ${String(pi.status)}; it can no longer be updated.`,
      render(sim.store, pi),
    );
  }
  if (params.amount !== undefined) pi.amount = params.amount;
  if (params.description !== undefined) pi.description = params.description;
  if (params.receipt_email !== undefined) pi.receipt_email = params.receipt_email;
  if (params.metadata !== undefined) {
    pi.metadata = withMetadata(pi.metadata as Record<string, string>, params.metadata);
    sim.store.indexIntentMetadata(pi);
  }
  if (params.payment_method !== undefined) {
    pi.payment_method = resolvePaymentMethod(sim, params.payment_method, 'payment_method').id;
    pi.status = PaymentIntentStatus.requiresConfirmation;
    pi.next_action = null;
  }
  return { status: 200, body: render(sim.store, pi, params.expand) };
};

const cancel: ApiHandler = (request, sim) => {
  const params = parseParams(cancelParams, request.params);
  const pi = findPaymentIntent(sim, request.pathParams.id ?? '');
  if (!CANCELABLE.includes(String(pi.status))) {
    throw unexpectedState(
      `You cannot cancel this PaymentIntent because it has a status of ${String(pi.status)}. Only a PaymentIntent with one of the following statuses may be canceled: requires_payment_method, requires_capture, requires_confirmation, requires_action.`,
      render(sim.store, pi),
    );
  }
  pi.status = PaymentIntentStatus.canceled;
  pi.canceled_at = sim.clock.nowSeconds();
  pi.cancellation_reason = params.cancellation_reason ?? null;
  pi.next_action = null;
  sim.store.emit('payment_intent.canceled', pi, request.origin);
  return { status: 200, body: render(sim.store, pi, params.expand) };
};

const list: ApiHandler = (request, sim) => {
  const params = parseParams(listQuery, request.params);
  const items = newestFirst(
    [...sim.store.paymentIntents.values()].filter(
      (pi) =>
        (params.customer === undefined || pi.customer === params.customer) &&
        inRange(Number(pi.created), params.created),
    ),
  );
  const { page, hasMore } = paginate(items, params);
  return {
    status: 200,
    body: renderList(sim.store, '/v1/payment_intents', page, hasMore, params.expand),
  };
};

type Clause = (pi: StripeObject) => boolean;

/** The PaymentIntent fields search accepts besides `metadata['key']`. */
const SEARCH_FIELDS: readonly string[] = ['status', 'customer', 'currency', 'amount', 'created'];

/** A compiled query: the test for each intent, and the metadata pair every match must have. */
interface CompiledSearch {
  matches: Clause;
  pinned: { key: string; value: string } | undefined;
}

function compileSearchQuery(text: string): CompiledSearch {
  const parsed = parseSearchQuery(text);
  if (!parsed.ok) throw invalidParam(parsed.message, 'query');
  const clauses = parsed.query.clauses.map((clause): Clause => {
    const { field, metadataKey, operator, value } = clause;
    if (metadataKey === undefined && !SEARCH_FIELDS.includes(field)) {
      throw invalidParam(
        `Field \`${field}\` is an unsupported search field for resource \`payment_intents\`.`,
        'query',
      );
    }
    const read = (pi: StripeObject): unknown =>
      metadataKey !== undefined ? (pi.metadata as Record<string, string>)[metadataKey] : pi[field];
    const compare: Clause = (pi) => {
      const actual = read(pi);
      if (operator === ':') return String(actual) === value;
      const [a, b] = [Number(actual), Number(value)];
      return operator === '>'
        ? a > b
        : operator === '<'
          ? a < b
          : operator === '>='
            ? a >= b
            : a <= b;
    };
    return clause.negated ? (pi) => !compare(pi) : compare;
  });
  return {
    matches:
      parsed.query.combinator === 'OR'
        ? (pi) => clauses.some((c) => c(pi))
        : (pi) => clauses.every((c) => c(pi)),
    pinned: pinnedMetadata(parsed.query),
  };
}

/**
 * Search is eventually consistent, as Stripe's is: an intent is found only once it is
 * `searchLagMs` old on the simulated clock (list and retrieve see it at once). An indexed intent
 * is matched and shown as it is now; in Stripe its indexed copy, status included, can lag behind
 * too, so callers retrieve an intent before trusting its status.
 */
const search: ApiHandler = (request: ApiRequest, sim) => {
  const params = parseParams(searchQuery, request.params);
  const { matches, pinned } = compileSearchQuery(params.query);
  const limit = params.limit ?? 10;
  const offset = params.page !== undefined ? Number(params.page.replace(/^page_/, '')) || 0 : 0;
  const indexedBy = sim.clock.now() - sim.searchLagMs;
  const indexed = (pi: StripeObject): boolean =>
    (sim.store.paymentIntentState.get(pi.id)?.createdAtMs ?? 0) <= indexedBy;
  const candidates = pinned
    ? sim.store.intentsWithMetadata(pinned.key, pinned.value)
    : sim.store.paymentIntents.values();
  const all = newestFirst([...candidates].filter((pi) => indexed(pi) && matches(pi)));
  const page = all.slice(offset, offset + limit);
  const hasMore = all.length > offset + limit;
  const body = renderList(sim.store, '/v1/payment_intents/search', page, hasMore, params.expand);
  return {
    status: 200,
    body: {
      ...body,
      object: 'search_result',
      next_page: hasMore ? `page_${offset + limit}` : null,
      total_count: all.length,
    },
  };
};

/** The PaymentIntent routes (static paths before `:id`). */
export const paymentIntentRoutes = [
  { method: 'GET', pattern: '/v1/payment_intents/search', handler: search },
  { method: 'POST', pattern: '/v1/payment_intents', handler: create },
  { method: 'GET', pattern: '/v1/payment_intents', handler: list },
  { method: 'GET', pattern: '/v1/payment_intents/:id', handler: retrieve },
  { method: 'POST', pattern: '/v1/payment_intents/:id', handler: update },
  { method: 'POST', pattern: '/v1/payment_intents/:id/confirm', handler: confirm },
  { method: 'POST', pattern: '/v1/payment_intents/:id/cancel', handler: cancel },
] as const;
