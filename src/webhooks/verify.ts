// Signature verification of a Stripe webhook over its raw body: stripe-node's `constructEvent`
// against each configured secret (rotation), a timestamp window checked in *both* directions
// (stripe-node rejects only old ones), then the body subset we read, validated with zod.
import Stripe from 'stripe';
import { stripeWebhookEventSchema, type StripeWebhookEvent } from './event.js';

/** Stripe's default tolerance: a signature older (or, here, newer) than this is rejected. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

/** Why a request was rejected; safe to log and to return (no secret, no signature value). */
export const RejectionReason = {
  missingSignature: 'missing_signature',
  malformedSignature: 'malformed_signature',
  timestampTooOld: 'timestamp_too_old',
  timestampInFuture: 'timestamp_in_future',
  signatureMismatch: 'signature_mismatch',
  malformedBody: 'malformed_body',
  invalidEvent: 'invalid_event',
  bodyTooLarge: 'body_too_large',
} as const;
export type RejectionReason = (typeof RejectionReason)[keyof typeof RejectionReason];

/** A verified event, or why not (with a short message naming the problem, never a secret). */
export type Verification =
  | { ok: true; event: StripeWebhookEvent; secretIndex: number }
  | { ok: false; reason: RejectionReason; message: string };

export interface VerifyOptions {
  /** Signing secrets (`whsec_…`); any one of them may have signed (rotation). */
  secrets: readonly string[];
  /** Clock, ms since the epoch; default `Date.now`. */
  now?: () => number;
  toleranceSeconds?: number;
}

/** The one `t=` of a `Stripe-Signature` header, or undefined if there is not exactly one integer. */
function signatureTimestamp(header: string): number | undefined {
  const stamps = header
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.startsWith('t='))
    .map((part) => part.slice(2));
  if (stamps.length !== 1 || !/^\d{1,12}$/.test(stamps[0] ?? '')) return undefined;
  return Number(stamps[0]);
}

const reject = (reason: RejectionReason, message: string): Verification => ({
  ok: false,
  reason,
  message,
});

/**
 * Verifies `rawBody` (the exact bytes Stripe sent) against `signature` (the `Stripe-Signature`
 * header) with each secret in turn, then validates the event shape. Never throws for bad input.
 */
export function verifyStripeWebhook(
  rawBody: Uint8Array | string,
  signature: string | undefined,
  { secrets, now = Date.now, toleranceSeconds = SIGNATURE_TOLERANCE_SECONDS }: VerifyOptions,
): Verification {
  if (signature === undefined || signature === '')
    return reject(RejectionReason.missingSignature, 'missing Stripe-Signature header');
  const timestamp = signatureTimestamp(signature);
  if (timestamp === undefined || !signature.includes('v1='))
    return reject(
      RejectionReason.malformedSignature,
      'Stripe-Signature must have one t=<unix seconds> and v1=<signature>',
    );
  const nowMs = now();
  const age = Math.floor(nowMs / 1000) - timestamp;
  if (age > toleranceSeconds)
    return reject(
      RejectionReason.timestampTooOld,
      `signature timestamp is ${age}s old (tolerance ${toleranceSeconds}s)`,
    );
  if (-age > toleranceSeconds)
    return reject(
      RejectionReason.timestampInFuture,
      `signature timestamp is ${-age}s in the future (tolerance ${toleranceSeconds}s)`,
    );

  const payload = typeof rawBody === 'string' ? rawBody : Buffer.from(rawBody);
  let parsed: unknown;
  let secretIndex = -1;
  for (const [index, secret] of secrets.entries()) {
    try {
      parsed = Stripe.webhooks.constructEvent(
        payload,
        signature,
        secret,
        toleranceSeconds,
        undefined,
        nowMs,
      );
      secretIndex = index;
      break;
    } catch (error) {
      if (error instanceof Stripe.errors.StripeSignatureVerificationError) continue;
      // Verified, but the body is not JSON (constructEvent parses after verifying).
      return reject(RejectionReason.malformedBody, 'body is not valid JSON');
    }
  }
  if (secretIndex < 0)
    return reject(
      RejectionReason.signatureMismatch,
      'no configured webhook secret matches the signature',
    );
  const event = stripeWebhookEventSchema.safeParse(parsed);
  if (!event.success)
    return reject(
      RejectionReason.invalidEvent,
      `not a Stripe event: ${event.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`)
        .join('; ')}`,
    );
  return { ok: true, event: event.data, secretIndex };
}
