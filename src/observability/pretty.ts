// Readable log lines for a terminal: `12:04:05.123 WARN  worker: message key=value …`, from the
// JSON lines pino writes (already scrubbed of secrets). An error's stack is shown from level
// error up; below that (an expected outcome logged as a warning) only its message.
import type { DestinationStream } from 'pino';

/** How the logs are written: JSON lines, or readable lines for a person at a terminal. */
export type LogFormat = 'json' | 'pretty';

const LEVELS: Record<string, { label: string; colour: string }> = {
  trace: { label: 'TRACE', colour: '90' },
  debug: { label: 'DEBUG', colour: '90' },
  info: { label: 'INFO ', colour: '32' },
  warn: { label: 'WARN ', colour: '33' },
  error: { label: 'ERROR', colour: '31' },
  fatal: { label: 'FATAL', colour: '35' },
};
const WITH_STACK = new Set(['error', 'fatal']);
const OMITTED = new Set(['level', 'time', 'msg', 'name', 'pid', 'hostname', 'err']);

function clock(time: unknown): string {
  const date = typeof time === 'number' ? new Date(time) : new Date();
  return date.toISOString().slice(11, 23);
}

function field(key: string, value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return `${key}=${typeof value === 'string' && /[\s"=]/.test(text) ? JSON.stringify(text) : text}`;
}

/** One JSON log line as a readable line (the line itself when it is not JSON). */
export function prettyLine(line: string, { colour = false } = {}): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  const levelName = typeof entry.level === 'string' ? entry.level : 'info';
  const level = LEVELS[levelName] ?? { label: levelName.toUpperCase(), colour: '0' };
  const label = colour ? `\u001b[${level.colour}m${level.label}\u001b[0m` : level.label;
  const name = typeof entry.name === 'string' ? `${entry.name}: ` : '';
  const fields = Object.entries(entry)
    .filter(([key, value]) => !OMITTED.has(key) && value !== undefined)
    .map(([key, value]) => field(key, value));
  const err = entry.err as { message?: unknown; stack?: unknown; type?: unknown } | undefined;
  if (err && !WITH_STACK.has(levelName))
    fields.push(
      field('err', `${typeof err.type === 'string' ? `${err.type}: ` : ''}${String(err.message)}`),
    );
  const head = `${clock(entry.time)} ${label} ${name}${typeof entry.msg === 'string' ? entry.msg : ''}${fields.length > 0 ? ` ${fields.join(' ')}` : ''}`;
  const stack =
    err && WITH_STACK.has(levelName) && typeof err.stack === 'string'
      ? `\n${err.stack.replace(/^/gm, '    ')}`
      : '';
  return `${head}${stack}\n`;
}

/** Writes each JSON line to `target` as a readable one. */
export function prettyStream(target: DestinationStream, options: { colour?: boolean } = {}) {
  return { write: (line: string) => target.write(prettyLine(line, options)) };
}
