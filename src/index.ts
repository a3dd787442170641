// `durable-billing`: what app code imports to charge orders and take Stripe's webhooks.
// The worker (`durable-billing/worker`), the workflow entry (`…/workflows`), the activities
// (`…/activities`), the framework adapters (`…/webhooks/express|fastify|web`) and the simulator
// (`…/simulator`) are entry points of their own, so this one stays light.
export {
  BillingClient,
  ChargeConflictError,
  ChargeHandle,
  ChargeOutcome,
  ChargeState,
  InvalidInputError,
  type BillingClientOptions,
  type ChargeDifference,
  type ChargeInput,
  type ChargeResult,
  type ChargeStatus,
  type RetryNowResult,
} from './client/index.js';
export type { CampaignStatus, ChargeConflictDetails } from './workflows/messages.js';
export type { DunningOverride } from './shared/dunning.js';
export type { CancelInput, RetryNowInput } from './shared/schemas.js';
export { chargeWorkflowId } from './shared/ids.js';
export {
  createStripeWebhookHandler,
  DEFAULT_BODY_LIMIT_BYTES,
  DEFAULT_DEADLINE_MS,
  type WebhookHandlerOptions,
  type WebhookLogger,
  type WebhookRequest,
  type WebhookResponse,
} from './webhooks/handler.js';
export { RejectionReason, verifyStripeWebhook } from './webhooks/verify.js';
export { Delivery, MatchedBy, type RouteResult } from './webhooks/route.js';
export { createReceiverClient } from './webhooks/client.js';
export { WEBHOOK_PATH } from './webhooks/server.js';
/** The event types to subscribe your Stripe webhook endpoint to (its `enabled_events`). */
export { WEBHOOK_ENDPOINT_EVENT_TYPES } from './shared/stripe-events.js';
