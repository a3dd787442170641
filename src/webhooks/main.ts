// `npm run receiver`: the standalone webhook receiver on WEBHOOK_HOST:WEBHOOK_PORT, verifying with
// STRIPE_WEBHOOK_SECRET and signalling through TEMPORAL_ADDRESS. Stops cleanly on SIGINT/SIGTERM.
import { describeConfig, loadConfig } from '../config.js';
import { startConfiguredReceiver } from './receiver.js';

async function main(): Promise<void> {
  const config = loadConfig();
  if (config.STRIPE_WEBHOOK_SECRET.length === 0)
    throw new Error(
      'set STRIPE_WEBHOOK_SECRET (whsec_…, comma-separated to rotate): the receiver never accepts unsigned events',
    );
  const receiver = await startConfiguredReceiver(config);
  console.log(
    `receiver: ${receiver.webhookUrl} (healthz ${receiver.url}/healthz)`,
    JSON.stringify({
      temporal: describeConfig(config).TEMPORAL_ADDRESS ?? '(env-config default)',
      secrets: describeConfig(config).STRIPE_WEBHOOK_SECRET,
    }),
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await receiver.stop();
  console.log('receiver: stopped');
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
