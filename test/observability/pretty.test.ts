// The terminal format: readable lines from pino's JSON, a stack only from level error up, and
// the secret scrubbing still applied (it runs on the JSON line before it is made readable).
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observability/logger.js';
import { prettyLine } from '../../src/observability/pretty.js';

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d: Buffer) => (text += d.toString()));
  return { stream, text: () => text };
}

describe('pretty log lines', () => {
  it('prints time, level, name, message and fields on one line', () => {
    const line = prettyLine(
      JSON.stringify({
        level: 'info',
        time: Date.UTC(2026, 11, 1, 12, 4, 5, 123),
        name: 'worker',
        msg: 'worker polling',
        taskQueue: 'billing',
        note: 'two words',
      }),
    );
    expect(line).toBe(
      '12:04:05.123 INFO  worker: worker polling taskQueue=billing note="two words"\n',
    );
  });

  it('shows a warning’s error as its message only, and an error’s stack indented', () => {
    const err = {
      type: 'ApplicationFailure',
      message: 'Your card was declined.',
      stack: 'Error: x\n    at y',
    };
    const warn = prettyLine(
      JSON.stringify({ level: 'warn', time: 0, msg: 'attempt declined', err }),
    );
    expect(warn).toBe(
      '00:00:00.000 WARN  attempt declined err="ApplicationFailure: Your card was declined."\n',
    );
    const error = prettyLine(JSON.stringify({ level: 'error', time: 0, msg: 'bug', err }));
    expect(error).toBe('00:00:00.000 ERROR bug\n    Error: x\n        at y\n');
  });

  it('passes a line that is not JSON through as it is', () => {
    expect(prettyLine('plain text')).toBe('plain text\n');
  });

  it('is chosen by format: pretty, still without secrets; json stays JSON lines', () => {
    const pretty = capture();
    createLogger({
      destination: pretty.stream,
      format: 'pretty',
      secrets: ['hunter2-password'],
    }).warn({ key: 'sk_test_abcdefghijklmnop', password: 'x' }, 'uses hunter2-password');
    expect(pretty.text()).toMatch(
      /^\d\d:\d\d:\d\d\.\d{3} WARN {2}uses \[redacted\] key=sk_test_\[redacted\] password=\[redacted\]\n$/,
    );
    const json = capture();
    createLogger({ destination: json.stream, format: 'json' }).info('hello');
    expect(JSON.parse(json.text())).toMatchObject({ level: 'info', msg: 'hello' });
    // A stream is not a terminal: JSON by default.
    const auto = capture();
    createLogger({ destination: auto.stream }).info('hello');
    expect(JSON.parse(auto.text())).toMatchObject({ msg: 'hello' });
  });
});
