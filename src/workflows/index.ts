// Every workflow the `billing` worker serves. Deterministic code only (DESIGN.md invariant 6).
export { chargeCustomer } from './charge-customer.js';
export { unmatchedEvents } from './unmatched-events.js';
export { backfillStripeEvents } from './backfill-events.js';
// Refunds and disputes (issue 14).
export { refundOrder } from './refund.js';
export { refundLock } from './refund-lock.js';
export { handleDispute } from './dispute.js';
