// Test harness over the real Temporal servers: a connection to the run's shared dev server
// (global setup) and a time-skipping environment on the provisioned Java test server, each
// with a worker on the run's pre-built workflow bundle.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  NativeConnection,
  Runtime,
  DefaultLogger,
  Worker,
  type WorkerOptions,
} from '@temporalio/worker';
import { inject } from 'vitest';
import { SearchAttributeType } from '@temporalio/common';
import proto from '@temporalio/proto';
import type Stripe from 'stripe';
import { createActivities, type BillingActivities } from '../../src/activities/index.js';
import { testServerExecutable } from '../../src/embedded/servers.js';
import { OutboxNotifier } from '../../src/notifications/index.js';
import { billingSearchAttributes } from '../../src/shared/search-attributes.js';

const IndexedValueType = proto.temporal.api.enums.v1.IndexedValueType;
const INDEXED_VALUE_TYPE: Record<
  SearchAttributeType,
  proto.temporal.api.enums.v1.IndexedValueType
> = {
  [SearchAttributeType.TEXT]: IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
  [SearchAttributeType.KEYWORD]: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  [SearchAttributeType.INT]: IndexedValueType.INDEXED_VALUE_TYPE_INT,
  [SearchAttributeType.DOUBLE]: IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
  [SearchAttributeType.BOOL]: IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
  [SearchAttributeType.DATETIME]: IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
  [SearchAttributeType.KEYWORD_LIST]: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
};

let runtimeInstalled = false;
/** Keeps the SDK's own logs quiet in tests and the bench (expected activity failures log as warnings; errors still show). */
export function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } },
  });
}

/** A task queue unique to one test, so tests sharing the dev server never steal each other's tasks. */
export function uniqueTaskQueue(name = 'test'): string {
  return `${name}-${randomUUID()}`;
}

type WorkerExtras = Omit<
  WorkerOptions,
  'connection' | 'namespace' | 'taskQueue' | 'workflowBundle' | 'workflowsPath'
>;

export interface DevServer {
  client: Client;
  connection: NativeConnection;
  namespace: string;
  /** Creates a worker on the shared bundle, polling `taskQueue`. */
  createWorker(taskQueue: string, extras?: WorkerExtras): Promise<Worker>;
  close(): Promise<void>;
}

/** Connects to the run's shared dev server. */
export async function connectDevServer(): Promise<DevServer> {
  quietRuntime();
  const address = inject('temporalAddress');
  const namespace = inject('temporalNamespace');
  const [clientConnection, connection] = await Promise.all([
    Connection.connect({ address }),
    NativeConnection.connect({ address }),
  ]);
  const client = new Client({ connection: clientConnection, namespace });
  return {
    client,
    connection,
    namespace,
    createWorker: (taskQueue, extras = {}) =>
      Worker.create({
        connection,
        namespace,
        taskQueue,
        workflowBundle: { codePath: inject('workflowBundlePath') },
        ...extras,
      }),
    close: async () => {
      await Promise.all([clientConnection.close(), connection.close()]);
    },
  };
}

/**
 * Starts a time-skipping environment on the provisioned test server. The SDK gives the JVM
 * about 5 s to answer; the launcher's class-data archive makes it start in well under that,
 * and one retry covers a machine that is briefly overloaded.
 */
export async function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  const create = () =>
    TestWorkflowEnvironment.createTimeSkipping({ server: { executable: testServerExecutable() } });
  let env: TestWorkflowEnvironment;
  try {
    env = await create();
  } catch (first) {
    console.warn('time-skipping server did not start on the first try; retrying once', first);
    env = await create();
  }
  await registerSearchAttributes(env);
  return env;
}

/** Registers the project's search attributes (the dev server gets them at start-up instead). */
export async function registerSearchAttributes(env: TestWorkflowEnvironment): Promise<void> {
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(
      billingSearchAttributes.map((k) => [k.name, INDEXED_VALUE_TYPE[k.type]]),
    ),
  });
}

/** A worker for a time-skipping environment, on the shared bundle. */
export function createTimeSkippingWorker(
  env: TestWorkflowEnvironment,
  taskQueue: string,
  extras: WorkerExtras = {},
): Promise<Worker> {
  return Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    workflowBundle: { codePath: inject('workflowBundlePath') },
    ...extras,
  });
}

/** Real activities whose outbox is a temp file of their own, never the user's default outbox. */
export interface ScratchActivities {
  activities: BillingActivities;
  /** The outbox file (for a worker process: OUTBOX_PATH). */
  outboxPath: string;
  /** Closes the outbox and removes its directory. */
  close(): Promise<void>;
}

export function scratchActivities(stripe: Stripe): ScratchActivities {
  const dir = mkdtempSync(join(tmpdir(), 'durable-billing-test-outbox-'));
  const outboxPath = join(dir, 'outbox.jsonl');
  const notifier = new OutboxNotifier({ path: outboxPath });
  return {
    activities: createActivities({ stripe, notifier }),
    outboxPath,
    async close() {
      await notifier.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * What holds a time-skipping server's clock: every workflow with a pending activity or workflow
 * task, each of which locks time skipping on the Java test server until it completes. Closed
 * runs are listed too: the test server never releases the lock of an activity still pending
 * when its run closed.
 */
export async function timeSkippingHolders(env: TestWorkflowEnvironment): Promise<string> {
  const namespace = env.namespace ?? 'default';
  const service = env.connection.workflowService;
  const [open, closed] = await Promise.all([
    service.listOpenWorkflowExecutions({ namespace, maximumPageSize: 1000 }),
    service.listClosedWorkflowExecutions({ namespace, maximumPageSize: 1000 }),
  ]);
  const lines = await Promise.all(
    [...open.executions, ...closed.executions].map(async ({ execution, type, status }) => {
      const handle = env.client.workflow.getHandle(execution!.workflowId!, execution!.runId!);
      const { raw } = await handle.describe();
      const activities = (raw.pendingActivities ?? []).map(
        (a) => `${a.activityType?.name} attempt ${a.attempt} ${a.state}`,
      );
      const task = raw.pendingWorkflowTask
        ? `workflow task ${raw.pendingWorkflowTask.state} attempt ${raw.pendingWorkflowTask.attempt}`
        : undefined;
      if (!task && activities.length === 0) return undefined;
      return `${type?.name} ${execution!.workflowId} (${status}): ${task ?? 'no workflow task'}; activities [${activities.join(', ')}]`;
    }),
  );
  return lines.filter((line) => line !== undefined).join('\n') || 'no pending task in any workflow';
}

/**
 * `step` on a time-skipping server, failing after `ms` of real time with what holds the clock
 * (a wait there should take seconds; one that lasts is a held time-skipping lock, not load).
 */
export async function inSkippedTime<T>(
  env: TestWorkflowEnvironment,
  what: string,
  step: Promise<T>,
  ms = 30_000,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      void timeSkippingHolders(env)
        .catch((error: unknown) => `(could not list them: ${String(error)})`)
        .then((holders) =>
          reject(
            new Error(
              `${what}: no answer in ${ms / 1000} s of real time; pending tasks:\n${holders}`,
            ),
          ),
        );
    }, ms);
  });
  try {
    return await Promise.race([step, stalled]);
  } finally {
    clearTimeout(timer);
  }
}
