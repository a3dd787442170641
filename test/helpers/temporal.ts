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
