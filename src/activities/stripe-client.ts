// The Stripe client the activities use: pinned API version, optional base URL (the simulator,
// stripe-mock), a request timeout below the activity's, and few own retries so that two retry
// layers do not stack (Temporal's retries are the ones visible in the UI).
import Stripe from 'stripe';
import { STRIPE_CALL_LOG_ENV, recordStripeCalls } from './stripe-call-log.js';

/** The Stripe API version every request pins (stripe-node 23's default, stated explicitly). */
export const STRIPE_API_VERSION = '2026-10-28.endive' as const;
/** Per-request timeout; the mutating activities' start-to-close is longer. */
export const STRIPE_REQUEST_TIMEOUT_MS = 20_000;

export interface StripeClientOptions {
  secretKey: string;
  /** e.g. http://127.0.0.1:12111 — unset means api.stripe.com. */
  apiBase?: string | undefined;
}

export function createStripeClient({ secretKey, apiBase }: StripeClientOptions): Stripe {
  const base = apiBase ? new URL(apiBase) : undefined;
  // Set by the test suite only: the calls are recorded for its contract check (stripe-call-log.ts).
  const callLog = process.env[STRIPE_CALL_LOG_ENV];
  const stripe = new Stripe(secretKey, {
    apiVersion: STRIPE_API_VERSION,
    maxNetworkRetries: 1,
    timeout: STRIPE_REQUEST_TIMEOUT_MS,
    telemetry: false,
    ...(base && {
      host: base.hostname,
      port: Number(base.port || (base.protocol === 'https:' ? 443 : 80)),
      protocol: base.protocol === 'https:' ? 'https' : 'http',
    }),
    ...(callLog && { emitEventBodies: true }),
  });
  if (callLog) recordStripeCalls(stripe, callLog);
  return stripe;
}
