// The one structured logger (pino, JSON lines with `level` and `msg`) for the worker, the
// receiver, `npm start` and the simulator. Secrets are removed twice: by key (pino `redact`)
// and by value (a scrubber over every string, message and error, and over each written line).
import pino, { type DestinationStream, type Logger } from 'pino';
import type { Config } from '../config.js';
import type { LogLevel } from './levels.js';
import { prettyStream, type LogFormat } from './pretty.js';

export type { Logger } from 'pino';
export { LOG_LEVELS, type LogLevel } from './levels.js';
export type { LogFormat } from './pretty.js';

const CENSOR = '[redacted]';

/**
 * Keys whose values are never logged, wherever a caller puts them (top level or one level
 * down: pino's `*` matches one segment). Header names are lower-case as node:http gives them.
 */
export const REDACT_PATHS: readonly string[] = (() => {
  const keys = [
    'authorization',
    'Authorization',
    '"stripe-signature"',
    '"Stripe-Signature"',
    'cookie',
    'secret',
    'secrets',
    'secretKey',
    'webhookSecret',
    'apiKey',
    'api_key',
    'password',
    'pass',
    'STRIPE_SECRET_KEY',
    'STRIPE_WEBHOOK_SECRET',
    'TEMPORAL_API_KEY',
  ];
  const bracket = (key: string) => (key.startsWith('"') ? `[${key}]` : `.${key}`);
  return [
    ...keys.map((key) => (key.startsWith('"') ? `[${key}]` : key)),
    ...keys.map((key) => `*${bracket(key)}`),
    ...keys.map((key) => `*.headers${bracket(key)}`),
    ...keys.map((key) => `*.auth${bracket(key)}`),
  ];
})();

/**
 * Secret-shaped values, masked wherever they appear in a string: Stripe secret and restricted
 * keys, webhook signing secrets, signature digests (`v1=<hex>` of a Stripe-Signature header),
 * bearer tokens and URL passwords. The prefix stays, so a log still says *which kind* of key.
 */
const SECRET_PATTERNS: readonly [RegExp, string][] = [
  [/(?<![A-Za-z0-9])((?:sk|rk)_(?:test|live)_)[A-Za-z0-9]+/g, `$1${CENSOR}`],
  [/(?<![A-Za-z0-9])(whsec_)[A-Za-z0-9+/=_-]+/g, `$1${CENSOR}`],
  [/(?<![A-Za-z0-9])(v[01]=)[0-9a-fA-F]{16,}/g, `$1${CENSOR}`],
  [/(Bearer\s+)[^\s"',;]+/gi, `$1${CENSOR}`],
  [/([a-z][a-z0-9+.-]*:\/\/[^\s:/@"]*:)[^\s@/"]+@/gi, `$1${CENSOR}@`],
];

/** Literal secrets shorter than this are not masked by value (they would mask ordinary words). */
const MIN_LITERAL_LENGTH = 8;

/** `text` with every secret-shaped value and every literal in `literals` masked. */
export function scrubSecrets(text: string, literals: readonly string[] = []): string {
  let scrubbed = text;
  for (const literal of literals)
    if (literal.length >= MIN_LITERAL_LENGTH) scrubbed = scrubbed.split(literal).join(CENSOR);
  for (const [pattern, replacement] of SECRET_PATTERNS)
    scrubbed = scrubbed.replace(pattern, replacement);
  return scrubbed;
}

const MAX_DEPTH = 8;

/** A copy of `value` with every string scrubbed; errors become pino's serialised shape first. */
function scrubValue(
  value: unknown,
  literals: readonly string[],
  seen: WeakSet<object>,
  depth: number,
): unknown {
  if (typeof value === 'string') return scrubSecrets(value, literals);
  if (typeof value !== 'object' || value === null) return value;
  if (ArrayBuffer.isView(value)) return value;
  if (seen.has(value) || depth > MAX_DEPTH) return '[omitted]';
  seen.add(value);
  if (value instanceof Error) value = pino.stdSerializers.err(value);
  if (Array.isArray(value)) return value.map((v) => scrubValue(v, literals, seen, depth + 1));
  const copy: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>))
    copy[key] = scrubValue(v, literals, seen, depth + 1);
  return copy;
}

/** Scrubs each written line: the last guard, for anything that reached the output another way. */
function scrubbingStream(target: DestinationStream, literals: readonly string[]) {
  return { write: (line: string) => target.write(scrubSecrets(line, literals)) };
}

export interface LoggerOptions {
  /** Default `info`. */
  level?: LogLevel;
  /** Bound to every line as `name` (e.g. `worker`, `receiver`). */
  name?: string;
  /** Configured secrets masked wherever they appear, even when not secret-shaped (API keys, passwords). */
  secrets?: readonly string[];
  /** File descriptor (1 stdout, 2 stderr) or a stream; default stdout. */
  destination?: 1 | 2 | DestinationStream;
  /** Default: `pretty` when the destination is a terminal, else `json`. */
  format?: LogFormat;
}

/** Whether a file descriptor destination is a terminal (a stream never is, here). */
function isTerminal(destination: 1 | 2 | DestinationStream): boolean {
  if (destination === 1) return process.stdout.isTTY === true;
  if (destination === 2) return process.stderr.isTTY === true;
  return false;
}

/**
 * A pino logger writing JSON lines (`level` as a label, `time` in ms, `msg`) with secrets
 * removed; on a terminal (or with `format: 'pretty'`) the same lines made readable.
 */
export function createLogger({
  level = 'info',
  name,
  secrets = [],
  destination = 1,
  format,
}: LoggerOptions = {}): Logger {
  const literals = [...new Set(secrets.filter((s) => s.length >= MIN_LITERAL_LENGTH))];
  const terminal = isTerminal(destination);
  const raw =
    typeof destination === 'number'
      ? pino.destination({ fd: destination, sync: true })
      : destination;
  const target =
    (format ?? (terminal ? 'pretty' : 'json')) === 'pretty'
      ? prettyStream(raw, { colour: terminal })
      : raw;
  return pino(
    {
      level,
      ...(name !== undefined && { name }),
      redact: { paths: [...REDACT_PATHS], censor: CENSOR },
      // `formatters.log` has already turned errors into plain (scrubbed) objects: keep them.
      serializers: { err: (e: unknown) => (e instanceof Error ? pino.stdSerializers.err(e) : e) },
      formatters: {
        level: (label) => ({ level: label }),
        bindings: (bindings) => scrubValue(bindings, literals, new WeakSet(), 0) as typeof bindings,
        log: (object) => scrubValue(object, literals, new WeakSet(), 0) as typeof object,
      },
      hooks: {
        // The message and its format arguments, which `formatters.log` does not see.
        logMethod(args, method) {
          const scrubbed = args.map((arg) =>
            typeof arg === 'string' ? scrubSecrets(arg, literals) : arg,
          ) as Parameters<typeof method>;
          method.apply(this, scrubbed);
        },
      },
    },
    scrubbingStream(target, literals),
  );
}

/**
 * The secrets a process was configured with, for value-level masking: the Stripe key, the
 * webhook secrets, the SMTP password and env-config's TEMPORAL_API_KEY.
 */
export function configuredSecrets(
  config: Partial<Pick<Config, 'STRIPE_SECRET_KEY' | 'STRIPE_WEBHOOK_SECRET' | 'SMTP_URL'>>,
  env: Record<string, string | undefined> = process.env,
): string[] {
  const secrets = [...(config.STRIPE_WEBHOOK_SECRET ?? [])];
  if (config.STRIPE_SECRET_KEY) secrets.push(config.STRIPE_SECRET_KEY);
  if (config.SMTP_URL && URL.canParse(config.SMTP_URL)) {
    const { password } = new URL(config.SMTP_URL);
    if (password) secrets.push(password, decodeURIComponent(password));
  }
  if (env.TEMPORAL_API_KEY) secrets.push(env.TEMPORAL_API_KEY);
  return secrets;
}

/** The logger of a process configured by `config` (LOG_LEVEL, LOG_FORMAT, its secrets, plus `secrets`). */
export function loggerFromConfig(
  config: Config,
  { name, destination, secrets = [] }: Omit<LoggerOptions, 'level' | 'format'> = {},
): Logger {
  return createLogger({
    level: config.LOG_LEVEL,
    ...(config.LOG_FORMAT !== undefined && { format: config.LOG_FORMAT }),
    ...(name !== undefined && { name }),
    ...(destination !== undefined && { destination }),
    secrets: [...configuredSecrets(config), ...secrets],
  });
}

/**
 * A logger for when the configuration did not load (a start-up failure): default level, on
 * stderr, and the secret variables read raw from the environment so they are masked all the same.
 */
export function fallbackLogger(
  name: string,
  env: Record<string, string | undefined> = process.env,
  destination: LoggerOptions['destination'] = 2,
): Logger {
  return createLogger({
    name,
    destination,
    secrets: configuredSecrets(
      {
        ...(env.STRIPE_SECRET_KEY !== undefined && { STRIPE_SECRET_KEY: env.STRIPE_SECRET_KEY }),
        STRIPE_WEBHOOK_SECRET: (env.STRIPE_WEBHOOK_SECRET ?? '').split(',').map((s) => s.trim()),
        ...(env.SMTP_URL !== undefined && { SMTP_URL: env.SMTP_URL }),
      },
      env,
    ),
  });
}
