// `backfill-events`: one backfill run now through `runBackfill` (src/webhooks/backfill.ts), with
// its progress read from the run's history (each completed page activity carries its counts) and
// printed on stderr as it goes; or, with --schedule, the backfill Schedule created or updated.
import {
  Client,
  defaultPayloadConverter,
  type WorkflowClientInterceptor,
} from '@temporalio/client';
import type { BackfillPage } from '../activities/events.js';
import { ensureBackfillSchedule, runBackfill } from '../webhooks/backfill.js';
import type { BackfillInput, BackfillTotals } from '../workflows/backfill-events.js';
import { integerFlag, type Command, type CommandContext } from './command.js';
import { ExitCode, UsageError } from './errors.js';
import { formatFields } from './output.js';

const POLL_INTERVAL_MS = 250;

/** `--since`: unix seconds, or anything `Date.parse` reads (ISO 8601). */
function sinceFlag(text: string): number {
  const seconds = /^\d+$/.test(text) ? Number(text) : Date.parse(text) / 1000;
  if (!Number.isFinite(seconds))
    throw new UsageError(
      `--since must be an ISO time (2025-01-31T12:00:00Z) or unix seconds, got "${text}"`,
      'backfill-events',
    );
  return Math.floor(seconds);
}

type Payload = Parameters<typeof defaultPayloadConverter.fromPayload>[0];
function decode<T>(payload: Payload | null | undefined): T | undefined {
  return payload ? defaultPayloadConverter.fromPayload<T>(payload) : undefined;
}

/**
 * Prints each page of a running backfill once, as its activity completes. Reads the history of
 * the latest run (a long backfill continues as new; a new run's input carries the totals).
 */
class BackfillProgress {
  private printed = new Map<string, number>();

  constructor(
    private readonly client: Client,
    private readonly context: CommandContext,
  ) {}

  async poll(workflowId: string): Promise<void> {
    const handle = this.client.workflow.getHandle(workflowId);
    const history = await handle.fetchHistory();
    const events = history.events ?? [];
    const start = events[0]?.workflowExecutionStartedEventAttributes;
    const runId = start?.originalExecutionRunId ?? '';
    const carried = decode<BackfillInput>(start?.input?.payloads?.[0])?.carried?.totals;
    const totals: BackfillTotals = { ...(carried ?? emptyTotals()) };
    const pages = events
      .map((e) =>
        decode<BackfillPage>(e.activityTaskCompletedEventAttributes?.result?.payloads?.[0]),
      )
      .filter((p): p is BackfillPage => p !== undefined);
    const alreadyPrinted = this.printed.get(runId) ?? 0;
    pages.forEach((page, index) => {
      totals.pages++;
      totals.events += page.events;
      totals.signalled += page.signalled;
      totals.closed += page.closed;
      totals.unmatched += page.unmatched;
      totals.answered = (totals.answered ?? 0) + (page.answered ?? 0);
      if (index < alreadyPrinted) return;
      this.context.out.progress(
        `backfill-events: page ${totals.pages}: ${page.events} event(s) (${page.signalled} signalled, ` +
          `${page.closed} about ended charges, ${page.answered ?? 0} answers to a charge's own request, ${page.unmatched} unmatched, ${page.ignored ?? 0} ignored); ${totals.events} so far`,
      );
    });
    this.printed.set(runId, pages.length);
  }
}

function emptyTotals(): BackfillTotals {
  return { pages: 0, events: 0, signalled: 0, closed: 0, unmatched: 0 };
}

/** `backfill-events`: one backfill run with progress, or `--schedule`. */
export const backfillEventsCommand: Command = {
  name: 'backfill-events',
  summary: 'Route every Stripe event since a time to its workflow now (shows progress).',
  description: [
    'Runs the backfillStripeEvents workflow once and waits for it: it pages Stripe’s Events API',
    'and routes each event like the webhook receiver does (duplicates are harmless). Progress,',
    'page by page, goes to stderr. With --schedule, creates or updates the recurring Schedule',
    '(every BACKFILL_INTERVAL_MINUTES) instead.',
  ].join('\n'),
  positionals: [],
  flags: {
    since: {
      type: 'string',
      value: '<iso|unix>',
      description:
        'Events created at or after this (default 3 days back, Stripe’s redelivery window).',
    },
    'page-size': {
      type: 'string',
      value: '<n>',
      description: 'Events per page, 1–100 (default 100).',
    },
    'unmatched-workflow': {
      type: 'string',
      value: '<id>',
      description:
        'One workflow for unroutable events (default: the shards stripe-events:unmatched:0…7).',
    },
    schedule: {
      type: 'boolean',
      description: 'Create or update the backfill Schedule and exit, instead of running now.',
    },
  },
  examples: [
    'durable-billing backfill-events --since 2025-01-31T00:00:00Z',
    'durable-billing backfill-events --since 1738281600 --json',
    'durable-billing backfill-events --schedule',
  ],
  async run(context) {
    const sinceText = context.string('since');
    const since = sinceText === undefined ? undefined : sinceFlag(sinceText);
    const pageSizeText = context.string('page-size');
    const pageSize =
      pageSizeText === undefined
        ? undefined
        : integerFlag('backfill-events', 'page-size', pageSizeText, { min: 1, max: 100 });
    const unmatchedWorkflowId = context.string('unmatched-workflow');
    const input: Omit<BackfillInput, 'since' | 'carried'> = {
      ...(pageSize !== undefined && { pageSize }),
      ...(unmatchedWorkflowId !== undefined && { unmatchedWorkflowId }),
    };
    const session = await context.connect();
    const taskQueue = session.config.TEMPORAL_TASK_QUEUE;

    if (context.flag('schedule')) {
      if (since !== undefined)
        throw new UsageError(
          '--since does not apply to --schedule (each run continues from the last)',
          'backfill-events',
        );
      const intervalMinutes = session.config.BACKFILL_INTERVAL_MINUTES;
      const handle = await ensureBackfillSchedule(session.client, {
        taskQueue,
        intervalMinutes,
        input,
      });
      context.out.result(
        { scheduleId: handle.scheduleId, intervalMinutes, taskQueue },
        `backfill Schedule ${handle.scheduleId} runs every ${intervalMinutes} min on ${taskQueue}`,
      );
      return ExitCode.ok;
    }

    // runBackfill names its workflow itself; an interceptor on a client over the same connection
    // hands us that id as the run starts, so progress can follow it.
    let workflowId: string | undefined;
    const interceptor: WorkflowClientInterceptor = {
      startWithDetails: (start, next) => {
        workflowId = start.options.workflowId;
        return next(start);
      },
    };
    const client = new Client({
      connection: session.client.connection,
      namespace: session.namespace,
      interceptors: { workflow: [interceptor] },
    });
    const progress = new BackfillProgress(client, context);
    context.out.progress(
      `backfill-events: routing events since ${since === undefined ? 'the default (3 days back)' : new Date(since * 1000).toISOString()} on ${taskQueue}…`,
    );
    let done = false;
    const running = runBackfill(client, {
      taskQueue,
      ...(since !== undefined && { since }),
      input,
    }).finally(() => {
      done = true;
    });
    const polling = (async () => {
      while (!done) {
        await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
        if (workflowId === undefined || done) continue;
        try {
          await progress.poll(workflowId);
        } catch (error) {
          // Progress is a courtesy: the run itself is awaited below and reports its own failure.
          context.out.progress(`backfill-events: progress unavailable (${String(error)})`);
        }
      }
    })();
    const result = await running;
    await polling;
    if (workflowId !== undefined) await progress.poll(workflowId);
    context.out.result({ workflowId, ...result }, () =>
      formatFields([
        ['workflow', workflowId],
        ['since', new Date(result.since * 1000).toISOString()],
        ['pages', String(result.pages)],
        ['events', String(result.events)],
        ['signalled', `${result.signalled} (to running charges)`],
        ['closed', `${result.closed} (about charges that had ended)`],
        ['answered', `${result.answered ?? 0} (answers to a charge's own confirm or cancel)`],
        ['unmatched', `${result.unmatched} (kept in the unmatched-events workflows)`],
        ['ignored', `${result.ignored ?? 0} (types no workflow handles)`],
        ['next cursor', new Date(result.cursor * 1000).toISOString()],
      ]),
    );
    return ExitCode.ok;
  },
};
