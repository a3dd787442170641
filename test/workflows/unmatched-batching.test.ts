// unmatchedEvents on the time-skipping server: a steady stream of events arms one re-route timer
// (an arrival due after the armed timer neither cancels nor re-arms it), and the timed pass
// routes every event that falls due within the coalescing window in one activity. Before patch
// `unmatched-batched-reroute-v1` every arrival cancelled and restarted the timer and a pass took
// only what was due to the millisecond, so a shard taking a merchant's stream ran a timer and a
// routing activity per event (issue 15). The routing activity here records its batches and
// delivers nothing; the router itself is tested on the dev server (test/routing/route-many.test.ts).
import { readFileSync } from 'node:fs';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RouteResult } from '../../src/routing/route.js';
import { RouteKind, type RoutedStripeEvent } from '../../src/shared/stripe-events.js';
import {
  REROUTE_BACKOFF_MS,
  unmatchedEventSignal,
  unmatchedEventsQuery,
  type unmatchedEvents,
} from '../../src/workflows/unmatched-events.js';
import {
  createTimeSkippingEnv,
  createTimeSkippingWorker,
  uniqueTaskQueue,
} from '../helpers/temporal.js';
import { historyFromJSON } from '../replay/history-json.js';

let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;
const taskQueue = uniqueTaskQueue('unmatched-batching');
const batches: string[][] = [];

beforeAll(async () => {
  env = await createTimeSkippingEnv();
  worker = await createTimeSkippingWorker(env, taskQueue, {
    activities: {
      routeStripeEvents(events: RoutedStripeEvent[]): Promise<RouteResult[]> {
        batches.push(events.map((e) => e.signal.id));
        return Promise.resolve(
          events.map(() => ({ delivery: 'undelivered', reason: 'no charge here (test)' })),
        );
      },
    },
  });
  running = worker.run();
}, 60_000);

afterAll(async () => {
  worker?.shutdown();
  await running;
  await env?.teardown();
});

const EVENTS = 20;

describe('unmatched-events re-routing under a steady stream', () => {
  it('one timer for the stream, and one routing activity for everything due within the window', async () => {
    const handle = await env.client.workflow.start<typeof unmatchedEvents>('unmatchedEvents', {
      workflowId: `stripe-events:unmatched:${taskQueue}`,
      taskQueue,
      args: [{}],
    });
    const ids = Array.from({ length: EVENTS }, (_, i) => `evt_batching_${i}`);
    // A stream, not a burst: each event is handled in a workflow task of its own (the query is
    // answered once the task with the signal completed), at a later workflow time.
    for (const [i, id] of ids.entries()) {
      await handle.signal(unmatchedEventSignal, {
        signal: { id, type: 'payment_intent.processing', created: 1, objectId: `pi_${id}` },
        route: { kind: RouteKind.paymentIntent, paymentIntentId: `pi_${id}` },
        reason: 'no charge workflow has it (test)',
      });
      expect((await handle.query(unmatchedEventsQuery)).totals.received).toBe(i + 1);
    }
    // The whole stream arrived within the coalescing window, so the first re-route takes it all.
    await env.sleep(REROUTE_BACKOFF_MS[RouteKind.paymentIntent]![0]! + 1000);
    const view = await handle.query(unmatchedEventsQuery);
    expect(view.entries.map((e) => e.attempts)).toEqual(ids.map(() => 1));
    expect(batches).toEqual([ids]);

    const events = (await handle.fetchHistory()).events ?? [];
    // Armed once for the stream, and once more for the second re-route of the batch.
    expect(events.filter((e) => e.timerStartedEventAttributes).length).toBe(2);
    expect(events.filter((e) => e.timerCanceledEventAttributes).length).toBe(0);
    expect(events.filter((e) => e.activityTaskScheduledEventAttributes).length).toBe(1);
    // The same stream before the patch: 36 timers started, 19 cancelled, 20 activities, 380
    // events (the recorded history below); now 155, most of them a workflow task per signal.
    expect(events.length).toBeLessThan(200);
    await handle.terminate('test over');
  }, 60_000);

  it('a run recorded before the patch (the same stream) replays on the current code', async () => {
    const history = historyFromJSON(
      readFileSync(new URL('./histories/unmatched-before-batching.json', import.meta.url), 'utf8'),
    );
    expect(history.events.filter((e) => e.timerCanceledEventAttributes)).toHaveLength(19);
    await Worker.runReplayHistory(
      { workflowBundle: { codePath: inject('workflowBundlePath') } },
      history,
    );
  });
});
