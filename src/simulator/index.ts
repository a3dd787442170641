// The simulator's public API: start one in-process (tests, `npm start`) and drive it, or run
// `npm run sim` (main.ts) and use the same controls over HTTP under /_sim/.
export { startSimulator, type Simulator, type SimulatorOptions } from './simulator.js';
export { FaultKind, type FaultRule } from './faults.js';
export {
  WebhookFaultKind,
  signPayload,
  type DeliveryAttempt,
  type WebhookFaultRule,
  type WebhookTarget,
} from './webhooks.js';
export {
  SIM_API_VERSION,
  type Ledger,
  type LedgerDisputes,
  type LedgerRefunds,
  type StripeEventLike,
  type StripeObject,
} from './store.js';
export { SimControlError } from './errors.js';
export {
  REFUND_FAILURE_REASONS,
  type RefundRule,
  type RefundSettlement,
} from './resources/refunds.js';
export {
  DEFAULT_EVIDENCE_DUE_DAYS,
  DISPUTE_REASONS,
  type OpenDispute,
} from './resources/disputes.js';
export { TEST_PAYMENT_METHODS, type TestBehaviour } from './test-payment-methods.js';
export { IDEMPOTENCY_KEY_TTL_MS } from './idempotency.js';
export { REQUEST_LOG_LIMIT, type RequestLogEntry, type RequestLogFilter } from './request-log.js';
export { DEFAULT_SEARCH_LAG_MS, SEARCH_LAG_MAX_MS } from './search.js';
