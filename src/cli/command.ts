// The shape of a CLI command (flags with their help text, positionals, a `run`) and the context
// it runs in: parsed flags with typed accessors, the output, and a lazily opened Temporal session.
import type { Config } from '../config.js';
import { UsageError, type ExitCode } from './errors.js';
import type { CliIO, Output } from './output.js';
import type { Session } from './session.js';

/** One flag: its `util.parseArgs` type plus what `--help` says about it. */
export interface FlagSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** Placeholder in help, e.g. `<cus_…>`. */
  value?: string;
  description: string;
  /** Missing required flags are reported together, before anything runs. */
  required?: boolean;
}

/** A positional argument (all are required, in order). */
export interface PositionalSpec {
  name: string;
  description: string;
}

/** A command: `durable-billing <name> …`. */
export interface Command {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** What it does, for `--help` (a few lines). */
  description: string;
  positionals: readonly PositionalSpec[];
  flags: Readonly<Record<string, FlagSpec>>;
  examples: readonly string[];
  run(context: CommandContext): Promise<ExitCode>;
}

/** What a command's `run` gets. */
export interface CommandContext {
  command: Command;
  positionals: readonly string[];
  out: Output;
  io: CliIO;
  /** A string flag's value, if given. */
  string(name: string): string | undefined;
  /** A required string flag (validated present before `run`). */
  required(name: string): string;
  /** A repeatable string flag's values (empty if none). */
  strings(name: string): string[];
  /** A boolean flag. */
  flag(name: string): boolean;
  /** The configuration (environment plus the global flags); throws `ConfigError`. */
  config(): Config;
  /** Connects to Temporal once per run (closed by the runner). */
  connect(): Promise<Session>;
}

/** Parses a flag's integer value within bounds, or throws a `UsageError` naming the flag. */
export function integerFlag(
  command: string,
  flag: string,
  text: string,
  { min, max }: { min: number; max: number },
): number {
  const value = /^-?\d+$/.test(text.trim()) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max)
    throw new UsageError(
      `--${flag} must be a whole number from ${min} to ${max}, got "${text}"`,
      command,
    );
  return value;
}

/** Parses a flag's JSON value, or throws a `UsageError` naming the flag and the JSON problem. */
export function jsonFlag(command: string, flag: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new UsageError(
      `--${flag} must be JSON, e.g. '{"retryDelaysDays":[1,3,5]}': ${(error as Error).message}`,
      command,
      { cause: error },
    );
  }
}
