// The Temporal Runtime of a worker process: the SDK's logs (its own, workflow and activity
// context loggers, and Core's native logs, forwarded) through our pino logger, and the SDK's
// worker metrics on a Prometheus endpoint when METRICS_PORT is set.
import type {
  LogLevel as TemporalLogLevel,
  LogMetadata,
  Logger as TemporalLogger,
} from '@temporalio/common';
import { Runtime, type TelemetryOptions } from '@temporalio/worker';
import type { Config } from '../config.js';
import type { Logger } from './logger.js';

const PINO_LEVEL = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
} as const satisfies Record<TemporalLogLevel, string>;

/** The SDK's `Logger` interface over a pino logger (metadata becomes the line's fields). */
export function temporalLoggerFor(logger: Logger): TemporalLogger {
  const log = (level: TemporalLogLevel, message: string, meta?: LogMetadata) =>
    logger[PINO_LEVEL[level]](meta ?? {}, message);
  return {
    log,
    trace: (message, meta) => log('TRACE', message, meta),
    debug: (message, meta) => log('DEBUG', message, meta),
    info: (message, meta) => log('INFO', message, meta),
    warn: (message, meta) => log('WARN', message, meta),
    error: (message, meta) => log('ERROR', message, meta),
  };
}

/** `host:port` of the worker's Prometheus endpoint, or undefined when METRICS_PORT is unset. */
export function metricsBindAddress(config: Config): string | undefined {
  if (config.METRICS_PORT === undefined) return undefined;
  const host = config.METRICS_HOST.includes(':') ? `[${config.METRICS_HOST}]` : config.METRICS_HOST;
  return `${host}:${config.METRICS_PORT}`;
}

/** Runtime options for `config`: exported for tests; {@link installTemporalRuntime} applies them. */
export function telemetryOptions(config: Config): TelemetryOptions {
  const bindAddress = metricsBindAddress(config);
  // Core is chatty below WARN; LOG_LEVEL=debug/trace opens it to INFO, never to its own DEBUG.
  const core = config.LOG_LEVEL === 'debug' || config.LOG_LEVEL === 'trace' ? 'INFO' : 'WARN';
  return {
    logging: { forward: {}, filter: { core, other: 'ERROR' } },
    ...(bindAddress !== undefined && { metrics: { prometheus: { bindAddress } } }),
  };
}

/**
 * Installs the process's Temporal Runtime. Call it once, before the first connection, worker
 * or test environment is created (the SDK creates a default Runtime on first use and a second
 * install then throws).
 */
export function installTemporalRuntime(config: Config, logger: Logger): Runtime {
  return Runtime.install({
    logger: temporalLoggerFor(logger.child({ component: 'temporal' })),
    telemetryOptions: telemetryOptions(config),
  });
}
