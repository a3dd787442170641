// `npm run sim`: the simulator as a standalone server on STRIPE_SIM_PORT (default 12111).
// Optional STRIPE_SIM_WEBHOOK_URL + STRIPE_SIM_WEBHOOK_SECRET (comma-separated, signs with the
// first) set the webhook target; STRIPE_SIM_SEED fixes ids; STRIPE_SIM_PROCESSING_DELAY_MS
// sets how long bank debits stay processing, STRIPE_SIM_SEARCH_LAG_MS how long search lags
// behind a create. Logs JSON lines at LOG_LEVEL, secrets masked.
import { z } from 'zod';
import { LOG_LEVELS } from '../observability/levels.js';
import { createLogger, fallbackLogger } from '../observability/logger.js';
import { startSimulator } from './index.js';
import { searchLagMsSchema } from './search.js';

const env = z
  .object({
    STRIPE_SIM_PORT: z.coerce.number().int().min(0).max(65535).default(12111),
    STRIPE_SIM_HOST: z.string().default('127.0.0.1'),
    STRIPE_SIM_SEED: z.coerce.number().int().optional(),
    STRIPE_SIM_PROCESSING_DELAY_MS: z.coerce.number().int().min(0).optional(),
    STRIPE_SIM_SEARCH_LAG_MS: z
      .string()
      .regex(/^\d+$/, 'a whole number of milliseconds')
      .transform(Number)
      .pipe(searchLagMsSchema)
      .optional(),
    STRIPE_SIM_WEBHOOK_URL: z.url().optional(),
    STRIPE_SIM_WEBHOOK_SECRET: z.string().optional(),
    LOG_LEVEL: z
      .string()
      .transform((v) => v.trim().toLowerCase() || 'info')
      .pipe(z.enum(LOG_LEVELS))
      .default('info'),
  })
  .refine((e) => e.STRIPE_SIM_WEBHOOK_URL === undefined || e.STRIPE_SIM_WEBHOOK_SECRET, {
    message: 'STRIPE_SIM_WEBHOOK_SECRET is required when STRIPE_SIM_WEBHOOK_URL is set',
    path: ['STRIPE_SIM_WEBHOOK_SECRET'],
  })
  .safeParse(process.env);

if (!env.success) {
  fallbackLogger('stripe-simulator').fatal(
    { problems: z.prettifyError(env.error) },
    'stripe simulator: bad environment',
  );
  process.exit(1);
}
const config = env.data;
const webhookSecrets = (config.STRIPE_SIM_WEBHOOK_SECRET ?? '').split(',').map((s) => s.trim());
const logger = createLogger({
  name: 'stripe-simulator',
  level: config.LOG_LEVEL,
  secrets: webhookSecrets,
});
const sim = await startSimulator({
  port: config.STRIPE_SIM_PORT,
  host: config.STRIPE_SIM_HOST,
  ...(config.STRIPE_SIM_SEED !== undefined ? { seed: config.STRIPE_SIM_SEED } : {}),
  ...(config.STRIPE_SIM_PROCESSING_DELAY_MS !== undefined
    ? { processingDelayMs: config.STRIPE_SIM_PROCESSING_DELAY_MS }
    : {}),
  ...(config.STRIPE_SIM_SEARCH_LAG_MS !== undefined
    ? { searchLagMs: config.STRIPE_SIM_SEARCH_LAG_MS }
    : {}),
  ...(config.STRIPE_SIM_WEBHOOK_URL && config.STRIPE_SIM_WEBHOOK_SECRET
    ? {
        webhook: {
          url: config.STRIPE_SIM_WEBHOOK_URL,
          secrets: webhookSecrets,
        },
      }
    : {}),
});
logger.info(
  {
    url: sim.url,
    controls: `${sim.url}/_sim/`,
    searchLagMs: sim.searchLagMs(),
    webhookUrl: config.STRIPE_SIM_WEBHOOK_URL ?? 'off',
  },
  `stripe simulator listening on ${sim.url} (STRIPE_API_BASE=${sim.url})`,
);

const stop = (): void => {
  sim.close().then(
    () => process.exit(0),
    (error: unknown) => {
      logger.fatal({ err: error }, 'stripe simulator: close failed');
      process.exit(1);
    },
  );
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
