// The environment schema: defaults, parsing, and errors that name the variable.
import { describe, expect, it } from 'vitest';
import { ConfigError, describeConfig, loadConfig } from '../src/config.js';

describe('loadConfig', () => {
  it('applies the documented defaults to an empty environment', () => {
    expect(loadConfig({})).toMatchObject({
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_TASK_QUEUE: 'billing',
      WEBHOOK_PORT: 3000,
      STRIPE_SIM_PORT: 12111,
      STRIPE_WEBHOOK_SECRET: [],
    });
  });

  it('splits comma-separated webhook secrets for rotation', () => {
    expect(
      loadConfig({ STRIPE_WEBHOOK_SECRET: 'whsec_old, whsec_new' }).STRIPE_WEBHOOK_SECRET,
    ).toEqual(['whsec_old', 'whsec_new']);
  });

  it('names every bad variable and says what is wrong', () => {
    const error = (() => {
      try {
        loadConfig({ WEBHOOK_PORT: 'eighty', STRIPE_API_BASE: 'not a url' });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/WEBHOOK_PORT: must be a port number/);
    expect((error as Error).message).toMatch(/STRIPE_API_BASE: must be a URL/);
  });

  it('never shows secrets when described for a log', () => {
    const described = JSON.stringify(
      describeConfig(
        loadConfig({
          STRIPE_SECRET_KEY: 'sk_test_supersecret',
          STRIPE_WEBHOOK_SECRET: 'whsec_abc',
        }),
      ),
    );
    expect(described).not.toContain('supersecret');
    expect(described).not.toContain('whsec_abc');
  });
});
