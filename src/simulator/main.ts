// `npm run sim`: the simulator as a standalone server on STRIPE_SIM_PORT (default 12111).
// Optional STRIPE_SIM_WEBHOOK_URL + STRIPE_SIM_WEBHOOK_SECRET (comma-separated, signs with the
// first) set the webhook target; STRIPE_SIM_SEED fixes ids; STRIPE_SIM_PROCESSING_DELAY_MS
// sets how long bank debits stay processing.
import { z } from 'zod';
import { startSimulator } from './index.js';

const env = z
  .object({
    STRIPE_SIM_PORT: z.coerce.number().int().min(0).max(65535).default(12111),
    STRIPE_SIM_HOST: z.string().default('127.0.0.1'),
    STRIPE_SIM_SEED: z.coerce.number().int().optional(),
    STRIPE_SIM_PROCESSING_DELAY_MS: z.coerce.number().int().min(0).optional(),
    STRIPE_SIM_WEBHOOK_URL: z.url().optional(),
    STRIPE_SIM_WEBHOOK_SECRET: z.string().optional(),
  })
  .refine((e) => e.STRIPE_SIM_WEBHOOK_URL === undefined || e.STRIPE_SIM_WEBHOOK_SECRET, {
    message: 'STRIPE_SIM_WEBHOOK_SECRET is required when STRIPE_SIM_WEBHOOK_URL is set',
    path: ['STRIPE_SIM_WEBHOOK_SECRET'],
  })
  .safeParse(process.env);

if (!env.success) {
  process.stderr.write(`stripe simulator: bad environment\n${z.prettifyError(env.error)}\n`);
  process.exit(1);
}
const config = env.data;
const sim = await startSimulator({
  port: config.STRIPE_SIM_PORT,
  host: config.STRIPE_SIM_HOST,
  ...(config.STRIPE_SIM_SEED !== undefined ? { seed: config.STRIPE_SIM_SEED } : {}),
  ...(config.STRIPE_SIM_PROCESSING_DELAY_MS !== undefined
    ? { processingDelayMs: config.STRIPE_SIM_PROCESSING_DELAY_MS }
    : {}),
  ...(config.STRIPE_SIM_WEBHOOK_URL && config.STRIPE_SIM_WEBHOOK_SECRET
    ? {
        webhook: {
          url: config.STRIPE_SIM_WEBHOOK_URL,
          secrets: config.STRIPE_SIM_WEBHOOK_SECRET.split(',').map((s) => s.trim()),
        },
      }
    : {}),
});
process.stdout.write(
  `stripe simulator listening on ${sim.url} (STRIPE_API_BASE=${sim.url}; controls under ${sim.url}/_sim/)\n`,
);

const stop = (): void => {
  sim.close().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`stripe simulator: close failed: ${String(error)}\n`);
      process.exit(1);
    },
  );
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
