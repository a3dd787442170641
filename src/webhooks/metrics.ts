// The receiver's own metrics: what arrived, what verified, what was rejected and why, where
// verified events went, and how long Stripe waited for its answer. `WebhookMetrics` is the
// seam the handler reports to; `createReceiverMetrics` backs it with prom-client.
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { RouteKind } from '../shared/stripe-events.js';
import { Delivery } from '../routing/route.js';
import { RejectionReason } from './verify.js';

/** What the handler (and the server, for bodies it refuses before the handler) reports. */
export interface WebhookMetrics {
  /** A request to the webhook path reached the receiver. */
  received(): void;
  /** It was answered 400/413, for `reason` (never more than the reason: no header, no secret). */
  rejected(reason: RejectionReason): void;
  /** Its signature verified and its body parsed. */
  verified(): void;
  /** It was made durable (workflow, closed, unmatched) or acknowledged as a type nobody handles (ignored). */
  routed(kind: RouteKind, delivery: Delivery): void;
  /** It was of a type no workflow handles (src/shared/stripe-events.ts HANDLED_EVENT_TYPES): sent nowhere. */
  ignored?(type: string): void;
  /** Temporal failed or outlived the deadline: answered 503 (Stripe redelivers). */
  unavailable(): void;
  /** The answer went out with `status` after `seconds` (from the read body; a 413 from its first byte). */
  answered(status: number, seconds: number): void;
}

/** A {@link WebhookMetrics} that records nothing. */
export const noWebhookMetrics: WebhookMetrics = {
  received: () => {},
  rejected: () => {},
  verified: () => {},
  routed: () => {},
  ignored: () => {},
  unavailable: () => {},
  answered: () => {},
};

/** Metric names, for dashboards, alerts and tests. */
export const WebhookMetricName = {
  received: 'billing_webhook_received_total',
  verified: 'billing_webhook_verified_total',
  rejected: 'billing_webhook_rejected_total',
  routed: 'billing_webhook_routed_total',
  unmatched: 'billing_webhook_unmatched_total',
  ignored: 'billing_webhook_ignored_total',
  unavailable: 'billing_webhook_temporal_unavailable_total',
  ackSeconds: 'billing_webhook_ack_duration_seconds',
} as const;

/** Ack latency buckets, seconds: Stripe counts an answer after ~10 s as a failed delivery. */
const ACK_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** prom-client backed metrics with the registry `GET /metrics` serves. */
export interface ReceiverMetrics extends WebhookMetrics {
  registry: Registry;
  /** The exposition text and its content type. */
  scrape(): Promise<{ contentType: string; body: string }>;
}

/**
 * Metrics in a registry of their own (so several receivers in one process, as in tests, never
 * collide), with every reason, kind and delivery pre-set to 0 so a rate is defined from the
 * first scrape. `processMetrics` adds prom-client's process and Node.js metrics.
 */
export function createReceiverMetrics({
  processMetrics = true,
}: { processMetrics?: boolean } = {}): ReceiverMetrics {
  const registry = new Registry();
  if (processMetrics) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const received = new Counter({
    name: WebhookMetricName.received,
    help: 'Webhook requests received on the webhook path.',
    registers,
  });
  const verified = new Counter({
    name: WebhookMetricName.verified,
    help: 'Webhook requests whose signature verified and whose event parsed.',
    registers,
  });
  const rejected = new Counter({
    name: WebhookMetricName.rejected,
    help: 'Webhook requests answered 400 or 413, by reason.',
    labelNames: ['reason'] as const,
    registers,
  });
  const routed = new Counter({
    name: WebhookMetricName.routed,
    help: 'Verified events accounted for, by event kind and delivery (workflow, closed, answered, unmatched, ignored).',
    labelNames: ['kind', 'delivery'] as const,
    registers,
  });
  const unmatched = new Counter({
    name: WebhookMetricName.unmatched,
    help: 'Verified events recorded in the unmatched-events workflow, by event kind.',
    labelNames: ['kind'] as const,
    registers,
  });
  const ignored = new Counter({
    name: WebhookMetricName.ignored,
    help: 'Verified events of types no workflow handles, acknowledged and sent nowhere, by event type.',
    labelNames: ['type'] as const,
    registers,
  });
  const unavailable = new Counter({
    name: WebhookMetricName.unavailable,
    help: 'Verified events answered 503 because Temporal failed or outlived the deadline.',
    registers,
  });
  const ackSeconds = new Histogram({
    name: WebhookMetricName.ackSeconds,
    help: 'Seconds the receiver took to answer a webhook request (413s from the first byte), by HTTP status.',
    labelNames: ['status'] as const,
    buckets: ACK_BUCKETS,
    registers,
  });
  for (const reason of Object.values(RejectionReason)) rejected.labels(reason).inc(0);
  for (const kind of Object.values(RouteKind)) {
    unmatched.labels(kind).inc(0);
    for (const delivery of [
      Delivery.workflow,
      Delivery.closed,
      Delivery.answered,
      Delivery.unmatched,
      Delivery.ignored,
    ])
      routed.labels(kind, delivery).inc(0);
  }

  return {
    registry,
    received: () => received.inc(),
    rejected: (reason) => rejected.labels(reason).inc(),
    verified: () => verified.inc(),
    routed: (kind, delivery) => {
      routed.labels(kind, delivery).inc();
      if (delivery === Delivery.unmatched) unmatched.labels(kind).inc();
    },
    ignored: (type) => ignored.labels(type).inc(),
    unavailable: () => unavailable.inc(),
    answered: (status, seconds) => ackSeconds.labels(String(status)).observe(seconds),
    scrape: async () => ({ contentType: registry.contentType, body: await registry.metrics() }),
  };
}
