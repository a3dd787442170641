// The notifyCustomer activity (Temporal's MockActivityEnvironment) and the notifier factory and
// configuration it is wired with: typed failures, defaults, and secrets kept out of logs.
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createNotificationActivities } from '../../src/activities/notifications.js';
import { ConfigError, describeConfig, loadConfig } from '../../src/config.js';
import {
  EmailNotifier,
  NotificationInProgressError,
  NotificationUndeliverableError,
  OutboxNotifier,
  createNotifier,
  readOutbox,
  type Notifier,
} from '../../src/notifications/index.js';
import { NotificationFailureType } from '../../src/shared/notification-failures.js';
import type { CustomerNotification } from '../../src/shared/notifications.js';
import { notification, scratchOutbox } from './fixtures.js';

let outbox: Awaited<ReturnType<typeof scratchOutbox>>;
beforeEach(async () => {
  outbox = await scratchOutbox();
});
afterEach(() => outbox.cleanup());

const failing = (error: Error): Notifier => ({
  send: async () => {
    throw error;
  },
});

async function runActivity(notifier: Notifier, input: CustomerNotification) {
  const activities = createNotificationActivities(notifier);
  // Expected failures stay out of the test output.
  const logger = new DefaultLogger('ERROR');
  return new MockActivityEnvironment({}, { logger }).run(
    (n: CustomerNotification) => activities.notifyCustomer(n),
    input,
  );
}

const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected the activity to fail');
    },
    (error: unknown) => {
      if (!(error instanceof ApplicationFailure)) throw error;
      return error;
    },
  );

describe('notifyCustomer activity', () => {
  it('records through the notifier; a retry of the activity reports a duplicate', async () => {
    const notifier = new OutboxNotifier({ path: outbox.path });
    const n = notification();

    expect(await runActivity(notifier, n)).toEqual({ id: n.id, duplicate: false });
    expect(await runActivity(notifier, n)).toEqual({ id: n.id, duplicate: true });
    expect(await readOutbox(outbox.path)).toHaveLength(1);
    await notifier.close();
  });

  it('rejects an invalid notification as non-retryable, naming the field', async () => {
    const failure = await failureOf(
      runActivity(failing(new Error('not called')), notification({ amount: 12.5 })),
    );
    expect(failure.type).toBe(NotificationFailureType.invalid);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('amount must be a whole number of minor units');
  });

  it('an undeliverable notification fails non-retryable; one in progress elsewhere is retried after the lease', async () => {
    const undeliverable = await failureOf(
      runActivity(failing(new NotificationUndeliverableError('n-1', 'no email')), notification()),
    );
    expect(undeliverable).toMatchObject({
      type: NotificationFailureType.undeliverable,
      nonRetryable: true,
    });

    const busy = await failureOf(
      runActivity(failing(new NotificationInProgressError('n-1', 30_000)), notification()),
    );
    expect(busy).toMatchObject({ type: NotificationFailureType.inProgress, nonRetryable: false });
    expect(busy.nextRetryDelay).toBe(30_000);
  });
});

describe('notifier configuration', () => {
  it('defaults to the outbox notifier at OUTBOX_PATH', () => {
    const notifier = createNotifier(loadConfig({ OUTBOX_PATH: outbox.path }));
    expect(notifier).toBeInstanceOf(OutboxNotifier);
    expect((notifier as OutboxNotifier).path).toBe(outbox.path);
  });

  it('NOTIFIER=email builds the email notifier from SMTP_URL and NOTIFY_FROM', async () => {
    const config = loadConfig({
      NOTIFIER: 'email',
      SMTP_URL: 'smtp://127.0.0.1:2525',
      NOTIFY_FROM: 'Billing <billing@shop.example>',
    });
    const notifier = createNotifier(config, { resolveRecipient: async () => undefined });
    expect(notifier).toBeInstanceOf(EmailNotifier);
    await (notifier as EmailNotifier).close();
  });

  it('NOTIFIER=email without SMTP_URL or NOTIFY_FROM fails at start, naming each variable', () => {
    expect(() => loadConfig({ NOTIFIER: 'email' })).toThrow(ConfigError);
    try {
      loadConfig({ NOTIFIER: 'email' });
    } catch (error) {
      expect((error as ConfigError).issues).toEqual([
        { variable: 'SMTP_URL', problem: 'must be set when NOTIFIER=email' },
        { variable: 'NOTIFY_FROM', problem: 'must be set when NOTIFIER=email' },
      ]);
    }
    expect(() => loadConfig({ NOTIFIER: 'sms' })).toThrow(/NOTIFIER: must be outbox or email/);
    expect(() => loadConfig({ SMTP_URL: 'http://mail' })).toThrow(/SMTP_URL: must be a URL/);
  });

  it('never logs the SMTP password', () => {
    const config = loadConfig({
      NOTIFIER: 'email',
      SMTP_URL: 'smtps://apikey:s3cret-pass@smtp.example.com:465',
      NOTIFY_FROM: 'billing@shop.example',
    });
    const logged = JSON.stringify(describeConfig(config));
    expect(logged).not.toContain('s3cret-pass');
    expect(logged).toContain('smtps://apikey:***@smtp.example.com:465');
  });
});
