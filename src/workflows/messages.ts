// Message contracts of chargeCustomer (DESIGN.md, Contracts), defined once and imported by the
// workflow, the client, the receiver and tests.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { DeclineKind } from '../shared/dunning.js';
import type { PaymentError } from '../shared/payment-intent.js';
import type { CancelInput, RetryNowInput, StripeEventSignal } from '../shared/schemas.js';

/** Where a charge is; `BillingStatus` carries the same value. */
export const ChargeState = {
  creating: 'creating',
  confirming: 'confirming',
  reconciling: 'reconciling',
  /** Declined: waiting for the next scheduled attempt or for a new payment method. */
  dunning: 'dunning',
  processing: 'processing',
  requiresAction: 'requires_action',
  succeeded: 'succeeded',
  failed: 'failed',
  canceled: 'canceled',
} as const;
export type ChargeState = (typeof ChargeState)[keyof typeof ChargeState];

export const ChargeOutcome = {
  succeeded: 'succeeded',
  failed: 'failed',
  canceled: 'canceled',
} as const;
export type ChargeOutcome = (typeof ChargeOutcome)[keyof typeof ChargeOutcome];

export interface ChargeStatus {
  state: ChargeState;
  /** Confirm attempts made so far (1 after the first confirm). */
  attempt: number;
  paymentIntentId?: string | undefined;
  /** ISO time of the next scheduled attempt or re-read, while waiting. */
  nextAttemptAt?: string | undefined;
  lastError?: PaymentError | undefined;
  /**
   * Stripe events signalled to this run: distinct ones, duplicates ignored, and signals ignored
   * as junk (invalid payloads, unknown signal names, methods Stripe does not confirm).
   */
  events: { received: number; duplicates: number; ignored?: number | undefined };
  /** The dunning campaign, once a payment failed. */
  campaign?: CampaignStatus | undefined;
}

export interface CampaignStatus {
  /** Declined attempts so far. */
  failures: number;
  /** How the last decline was classified: retry on schedule, or wait for a new method. */
  kind: DeclineKind;
  /** ISO time after which the campaign gives up. */
  endsAt: string;
}

export interface ChargeResult {
  outcome: ChargeOutcome;
  paymentIntentId: string | undefined;
  attempts: number;
  /** What the order's PaymentIntent holds (minor units): the input's, or the run failed. */
  amount: number;
  currency: string;
  failure?: PaymentError | undefined;
}

export interface RetryNowResult {
  accepted: boolean;
  /**
   * The request joined an attempt that was already pending or in flight (no second attempt is
   * made for it); `reason` says which.
   */
  merged?: boolean | undefined;
  /** Why not, when not accepted (e.g. the charge already ended), or why it was merged. */
  reason?: string | undefined;
}

/** Failure types with which a chargeCustomer run fails (never retried: someone must look). */
export const ChargeFailureType = {
  /** The run's workflow id is not `charge:<orderId>` of its input's order. */
  wrongWorkflowId: 'WrongWorkflowId',
  /** The order's PaymentIntent holds another amount, currency or customer than this run asked. */
  conflict: 'ChargeConflict',
} as const;
export type ChargeFailureType = (typeof ChargeFailureType)[keyof typeof ChargeFailureType];

/** The details of a `ChargeConflict` failure: what Stripe holds against what the run asked. */
export interface ChargeConflictDetails {
  paymentIntentId: string;
  status: string;
  held: { amount: number; currency: string; customerId: string | undefined };
  asked: { amount: number; currency: string; customerId: string };
  /** The fields that differ: `amount`, `currency`, `customerId`. */
  fields: string[];
}

/** A Stripe event about this charge (a wake-up: the workflow re-reads the intent). */
export const stripeEventSignal = defineSignal<[StripeEventSignal]>('stripeEvent');
/** Stop the charge: cancels the intent unless money has already moved. */
export const cancelSignal = defineSignal<[CancelInput]>('cancel');
/** Attempt again now, optionally with a new payment method. */
export const retryNowUpdate = defineUpdate<RetryNowResult, [RetryNowInput]>('retryNow');
export const statusQuery = defineQuery<ChargeStatus>('status');
