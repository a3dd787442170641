// unmatchedEvents: the long-lived home of Stripe events no charge could take yet (unknown intent,
// visibility not caught up, no open charge of the customer, types nobody handles). Keeps them
// inspectable (query), re-routes them on a timer and on demand (update), continues-as-new to stay small.
import {
  ActivityFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  patched,
  proxyActivities,
  setHandler,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { BillingActivities } from '../activities/index.js';
import { RouteKind, unmatchedStripeEventSchema } from '../shared/stripe-events.js';
import { describeIssues } from '../shared/schemas.js';
import {
  UnmatchedState,
  rerouteUpdate,
  unmatchedEventSignal,
  unmatchedEventsQuery,
  type RerouteResult,
  type UnmatchedEntry,
  type UnmatchedEventsInput,
  type UnmatchedEventsState,
} from './unmatched-messages.js';

export {
  UnmatchedState,
  rerouteUpdate,
  unmatchedEventSignal,
  unmatchedEventsQuery,
  type DeliveredEntry,
  type RerouteInput,
  type RerouteResult,
  type UnmatchedEntry,
  type UnmatchedEventsInput,
  type UnmatchedEventsState,
  type UnmatchedEventsView,
} from './unmatched-messages.js';

/** Default run size before continue-as-new (each event is one signal plus its re-routes). */
export const MAX_EVENTS_PER_RUN = 200;
/** Entries held at most; the oldest kept, then parked, then pending ones are evicted first. */
export const MAX_ENTRIES = 1000;
/** Delivered ids remembered for dedupe. */
export const MAX_DELIVERED = 500;
/** Events per routing activity. */
const BATCH = 50;
/**
 * Marker of quiet arrivals and coalesced re-routes (issue 15): a new event wakes the loop only
 * when it is due before the armed timer, and a timed pass also takes what falls due within
 * {@link REROUTE_COALESCE_MS}. Runs started before it keep their command sequence.
 */
export const UNMATCHED_BATCH_PATCH = 'unmatched-batched-reroute-v1';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
/**
 * A timed pass re-routes what falls due within this window too, so that a shard taking a steady
 * stream fires one timer and one routing activity per window instead of one per event.
 */
export const REROUTE_COALESCE_MS = 5 * SECOND;

/**
 * Timed re-routes after arrival, per route kind. PaymentIntent events wait for visibility or a
 * late workflow for about as long as Stripe itself would retry (3 days); customer-level events
 * matter only while a charge is open, so they are retried briefly (visibility lag) and parked.
 */
export const REROUTE_BACKOFF_MS: Record<string, readonly number[]> = {
  [RouteKind.paymentIntent]: [
    30 * SECOND,
    2 * MINUTE,
    10 * MINUTE,
    HOUR,
    6 * HOUR,
    24 * HOUR,
    48 * HOUR,
  ],
  [RouteKind.customer]: [30 * SECOND, 2 * MINUTE, 10 * MINUTE],
};

// Routing is idempotent (a second signal is a duplicate the charge drops): retry freely, but
// give up within minutes so the timed schedule, not one activity, decides when to try again.
const routeOptions: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  scheduleToCloseTimeout: '10 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
};
const { routeStripeEvents } = proxyActivities<BillingActivities>(routeOptions);

function emptyState(): UnmatchedEventsState {
  return {
    entries: [],
    delivered: [],
    totals: { received: 0, duplicates: 0, delivered: 0, evicted: 0 },
  };
}

/**
 * Holds unmatched Stripe events (signal `unmatchedEvent`, usually by signal-with-start from the
 * receiver), re-routes them through the routing activity, and never completes on its own.
 */
export async function unmatchedEvents(input: UnmatchedEventsInput = {}): Promise<never> {
  const batched = patched(UNMATCHED_BATCH_PATCH);
  const coalesceMs = batched ? REROUTE_COALESCE_MS : 0;
  const maxEventsPerRun = input.maxEventsPerRun ?? MAX_EVENTS_PER_RUN;
  const state = input.carried ?? emptyState();
  let eventsThisRun = 0;
  let changed = false;
  /** When the armed re-route timer fires (epoch ms); undefined while none is armed. */
  let armedAt: number | undefined;
  let requested = 0;
  let completed = 0;
  let includeParked = false;
  let lastResult: RerouteResult = { delivered: 0, remaining: 0 };

  const known = (id: string) =>
    state.entries.some((e) => e.signal.id === id) || state.delivered.some((d) => d.id === id);

  setHandler(unmatchedEventSignal, (raw) => {
    const parsed = unmatchedStripeEventSchema.safeParse(raw);
    if (!parsed.success) {
      log.warn('unmatchedEvent signal rejected', { problem: describeIssues(parsed.error) });
      return;
    }
    const event = parsed.data;
    if (known(event.signal.id)) {
      state.totals.duplicates++;
      return;
    }
    state.totals.received++;
    eventsThisRun++;
    const backoff = REROUTE_BACKOFF_MS[event.route.kind];
    const nextAttemptAt = backoff ? Date.now() + (backoff[0] ?? 0) : undefined;
    state.entries.push({
      ...event,
      state: backoff ? UnmatchedState.pending : UnmatchedState.kept,
      receivedAt: new Date().toISOString(),
      attempts: 0,
      nextAttemptAt,
    });
    evictOverflow();
    // An event due after the armed timer is taken when that timer fires: waking the loop would
    // cancel and re-arm the timer for every event of a steady stream.
    if (
      !batched ||
      (nextAttemptAt !== undefined && (armedAt === undefined || nextAttemptAt < armedAt))
    )
      changed = true;
  });
  setHandler(unmatchedEventsQuery, () => ({ ...state, eventsThisRun }));
  setHandler(rerouteUpdate, async (request) => {
    includeParked ||= request.includeParked === true;
    const ticket = ++requested;
    await condition(() => completed >= ticket);
    return lastResult;
  });

  function evictOverflow(): void {
    for (const victim of [UnmatchedState.kept, UnmatchedState.parked, UnmatchedState.pending]) {
      while (state.entries.length > MAX_ENTRIES) {
        const index = state.entries.findIndex((e) => e.state === victim);
        if (index < 0) break;
        const [evicted] = state.entries.splice(index, 1);
        state.totals.evicted++;
        // Still in this workflow's earlier history and in Stripe's Events API (30 days).
        log.warn('unmatched event evicted (list full)', { eventId: evicted?.signal.id });
      }
    }
  }

  function shouldContinueAsNew(): boolean {
    return eventsThisRun >= maxEventsPerRun || workflowInfo().continueAsNewSuggested;
  }

  /** One routing pass over `due`; returns how many were delivered. */
  async function reroute(due: UnmatchedEntry[]): Promise<number> {
    let delivered = 0;
    for (let i = 0; i < due.length; i += BATCH) {
      const batch = due.slice(i, i + BATCH);
      let results: Awaited<ReturnType<typeof routeStripeEvents>> | undefined;
      try {
        results = await routeStripeEvents.executeWithOptions(
          {
            ...routeOptions,
            summary: `re-route ${batch.length} unmatched event(s)`,
          },
          [batch.map(({ signal, route }) => ({ signal, route }))],
        );
      } catch (error) {
        if (!(error instanceof ActivityFailure)) throw error;
        log.warn('re-routing failed; will try again on schedule', { error: error.message });
      }
      const now = Date.now();
      batch.forEach((entry, j) => {
        const result = results?.[j];
        if (result && (result.delivery === 'workflow' || result.delivery === 'closed')) {
          delivered++;
          state.totals.delivered++;
          state.entries = state.entries.filter((e) => e !== entry);
          state.delivered.push({
            id: entry.signal.id,
            type: entry.signal.type,
            delivery: result.delivery,
            workflowIds: result.workflowIds,
            deliveredAt: new Date(now).toISOString(),
          });
          if (state.delivered.length > MAX_DELIVERED) state.delivered.shift();
          return;
        }
        entry.attempts++;
        if (result?.delivery === 'undelivered') entry.reason = result.reason;
        const backoff = REROUTE_BACKOFF_MS[entry.route.kind] ?? [];
        const wait = backoff[entry.attempts];
        entry.state = wait === undefined ? UnmatchedState.parked : UnmatchedState.pending;
        entry.nextAttemptAt = wait === undefined ? undefined : now + wait;
      });
    }
    return delivered;
  }

  for (;;) {
    const now = Date.now();
    const asked = requested > completed ? requested : undefined;
    const due = state.entries.filter((e) =>
      asked !== undefined
        ? e.state === UnmatchedState.pending || (includeParked && e.state === UnmatchedState.parked)
        : e.state === UnmatchedState.pending && (e.nextAttemptAt ?? Infinity) <= now + coalesceMs,
    );
    if (due.length > 0 || asked !== undefined) {
      const delivered = await reroute(due);
      if (asked !== undefined) {
        lastResult = {
          delivered,
          remaining: state.entries.filter((e) => e.state !== UnmatchedState.kept).length,
        };
        completed = asked;
        includeParked = false;
      }
      continue;
    }
    // After any requested pass, so a waiting `reroute` update is answered by this run.
    if (shouldContinueAsNew()) {
      await condition(allHandlersFinished);
      return continueAsNew<typeof unmatchedEvents>({ maxEventsPerRun, carried: state });
    }
    changed = false;
    const next = Math.min(...state.entries.map((e) => e.nextAttemptAt ?? Infinity));
    const wake = () => changed || requested > completed || shouldContinueAsNew();
    armedAt = Number.isFinite(next) ? next : undefined;
    if (Number.isFinite(next)) await condition(wake, Math.max(next - Date.now(), 1));
    else await condition(wake);
    armedAt = undefined;
  }
}
