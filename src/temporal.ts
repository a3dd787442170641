// Connections to Temporal from configuration alone: the address and namespace from our config,
// TLS and API keys through the SDK's env-config (TEMPORAL_API_KEY, TEMPORAL_TLS_*, profiles),
// so the same code reaches the dev server, a cluster or Temporal Cloud.
import { Client, Connection } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { NativeConnection, type NativeConnectionOptions } from '@temporalio/worker';
import type { Config } from './config.js';

/** Connection options for `config`, merged over the SDK's env-config profile. */
export function temporalConnectionOptions(config: Config): {
  options: NativeConnectionOptions;
  namespace: string;
} {
  const { connectionOptions } = loadClientConnectConfig();
  return {
    options: {
      ...connectionOptions,
      address:
        config.TEMPORAL_ADDRESS ?? connectionOptions.address ?? `127.0.0.1:${config.TEMPORAL_PORT}`,
    },
    namespace: config.TEMPORAL_NAMESPACE,
  };
}

/** A worker-side connection (native). */
export async function connectWorker(
  config: Config,
): Promise<{ connection: NativeConnection; namespace: string }> {
  const { options, namespace } = temporalConnectionOptions(config);
  return { connection: await NativeConnection.connect(options), namespace };
}

/** An app-side client. */
export async function connectClient(config: Config): Promise<Client> {
  const { options, namespace } = temporalConnectionOptions(config);
  const connection = await Connection.connect(options);
  return new Client({ connection, namespace });
}
