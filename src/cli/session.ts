// A CLI command's connection to Temporal: the project's configuration (loadConfig) with the
// command line's overrides, the same address/TLS/API-key resolution as every other client, and
// a connect timeout so an unreachable server is reported by address instead of hanging.
import { Client, Connection, ServiceError } from '@temporalio/client';
import { BillingClient } from '../client/index.js';
import { loadConfig, type Config } from '../config.js';
import { temporalConnectionOptions } from '../temporal.js';
import { isUnavailable, TemporalUnreachableError } from './errors.js';

/** Command-line overrides of the Temporal settings (each wins over its environment variable). */
export interface ConnectionFlags {
  address?: string | undefined;
  namespace?: string | undefined;
  taskQueue?: string | undefined;
  /** Seconds to wait for the server; default 10 (the SDK's default). */
  connectTimeoutSeconds?: number | undefined;
}

/** A connected client and the billing client over it; `close` when done. */
export interface Session {
  config: Config;
  client: Client;
  billing: BillingClient;
  address: string;
  namespace: string;
  close(): Promise<void>;
}

/** The configuration with the flags applied; throws `ConfigError` naming each bad variable. */
export function configWith(
  env: Record<string, string | undefined>,
  flags: ConnectionFlags,
): Config {
  return loadConfig({
    ...env,
    ...(flags.address !== undefined && { TEMPORAL_ADDRESS: flags.address }),
    ...(flags.namespace !== undefined && { TEMPORAL_NAMESPACE: flags.namespace }),
    ...(flags.taskQueue !== undefined && { TEMPORAL_TASK_QUEUE: flags.taskQueue }),
  });
}

/**
 * Connects like `connectClient` (src/temporal.ts) with a bounded wait. A server that does not
 * answer in time throws `TemporalUnreachableError` naming the address; one that answers and
 * refuses (TLS, API key) keeps the SDK's error as the cause.
 */
export async function openSession(config: Config, flags: ConnectionFlags): Promise<Session> {
  const { options, namespace } = temporalConnectionOptions(config);
  const address = options.address ?? '(unset)';
  let connection: Connection;
  try {
    connection = await Connection.connect({
      ...options,
      connectTimeout: (flags.connectTimeoutSeconds ?? 10) * 1000,
    });
  } catch (error) {
    // The grpc-js channel never became ready (a plain Error), or the server was unavailable.
    if (!(error instanceof ServiceError) || isUnavailable(error))
      throw new TemporalUnreachableError(address, namespace, { cause: error });
    throw new Error(`Temporal at ${address} refused the connection`, { cause: error });
  }
  const client = new Client({ connection, namespace });
  return {
    config,
    client,
    billing: new BillingClient(client, {
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      ...(config.DUNNING_POLICY && { dunning: config.DUNNING_POLICY }),
    }),
    address,
    namespace,
    close: () => connection.close(),
  };
}
