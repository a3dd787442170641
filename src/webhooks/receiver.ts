// Wires a receiver from configuration: the receiver's Temporal client, the handler and the
// node:http server. Shared by `npm run receiver` (main.ts) and `npm start`.
import pino from 'pino';
import type { Config } from '../config.js';
import { createReceiverClient } from './client.js';
import { createStripeWebhookHandler, type WebhookLogger } from './handler.js';
import { startWebhookServer, type WebhookServer } from './server.js';

export interface ConfiguredReceiver extends WebhookServer {
  /** Closes the server, then the Temporal connection. */
  stop(): Promise<void>;
}

/** Starts the receiver described by `config` (secrets override STRIPE_WEBHOOK_SECRET). */
export async function startConfiguredReceiver(
  config: Config,
  {
    secrets = config.STRIPE_WEBHOOK_SECRET,
    logger,
  }: { secrets?: readonly string[]; logger?: WebhookLogger } = {},
): Promise<ConfiguredReceiver> {
  const client = createReceiverClient(config);
  const handler = createStripeWebhookHandler({
    client,
    secrets,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    bodyLimitBytes: config.WEBHOOK_BODY_LIMIT_BYTES,
    deadlineMs: config.WEBHOOK_DEADLINE_MS,
    logger: logger ?? pino({ name: 'receiver' }),
  });
  const server = await startWebhookServer({
    handler,
    host: config.WEBHOOK_HOST,
    port: config.WEBHOOK_PORT,
    bodyLimitBytes: config.WEBHOOK_BODY_LIMIT_BYTES,
  });
  return {
    ...server,
    stop: async () => {
      await server.close();
      await client.connection.close();
    },
  };
}
