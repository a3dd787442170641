// SetupIntents, enough to save a card for later off-session charges: create (optionally
// confirming), confirm, retrieve. Success attaches the PaymentMethod to the customer and emits
// setup_intent.succeeded; a decline emits setup_intent.setup_failed and returns Stripe's 402.
import { z } from 'zod';
import { cardError, resourceMissing, unexpectedState } from '../errors.js';
import { param, parseParams } from '../params.js';
import type { ApiHandler, SimContext } from '../router.js';
import { refId, type RequestOrigin, type StripeObject } from '../store.js';
import { render } from './expand.js';
import { attachPaymentMethod, resolvePaymentMethod } from './payment-methods.js';

const confirmFields = {
  payment_method: param.string().optional(),
  return_url: param.string().optional(),
  mandate_data: z.record(z.string(), z.unknown()).optional(),
  expand: param.list(z.string()).optional(),
};

const createParams = z
  .object({
    ...confirmFields,
    customer: param.string().optional(),
    description: param.string().optional(),
    metadata: param.metadata().optional(),
    confirm: param.boolean().optional(),
    usage: param.oneOf(['off_session', 'on_session']).optional(),
    payment_method_types: param.list(z.string()).optional(),
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

function confirmSetup(
  sim: SimContext,
  si: StripeObject,
  paymentMethodId: string | undefined,
  origin: RequestOrigin,
): void {
  if (
    !['requires_payment_method', 'requires_confirmation', 'requires_action'].includes(
      String(si.status),
    )
  ) {
    throw unexpectedState(
      `You cannot confirm this SetupIntent because it has a status of ${String(si.status)}.`,
      undefined,
      'setup_intent_unexpected_state',
    );
  }
  if (paymentMethodId !== undefined)
    si.payment_method = resolvePaymentMethod(sim, paymentMethodId, 'payment_method').id;
  const pm = sim.store.paymentMethods.get(refId(si.payment_method) ?? '');
  if (!pm) {
    throw unexpectedState(
      "You cannot confirm this SetupIntent because it's missing a payment method.",
      undefined,
      'setup_intent_unexpected_state',
    );
  }
  const behaviour = sim.store.paymentMethodBehaviour.get(pm.id) ?? { kind: 'succeed' as const };
  if (behaviour.kind === 'decline') {
    si.status = 'requires_payment_method';
    si.payment_method = null;
    si.last_setup_error = {
      type: 'card_error',
      code: behaviour.code,
      decline_code: behaviour.declineCode,
      message: behaviour.message,
      payment_method: structuredClone(pm),
    };
    sim.store.emit('setup_intent.setup_failed', si, origin);
    throw cardError({
      code: behaviour.code,
      message: behaviour.message,
      declineCode: behaviour.declineCode,
      ...(behaviour.adviceCode ? { adviceCode: behaviour.adviceCode } : {}),
      setupIntent: render(sim.store, si),
      paymentMethod: structuredClone(pm),
    });
  }
  if (typeof si.customer === 'string') attachPaymentMethod(sim, pm, si.customer, origin);
  // Authentication during setup is what makes later off-session charges exempt; the simulator
  // treats setup as authenticated, so setup always succeeds for non-declining methods.
  si.status = 'succeeded';
  si.last_setup_error = null;
  sim.store.emit('setup_intent.succeeded', si, origin);
}

const create: ApiHandler = (request, sim) => {
  const params = parseParams(createParams, request.params);
  if (params.customer !== undefined && !sim.store.customers.has(params.customer))
    throw resourceMissing('customer', params.customer, 'customer');
  const pm =
    params.payment_method !== undefined
      ? resolvePaymentMethod(sim, params.payment_method, 'payment_method')
      : undefined;
  const id = sim.ids.next('seti');
  const si: StripeObject = {
    id,
    object: 'setup_intent',
    application: null,
    automatic_payment_methods: params.automatic_payment_methods ?? null,
    cancellation_reason: null,
    client_secret: `${id}_secret_${sim.ids.next('s', 25).slice(2)}`,
    created: sim.clock.nowSeconds(),
    customer: params.customer ?? null,
    description: params.description ?? null,
    last_setup_error: null,
    latest_attempt: null,
    livemode: false,
    mandate: null,
    metadata: params.metadata ?? {},
    next_action: null,
    on_behalf_of: null,
    payment_method: pm?.id ?? null,
    payment_method_options: {},
    payment_method_types: params.payment_method_types ?? ['card'],
    single_use_mandate: null,
    status: pm ? 'requires_confirmation' : 'requires_payment_method',
    usage: params.usage ?? 'off_session',
  };
  sim.store.setupIntents.set(id, si);
  sim.store.emit('setup_intent.created', si, request.origin);
  if (params.confirm === true) confirmSetup(sim, si, undefined, request.origin);
  return { status: 200, body: render(sim.store, si, params.expand) };
};

function findSetupIntent(sim: SimContext, id: string): StripeObject {
  const si = sim.store.setupIntents.get(id);
  if (!si) throw resourceMissing('setup_intent', id, 'intent');
  return si;
}

const confirm: ApiHandler = (request, sim) => {
  const params = parseParams(confirmParams, request.params);
  const si = findSetupIntent(sim, request.pathParams.id ?? '');
  confirmSetup(sim, si, params.payment_method, request.origin);
  return { status: 200, body: render(sim.store, si, params.expand) };
};

const retrieve: ApiHandler = (request, sim) => {
  const { expand } = parseParams(
    z
      .object({
        client_secret: param.string().optional(),
        expand: param.list(z.string()).optional(),
      })
      .strict(),
    request.params,
  );
  return {
    status: 200,
    body: render(sim.store, findSetupIntent(sim, request.pathParams.id ?? ''), expand),
  };
};

/** The SetupIntent routes. */
export const setupIntentRoutes = [
  { method: 'POST', pattern: '/v1/setup_intents', handler: create },
  { method: 'GET', pattern: '/v1/setup_intents/:id', handler: retrieve },
  { method: 'POST', pattern: '/v1/setup_intents/:id/confirm', handler: confirm },
] as const;
