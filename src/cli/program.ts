// `durable-billing <command> [flags]`: finds the command, parses its flags (node:util parseArgs,
// strict), runs it with a lazily opened Temporal session, and turns every failure into one
// message on stderr (plus a JSON error document with --json) and an exit code.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Command, CommandContext, FlagSpec } from './command.js';
import {
  ChargeNotFoundError,
  describeFailure,
  ExitCode,
  isUnavailable,
  TemporalUnreachableError,
  UsageError,
} from './errors.js';
import { Output, type CliIO } from './output.js';
import { configWith, openSession, type ConnectionFlags, type Session } from './session.js';

/** Flags every command takes. */
export const GLOBAL_FLAGS: Readonly<Record<string, FlagSpec>> = {
  json: {
    type: 'boolean',
    description: 'Print one JSON document on stdout and nothing else (errors too: {"error":…}).',
  },
  address: {
    type: 'string',
    value: '<host:port>',
    description: 'Temporal frontend (default TEMPORAL_ADDRESS, else 127.0.0.1:TEMPORAL_PORT).',
  },
  namespace: {
    type: 'string',
    value: '<name>',
    description: 'Temporal namespace (default TEMPORAL_NAMESPACE, else default).',
  },
  'task-queue': {
    type: 'string',
    value: '<name>',
    description: 'Task queue of the billing worker (default TEMPORAL_TASK_QUEUE, else billing).',
  },
  'connect-timeout': {
    type: 'string',
    value: '<seconds>',
    description: 'How long to wait for Temporal before giving up (default 10).',
  },
  help: { type: 'boolean', short: 'h', description: 'Show this help.' },
};

/** Runs `args` (argv without node and the script) and returns the exit code; never throws. */
export async function runCli(
  commands: readonly Command[],
  args: readonly string[],
  io: CliIO,
): Promise<ExitCode> {
  const [name, ...rest] = args;
  if (name === undefined) {
    io.stderr(programUsage(commands));
    return ExitCode.usage;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    const target = commands.find((c) => c.name === rest[0]);
    io.stdout(target ? commandHelp(target) : programUsage(commands));
    return ExitCode.ok;
  }
  const command = commands.find((c) => c.name === name);
  if (command === undefined) {
    const what = name.startsWith('-')
      ? `expected a command before "${name}"`
      : `unknown command "${name}"`;
    io.stderr(`durable-billing: ${what}\n\n${programUsage(commands)}`);
    if (rest.includes('--json') || name === '--json')
      io.stdout(`${JSON.stringify({ error: { type: 'UsageError', message: what } })}\n`);
    return ExitCode.usage;
  }
  return runCommand(command, rest, io);
}

async function runCommand(command: Command, args: readonly string[], io: CliIO): Promise<ExitCode> {
  let out = new Output(args.includes('--json'), io);
  let session: Session | undefined;
  let flags: ConnectionFlags = {};
  try {
    const { values, positionals } = parseCommandLine(command, args);
    out = new Output(values.json === true, io);
    if (values.help === true) {
      io.stdout(commandHelp(command));
      return ExitCode.ok;
    }
    const text = (flag: string): string | undefined => {
      const value = values[flag];
      return typeof value === 'string' ? value : undefined;
    };
    const timeout = text('connect-timeout');
    flags = {
      address: text('address'),
      namespace: text('namespace'),
      taskQueue: text('task-queue'),
      connectTimeoutSeconds: timeout === undefined ? undefined : seconds(command.name, timeout),
    };
    const config = () => configWith(io.env, flags);
    const context: CommandContext = {
      command,
      positionals,
      out,
      io,
      string: text,
      required: (flag) => {
        const value = text(flag);
        if (value === undefined) throw new UsageError(`--${flag} is required`, command.name);
        return value;
      },
      strings: (flag) => {
        const value = values[flag];
        return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
      },
      flag: (flag) => values[flag] === true,
      config,
      connect: async () => (session ??= await openSession(config(), flags)),
    };
    return await command.run(context);
  } catch (error) {
    const failure = describeFailure(asOperatorError(error, session));
    io.stderr(`durable-billing ${command.name}: ${failure.message}\n`);
    if (out.json)
      io.stdout(
        `${JSON.stringify({ error: { type: failure.type, message: failure.message, ...(failure.fields && { fields: failure.fields }), ...failure.details } }, null, 2)}\n`,
      );
    return failure.code;
  } finally {
    await session?.close();
  }
}

/** A Temporal call that found no server mid-command reads like a failed connect. */
function asOperatorError(error: unknown, session: Session | undefined): unknown {
  if (session && !(error instanceof ChargeNotFoundError) && isUnavailable(error))
    return new TemporalUnreachableError(session.address, session.namespace, { cause: error });
  return error;
}

function seconds(command: string, text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0)
    throw new UsageError(
      `--connect-timeout must be a positive number of seconds, got "${text}"`,
      command,
    );
  return value;
}

/** Strict parse of the command's flags and the global ones; missing required ones all at once. */
function parseCommandLine(
  command: Command,
  args: readonly string[],
): {
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
} {
  const specs = { ...command.flags, ...GLOBAL_FLAGS };
  const options: NonNullable<ParseArgsConfig['options']> = {};
  for (const [name, spec] of Object.entries(specs))
    options[name] = {
      type: spec.type,
      ...(spec.short !== undefined && { short: spec.short }),
      ...(spec.multiple !== undefined && { multiple: spec.multiple }),
    };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
  } catch (error) {
    // parseArgs throws TypeErrors with ERR_PARSE_ARGS_* codes and a message naming the flag.
    if (
      error instanceof TypeError &&
      String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS')
    )
      throw new UsageError(error.message, command.name, { cause: error });
    throw error;
  }
  const { values, positionals } = parsed;
  if (values.help === true) return { values, positionals };
  const expected = command.positionals;
  if (positionals.length < expected.length)
    throw new UsageError(
      `missing ${expected
        .slice(positionals.length)
        .map((p) => `<${p.name}>`)
        .join(' ')}: ${synopsis(command)}`,
      command.name,
    );
  if (positionals.length > expected.length)
    throw new UsageError(
      `unexpected argument "${positionals[expected.length]}": ${synopsis(command)}`,
      command.name,
    );
  const missing = Object.entries(command.flags)
    .filter(([name, spec]) => spec.required && values[name] === undefined)
    .map(([name]) => `--${name}`);
  if (missing.length > 0)
    throw new UsageError(`missing required ${missing.join(', ')}`, command.name);
  return { values, positionals };
}

function synopsis(command: Command): string {
  const positionals = command.positionals.map((p) => `<${p.name}>`);
  const required = Object.entries(command.flags)
    .filter(([, spec]) => spec.required)
    .map(([name, spec]) => `--${name} ${spec.value ?? ''}`.trimEnd());
  return ['durable-billing', command.name, ...positionals, ...required, '[flags]'].join(' ');
}

function flagLines(specs: Readonly<Record<string, FlagSpec>>): string[] {
  const rows = Object.entries(specs).map(([name, spec]) => {
    const short = spec.short ? `-${spec.short}, ` : '';
    const value = spec.type === 'string' ? ` ${spec.value ?? '<value>'}` : '';
    const label = `${short}--${name}${value}`;
    const notes = [spec.required ? 'required' : '', spec.multiple ? 'repeatable' : '']
      .filter(Boolean)
      .join(', ');
    return [label, notes ? `${spec.description} (${notes})` : spec.description] as const;
  });
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, text]) => `  ${label.padEnd(width)}  ${text}`);
}

/** `durable-billing <command> --help`. */
export function commandHelp(command: Command): string {
  const lines = [`Usage: ${synopsis(command)}`, '', command.description, ''];
  if (command.positionals.length > 0) {
    lines.push('Arguments:');
    const width = Math.max(...command.positionals.map((p) => p.name.length + 2));
    for (const p of command.positionals)
      lines.push(`  ${`<${p.name}>`.padEnd(width)}  ${p.description}`);
    lines.push('');
  }
  if (Object.keys(command.flags).length > 0) lines.push('Flags:', ...flagLines(command.flags), '');
  lines.push('Global flags:', ...flagLines(GLOBAL_FLAGS), '');
  if (command.examples.length > 0)
    lines.push('Examples:', ...command.examples.map((e) => `  ${e}`), '');
  return `${lines.join('\n')}`;
}

/** `durable-billing --help`: the commands and the exit codes. */
export function programUsage(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'Usage: durable-billing <command> [flags]',
    '',
    'Operate durable-billing charges on Temporal (connection from TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,',
    'TEMPORAL_TASK_QUEUE and the Temporal env-config variables, or the global flags).',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `durable-billing <command> --help` for its flags. Every command takes --json.',
    'Exit codes: 0 ok, 1 failed (Temporal unreachable, charge not found, the order charged with',
    'other parameters, the charge failed or did not succeed), 2 usage',
    '(bad command, flag, input or environment: nothing was done).',
    '',
  ].join('\n');
}
