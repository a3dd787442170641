// The subset of a Stripe webhook body the receiver reads (validated with zod), and how a
// verified event is reduced to the compact `stripeEvent` signal plus the ids routing needs.
// The payload is only a hint (invariant 4): the workflows re-read Stripe before acting.
import { z } from 'zod';
import { orderIdFromWorkflowId } from '../shared/ids.js';
import {
  isHandledEventType,
  RouteKind,
  type EventRoute,
  type RoutedStripeEvent,
} from '../shared/stripe-events.js';
import { isAwaitedChargeKey } from '../workflows/idempotency-key.js';
import { afterChargeRoute } from './after-charge-event.js';

/** Ids that go into visibility queries must be plain Stripe ids (no quotes, no spaces). */
const PAYMENT_INTENT_ID = /^pi_[A-Za-z0-9_]+$/;
const CUSTOMER_ID = /^cus_[A-Za-z0-9_]+$/;

const expandable = z.union([z.string(), z.looseObject({ id: z.string() }), z.null()]);

/** A Stripe event as delivered to a webhook endpoint: the fields we read, others pass through. */
export const stripeWebhookEventSchema = z.looseObject({
  id: z.string().regex(/^evt_[A-Za-z0-9_]+$/, 'must be an event id (evt_…)'),
  object: z.literal('event'),
  type: z
    .string()
    .regex(/^[a-z0-9_.]+$/, 'must be an event type such as payment_intent.succeeded')
    .max(200),
  created: z.number().int().nonnegative(),
  account: z.string().min(1).optional(),
  /** The API request that caused the event (null for Stripe's own, e.g. a settlement). */
  request: z
    .looseObject({ idempotency_key: z.string().nullable().optional() })
    .nullable()
    .optional(),
  data: z.looseObject({
    object: z.looseObject({
      id: z.string().min(1).optional(),
      object: z.string().min(1).optional(),
      metadata: z.record(z.string(), z.unknown()).optional(),
      customer: expandable.optional(),
    }),
    previous_attributes: z.record(z.string(), z.unknown()).nullable().optional(),
  }),
});
export type StripeWebhookEvent = z.infer<typeof stripeWebhookEventSchema>;

/**
 * Customer-level event types: a new way to pay, which lets an open charge retry early.
 * `customer.updated` counts only when the default payment method changed.
 */
export const CUSTOMER_EVENT_TYPES: ReadonlySet<string> = new Set([
  'payment_method.attached',
  'customer.updated',
  'setup_intent.succeeded',
]);

function refId(value: z.infer<typeof expandable> | undefined): string | undefined {
  if (typeof value === 'string') return value;
  return value?.id;
}

function defaultPaymentMethodChanged(event: StripeWebhookEvent): boolean {
  const previous = event.data.previous_attributes;
  // No previous_attributes (e.g. a payload rebuilt from the Events API): a wake-up is harmless.
  if (previous === undefined || previous === null) return true;
  const settings = previous['invoice_settings'];
  return typeof settings === 'object' && settings !== null && 'default_payment_method' in settings;
}

/** Where `event` should go, read from its type and `data.object`. */
export function eventRoute(event: StripeWebhookEvent): EventRoute {
  // The list is the contract: a type outside it goes nowhere, whatever its prefix.
  if (!isHandledEventType(event.type)) return { kind: RouteKind.other };
  const object = event.data.object;
  // Refund and dispute events (issue 14): src/webhooks/after-charge-event.ts.
  const afterCharge = afterChargeRoute(event);
  if (afterCharge) return afterCharge;
  if (event.type.startsWith('payment_intent.')) {
    if (object.id === undefined || !PAYMENT_INTENT_ID.test(object.id))
      return { kind: RouteKind.other };
    const metadataId = object.metadata?.['workflow_id'];
    const workflowId =
      typeof metadataId === 'string' && orderIdFromWorkflowId(metadataId) !== undefined
        ? metadataId
        : undefined;
    const key = event.request?.idempotency_key;
    return {
      kind: RouteKind.paymentIntent,
      paymentIntentId: object.id,
      ...(workflowId !== undefined && { workflowId }),
      ...(workflowId !== undefined &&
        typeof key === 'string' &&
        isAwaitedChargeKey(key, workflowId) && { awaitedKey: key }),
    };
  }
  if (CUSTOMER_EVENT_TYPES.has(event.type)) {
    if (event.type === 'customer.updated' && !defaultPaymentMethodChanged(event))
      return { kind: RouteKind.other };
    const customerId = event.type === 'customer.updated' ? object.id : refId(object.customer);
    return {
      kind: RouteKind.customer,
      ...(customerId !== undefined && CUSTOMER_ID.test(customerId) && { customerId }),
    };
  }
  return { kind: RouteKind.other };
}

/** The compact signal payload and the route of a verified event. */
export function toRoutedEvent(event: StripeWebhookEvent): RoutedStripeEvent {
  const object = event.data.object;
  return {
    signal: {
      id: event.id,
      type: event.type,
      created: event.created,
      // Some objects (e.g. `balance`) have no id; the signal still names what changed.
      objectId: object.id ?? object.object ?? 'unknown',
      ...(event.account !== undefined && { account: event.account }),
    },
    route: eventRoute(event),
  };
}
