// The one configuration schema over the environment (DESIGN.md, Contracts). Parsed once at
// start-up; every error names the variable and says what is wrong. Secrets stay in this
// object and are never logged (see `describeConfig`).
import { z } from 'zod';
import { LOG_LEVELS } from './observability/levels.js';
import { dunningOverrideSchema } from './shared/dunning.js';

const port = (fallback: number) =>
  z.coerce
    .number({ error: 'must be a port number' })
    .int('must be a whole number')
    .min(1, 'must be between 1 and 65535')
    .max(65535, 'must be between 1 and 65535')
    .default(fallback);

const optionalString = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

const optionalUrl = optionalString.pipe(
  z.url({ error: 'must be a URL such as http://localhost:12111' }).optional(),
);

/**
 * The worker's sticky-cache bound, sized for charges in flight (tens per worker at the bench's
 * throughput), not for sleeping campaigns: those wake at most daily, and an evicted one replays
 * its history once when it wakes (a few milliseconds). Each cached charge costs the worker
 * about 0.5 MiB of RSS with its share of GC headroom (docs/performance.md).
 */
export const DEFAULT_MAX_CACHED_WORKFLOWS = 250;

/** Environment variables the project reads. docs/configuration.md's table is generated from it. */
export const configSchema = z.object({
  TEMPORAL_ADDRESS: optionalString.describe(
    'Temporal frontend host:port. Unset: `npm start` runs the embedded dev server.',
  ),
  TEMPORAL_NAMESPACE: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .default('default')
    .describe('Temporal namespace.'),
  TEMPORAL_TASK_QUEUE: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .default('billing')
    .describe('Task queue of the billing worker.'),
  STRIPE_SECRET_KEY: optionalString.describe(
    'Stripe secret key (sk_…). Unset: the local Stripe simulator is used. Never logged.',
  ),
  STRIPE_WEBHOOK_SECRET: optionalString
    .transform((v) =>
      v === undefined
        ? []
        : v
            .split(',')
            .map((s) => s.trim())
            .filter((s) => s !== ''),
    )
    .describe('Webhook signing secrets (whsec_…), comma-separated to rotate. Never logged.'),
  STRIPE_API_BASE: optionalUrl.describe(
    'Base URL of a Stripe-compatible API (the simulator, stripe-mock). Unset: api.stripe.com.',
  ),
  STRIPE_SIM_PORT: port(12111).describe('Port of the local Stripe simulator.'),
  WEBHOOK_HOST: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .default('127.0.0.1')
    .describe('Address the webhook receiver binds.'),
  WEBHOOK_PORT: port(3000).describe('Port of the webhook receiver.'),
  WEBHOOK_BODY_LIMIT_BYTES: z.coerce
    .number({ error: 'must be a number of bytes' })
    .int('must be a whole number of bytes')
    .min(1024, 'must be at least 1024 bytes')
    .max(16 * 1024 * 1024, 'must be at most 16 MiB')
    .default(1024 * 1024)
    .describe('Largest webhook body the receiver accepts; larger ones get 413.'),
  WEBHOOK_DEADLINE_MS: z.coerce
    .number({ error: 'must be a number of milliseconds' })
    .int('must be a whole number of milliseconds')
    .min(100, 'must be at least 100 ms')
    .max(9000, 'must be at most 9000 ms (a slow answer counts as a failed delivery at Stripe)')
    .default(5000)
    .describe('Deadline for the Temporal calls of one webhook; past it the receiver answers 503.'),
  BACKFILL_INTERVAL_MINUTES: z.coerce
    .number({ error: 'must be a number of minutes' })
    .int('must be a whole number of minutes')
    .min(1, 'must be at least 1 minute')
    .max(24 * 60, 'must be at most 1440 minutes (one day)')
    .default(15)
    .describe('How often the backfill Schedule pages Stripe’s Events API for missed events.'),
  DUNNING_POLICY: optionalString
    .transform((text, context) => {
      if (text === undefined) return undefined;
      try {
        return JSON.parse(text) as unknown;
      } catch (error) {
        context.addIssue({ code: 'custom', message: `must be JSON: ${(error as Error).message}` });
        return z.NEVER;
      }
    })
    .transform((value, context) => {
      const parsed = dunningOverrideSchema.optional().safeParse(value);
      if (parsed.success) return parsed.data;
      for (const issue of parsed.error.issues) {
        context.addIssue({ code: 'custom', path: issue.path, message: issue.message });
      }
      return z.NEVER;
    })
    .describe(
      'This deployment’s dunning policy as JSON, e.g. `{"retryDelaysDays":[1,3,5]}` (see Dunning); a charge’s own `dunning` wins field by field.',
    ),
  DEMO: z
    .enum(['on', 'off'], { error: 'must be "on" or "off"' })
    .optional()
    .describe(
      '`npm start` seeds demo orders; default on with the simulator, off with real Stripe or a cluster.',
    ),
  STRIPE_SIM_PROCESSING_DELAY_MS: z.coerce
    .number({ error: 'must be a number of milliseconds' })
    .int()
    .min(0)
    .default(3_600_000)
    .describe('How long a bank debit stays `processing` in the simulator `npm start` runs.'),
  WORKER_MAX_CACHED_WORKFLOWS: z.coerce
    .number({ error: 'must be a whole number' })
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .default(DEFAULT_MAX_CACHED_WORKFLOWS)
    .describe(
      'Workflows a worker keeps in its sticky cache; bounds its memory however many charges sleep.',
    ),
  TEMPORAL_UI_PORT: port(8233).describe('Port of the embedded dev server UI (`npm start`).'),
  TEMPORAL_PORT: port(7233).describe('gRPC port of the embedded dev server (`npm start`).'),
  WORKFLOW_BUNDLE_PATH: optionalString.describe(
    'Pre-built workflow bundle (`npm run build:workflows` writes dist/workflow-bundle.js). Unset: bundled at worker start.',
  ),
  TEMPORAL_DB_FILE: optionalString.describe(
    'SQLite file of the embedded dev server (`npm start`). Unset: `~/.cache/durable-billing/dev-server.db`. Emptied at each start with the simulator (which keeps no state), kept with real Stripe.',
  ),
  NOTIFIER: optionalString
    .pipe(z.enum(['outbox', 'email'], { error: 'must be outbox or email' }).default('outbox'))
    .describe(
      'Customer notifier: `outbox` (records each notification in OUTBOX_PATH, sends nothing) or `email` (SMTP).',
    ),
  OUTBOX_PATH: optionalString.describe(
    'Outbox file (JSON lines), also the email notifier’s sent-log. Unset: `~/.cache/durable-billing/outbox/notifications.jsonl`.',
  ),
  NOTIFICATIONS_DATABASE_URL: optionalString
    .pipe(
      z
        .url({
          protocol: /^postgres(ql)?$/,
          error: 'must be a URL such as postgresql://user:password@127.0.0.1:5432/billing',
        })
        .optional(),
    )
    .describe(
      'PostgreSQL database of the outbox and the email sent-log (one row per notification id), shared by workers on several hosts so none sends a notification twice. Unset: the OUTBOX_PATH file (one host). Its password is never logged.',
    ),
  SMTP_URL: optionalString
    .pipe(
      z
        .url({
          protocol: /^smtps?$/,
          error: 'must be a URL such as smtp://127.0.0.1:2525 or smtps://user:pass@host:465',
        })
        .optional(),
    )
    .describe(
      'SMTP server of the email notifier; required with NOTIFIER=email. Its password is never logged.',
    ),
  NOTIFY_FROM: optionalString
    .pipe(
      z
        .string()
        .includes('@', { error: 'must contain an address, e.g. Billing <billing@example.com>' })
        .optional(),
    )
    .describe(
      'From of notification emails, e.g. `Billing <billing@example.com>`; required with NOTIFIER=email.',
    ),
  LOG_LEVEL: optionalString
    .transform((v) => v?.toLowerCase())
    .pipe(z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info'))
    .describe(
      'Level of the logs: fatal, error, warn, info, debug, trace or silent (secrets redacted at every level).',
    ),
  LOG_FORMAT: optionalString
    .pipe(z.enum(['json', 'pretty'], { error: 'must be json or pretty' }).optional())
    .describe(
      'How logs are written: `json` (JSON lines) or `pretty` (readable lines, stacks only for errors). Unset: pretty on a terminal, JSON when piped or in production.',
    ),
  METRICS_PORT: optionalString
    .pipe(
      z.coerce
        .number<string>({ error: 'must be a port number' })
        .int('must be a whole number')
        .min(1, 'must be between 1 and 65535')
        .max(65535, 'must be between 1 and 65535')
        .optional(),
    )
    .describe(
      'Port of the worker’s Prometheus endpoint (Temporal SDK metrics, `temporal_…`, at /metrics). Unset: off.',
    ),
  METRICS_HOST: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .default('127.0.0.1')
    .describe('Address the worker’s Prometheus endpoint binds (`0.0.0.0` in a container).'),
});

/**
 * The schema plus the rules that span variables; `loadConfig` parses with it. (`configSchema`
 * stays a plain object so the docs/configuration.md table can read its shape.)
 */
export const validatedConfigSchema = configSchema.superRefine((config, context) => {
  // The email notifier cannot start without a server and a sender: fail at boot, naming each.
  if (config.NOTIFIER !== 'email') return;
  for (const variable of ['SMTP_URL', 'NOTIFY_FROM'] as const)
    if (!config[variable])
      context.addIssue({
        code: 'custom',
        path: [variable],
        message: 'must be set when NOTIFIER=email',
      });
});

export type Config = z.infer<typeof configSchema>;

/** Raised when the environment does not parse; its message lists every bad variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly issues: readonly { variable: string; problem: string }[]) {
    super(
      `invalid configuration:\n${issues.map((i) => `  ${i.variable}: ${i.problem}`).join('\n')}`,
    );
  }
}

/** Parses the given environment (default `process.env`). Throws `ConfigError` naming each bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = validatedConfigSchema.safeParse(env);
  if (parsed.success) return parsed.data;
  throw new ConfigError(
    parsed.error.issues.map((issue) => ({
      variable: issue.path.join('.') || '(environment)',
      problem: issue.message,
    })),
  );
}

/** A loggable summary of the configuration: secrets are reported as set or unset, never shown. */
export function describeConfig(config: Config): Record<string, unknown> {
  return {
    ...config,
    STRIPE_SECRET_KEY: config.STRIPE_SECRET_KEY ? '[set]' : '[unset]',
    STRIPE_WEBHOOK_SECRET: `[${config.STRIPE_WEBHOOK_SECRET.length} set]`,
    SMTP_URL: config.SMTP_URL && withoutPassword(config.SMTP_URL),
    NOTIFICATIONS_DATABASE_URL:
      config.NOTIFICATIONS_DATABASE_URL && withoutPassword(config.NOTIFICATIONS_DATABASE_URL),
  };
}

/** A URL with its password (if any) replaced by `***`. */
function withoutPassword(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.href;
}
