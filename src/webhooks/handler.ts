// The framework-agnostic webhook handler: (raw body, headers) → { status, body }. Verifies,
// routes, and answers 200 only once Temporal accepted the signal(s) (invariant 5); 400/413 for
// bad requests (nothing sent, nothing secret logged); 503 when Temporal fails or is too slow.
import type { Client } from '@temporalio/client';
import { toRoutedEvent } from './event.js';
import { noWebhookMetrics, type WebhookMetrics } from './metrics.js';
import { createEventRouter, Delivery, type RouteResult } from '../routing/route.js';
import { RejectionReason, verifyStripeWebhook } from './verify.js';

/** What the handler needs from a request. Header names are matched case-insensitively. */
export interface WebhookRequest {
  /** The body exactly as received: a parsed-and-reserialised body never verifies. */
  rawBody: Uint8Array | string;
  /**
   * How many bytes had arrived when an adapter stopped reading at the limit (`rawBody` is then
   * incomplete): the handler answers 413 without looking at it.
   */
  receivedBytes?: number;
  headers: Readonly<Record<string, string | readonly string[] | undefined>>;
}

/** What to answer; `body` is JSON. */
export interface WebhookResponse {
  status: 200 | 400 | 413 | 503;
  headers: Record<string, string>;
  body: string;
}

/** A pino-compatible logger subset (a pino logger is one). */
export interface WebhookLogger {
  debug?(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export interface WebhookHandlerOptions {
  client: Client;
  /** Signing secrets (`whsec_…`); several during a rotation. At least one is required. */
  secrets: readonly string[];
  /** Task queue of the billing worker (the unmatched-events workflow runs there). */
  taskQueue: string;
  unmatchedWorkflowId?: string;
  /**
   * Largest accepted body; default {@link DEFAULT_BODY_LIMIT_BYTES}. A body over it, or a
   * `Content-Length` header declaring more, gets 413. Mounted in an app, give the framework's
   * body reader the same limit: the handler sees the body only once it has been buffered.
   */
  bodyLimitBytes?: number;
  /** Deadline for all Temporal calls of one request; default {@link DEFAULT_DEADLINE_MS}. */
  deadlineMs?: number;
  toleranceSeconds?: number;
  /** Clock for the signature window, ms; default `Date.now`. */
  now?: () => number;
  logger?: WebhookLogger;
  /** Counters and latencies (see metrics.ts); default none. */
  metrics?: WebhookMetrics;
  /**
   * Signal the events that answer a charge's own confirm or cancel as well, instead of answering
   * `"delivery":"answered"` (docs/webhooks.md): every webhook in the charge's history, at a cost.
   */
  signalAnswers?: boolean;
}

/** Stripe's event payloads are far smaller; anything above is not from Stripe. */
export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;
/** A slow answer is a failed delivery at Stripe: answer 503 within seconds, so it redelivers. */
export const DEFAULT_DEADLINE_MS = 5000;

const silent: WebhookLogger = { info: () => {}, warn: () => {}, error: () => {} };
const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' } as const;

function respond(status: WebhookResponse['status'], body: object): WebhookResponse {
  return { status, headers: { ...JSON_HEADERS }, body: JSON.stringify(body) };
}

function header(headers: WebhookRequest['headers'], name: string): string | undefined | null {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name) continue;
    if (typeof value === 'string') return value;
    // Several Stripe-Signature headers: ambiguous, never picked from.
    return value === undefined ? undefined : null;
  }
  return undefined;
}

/**
 * The larger of the body's size and its declared `Content-Length`, so a mounting app refuses the
 * requests the standalone server refuses unread (a proxy that inflated the body sends the
 * smaller, compressed length: the real size still counts).
 */
function bodySize(request: WebhookRequest): number {
  const { rawBody } = request;
  const size = typeof rawBody === 'string' ? Buffer.byteLength(rawBody) : rawBody.byteLength;
  const declared = Number(header(request.headers, 'content-length'));
  return Math.max(size, Number.isSafeInteger(declared) ? declared : 0, request.receivedBytes ?? 0);
}

/** Summary of a route result for the response and the log (ids only). */
function describeRoute(result: RouteResult): Record<string, unknown> {
  switch (result.delivery) {
    case 'workflow':
      return {
        delivery: result.delivery,
        workflowIds: result.workflowIds,
        matchedBy: result.matchedBy,
      };
    case 'closed':
      return { delivery: result.delivery, workflowIds: result.workflowIds };
    case 'answered':
      return { delivery: result.delivery, workflowIds: result.workflowIds, key: result.key };
    case 'unmatched':
      return { delivery: result.delivery, reason: result.reason, workflowId: result.workflowId };
    default:
      return { delivery: result.delivery, reason: result.reason };
  }
}

/**
 * Creates the handler. It never sleeps or retries: a bad request is answered at once, and a
 * Temporal call that fails or outlives the deadline turns into a 503 (Stripe redelivers).
 */
export function createStripeWebhookHandler(
  options: WebhookHandlerOptions,
): (request: WebhookRequest) => Promise<WebhookResponse> {
  const secrets = options.secrets.filter((s) => s !== '');
  if (secrets.length === 0)
    throw new Error(
      'the webhook handler needs at least one signing secret (STRIPE_WEBHOOK_SECRET=whsec_…); it never accepts unsigned events',
    );
  const {
    client,
    bodyLimitBytes = DEFAULT_BODY_LIMIT_BYTES,
    deadlineMs = DEFAULT_DEADLINE_MS,
    logger = silent,
    metrics = noWebhookMetrics,
  } = options;
  const router = createEventRouter({
    client,
    taskQueue: options.taskQueue,
    ...(options.unmatchedWorkflowId !== undefined && {
      unmatchedWorkflowId: options.unmatchedWorkflowId,
    }),
    ...(options.signalAnswers !== undefined && { signalAnswers: options.signalAnswers }),
  });

  return async function handleStripeWebhook(request) {
    const received = performance.now();
    metrics.received();
    const response = await answer(request);
    metrics.answered(response.status, (performance.now() - received) / 1000);
    return response;
  };

  async function answer(request: WebhookRequest): Promise<WebhookResponse> {
    const size = bodySize(request);
    if (size > bodyLimitBytes) {
      logger.warn({ reason: RejectionReason.bodyTooLarge, size }, 'webhook rejected');
      metrics.rejected(RejectionReason.bodyTooLarge);
      return respond(413, {
        error: RejectionReason.bodyTooLarge,
        message: `body is ${size} bytes; the limit is ${bodyLimitBytes}`,
      });
    }
    const signature = header(request.headers, 'stripe-signature');
    const verified =
      signature === null
        ? ({
            ok: false,
            reason: RejectionReason.malformedSignature,
            message: 'more than one Stripe-Signature header',
          } as const)
        : verifyStripeWebhook(request.rawBody, signature, {
            secrets,
            ...(options.now !== undefined && { now: options.now }),
            ...(options.toleranceSeconds !== undefined && {
              toleranceSeconds: options.toleranceSeconds,
            }),
          });
    if (!verified.ok) {
      // The reason only: never the header value, the body or a secret.
      logger.warn({ reason: verified.reason }, 'webhook rejected');
      metrics.rejected(verified.reason);
      return respond(400, { error: verified.reason, message: verified.message });
    }

    metrics.verified();
    const event = toRoutedEvent(verified.event);
    const started = Date.now();
    const deadline = started + deadlineMs;
    try {
      const result = await client.withDeadline(deadline, () => router.route(event, { deadline }));
      const fields = {
        eventId: event.signal.id,
        type: event.signal.type,
        ...describeRoute(result),
      };
      logger.info({ ...fields, ms: Date.now() - started }, 'webhook routed');
      if (result.delivery === Delivery.ignored) metrics.ignored?.(event.signal.type);
      if (result.delivery !== Delivery.undelivered)
        metrics.routed(event.route.kind, result.delivery);
      return respond(200, { received: true, ...fields });
    } catch (error) {
      logger.error(
        { eventId: event.signal.id, type: event.signal.type, err: error, ms: Date.now() - started },
        'webhook not recorded: Temporal unavailable; Stripe will redeliver',
      );
      metrics.unavailable();
      return respond(503, {
        error: 'temporal_unavailable',
        message: 'the event could not be recorded; retry later',
      });
    }
  }
}
