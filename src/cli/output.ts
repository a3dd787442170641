// Where the CLI writes: the one result of a command on stdout (a JSON document with --json, else
// text for people), progress and notes on stderr, so `--json` output always parses.

/** The process streams and environment a command runs with (tests pass their own). */
export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Record<string, string | undefined>;
  /** Resolves with the signal's name at the first SIGINT or SIGTERM (long-running commands). */
  interrupted(): Promise<string>;
}

/** The IO of this process. */
export const processIO: CliIO = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  interrupted: () =>
    new Promise((resolve) => {
      const stop = (signal: NodeJS.Signals) => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve(signal);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    }),
};

/** A command's writer: exactly one `result` per run; `progress` and `note` go to stderr. */
export class Output {
  constructor(
    readonly json: boolean,
    private readonly io: CliIO,
  ) {}

  /** The command's result: `data` as one JSON document with --json, else `human` (text or a thunk). */
  result(data: unknown, human: string | (() => string)): void {
    if (this.json) this.io.stdout(`${JSON.stringify(data, null, 2)}\n`);
    else this.io.stdout(ensureNewline(typeof human === 'string' ? human : human()));
  }

  /** A progress line for long commands, on stderr in both modes. */
  progress(line: string): void {
    this.io.stderr(ensureNewline(line));
  }

  /** A remark for people (stderr), e.g. what to run next; silent with --json. */
  note(line: string): void {
    if (!this.json) this.io.stderr(ensureNewline(line));
  }
}

function ensureNewline(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}

/** Aligned `label  value` lines; rows whose value is undefined are left out. */
export function formatFields(rows: readonly (readonly [string, string | undefined])[]): string {
  const present = rows.filter((r): r is readonly [string, string] => r[1] !== undefined);
  const width = Math.max(0, ...present.map(([label]) => label.length));
  return present.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join('\n');
}

/** A plain-text table with a header row; empty cells show as `-`. */
export function formatTable(
  headers: readonly string[],
  rows: readonly (readonly (string | undefined)[])[],
): string {
  const cells = [headers, ...rows.map((r) => headers.map((_h, i) => r[i] ?? '-'))];
  const widths = headers.map((_h, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells
    .map((r) =>
      r
        .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
