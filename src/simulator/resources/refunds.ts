// Refunds as Stripe has them (docs.stripe.com/api/refunds, docs.stripe.com/refunds): create on a
// PaymentIntent's successful charge or a charge, list, retrieve, update metadata, cancel. A card
// refund succeeds at once; a bank debit's stays `pending` and settles later; Stripe's
// `pm_card_refundFail` charge is refunded `succeeded`, then the refund fails. The charge's
// `amount_refunded` counts pending and succeeded refunds, and a failed refund gives its amount back.
import { z } from 'zod';
import { SimControlError, invalidParam, refused, resourceMissing } from '../errors.js';
import { RuleBook, ruleSchedule } from '../faults.js';
import { param, parseParams, withMetadata } from '../params.js';
import type { ApiHandler, SimContext } from '../router.js';
import { refId, takeDueSettlements, type RequestOrigin, type StripeObject } from '../store.js';
import { render } from './expand.js';
import { listChargeObjects } from './pagination.js';

/** Refund statuses. */
export const RefundStatus = {
  pending: 'pending',
  requiresAction: 'requires_action',
  succeeded: 'succeeded',
  failed: 'failed',
  canceled: 'canceled',
} as const;
export type RefundStatus = (typeof RefundStatus)[keyof typeof RefundStatus];

/** Stripe's documented `failure_reason` values. */
export const REFUND_FAILURE_REASONS = [
  'lost_or_stolen_card',
  'expired_or_canceled_card',
  'charge_for_pending_refund_disputed',
  'insufficient_funds',
  'declined',
  'merchant_request',
  'unknown',
] as const;

const failureReason = z.enum(REFUND_FAILURE_REASONS);

/**
 * A simulator rule for the refunds it matches (also the JSON body of `POST /_sim/refunds/rules`):
 * they are created with `status` and, with `then`, become `then` after `after_ms` simulated ms
 * (default: the simulator's processing delay); without `then` a pending refund waits for
 * `POST /_sim/refunds/:id/settle`. Scoped by `payment_intent`, `charge` or `order_id` (all
 * refunds when none is given) and scheduled like fault rules (`nth`, `times`, `probability`).
 */
export const refundRuleSchema = z
  .object({
    status: z.enum(['pending', 'succeeded']).default('pending'),
    then: z.enum(['succeeded', 'failed']).optional(),
    failure_reason: failureReason.optional(),
    after_ms: z.number().int().min(0).optional(),
    payment_intent: z.string().optional(),
    charge: z.string().optional(),
    order_id: z.string().optional(),
    ...ruleSchedule,
  })
  .strict()
  .refine((r) => !(r.status === 'succeeded' && r.then === 'succeeded'), {
    message: 'a rule from succeeded can only go on to failed',
    path: ['then'],
  })
  .refine((r) => r.failure_reason === undefined || r.then === 'failed', {
    message: 'failure_reason needs then: "failed"',
    path: ['failure_reason'],
  });

/** A refund rule as given; see {@link refundRuleSchema}. */
export type RefundRule = z.input<typeof refundRuleSchema>;
type ParsedRefundRule = z.output<typeof refundRuleSchema>;

/** What a refund rule is matched against. */
interface RefundSubject {
  paymentIntent: string | undefined;
  charge: string;
  orderId: string | undefined;
}

/** The refund rules of one simulator. */
export class RefundRuleBook extends RuleBook<ParsedRefundRule, RefundSubject> {
  constructor(seed: number) {
    super(
      'rfr',
      seed,
      (rule, subject) =>
        (rule.payment_intent === undefined || rule.payment_intent === subject.paymentIntent) &&
        (rule.charge === undefined || rule.charge === subject.charge) &&
        (rule.order_id === undefined || rule.order_id === subject.orderId),
    );
  }
}

/** The body of `POST /_sim/refunds/:id/settle`. */
export const refundSettlementSchema = z
  .object({
    status: z.enum(['succeeded', 'failed']),
    failure_reason: failureReason.optional(),
  })
  .strict()
  .refine((s) => s.failure_reason === undefined || s.status === 'failed', {
    message: 'failure_reason is for status "failed"',
    path: ['failure_reason'],
  });

/** How a refund settles; see {@link refundSettlementSchema}. */
export type RefundSettlement = z.input<typeof refundSettlementSchema>;

const createParams = z
  .object({
    amount: param.integer().optional(),
    charge: param.string().optional(),
    payment_intent: param.string().optional(),
    reason: param.oneOf(['duplicate', 'fraudulent', 'requested_by_customer']).optional(),
    metadata: param.metadata().optional(),
    instructions_email: param.string().optional(),
    refund_application_fee: param.boolean().optional(),
    reverse_transfer: param.boolean().optional(),
    expand: param.list(z.string()).optional(),
  })
  .strict();

const updateParams = z
  .object({ metadata: param.metadata().optional(), expand: param.list(z.string()).optional() })
  .strict();

const expandOnly = z.object({ expand: param.list(z.string()).optional() }).strict();

/** `$12.34`, `€5.00`: how Stripe's refund messages show amounts. */
function money(amount: number, currency: string): string {
  // Currencies are validated as three letters, which Intl accepts (unknown ones as `XYZ 1.00`).
  return new Intl.NumberFormat('en-US', {
    style: 'currency',
    currency: currency.toUpperCase(),
  }).format(amount / 100);
}

/** What is left to refund on a charge: captured minus pending and succeeded refunds. */
export function refundableAmount(charge: StripeObject): number {
  return Number(charge.amount_captured ?? 0) - Number(charge.amount_refunded ?? 0);
}

/** A chargeback still holding (or having kept) the charge's funds blocks refunds. */
function chargedBack(sim: SimContext, charge: StripeObject): boolean {
  for (const dispute of sim.store.disputes.values())
    if (
      dispute.charge === charge.id &&
      dispute.is_charge_refundable === false &&
      dispute.status !== 'won'
    )
      return true;
  return false;
}

/** The succeeded charge a create request names (by intent or by charge), or the 4xx Stripe sends. */
function chargeToRefund(
  sim: SimContext,
  params: z.output<typeof createParams>,
): { charge: StripeObject; paymentIntent: StripeObject | undefined } {
  if (params.payment_intent === undefined && params.charge === undefined)
    throw invalidParam(
      'One of the following params should be provided for this request: payment_intent or charge.',
      undefined,
      'parameter_missing',
    );
  let paymentIntent: StripeObject | undefined;
  let charge: StripeObject | undefined;
  if (params.payment_intent !== undefined) {
    paymentIntent = sim.store.paymentIntents.get(params.payment_intent);
    if (!paymentIntent)
      throw resourceMissing('payment_intent', params.payment_intent, 'payment_intent');
  }
  if (params.charge !== undefined) {
    charge = sim.store.charges.get(params.charge);
    if (!charge) throw resourceMissing('charge', params.charge, 'charge');
    if (paymentIntent && charge.payment_intent !== paymentIntent.id)
      throw invalidParam(
        `The charge ${charge.id} does not belong to the PaymentIntent ${paymentIntent.id}.`,
        'charge',
      );
  }
  paymentIntent ??= sim.store.paymentIntents.get(refId(charge?.payment_intent) ?? '');
  if (!charge) {
    const latest = sim.store.charges.get(refId(paymentIntent?.latest_charge) ?? '');
    charge = paymentIntent?.status === 'succeeded' ? latest : undefined;
  }
  if (!charge || charge.status !== 'succeeded') {
    throw paymentIntent
      ? refused(
          `This PaymentIntent (${paymentIntent.id}) does not have a successful charge to refund.`,
          params.payment_intent !== undefined ? 'payment_intent' : 'charge',
        )
      : refused(
          `The charge ${charge?.id ?? ''} has not succeeded and cannot be refunded.`,
          'charge',
        );
  }
  return { charge, paymentIntent };
}

function destinationDetails(pm: StripeObject | undefined): Record<string, unknown> {
  if (pm?.type === 'us_bank_account')
    return {
      type: 'us_bank_transfer',
      us_bank_transfer: { reference: null, reference_status: 'pending' },
    };
  return {
    card: {
      reference_status: 'pending',
      reference_type: 'acquirer_reference_number',
      type: 'refund',
    },
    type: 'card',
  };
}

/** The settle-later plan for a new refund: the rules first, then what the payment method does. */
function plan(
  sim: SimContext,
  charge: StripeObject,
  pm: StripeObject | undefined,
  orderId: string | undefined,
): {
  status: 'pending' | 'succeeded';
  then?: 'succeeded' | 'failed';
  failureReason?: string;
  afterMs: number;
} {
  const [rule] = sim.refundRules.take({
    paymentIntent: refId(charge.payment_intent),
    charge: charge.id,
    orderId,
  });
  if (rule)
    return {
      status: rule.status,
      ...(rule.then !== undefined ? { then: rule.then } : {}),
      ...(rule.then === 'failed'
        ? { failureReason: rule.failure_reason ?? 'expired_or_canceled_card' }
        : {}),
      afterMs: rule.after_ms ?? sim.processingDelayMs,
    };
  const behaviour = pm ? sim.store.paymentMethodBehaviour.get(pm.id) : undefined;
  if (behaviour?.kind === 'succeed' && behaviour.refundFailure !== undefined)
    return {
      status: 'succeeded',
      then: 'failed',
      failureReason: behaviour.refundFailure,
      afterMs: sim.processingDelayMs,
    };
  // ACH refunds are sent to the bank and settle days later.
  if (pm?.type === 'us_bank_account')
    return { status: 'pending', then: 'succeeded', afterMs: sim.processingDelayMs };
  return { status: 'succeeded', afterMs: 0 };
}

function setAmountRefunded(charge: StripeObject, amountRefunded: number): Record<string, unknown> {
  const previous = { amount_refunded: charge.amount_refunded, refunded: charge.refunded };
  charge.amount_refunded = amountRefunded;
  charge.refunded = amountRefunded >= Number(charge.amount_captured ?? 0) && amountRefunded > 0;
  return previous;
}

const create: ApiHandler = (request, sim) => {
  const params = parseParams(createParams, request.params);
  const { charge, paymentIntent } = chargeToRefund(sim, params);
  if (chargedBack(sim, charge))
    throw refused(
      `Charge ${charge.id} has been charged back; cannot issue a refund.`,
      undefined,
      'charge_disputed',
    );
  const remaining = refundableAmount(charge);
  if (remaining <= 0)
    throw refused(
      `Charge ${charge.id} has already been refunded.`,
      undefined,
      'charge_already_refunded',
    );
  const amount = params.amount ?? remaining;
  if (amount < 1)
    throw invalidParam('Invalid positive integer', 'amount', 'parameter_invalid_integer');
  if (amount > remaining) {
    const currency = String(charge.currency);
    throw refused(
      `Refund amount (${money(amount, currency)}) is greater than unrefunded amount on charge (${money(remaining, currency)})`,
      'amount',
      'amount_too_large',
    );
  }
  const pm = sim.store.paymentMethods.get(refId(charge.payment_method) ?? '');
  const orderId = (paymentIntent?.metadata as Record<string, string> | undefined)?.order_id;
  const next = plan(sim, charge, pm, orderId);
  const id = sim.ids.next('re');
  const refund: StripeObject = {
    id,
    object: 'refund',
    amount,
    balance_transaction: sim.ids.next('txn'),
    charge: charge.id,
    created: sim.clock.nowSeconds(),
    currency: charge.currency,
    customer: charge.customer ?? null,
    customer_account: null,
    destination_details: destinationDetails(pm),
    metadata: withMetadata({}, params.metadata),
    payment_intent: refId(charge.payment_intent) ?? null,
    payment_method: refId(charge.payment_method) ?? null,
    ...(next.status === 'pending' ? { pending_reason: 'processing' } : {}),
    reason: params.reason ?? null,
    receipt_number: null,
    source_transfer_reversal: null,
    status: next.status,
    transfer_reversal: null,
    ...(params.instructions_email !== undefined
      ? { instructions_email: params.instructions_email }
      : {}),
  };
  sim.store.refunds.set(id, refund);
  if (next.then !== undefined) sim.store.settling.refunds.add(id);
  sim.store.refundState.set(id, {
    ...(next.then !== undefined
      ? {
          settlement: {
            at: sim.clock.now() + next.afterMs,
            status: next.then,
            ...(next.failureReason !== undefined ? { failureReason: next.failureReason } : {}),
          },
        }
      : {}),
  });
  const previous = setAmountRefunded(charge, Number(charge.amount_refunded ?? 0) + amount);
  sim.store.emit('refund.created', refund, request.origin);
  sim.store.emit('charge.refunded', charge, request.origin, previous);
  return { status: 200, body: render(sim.store, refund, params.expand) };
};

/**
 * Moves a refund to its final status: `pending` → `succeeded` | `failed`, or `succeeded` →
 * `failed` (Stripe's asynchronous card refund failure). A failure gives the amount back to the
 * charge. Emits `refund.updated` and `charge.refund.updated`, and `refund.failed` on failure.
 */
export function settleRefund(
  sim: SimContext,
  refund: StripeObject,
  outcome: { status: 'succeeded' | 'failed'; failureReason?: string },
  origin?: RequestOrigin,
): void {
  const from = refund.status;
  const allowed =
    from === RefundStatus.pending ||
    (from === RefundStatus.succeeded && outcome.status === RefundStatus.failed);
  if (!allowed)
    throw new SimControlError(
      409,
      `refund ${refund.id} is ${String(from)}; it can go from pending to succeeded or failed, or from succeeded to failed`,
    );
  delete sim.store.refundState.get(refund.id)?.settlement;
  sim.store.settling.refunds.delete(refund.id);
  const previous: Record<string, unknown> = { status: from };
  refund.status = outcome.status;
  if ('pending_reason' in refund) {
    previous.pending_reason = refund.pending_reason;
    delete refund.pending_reason;
  }
  const details = refund.destination_details as Record<string, Record<string, unknown>>;
  for (const value of Object.values(details))
    if (value && typeof value === 'object' && 'reference_status' in value)
      value.reference_status = outcome.status === 'succeeded' ? 'available' : 'unavailable';
  if (outcome.status === RefundStatus.failed) {
    refund.failure_reason = outcome.failureReason ?? 'unknown';
    refund.failure_balance_transaction = sim.ids.next('txn');
    const charge = sim.store.charges.get(refId(refund.charge) ?? '');
    if (charge)
      setAmountRefunded(charge, Number(charge.amount_refunded ?? 0) - Number(refund.amount));
  }
  sim.store.emit('refund.updated', refund, origin, previous);
  sim.store.emit('charge.refund.updated', refund, origin, previous);
  if (outcome.status === RefundStatus.failed) sim.store.emit('refund.failed', refund, origin);
}

/** Settles every refund whose settlement time has passed (simulated time). */
export function settleDueRefunds(sim: SimContext): void {
  const due = takeDueSettlements(
    sim.store.settling.refunds,
    sim.store.refundState,
    sim.clock.now(),
  );
  for (const [id, settlement] of due) {
    const refund = sim.store.refunds.get(id);
    if (!refund) continue;
    const from = refund.status;
    if (
      from !== RefundStatus.pending &&
      !(from === RefundStatus.succeeded && settlement.status === 'failed')
    )
      continue;
    settleRefund(sim, refund, {
      status: settlement.status,
      ...(settlement.failureReason !== undefined
        ? { failureReason: settlement.failureReason }
        : {}),
    });
  }
}

/** The `/_sim/refunds/:id/settle` control: settles a refund now, whatever it was waiting for. */
export function settleRefundNow(
  sim: SimContext,
  id: string,
  settlement: RefundSettlement,
): StripeObject {
  const refund = sim.store.refunds.get(id);
  if (!refund) throw new SimControlError(404, `no refund ${id}`);
  const parsed = refundSettlementSchema.parse(settlement);
  settleRefund(sim, refund, {
    status: parsed.status,
    ...(parsed.status === 'failed'
      ? { failureReason: parsed.failure_reason ?? 'expired_or_canceled_card' }
      : {}),
  });
  return structuredClone(refund);
}

function findRefund(sim: SimContext, id: string): StripeObject {
  const refund = sim.store.refunds.get(id);
  if (!refund) throw resourceMissing('refund', id, 'id');
  return refund;
}

const retrieve: ApiHandler = (request, sim) => {
  const params = parseParams(expandOnly, request.params);
  return {
    status: 200,
    body: render(sim.store, findRefund(sim, request.pathParams.id ?? ''), params.expand),
  };
};

const update: ApiHandler = (request, sim) => {
  const params = parseParams(updateParams, request.params);
  const refund = findRefund(sim, request.pathParams.id ?? '');
  if (params.metadata !== undefined) {
    const previous = { metadata: structuredClone(refund.metadata) };
    refund.metadata = withMetadata(refund.metadata as Record<string, string>, params.metadata);
    sim.store.emit('refund.updated', refund, request.origin, previous);
  }
  return { status: 200, body: render(sim.store, refund, params.expand) };
};

const cancel: ApiHandler = (request, sim) => {
  const params = parseParams(expandOnly, request.params);
  const refund = findRefund(sim, request.pathParams.id ?? '');
  // Only refunds waiting for the customer (requires_action) can be canceled; the simulator's
  // card and bank refunds never wait for one.
  if (refund.status !== RefundStatus.requiresAction)
    throw refused(
      `You can't cancel refund ${refund.id} because it has a status of ${String(refund.status)}. Only a refund with a status of requires_action can be canceled.`,
    );
  return { status: 200, body: render(sim.store, refund, params.expand) };
};

/** The Refund routes. */
export const refundRoutes = [
  { method: 'POST', pattern: '/v1/refunds', handler: create },
  {
    method: 'GET',
    pattern: '/v1/refunds',
    handler: listChargeObjects((store) => store.refunds.values(), '/v1/refunds'),
  },
  { method: 'GET', pattern: '/v1/refunds/:id', handler: retrieve },
  { method: 'POST', pattern: '/v1/refunds/:id', handler: update },
  { method: 'POST', pattern: '/v1/refunds/:id/cancel', handler: cancel },
] as const;
