// Backfill from the client side: create or update the Schedule that runs `backfillStripeEvents`
// (idempotent; call it at worker start or from a script), and run one backfill by hand.
import {
  ScheduleAlreadyRunning,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleHandle,
  type ScheduleOptionsAction,
  type ScheduleSpec,
} from '@temporalio/client';
import { BACKFILL_SCHEDULE_ID, manualBackfillWorkflowId } from '../shared/stripe-events.js';
import type {
  BackfillInput,
  BackfillResult,
  backfillStripeEvents,
} from '../workflows/backfill-events.js';

export interface BackfillScheduleOptions {
  /** The billing worker's task queue. */
  taskQueue: string;
  intervalMinutes: number;
  /** Default {@link BACKFILL_SCHEDULE_ID}. */
  scheduleId?: string;
  /** Passed to every run (e.g. another unmatched-events workflow id). */
  input?: Omit<BackfillInput, 'since' | 'carried'>;
  /** Create it paused (tests trigger runs by hand). */
  paused?: boolean;
}

/**
 * Creates the backfill Schedule, or brings an existing one to these options. One run at a time
 * (overlap: skip); a run missed while Temporal was down is caught up within an hour. Each run
 * starts from the previous run's cursor, which Temporal hands it (`lastResult`).
 */
export async function ensureBackfillSchedule(
  client: Client,
  {
    taskQueue,
    intervalMinutes,
    scheduleId = BACKFILL_SCHEDULE_ID,
    input = {},
    paused,
  }: BackfillScheduleOptions,
): Promise<ScheduleHandle> {
  const spec: ScheduleSpec = { intervals: [{ every: `${intervalMinutes} minutes` }] };
  const action: ScheduleOptionsAction = {
    type: 'startWorkflow',
    workflowType: 'backfillStripeEvents',
    workflowId: scheduleId,
    taskQueue,
    args: [input],
  };
  const policies = { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 hour' };
  try {
    return await client.schedule.create({
      scheduleId,
      spec,
      action,
      policies,
      ...(paused !== undefined && { state: { paused, note: 'created paused' } }),
    });
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
  }
  const handle = client.schedule.getHandle(scheduleId);
  await handle.update((previous) => ({ ...previous, spec, action, policies }));
  return handle;
}

export interface ManualBackfillOptions {
  taskQueue: string;
  /** Unix seconds; default: 3 days back (a manual run has no previous cursor). */
  since?: number;
  input?: Omit<BackfillInput, 'since' | 'carried'>;
}

/** Runs one backfill now and waits for its result (`npm run backfill`). */
export async function runBackfill(
  client: Client,
  { taskQueue, since, input = {} }: ManualBackfillOptions,
): Promise<BackfillResult> {
  return client.workflow.execute<typeof backfillStripeEvents>('backfillStripeEvents', {
    workflowId: manualBackfillWorkflowId(new Date()),
    taskQueue,
    args: [{ ...input, ...(since !== undefined && { since }) }],
  });
}
