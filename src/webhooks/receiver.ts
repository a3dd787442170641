// Wires a receiver from configuration: the receiver's Temporal client, the handler, its metrics
// and logger, and the node:http server. Shared by `npm run receiver` (main.ts) `npm start`
// and `durable-billing receiver`.
import { describeConfig, loadConfig, type Config } from '../config.js';
import { loggerFromConfig } from '../observability/logger.js';
import { createReceiverClient } from './client.js';
import { createStripeWebhookHandler, type WebhookLogger } from './handler.js';
import { createReceiverMetrics, type ReceiverMetrics } from './metrics.js';
import { startWebhookServer, type WebhookServer } from './server.js';

export interface ConfiguredReceiver extends WebhookServer {
  /** Served at `GET /metrics`. */
  metrics: ReceiverMetrics;
  /** Closes the server, then the Temporal connection. */
  stop(): Promise<void>;
}

/**
 * Starts the receiver described by `config` (secrets override STRIPE_WEBHOOK_SECRET). Without a
 * `logger`, it logs JSON lines at LOG_LEVEL with the configured and the given secrets masked.
 */
export async function startConfiguredReceiver(
  config: Config,
  {
    secrets = config.STRIPE_WEBHOOK_SECRET,
    logger,
    metrics = createReceiverMetrics(),
  }: { secrets?: readonly string[]; logger?: WebhookLogger; metrics?: ReceiverMetrics } = {},
): Promise<ConfiguredReceiver> {
  const log = logger ?? loggerFromConfig(config, { name: 'receiver', secrets });
  const client = createReceiverClient(config);
  const handler = createStripeWebhookHandler({
    client,
    secrets,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    bodyLimitBytes: config.WEBHOOK_BODY_LIMIT_BYTES,
    deadlineMs: config.WEBHOOK_DEADLINE_MS,
    logger: log,
    metrics,
  });
  const server = await startWebhookServer({
    handler,
    host: config.WEBHOOK_HOST,
    port: config.WEBHOOK_PORT,
    bodyLimitBytes: config.WEBHOOK_BODY_LIMIT_BYTES,
    metrics,
    logger: log,
  });
  return {
    ...server,
    metrics,
    stop: async () => {
      await server.close();
      await client.connection.close();
    },
  };
}

/** Resolves at the first SIGINT or SIGTERM. */
function untilSignalled(): Promise<unknown> {
  return new Promise((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
}

/**
 * Runs the receiver from `config` until `until` resolves (default: SIGINT/SIGTERM), logging
 * where it listens (secrets masked), then stops it.
 */
export async function runReceiver(
  config: Config = loadConfig(),
  until: () => Promise<unknown> = untilSignalled,
): Promise<void> {
  const logger = loggerFromConfig(config, { name: 'receiver' });
  if (config.STRIPE_WEBHOOK_SECRET.length === 0)
    throw new Error(
      'set STRIPE_WEBHOOK_SECRET (whsec_…, comma-separated to rotate): the receiver never accepts unsigned events',
    );
  const receiver = await startConfiguredReceiver(config, { logger });
  const described = describeConfig(config);
  logger.info(
    {
      webhookUrl: receiver.webhookUrl,
      healthz: `${receiver.url}/healthz`,
      metrics: `${receiver.url}/metrics`,
      temporal: described.TEMPORAL_ADDRESS ?? '(env-config default)',
      secrets: described.STRIPE_WEBHOOK_SECRET,
    },
    'receiver listening',
  );
  await until();
  await receiver.stop();
  logger.info('receiver stopped');
}
