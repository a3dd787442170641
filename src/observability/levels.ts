// Log levels (pino's), shared by the config schema (LOG_LEVEL) and the logger; a module of its
// own so the config does not import the logger.

/** LOG_LEVEL values, most to least severe; `silent` logs nothing. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
