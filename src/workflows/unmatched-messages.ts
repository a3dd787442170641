// The unmatched-events workflow's contract: its signal, query and update, and the state they
// carry. Definitions only (no activity types), so the router (src/routing/route.ts), the CLI and
// tests import them without importing the workflow, and no import circle runs through activities.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { UnmatchedStripeEvent } from '../shared/stripe-events.js';

/** Where an unmatched event stands. */
export const UnmatchedState = {
  /** Re-routed on a timer (backoff) until delivered or its schedule runs out. */
  pending: 'pending',
  /** The schedule ran out; re-routed only on request (`reroute` with `includeParked`). */
  parked: 'parked',
  /** A type no workflow handles: kept for inspection, never re-routed. */
  kept: 'kept',
} as const;
export type UnmatchedState = (typeof UnmatchedState)[keyof typeof UnmatchedState];

/** One event the workflow holds. Times are ISO strings (readable in the UI). */
export interface UnmatchedEntry extends UnmatchedStripeEvent {
  state: UnmatchedState;
  receivedAt: string;
  attempts: number;
  /** Epoch ms of the next timed re-route, while pending. */
  nextAttemptAt: number | undefined;
}

/** An event the workflow delivered (kept for dedupe and inspection; bounded). */
export interface DeliveredEntry {
  id: string;
  type: string;
  delivery: string;
  workflowIds: string[];
  deliveredAt: string;
}

/** What survives continue-as-new. */
export interface UnmatchedEventsState {
  entries: UnmatchedEntry[];
  delivered: DeliveredEntry[];
  totals: { received: number; duplicates: number; delivered: number; evicted: number };
}

export interface UnmatchedEventsInput {
  /** Distinct events a run takes before it continues as new; default {@link MAX_EVENTS_PER_RUN}. */
  maxEventsPerRun?: number;
  /** Set by continue-as-new. */
  carried?: UnmatchedEventsState;
}

/** What the `events` query returns. */
export interface UnmatchedEventsView extends UnmatchedEventsState {
  /** Distinct events received by this run (continue-as-new resets it). */
  eventsThisRun: number;
}

export interface RerouteInput {
  /** Also retry parked events (their timed schedule ran out). */
  includeParked?: boolean;
}

export interface RerouteResult {
  delivered: number;
  remaining: number;
}

/** An event the receiver (or backfill) could not deliver, and why. */
export const unmatchedEventSignal = defineSignal<[UnmatchedStripeEvent]>('unmatchedEvent');
/** Everything the workflow holds. */
export const unmatchedEventsQuery = defineQuery<UnmatchedEventsView>('events');
/** Re-route now (e.g. from the CLI); resolves when the pass is done. */
export const rerouteUpdate = defineUpdate<RerouteResult, [RerouteInput]>('reroute');
