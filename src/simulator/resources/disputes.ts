// Disputes as Stripe has them (docs.stripe.com/api/disputes, docs.stripe.com/disputes): opened by
// the bank (here: a `/_sim/disputes` control or Stripe's `pm_card_createDispute…` cards) on a
// succeeded charge, answered with evidence before `evidence_details.due_by`, then closed won, lost
// or (inquiries) warning_closed. A chargeback withdraws the funds when it opens and gives them back
// when it is won. Stripe's test evidence (`uncategorized_text` = `winning_evidence` /
// `losing_evidence`) decides a submitted dispute; saved evidence is submitted at the due date,
// and a dispute with none is lost then.
import { z } from 'zod';
import { SimControlError, refused, resourceMissing } from '../errors.js';
import { param, parseParams, withMetadata } from '../params.js';
import type { ApiHandler, SimContext } from '../router.js';
import { refId, type RequestOrigin, type StripeObject } from '../store.js';
import type { TestDispute } from '../test-payment-methods.js';
import { render } from './expand.js';
import { listChargeObjects } from './pagination.js';

/** Dispute statuses the simulator uses. */
export const DisputeStatus = {
  warningNeedsResponse: 'warning_needs_response',
  warningUnderReview: 'warning_under_review',
  warningClosed: 'warning_closed',
  needsResponse: 'needs_response',
  underReview: 'under_review',
  won: 'won',
  lost: 'lost',
} as const;
export type DisputeStatus = (typeof DisputeStatus)[keyof typeof DisputeStatus];

const AWAITING_EVIDENCE: readonly string[] = [
  DisputeStatus.needsResponse,
  DisputeStatus.warningNeedsResponse,
];
const CLOSED: readonly string[] = [
  DisputeStatus.won,
  DisputeStatus.lost,
  DisputeStatus.warningClosed,
];

/** Stripe's dispute `reason` values. */
export const DISPUTE_REASONS = [
  'bank_cannot_process',
  'check_returned',
  'credit_not_processed',
  'customer_initiated',
  'debit_not_authorized',
  'duplicate',
  'fraudulent',
  'general',
  'incorrect_account_details',
  'insufficient_funds',
  'noncompliant',
  'product_not_received',
  'product_unacceptable',
  'subscription_canceled',
  'unrecognized',
] as const;

/** Visa reason codes for the reasons the test cards use; others carry none. */
const NETWORK_REASON_CODES: Readonly<Record<string, string>> = {
  fraudulent: '10.4',
  product_not_received: '13.1',
  duplicate: '12.6.1',
  credit_not_processed: '13.6',
  product_unacceptable: '13.3',
  subscription_canceled: '13.2',
};

/** Evidence fields that take a string (text, or a File id for the documents). */
const EVIDENCE_FIELDS = [
  'access_activity_log',
  'billing_address',
  'cancellation_policy',
  'cancellation_policy_disclosure',
  'cancellation_rebuttal',
  'customer_communication',
  'customer_email_address',
  'customer_name',
  'customer_purchase_ip',
  'customer_signature',
  'duplicate_charge_documentation',
  'duplicate_charge_explanation',
  'duplicate_charge_id',
  'product_description',
  'receipt',
  'refund_policy',
  'refund_policy_disclosure',
  'refund_refusal_explanation',
  'service_date',
  'service_documentation',
  'shipping_address',
  'shipping_carrier',
  'shipping_date',
  'shipping_documentation',
  'shipping_tracking_number',
  'uncategorized_file',
  'uncategorized_text',
] as const;

/** Days from opening to `evidence_details.due_by` when the opener does not say. */
export const DEFAULT_EVIDENCE_DUE_DAYS = 7;

/** The body of `POST /_sim/disputes` (and `sim.disputes.open`). */
export const openDisputeSchema = z
  .object({
    charge: z.string().optional(),
    payment_intent: z.string().optional(),
    reason: z.enum(DISPUTE_REASONS).default('fraudulent'),
    /** An inquiry (`warning_needs_response`, funds kept) instead of a chargeback. */
    inquiry: z.boolean().default(false),
    /** Disputed amount; default the charge's amount. */
    amount: z.number().int().positive().optional(),
    /** `due_by` at the end (23:59:59 UTC) of the day this many simulated days ahead. */
    evidence_due_in_days: z.number().int().min(0).max(120).optional(),
    /** `due_by` exactly (unix seconds); wins over evidence_due_in_days. */
    evidence_due_by: z.number().int().positive().optional(),
  })
  .strict()
  .refine((o) => (o.charge === undefined) !== (o.payment_intent === undefined), {
    message: 'give exactly one of charge or payment_intent',
  });

/** What opens a dispute; see {@link openDisputeSchema}. */
export type OpenDispute = z.input<typeof openDisputeSchema>;

/** The body of `POST /_sim/disputes/:id/close` (and `sim.disputes.close`). */
export const closeDisputeSchema = z
  .object({ status: z.enum(['won', 'lost', 'warning_closed']) })
  .strict();

const evidenceParams = z
  .object({
    ...Object.fromEntries(EVIDENCE_FIELDS.map((f) => [f, param.string().optional()])),
    enhanced_evidence: z.record(z.string(), z.unknown()).optional(),
    appeal: z.union([z.literal(''), z.record(z.string(), z.unknown())]).optional(),
  })
  .strict();

const updateParams = z
  .object({
    evidence: evidenceParams.optional(),
    metadata: param.metadata().optional(),
    submit: param.boolean().optional(),
    intended_submission_method: param
      .oneOf(['manual', 'prefer_manual', 'prefer_smart_disputes', 'smart_disputes'])
      .optional(),
    expand: param.list(z.string()).optional(),
  })
  .strict();

const expandOnly = z.object({ expand: param.list(z.string()).optional() }).strict();

/** The end (23:59:59 UTC) of the day `days` days after `nowSeconds`, as Stripe's due dates are. */
function endOfDayAfter(nowSeconds: number, days: number): number {
  const day = 86_400;
  return Math.floor((nowSeconds + days * day) / day) * day + day - 1;
}

function emptyEvidence(): Record<string, unknown> {
  return {
    ...Object.fromEntries(EVIDENCE_FIELDS.map((f) => [f, null])),
    enhanced_evidence: {},
  };
}

function balanceTransaction(
  sim: SimContext,
  dispute: StripeObject,
  amount: number,
  description: string,
): Record<string, unknown> {
  return {
    id: sim.ids.next('txn'),
    object: 'balance_transaction',
    amount,
    created: sim.clock.nowSeconds(),
    currency: dispute.currency,
    description,
    fee: 0,
    net: amount,
    reporting_category: 'dispute',
    source: dispute.id,
    status: 'available',
    type: 'adjustment',
  };
}

/**
 * Opens a dispute on a succeeded charge as the bank would: `charge.dispute.created`, and for a
 * chargeback `charge.dispute.funds_withdrawn`. One open dispute per charge.
 */
export function openDispute(
  sim: SimContext,
  charge: StripeObject,
  options: TestDispute & { amount?: number; dueBy?: number },
  origin?: RequestOrigin,
): StripeObject {
  if (charge.status !== 'succeeded')
    throw new SimControlError(
      409,
      `charge ${charge.id} has not succeeded; only a paid charge can be disputed`,
    );
  for (const other of sim.store.disputes.values())
    if (other.charge === charge.id && !CLOSED.includes(String(other.status)))
      throw new SimControlError(
        409,
        `charge ${charge.id} already has an open dispute, ${other.id}`,
      );
  const amount = options.amount ?? Number(charge.amount);
  if (amount > Number(charge.amount))
    throw new SimControlError(
      400,
      `a dispute of ${amount} is more than the charge's ${String(charge.amount)}`,
    );
  const pm = sim.store.paymentMethods.get(refId(charge.payment_method) ?? '');
  const card = pm?.card as { brand?: string } | undefined;
  const now = sim.clock.nowSeconds();
  const dispute: StripeObject = {
    id: sim.ids.next('du'),
    object: 'dispute',
    amount,
    balance_transactions: [],
    charge: charge.id,
    created: now,
    currency: charge.currency,
    enhanced_eligibility_types: [],
    evidence: emptyEvidence(),
    evidence_details: {
      due_by: options.dueBy ?? endOfDayAfter(now, DEFAULT_EVIDENCE_DUE_DAYS),
      enhanced_eligibility: {},
      has_evidence: false,
      past_due: false,
      submission_count: 0,
      submission_method: 'not_submitted',
    },
    intended_submission_method: null,
    is_charge_refundable: options.inquiry,
    livemode: false,
    metadata: {},
    payment_intent: refId(charge.payment_intent) ?? null,
    payment_method_details:
      pm?.type === 'card'
        ? {
            card: {
              brand: card?.brand ?? 'visa',
              case_type: options.inquiry ? 'inquiry' : 'chargeback',
              network: card?.brand ?? 'visa',
              network_reason_code: NETWORK_REASON_CODES[options.reason] ?? null,
            },
            type: 'card',
          }
        : { type: typeof pm?.type === 'string' ? pm.type : 'card' },
    reason: options.reason,
    status: options.inquiry ? DisputeStatus.warningNeedsResponse : DisputeStatus.needsResponse,
  };
  sim.store.disputes.set(dispute.id, dispute);
  sim.store.disputeState.set(dispute.id, {});
  charge.disputed = true;
  sim.store.emit('charge.dispute.created', dispute, origin);
  if (!options.inquiry) {
    (dispute.balance_transactions as unknown[]).push(
      balanceTransaction(sim, dispute, -amount, `Chargeback withdrawal for ${charge.id}`),
    );
    sim.store.emit('charge.dispute.funds_withdrawn', dispute, origin);
  }
  return dispute;
}

/** The `/_sim/disputes` control: opens a dispute on a charge, or on an intent's latest charge. */
export function openDisputeNow(sim: SimContext, body: OpenDispute): StripeObject {
  const options = openDisputeSchema.parse(body);
  const chargeId =
    options.charge ??
    refId(sim.store.paymentIntents.get(options.payment_intent ?? '')?.latest_charge);
  const charge = sim.store.charges.get(chargeId ?? '');
  if (!charge)
    throw new SimControlError(
      404,
      options.charge !== undefined
        ? `no charge ${options.charge}`
        : `no PaymentIntent ${options.payment_intent ?? ''} with a charge`,
    );
  const dueBy =
    options.evidence_due_by ??
    (options.evidence_due_in_days !== undefined
      ? endOfDayAfter(sim.clock.nowSeconds(), options.evidence_due_in_days)
      : undefined);
  return structuredClone(
    openDispute(sim, charge, {
      reason: options.reason,
      inquiry: options.inquiry,
      ...(options.amount !== undefined ? { amount: options.amount } : {}),
      ...(dueBy !== undefined ? { dueBy } : {}),
    }),
  );
}

/** Closes a dispute (won / lost / warning_closed): funds back on a won chargeback, then `charge.dispute.closed`. */
function closeDispute(
  sim: SimContext,
  dispute: StripeObject,
  status: 'won' | 'lost' | 'warning_closed',
  origin?: RequestOrigin,
): void {
  const previous = { status: dispute.status };
  dispute.status = status;
  delete sim.store.disputeState.get(dispute.id)?.verdict;
  if (status === DisputeStatus.won && dispute.is_charge_refundable === false) {
    (dispute.balance_transactions as unknown[]).push(
      balanceTransaction(
        sim,
        dispute,
        Number(dispute.amount),
        `Chargeback reversal for ${String(dispute.charge)}`,
      ),
    );
    sim.store.emit('charge.dispute.funds_reinstated', dispute, origin);
  }
  sim.store.emit('charge.dispute.closed', dispute, origin, previous);
}

/** The `/_sim/disputes/:id/close` control: the bank decides. */
export function closeDisputeNow(
  sim: SimContext,
  id: string,
  body: z.input<typeof closeDisputeSchema>,
): StripeObject {
  const { status } = closeDisputeSchema.parse(body);
  const dispute = sim.store.disputes.get(id);
  if (!dispute) throw new SimControlError(404, `no dispute ${id}`);
  const from = String(dispute.status);
  if (CLOSED.includes(from))
    throw new SimControlError(409, `dispute ${id} is already closed (${from})`);
  const inquiry = from.startsWith('warning_');
  if (inquiry !== (status === 'warning_closed'))
    throw new SimControlError(
      409,
      `dispute ${id} is ${inquiry ? 'an inquiry: it closes as warning_closed' : 'a chargeback: it closes as won or lost'}`,
    );
  closeDispute(sim, dispute, status);
  return structuredClone(dispute);
}

function hasEvidence(evidence: Record<string, unknown>): boolean {
  return EVIDENCE_FIELDS.some((f) => evidence[f] !== null && evidence[f] !== undefined);
}

/** Submits the saved evidence: under review, and Stripe's test evidence decides later. */
function submit(sim: SimContext, dispute: StripeObject): void {
  const details = dispute.evidence_details as Record<string, unknown>;
  dispute.status =
    dispute.status === DisputeStatus.warningNeedsResponse
      ? DisputeStatus.warningUnderReview
      : DisputeStatus.underReview;
  details.submission_count = Number(details.submission_count) + 1;
  details.submission_method = 'manual';
  const text = (dispute.evidence as Record<string, unknown>).uncategorized_text;
  const verdict =
    text === 'winning_evidence' ? 'won' : text === 'losing_evidence' ? 'lost' : undefined;
  const state = sim.store.disputeState.get(dispute.id);
  if (verdict && state && dispute.status === DisputeStatus.underReview)
    state.verdict = { at: sim.clock.now() + sim.processingDelayMs, status: verdict };
}

/** Closes decided disputes and acts on due dates that passed (simulated time). */
export function settleDueDisputes(sim: SimContext): void {
  const now = sim.clock.now();
  for (const dispute of sim.store.disputes.values()) {
    const state = sim.store.disputeState.get(dispute.id);
    if (state?.verdict && state.verdict.at <= now && dispute.status === DisputeStatus.underReview) {
      closeDispute(sim, dispute, state.verdict.status);
      continue;
    }
    const details = dispute.evidence_details as Record<string, unknown>;
    if (!AWAITING_EVIDENCE.includes(String(dispute.status)) || Number(details.due_by) * 1000 > now)
      continue;
    if (details.has_evidence === true) {
      const previous = { status: dispute.status };
      submit(sim, dispute);
      sim.store.emit('charge.dispute.updated', dispute, undefined, previous);
    } else {
      closeDispute(
        sim,
        dispute,
        dispute.status === DisputeStatus.warningNeedsResponse ? 'warning_closed' : 'lost',
      );
    }
  }
}

function findDispute(sim: SimContext, id: string): StripeObject {
  const dispute = sim.store.disputes.get(id);
  if (!dispute) throw resourceMissing('dispute', id, 'dispute');
  return dispute;
}

const retrieve: ApiHandler = (request, sim) => {
  const params = parseParams(expandOnly, request.params);
  return {
    status: 200,
    body: render(sim.store, findDispute(sim, request.pathParams.id ?? ''), params.expand),
  };
};

const update: ApiHandler = (request, sim) => {
  const params = parseParams(updateParams, request.params);
  const dispute = findDispute(sim, request.pathParams.id ?? '');
  const changesEvidence = params.evidence !== undefined || params.submit === true;
  if (changesEvidence && !AWAITING_EVIDENCE.includes(String(dispute.status)))
    throw refused(
      `You cannot update the evidence of dispute ${dispute.id} because its status is ${String(dispute.status)}; evidence can be updated and submitted only while the status is needs_response or warning_needs_response.`,
      'evidence',
    );
  const previous: Record<string, unknown> = {};
  if (params.evidence !== undefined) {
    const evidence = dispute.evidence as Record<string, unknown>;
    previous.evidence = structuredClone(evidence);
    for (const [field, value] of Object.entries(params.evidence)) {
      if (field === 'appeal') continue;
      if (field === 'enhanced_evidence') evidence.enhanced_evidence = value;
      else evidence[field] = value === '' ? null : value;
    }
    const details = dispute.evidence_details as Record<string, unknown>;
    details.has_evidence = hasEvidence(evidence);
  }
  if (params.metadata !== undefined) {
    previous.metadata = structuredClone(dispute.metadata);
    dispute.metadata = withMetadata(dispute.metadata as Record<string, string>, params.metadata);
  }
  if (params.intended_submission_method !== undefined) {
    previous.intended_submission_method = dispute.intended_submission_method;
    dispute.intended_submission_method = params.intended_submission_method;
  }
  if (params.submit === true) {
    previous.status = dispute.status;
    previous.evidence_details = structuredClone(dispute.evidence_details);
    submit(sim, dispute);
  }
  if (Object.keys(previous).length > 0)
    sim.store.emit('charge.dispute.updated', dispute, request.origin, previous);
  return { status: 200, body: render(sim.store, dispute, params.expand) };
};

/** Accepting the dispute: a chargeback is lost, an inquiry warning_closed. */
const close: ApiHandler = (request, sim) => {
  const params = parseParams(expandOnly, request.params);
  const dispute = findDispute(sim, request.pathParams.id ?? '');
  const status = String(dispute.status);
  if (CLOSED.includes(status))
    throw refused(`This dispute (${dispute.id}) is already closed with a status of ${status}.`);
  if (!AWAITING_EVIDENCE.includes(status))
    throw refused(
      `You cannot close dispute ${dispute.id} because its status is ${status}; only a dispute that needs a response can be closed.`,
    );
  closeDispute(
    sim,
    dispute,
    status === DisputeStatus.warningNeedsResponse ? 'warning_closed' : 'lost',
    request.origin,
  );
  return { status: 200, body: render(sim.store, dispute, params.expand) };
};

/** The Dispute routes. */
export const disputeRoutes = [
  {
    method: 'GET',
    pattern: '/v1/disputes',
    handler: listChargeObjects((store) => store.disputes.values(), '/v1/disputes'),
  },
  { method: 'GET', pattern: '/v1/disputes/:id', handler: retrieve },
  { method: 'POST', pattern: '/v1/disputes/:id', handler: update },
  { method: 'POST', pattern: '/v1/disputes/:id/close', handler: close },
] as const;
