// Every workflow the `billing` worker serves. Deterministic code only (DESIGN.md invariant 6).
export { chargeCustomer } from './charge-customer.js';
export { unmatchedEvents } from './unmatched-events.js';
export { backfillStripeEvents } from './backfill-events.js';
