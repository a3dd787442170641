// Proof that the Temporal servers are real: time skipping on the Java test server, and
// visibility with typed search attributes on the dev server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { BillingStatus } from '../src/shared/search-attributes.js';
import {
  connectDevServer,
  createTimeSkippingEnv,
  createTimeSkippingWorker,
  uniqueTaskQueue,
  type DevServer,
} from './helpers/temporal.js';
import { markAndWait, sleepFor } from './workflows/fixtures.js';

describe('time-skipping test server', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await createTimeSkippingEnv();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  it('completes a workflow that sleeps 30 days, skipping the virtual time', async () => {
    const taskQueue = uniqueTaskQueue('sleep');
    const worker = await createTimeSkippingWorker(env, taskQueue);
    const before = await env.currentTimeMs();
    const result = await worker.runUntil(
      env.client.workflow.execute(sleepFor, {
        taskQueue,
        workflowId: taskQueue,
        args: ['30 days'],
      }),
    );
    const skipped = (await env.currentTimeMs()) - before;
    expect(result).toBe('30 days');
    expect(skipped).toBeGreaterThanOrEqual(30 * 24 * 3600 * 1000);
  });
});

describe('dev server', () => {
  let server: DevServer;
  beforeAll(async () => {
    server = await connectDevServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('finds a workflow by its typed search attributes through a visibility query', async () => {
    const taskQueue = uniqueTaskQueue('visibility');
    const worker = await server.createWorker(taskQueue);
    const marker = `probe-${taskQueue}`;
    await worker.runUntil(async () => {
      const handle = await server.client.workflow.start(markAndWait, {
        taskQueue,
        workflowId: marker,
        args: [marker],
        typedSearchAttributes: [{ key: BillingStatus, value: 'starting' }],
      });
      // Visibility is eventually consistent: wait for the upserted value, bounded, no sleeps.
      const query = `BillingStatus = '${marker}' AND ExecutionStatus = 'Running'`;
      let found: string[] = [];
      for (let i = 0; i < 100 && found.length === 0; i++) {
        found = [];
        for await (const wf of server.client.workflow.list({ query })) found.push(wf.workflowId);
        if (found.length === 0) await new Promise((r) => setTimeout(r, 100));
      }
      expect(found).toEqual([marker]);
      await handle.terminate('test done');
    });
  });
});
