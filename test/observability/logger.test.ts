// The logger removes secrets by key (pino redact) and by value (anywhere in a string, a message,
// an error, a binding); the Temporal Runtime adapter and telemetry options follow the config.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import {
  configuredSecrets,
  createLogger,
  scrubSecrets,
  type LogLevel,
} from '../../src/observability/logger.js';
import { telemetryOptions, temporalLoggerFor } from '../../src/observability/temporal-runtime.js';

function capture(level: LogLevel = 'trace', secrets: string[] = []) {
  const lines: string[] = [];
  const logger = createLogger({ level, secrets, destination: { write: (l) => lines.push(l) } });
  const logs = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, lines, logs };
}

const digest = 'a1'.repeat(32);

describe('the logger', () => {
  it('writes JSON lines with a level label, a time and msg', () => {
    const { logger, logs } = capture();
    logger.info({ orderId: 'o-1' }, 'charge started');
    expect(logs()).toEqual([
      expect.objectContaining({ level: 'info', msg: 'charge started', orderId: 'o-1' }),
    ]);
    expect(typeof logs()[0]?.time).toBe('number');
  });

  it('redacts secret keys and secret headers, at the top level and one level down', () => {
    const { logger, lines } = capture();
    logger.info(
      {
        headers: { authorization: 'Basic dXNlcjpwYXNz', 'stripe-signature': `t=1,v1=${digest}` },
        req: { headers: { 'stripe-signature': 't=1,v1=short', cookie: 'session=abc' } },
        config: { STRIPE_SECRET_KEY: 'opaque-key', TEMPORAL_API_KEY: 'opaque-api-key' },
        smtp: { auth: { pass: 'hunter2hunter2' } },
        secrets: ['one', 'two'],
      },
      'request',
    );
    const line = lines.join('');
    for (const secret of ['dXNlcjpwYXNz', digest, 'v1=short', 'session=abc', 'opaque', 'hunter2'])
      expect(line).not.toContain(secret);
    expect(line).toContain('"stripe-signature":"[redacted]"');
  });

  it('masks secret-shaped values anywhere: fields, message, format arguments, errors and their causes, bindings', () => {
    const { logger, lines } = capture();
    const cause = new Error('upstream said rk_live_51Hcause');
    logger.child({ key: 'sk_live_51Hbinding' }).error(
      {
        err: new Error('bad key sk_test_51Herror', { cause }),
        nested: [{ s: 'whsec_nested+/=' }],
      },
      'failed with %s and sk_test_51Hmessage',
      'whsec_argument',
    );
    const line = lines.join('');
    for (const secret of [
      '51Hbinding',
      '51Herror',
      '51Hcause',
      'nested+',
      '51Hmessage',
      'argument',
    ])
      expect(line).not.toContain(secret);
    expect(line).toContain('sk_test_[redacted]');
    expect(line).toContain('"type":"Error"');
  });

  it('masks the configured secrets that have no recognisable shape', () => {
    const config = loadConfig({
      STRIPE_WEBHOOK_SECRET: 'whsec_a, plain-rotation-secret',
      SMTP_URL: 'smtp://billing:p%40ss-word-1@127.0.0.1:2525',
    });
    const secrets = configuredSecrets(config, { TEMPORAL_API_KEY: 'cloud-api-key-value' });
    const { logger, lines } = capture('info', secrets);
    logger.info(
      { note: 'plain-rotation-secret cloud-api-key-value p@ss-word-1' },
      'p%40ss-word-1 in a message',
    );
    const line = lines.join('');
    for (const secret of ['plain-rotation-secret', 'cloud-api-key-value', 'p@ss-word-1', 'p%40ss'])
      expect(line).not.toContain(secret);
  });

  it('scrubs bearer tokens, URL passwords and signature digests in plain text, and leaves ids alone', () => {
    expect(scrubSecrets(`Bearer abc.def t=1,v1=${digest} https://u:pw@host/x`)).toBe(
      'Bearer [redacted] t=1,v1=[redacted] https://u:[redacted]@host/x',
    );
    const ids = 'pi_3Nabc cus_Qx1 evt_1Nabc charge:order-1 sk_other';
    expect(scrubSecrets(ids)).toBe(ids);
  });

  it('logs nothing below its level', () => {
    const { logger, lines } = capture('warn');
    logger.info('quiet');
    logger.warn('loud');
    expect(lines).toHaveLength(1);
  });
});

describe('the Temporal Runtime', () => {
  it('gets SDK logs as pino lines at the matching level, metadata as fields', () => {
    const { logger, logs } = capture();
    const temporal = temporalLoggerFor(logger);
    temporal.warn('Activity failed', { activityType: 'confirmPaymentIntent', key: 'sk_test_x1' });
    temporal.log('DEBUG', 'polling');
    temporal.trace('tick');
    expect(logs()).toEqual([
      expect.objectContaining({
        level: 'warn',
        msg: 'Activity failed',
        activityType: 'confirmPaymentIntent',
        key: 'sk_test_[redacted]',
      }),
      expect.objectContaining({ level: 'debug', msg: 'polling' }),
      expect.objectContaining({ level: 'trace', msg: 'tick' }),
    ]);
  });

  it('forwards Core logs, and exports Prometheus metrics only when METRICS_PORT is set', () => {
    expect(telemetryOptions(loadConfig({}))).toEqual({
      logging: { forward: {}, filter: { core: 'WARN', other: 'ERROR' } },
    });
    expect(
      telemetryOptions(
        loadConfig({ METRICS_PORT: '9464', METRICS_HOST: '0.0.0.0', LOG_LEVEL: 'debug' }),
      ),
    ).toEqual({
      logging: { forward: {}, filter: { core: 'INFO', other: 'ERROR' } },
      metrics: { prometheus: { bindAddress: '0.0.0.0:9464' } },
    });
  });

  it('rejects an unknown LOG_LEVEL and a bad METRICS_PORT, naming each', () => {
    expect(() => loadConfig({ LOG_LEVEL: 'loud', METRICS_PORT: '70000' })).toThrow(
      /LOG_LEVEL: must be one of[\s\S]*METRICS_PORT: must be between 1 and 65535/,
    );
    expect(loadConfig({ LOG_LEVEL: 'DEBUG' }).LOG_LEVEL).toBe('debug');
  });
});
