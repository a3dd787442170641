// The webhook receiver's public API: the framework-agnostic handler an existing app mounts, the
// standalone node:http server, the receiver's Temporal client, and the backfill entry points.
export {
  createStripeWebhookHandler,
  DEFAULT_BODY_LIMIT_BYTES,
  DEFAULT_DEADLINE_MS,
  type WebhookHandlerOptions,
  type WebhookLogger,
  type WebhookRequest,
  type WebhookResponse,
} from './handler.js';
export {
  startWebhookServer,
  HEALTH_PATH,
  WEBHOOK_PATH,
  type WebhookServer,
  type WebhookServerOptions,
} from './server.js';
export { createReceiverClient } from './client.js';
export { ensureBackfillSchedule, runBackfill, type BackfillScheduleOptions } from './backfill.js';
export { RejectionReason, SIGNATURE_TOLERANCE_SECONDS, verifyStripeWebhook } from './verify.js';
export { createEventRouter, Delivery, MatchedBy, type RouteResult } from './route.js';
