// `setup`: what an operator runs once per cluster (and again after an upgrade): the namespace and the
// search attributes the project filters on (src/shared/search-attributes.ts), through the operator
// service, so any cluster works (self-hosted, the dev server); every step is safe to repeat.
import { setTimeout as delay } from 'node:timers/promises';
import { isGrpcServiceError, type ConnectionLike } from '@temporalio/client';
import { SearchAttributeType } from '@temporalio/common';
import { msToTs } from '@temporalio/common/lib/time.js';
import type { temporal } from '@temporalio/proto';
import { billingSearchAttributes } from '../shared/search-attributes.js';
import { integerFlag, type Command } from './command.js';
import { CommandFailedError, ExitCode } from './errors.js';

type IndexedValueType = temporal.api.enums.v1.IndexedValueType;

/**
 * The SDK's search attribute types as the operator service numbers them (temporal/api
 * enums/v1/common.proto `IndexedValueType`; @temporalio/proto is not a runtime dependency).
 */
export const INDEXED_VALUE_TYPE: Record<SearchAttributeType, IndexedValueType> = {
  [SearchAttributeType.TEXT]: 1,
  [SearchAttributeType.KEYWORD]: 2,
  [SearchAttributeType.INT]: 3,
  [SearchAttributeType.DOUBLE]: 4,
  [SearchAttributeType.BOOL]: 5,
  [SearchAttributeType.DATETIME]: 6,
  [SearchAttributeType.KEYWORD_LIST]: 7,
};
const TYPE_NAME: Record<number, string> = Object.fromEntries(
  Object.entries(INDEXED_VALUE_TYPE).map(([name, value]) => [value, name]),
);

// gRPC status codes (grpc/doc/statuscodes.md); @grpc/grpc-js is not a direct dependency.
const GrpcStatus = { NOT_FOUND: 5, ALREADY_EXISTS: 6, UNAVAILABLE: 14 } as const;

/** What `setupNamespace` did. */
export interface SetupResult {
  namespace: string;
  namespaceCreated: boolean;
  /** Search attributes added by this run. */
  added: string[];
  /** Search attributes that were already there with the right type. */
  present: string[];
}

export interface SetupOptions {
  namespace: string;
  /** Retention of closed runs for a namespace this creates (an existing one keeps its own). */
  retentionDays: number;
  /** How long to wait for a new namespace to reach every frontend's cache; default 60 s. */
  timeoutMs?: number;
  progress?: (line: string) => void;
}

const DAY_SECONDS = 24 * 60 * 60;

function grpcCode(error: unknown): number | undefined {
  return isGrpcServiceError(error) ? error.code : undefined;
}

/**
 * Creates the namespace if it does not exist, then adds every billing search attribute it lacks.
 * Idempotent; an attribute that exists with another type fails (the workflows would write values
 * the cluster refuses), naming it. A new namespace takes a few seconds to reach the frontends'
 * namespace caches, so the search attribute step retries `NOT_FOUND` until `timeoutMs`.
 */
export async function setupNamespace(
  connection: Pick<ConnectionLike, 'workflowService' | 'operatorService'>,
  { namespace, retentionDays, timeoutMs = 60_000, progress = () => {} }: SetupOptions,
): Promise<SetupResult> {
  let namespaceCreated = false;
  try {
    await connection.workflowService.describeNamespace({ namespace });
  } catch (error) {
    if (grpcCode(error) !== GrpcStatus.NOT_FOUND) throw error;
    progress(`creating namespace ${namespace} (retention ${retentionDays} days)`);
    try {
      await connection.workflowService.registerNamespace({
        namespace,
        workflowExecutionRetentionPeriod: msToTs(retentionDays * DAY_SECONDS * 1000),
      });
      namespaceCreated = true;
    } catch (registerError) {
      // Another operator (or a second setup) created it in between: that is the goal.
      if (grpcCode(registerError) !== GrpcStatus.ALREADY_EXISTS) throw registerError;
    }
  }

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return {
        namespace,
        namespaceCreated,
        ...(await addMissingSearchAttributes(connection, namespace, progress)),
      };
    } catch (error) {
      const code = grpcCode(error);
      const transient = code === GrpcStatus.NOT_FOUND || code === GrpcStatus.UNAVAILABLE;
      if (!transient || Date.now() > deadline) throw error;
      await delay(1000);
    }
  }
}

async function addMissingSearchAttributes(
  connection: Pick<ConnectionLike, 'workflowService' | 'operatorService'>,
  namespace: string,
  progress: (line: string) => void,
): Promise<{ added: string[]; present: string[] }> {
  const listed = await connection.operatorService.listSearchAttributes({ namespace });
  const existing = new Map<string, IndexedValueType>([
    ...Object.entries(listed.systemAttributes ?? {}),
    ...Object.entries(listed.customAttributes ?? {}),
  ]);
  const missing: Record<string, IndexedValueType> = {};
  const present: string[] = [];
  for (const key of billingSearchAttributes) {
    const wanted = INDEXED_VALUE_TYPE[key.type];
    const found = existing.get(key.name);
    if (found === undefined) missing[key.name] = wanted;
    else if (found === wanted) present.push(key.name);
    else
      throw new CommandFailedError(
        `search attribute ${key.name} exists in namespace ${namespace} as ${TYPE_NAME[found] ?? found}, ` +
          `but the billing workflows write it as ${TYPE_NAME[wanted] ?? wanted}: remove it ` +
          '(`temporal operator search-attribute remove`) or use another namespace',
      );
  }
  const added = Object.keys(missing);
  if (added.length > 0) {
    progress(`adding search attributes ${added.join(', ')}`);
    try {
      await connection.operatorService.addSearchAttributes({
        namespace,
        searchAttributes: missing,
      });
    } catch (error) {
      // A concurrent setup added them first; the next pass sees them as present.
      if (grpcCode(error) !== GrpcStatus.ALREADY_EXISTS) throw error;
    }
  }
  return { added, present };
}

/** `setup`: the namespace and the search attributes, on any cluster. */
export const setupCommand: Command = {
  name: 'setup',
  summary: 'Create the namespace (if missing) and register the billing search attributes.',
  description: [
    'Prepares a Temporal cluster for the billing workers, as an operator does once per cluster:',
    'creates the namespace (TEMPORAL_NAMESPACE or --namespace) when it does not exist, and adds',
    'the search attributes the workflows write (BillingOrderId, BillingCustomerId, …) through the',
    'operator service. Safe to repeat: what exists is kept; an attribute with another type fails.',
  ].join('\n'),
  positionals: [],
  flags: {
    'retention-days': {
      type: 'string',
      value: '<days>',
      description: 'Retention of closed charges in a namespace this creates (default 30).',
    },
  },
  examples: [
    'durable-billing setup',
    'durable-billing setup --address 127.0.0.1:7233 --namespace billing --retention-days 30',
  ],
  async run(context) {
    const retention = context.string('retention-days');
    const retentionDays =
      retention === undefined
        ? 30
        : integerFlag('setup', 'retention-days', retention, { min: 1, max: 3650 });
    const session = await context.connect();
    const result = await setupNamespace(session.client.connection, {
      namespace: session.namespace,
      retentionDays,
      progress: (line) => context.out.progress(line),
    });
    context.out.result(result, () =>
      [
        `namespace ${result.namespace}: ${result.namespaceCreated ? 'created' : 'already there'}`,
        `search attributes added: ${result.added.join(', ') || 'none'}`,
        `search attributes already there: ${result.present.join(', ') || 'none'}`,
        '',
      ].join('\n'),
    );
    return ExitCode.ok;
  },
};
