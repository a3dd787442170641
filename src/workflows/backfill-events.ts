// backfillStripeEvents: pages Stripe's Events API since a cursor and routes every event through
// the receiver's routing, so events a long outage lost still reach their workflows (dedupe makes
// double delivery harmless). Run by the backfill Schedule, which hands each run the last cursor.
import {
  continueAsNew,
  proxyActivities,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { BillingActivities } from '../activities/index.js';

export interface BackfillInput {
  /** Unix seconds: route events created at or after this. Default: the previous scheduled run's cursor, else now − `lookbackSeconds`. */
  since?: number;
  /** Without `since` or a previous run: how far back to start; default 3 days (Stripe's redelivery window). */
  lookbackSeconds?: number;
  /** Where unroutable events go; default the namespace's unmatched-events workflow. */
  unmatchedWorkflowId?: string;
  /** Events per page (Stripe allows 1–100); default 100. */
  pageSize?: number;
  /** Set by continue-as-new. */
  carried?: { startingAfter: string; maxCreated: number; totals: BackfillTotals };
}

export interface BackfillTotals {
  pages: number;
  events: number;
  /** Signalled to an open workflow. */
  signalled: number;
  /** About workflows that have ended. */
  closed: number;
  /** Recorded in an unmatched-events workflow. */
  unmatched: number;
  /** Answers to a charge's own request, which it awaits (absent in totals carried from older runs). */
  answered?: number;
  /** Of types no workflow handles: sent nowhere (absent in totals carried from older runs). */
  ignored?: number;
}

export interface BackfillResult extends BackfillTotals {
  since: number;
  /** Where the next run starts (the newest event seen, minus an overlap). The Schedule passes it on. */
  cursor: number;
}

/** Re-read this much before the newest event seen: events of the same second may still be landing. */
export const CURSOR_OVERLAP_SECONDS = 300;
export const DEFAULT_LOOKBACK_SECONDS = 3 * 24 * 3600;
/** Pages per run before continue-as-new. */
const PAGES_PER_RUN = 200;

// A page is idempotent (routing twice only adds duplicates the workflows drop): retry freely.
const pageOptions: ActivityOptions = {
  startToCloseTimeout: '2 minutes',
  scheduleToCloseTimeout: '30 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
};
const { backfillStripeEventsPage } = proxyActivities<BillingActivities>(pageOptions);

function previousCursor(): number | undefined {
  const last = workflowInfo().lastResult as Partial<BackfillResult> | undefined;
  return typeof last?.cursor === 'number' ? last.cursor : undefined;
}

/** Routes every Stripe event created since the cursor; returns the totals and the next cursor. */
export async function backfillStripeEvents(input: BackfillInput = {}): Promise<BackfillResult> {
  const since =
    input.since ??
    previousCursor() ??
    Math.floor(Date.now() / 1000) - (input.lookbackSeconds ?? DEFAULT_LOOKBACK_SECONDS);
  const totals: BackfillTotals = input.carried?.totals ?? {
    pages: 0,
    events: 0,
    signalled: 0,
    closed: 0,
    unmatched: 0,
    ignored: 0,
  };
  let startingAfter = input.carried?.startingAfter;
  let maxCreated = input.carried?.maxCreated ?? 0;

  for (let pagesThisRun = 0; ; pagesThisRun++) {
    if (pagesThisRun >= PAGES_PER_RUN || workflowInfo().continueAsNewSuggested) {
      if (startingAfter !== undefined)
        return continueAsNew<typeof backfillStripeEvents>({
          ...input,
          since,
          carried: { startingAfter, maxCreated, totals },
        });
    }
    const page = await backfillStripeEventsPage.executeWithOptions(
      {
        ...pageOptions,
        summary: `route events since ${new Date(since * 1000).toISOString()}, page ${totals.pages + 1}`,
      },
      [
        {
          since,
          startingAfter,
          limit: input.pageSize ?? 100,
          unmatchedWorkflowId: input.unmatchedWorkflowId,
        },
      ],
    );
    totals.pages++;
    totals.events += page.events;
    totals.signalled += page.signalled;
    totals.closed += page.closed;
    totals.unmatched += page.unmatched;
    totals.ignored = (totals.ignored ?? 0) + page.ignored;
    // A page from before `answered` existed has none (a replayed history's activity results).
    if (page.answered !== undefined) totals.answered = (totals.answered ?? 0) + page.answered;
    maxCreated = Math.max(maxCreated, page.maxCreated);
    if (!page.hasMore || page.lastEventId === undefined) break;
    startingAfter = page.lastEventId;
  }
  const cursor = maxCreated > 0 ? Math.max(since, maxCreated - CURSOR_OVERLAP_SECONDS) : since;
  return { ...totals, since, cursor };
}
