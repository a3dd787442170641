// `npm run receiver`: the standalone webhook receiver on WEBHOOK_HOST:WEBHOOK_PORT, verifying with
// STRIPE_WEBHOOK_SECRET and signalling through TEMPORAL_ADDRESS; JSON-lines logs at LOG_LEVEL,
// metrics at GET /metrics. Stops cleanly on SIGINT/SIGTERM.
import { describeConfig, loadConfig } from '../config.js';
import { fallbackLogger, loggerFromConfig } from '../observability/logger.js';
import { startConfiguredReceiver } from './receiver.js';

async function main(): Promise<void> {
  const config = loadConfig();
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
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await receiver.stop();
  logger.info('receiver stopped');
}

main().catch((error: unknown) => {
  // The configuration may be what failed, so the logger cannot come from it.
  fallbackLogger('receiver').fatal({ err: error }, 'receiver failed');
  process.exit(1);
});
