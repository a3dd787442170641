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
    }
  >;
  orders: Record<
    string,
    { paymentIntents: string[]; successfulCharges: number; amountCaptured: number }
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

/** Listeners told about every event as it is emitted (the webhook dispatcher). */
export type EventListener = (event: StripeEventLike) => void;

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
  private readonly eventLog: StripeEventLike[] = [];
  private readonly listeners: EventListener[] = [];

  constructor(
    readonly clock: SimClock,
    readonly ids: IdGenerator,
  ) {}

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

  /** The ledger: only `succeeded` charges count as money moved. */
  ledger(): Ledger {
    const ledger: Ledger = { paymentIntents: {}, orders: {} };
    for (const pi of this.paymentIntents.values()) {
      const charges = [...this.charges.values()].filter(
        (c) => c.payment_intent === pi.id && c.status === 'succeeded',
      );
      const amountCaptured = charges.reduce((sum, c) => sum + Number(c.amount_captured ?? 0), 0);
      const metadata = (pi.metadata ?? {}) as Record<string, string>;
      const orderId = metadata.order_id;
      const customerId = typeof pi.customer === 'string' ? pi.customer : undefined;
      ledger.paymentIntents[pi.id] = {
        ...(orderId !== undefined ? { orderId } : {}),
        ...(customerId !== undefined ? { customerId } : {}),
        amount: Number(pi.amount),
        currency: String(pi.currency),
        status: String(pi.status),
        successfulCharges: charges.length,
        amountCaptured,
        confirmations: this.paymentIntentState.get(pi.id)?.confirmations ?? 0,
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
      }
    }
    return ledger;
  }
}
