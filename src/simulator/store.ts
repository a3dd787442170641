// The simulator's state: Stripe objects as they are rendered on the wire, the event log, and
// the ledger of money moved. Handlers mutate it synchronously, so one request is atomic.
import type { SimClock } from './clock.js';
import type { IdGenerator } from './random.js';
import type { TestBehaviour } from './test-payment-methods.js';

/** A Stripe object as stored and rendered (plain JSON). */
export type StripeObject = { id: string; object: string; [field: string]: unknown };

/** Stripe's Event object, as listed by `/v1/events` and delivered to webhooks. */
export interface StripeEventLike {
  id: string;
  object: 'event';
  api_version: string;
  created: number;
  data: { object: StripeObject; previous_attributes?: Record<string, unknown> };
  livemode: false;
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null };
  type: string;
}

/** The id a field refers to: the string itself, or the `id` of an expanded object. */
export function refId(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && 'id' in value && typeof value.id === 'string')
    return value.id;
  return undefined;
}

/** The API version the simulator's objects follow (stripe-node 23.1.0's pinned version). */
export const SIM_API_VERSION = '2026-10-28.endive';

/**
 * Money given back, for an intent or an order that has at least one refund. `amountRefunded` is
 * what the charges' `amount_refunded` shows: pending and succeeded refunds, a failed one gave
 * its amount back.
 */
export interface LedgerRefunds {
  /** Refund objects that are pending or succeeded (failed and canceled ones are not counted). */
  count: number;
  amountRefunded: number;
  /** The part of `amountRefunded` still pending. */
  amountPending: number;
  /** Refunds that failed (their amount went back to the charge). */
  failed: number;
  /** Pending or succeeded refunds per `metadata.refund_id` (more than 1 is a double refund). */
  byRefundId: Record<string, number>;
}

/** Disputes, for an intent or an order that has at least one. */
export interface LedgerDisputes {
  count: number;
  /** Not closed yet (needs_response, under_review and their warning_ forms). */
  open: number;
  won: number;
  lost: number;
  warningClosed: number;
  /** Sum of the lost disputes' amounts (money the bank took back). */
  amountLost: number;
}

/** Money moved, per PaymentIntent and per `metadata.order_id`. */
export interface Ledger {
  paymentIntents: Record<
    string,
    {
      orderId?: string;
      customerId?: string;
      amount: number;
      currency: string;
      status: string;
      successfulCharges: number;
      amountCaptured: number;
      confirmations: number;
      /** Present once the intent has a refund. */
      refunds?: LedgerRefunds;
      /** Present once the intent has a dispute. */
      disputes?: LedgerDisputes;
    }
  >;
  orders: Record<
    string,
    {
      paymentIntents: string[];
      successfulCharges: number;
      amountCaptured: number;
      /** Present once the order has a refund. */
      refunds?: LedgerRefunds;
      /** Present once the order has a dispute. */
      disputes?: LedgerDisputes;
    }
  >;
}

/** Which request caused a change; copied into the event's `request` field. */
export interface RequestOrigin {
  requestId: string;
  idempotencyKey: string | undefined;
}

/** Simulator-only facts about a PaymentIntent that are not part of Stripe's object. */
export interface PaymentIntentState {
  confirmations: number;
  /** Creation time in simulated ms (`created` is whole seconds); search lags behind it. */
  createdAtMs: number;
  /** A bank debit waiting to settle at `at` (simulated ms). */
  settlement?: {
    at: number;
    behaviour: Extract<TestBehaviour, { kind: 'bank_debit' }>;
    chargeId: string;
  };
}

/** Simulator-only facts about a Refund: what it becomes, and when (simulated ms). */
export interface RefundState {
  settlement?: { at: number; status: 'succeeded' | 'failed'; failureReason?: string };
}

/** Simulator-only facts about a Dispute: a close scheduled by Stripe's test evidence. */
export interface DisputeState {
  /** `winning_evidence` / `losing_evidence` submitted: closes at `at` (simulated ms). */
  verdict?: { at: number; status: 'won' | 'lost' };
}

/** Listeners told about every event as it is emitted (the webhook dispatcher). */
export type EventListener = (event: StripeEventLike) => void;

/**
 * Takes the settlements due by `now` among the ids in `waiting` (a {@link Store.settling} set),
 * in the order they were scheduled: each leaves its state and the set. An id whose state no
 * longer holds a settlement leaves the set too.
 */
export function takeDueSettlements<T extends { at: number }>(
  waiting: Set<string>,
  states: ReadonlyMap<string, { settlement?: T }>,
  now: number,
): [id: string, settlement: T][] {
  const due: [string, T][] = [];
  for (const id of waiting) {
    const state = states.get(id);
    const settlement = state?.settlement;
    if (settlement && settlement.at > now) continue;
    waiting.delete(id);
    if (!state || !settlement) continue;
    delete state.settlement;
    due.push([id, settlement]);
  }
  return due;
}

/** The in-memory Stripe account. */
export class Store {
  readonly customers = new Map<string, StripeObject>();
  readonly paymentMethods = new Map<string, StripeObject>();
  /** Behaviour of each PaymentMethod object, from the test id it was made from. */
  readonly paymentMethodBehaviour = new Map<string, TestBehaviour>();
  readonly paymentIntents = new Map<string, StripeObject>();
  readonly paymentIntentState = new Map<string, PaymentIntentState>();
  readonly charges = new Map<string, StripeObject>();
  readonly setupIntents = new Map<string, StripeObject>();
  readonly refunds = new Map<string, StripeObject>();
  readonly refundState = new Map<string, RefundState>();
  readonly disputes = new Map<string, StripeObject>();
  readonly disputeState = new Map<string, DisputeState>();
  /**
   * Ids whose state holds a `settlement` (bank debits, refunds), in the order they were
   * scheduled: every API request settles what is due, and scanning only these keeps that O(1)
   * in the number of intents and refunds the account holds.
   */
  readonly settling = { paymentIntents: new Set<string>(), refunds: new Set<string>() };
  /**
   * PaymentIntent ids by each `metadata` pair they have had (`key\u0000value`), so that a search
   * pinned to one (`metadata['order_id']:'o1'`) does not scan the account, as Stripe's indexed
   * search does not. A pair an update removed stays listed: search re-checks every candidate.
   */
  private readonly intentsByMetadata = new Map<string, Set<string>>();
  private readonly eventLog: StripeEventLike[] = [];
  private readonly listeners: EventListener[] = [];

  constructor(
    readonly clock: SimClock,
    readonly ids: IdGenerator,
  ) {}

  /** Records an intent's current metadata pairs for {@link intentsWithMetadata}; call on every change. */
  indexIntentMetadata(pi: StripeObject): void {
    for (const [key, value] of Object.entries((pi.metadata ?? {}) as Record<string, unknown>)) {
      const pair = `${key}\u0000${String(value)}`;
      const ids = this.intentsByMetadata.get(pair) ?? new Set<string>();
      ids.add(pi.id);
      this.intentsByMetadata.set(pair, ids);
    }
  }

  /** The intents that have, or once had, `metadata[key] === value` (a superset: check each). */
  *intentsWithMetadata(key: string, value: string): Iterable<StripeObject> {
    for (const id of this.intentsByMetadata.get(`${key}\u0000${value}`) ?? []) {
      const pi = this.paymentIntents.get(id);
      if (pi) yield pi;
    }
  }

  /** Subscribes to emitted events. */
  onEvent(listener: EventListener): void {
    this.listeners.push(listener);
  }

  /** Emits an event with a snapshot of `object`, Stripe's shape, and tells the listeners. */
  emit(
    type: string,
    object: StripeObject,
    origin: RequestOrigin | undefined,
    previous?: Record<string, unknown>,
  ): StripeEventLike {
    const event: StripeEventLike = {
      id: this.ids.next('evt'),
      object: 'event',
      api_version: SIM_API_VERSION,
      created: this.clock.nowSeconds(),
      data: {
        object: structuredClone(object),
        ...(previous ? { previous_attributes: structuredClone(previous) } : {}),
      },
      livemode: false,
      pending_webhooks: 0,
      request: { id: origin?.requestId ?? null, idempotency_key: origin?.idempotencyKey ?? null },
      type,
    };
    this.eventLog.push(event);
    for (const listener of this.listeners) listener(event);
    return event;
  }

  /** Every event, oldest first (the live objects; callers clone before handing them out). */
  events(): readonly StripeEventLike[] {
    return this.eventLog;
  }

  /** The ledger: only `succeeded` charges count as money moved; refunds and disputes alongside. */
  ledger(): Ledger {
    const ledger: Ledger = { paymentIntents: {}, orders: {} };
    const refundsOf = groupBy(this.refunds.values(), (r) => refId(r.payment_intent));
    const disputesOf = groupBy(this.disputes.values(), (d) => refId(d.payment_intent));
    for (const pi of this.paymentIntents.values()) {
      const charges = [...this.charges.values()].filter(
        (c) => c.payment_intent === pi.id && c.status === 'succeeded',
      );
      const amountCaptured = charges.reduce((sum, c) => sum + Number(c.amount_captured ?? 0), 0);
      const metadata = (pi.metadata ?? {}) as Record<string, string>;
      const orderId = metadata.order_id;
      const customerId = typeof pi.customer === 'string' ? pi.customer : undefined;
      const refunds = refundsOf.get(pi.id) ?? [];
      const disputes = disputesOf.get(pi.id) ?? [];
      ledger.paymentIntents[pi.id] = {
        ...(orderId !== undefined ? { orderId } : {}),
        ...(customerId !== undefined ? { customerId } : {}),
        amount: Number(pi.amount),
        currency: String(pi.currency),
        status: String(pi.status),
        successfulCharges: charges.length,
        amountCaptured,
        confirmations: this.paymentIntentState.get(pi.id)?.confirmations ?? 0,
        ...(refunds.length > 0 ? { refunds: addRefunds(undefined, refunds) } : {}),
        ...(disputes.length > 0 ? { disputes: addDisputes(undefined, disputes) } : {}),
      };
      if (orderId !== undefined) {
        const order = (ledger.orders[orderId] ??= {
          paymentIntents: [],
          successfulCharges: 0,
          amountCaptured: 0,
        });
        order.paymentIntents.push(pi.id);
        order.successfulCharges += charges.length;
        order.amountCaptured += amountCaptured;
        if (refunds.length > 0) order.refunds = addRefunds(order.refunds, refunds);
        if (disputes.length > 0) order.disputes = addDisputes(order.disputes, disputes);
      }
    }
    return ledger;
  }
}

function groupBy(
  items: Iterable<StripeObject>,
  key: (item: StripeObject) => string | undefined,
): Map<string, StripeObject[]> {
  const groups = new Map<string, StripeObject[]>();
  for (const item of items) {
    const k = key(item);
    if (k === undefined) continue;
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

function addRefunds(into: LedgerRefunds | undefined, refunds: StripeObject[]): LedgerRefunds {
  const total: LedgerRefunds = into ?? {
    count: 0,
    amountRefunded: 0,
    amountPending: 0,
    failed: 0,
    byRefundId: {},
  };
  for (const refund of refunds) {
    const amount = Number(refund.amount);
    if (refund.status === 'failed') total.failed += 1;
    if (refund.status !== 'pending' && refund.status !== 'succeeded') continue;
    total.count += 1;
    total.amountRefunded += amount;
    if (refund.status === 'pending') total.amountPending += amount;
    const refundId = (refund.metadata as Record<string, string> | null)?.refund_id;
    if (refundId !== undefined) total.byRefundId[refundId] = (total.byRefundId[refundId] ?? 0) + 1;
  }
  return total;
}

function addDisputes(into: LedgerDisputes | undefined, disputes: StripeObject[]): LedgerDisputes {
  const total: LedgerDisputes = into ?? {
    count: 0,
    open: 0,
    won: 0,
    lost: 0,
    warningClosed: 0,
    amountLost: 0,
  };
  for (const dispute of disputes) {
    total.count += 1;
    if (dispute.status === 'won') total.won += 1;
    else if (dispute.status === 'lost') {
      total.lost += 1;
      total.amountLost += Number(dispute.amount);
    } else if (dispute.status === 'warning_closed') total.warningClosed += 1;
    else total.open += 1;
  }
  return total;
}
