// One "worker host" of the two-host notification test: at START_AT (epoch ms) it sends the same
// notification SENDS times at once through the outbox notifier and through the email notifier,
// both on the PostgreSQL store (NOTIFICATIONS_DATABASE_URL), retrying what another host holds,
// and prints how many of its sends were first (duplicate: false). Run by notifications.test.ts.
import { NotificationInProgressError } from '../../src/notifications/notifier.js';
import type { CustomerNotification } from '../../src/shared/notifications.js';
import { EmailNotifier, OutboxNotifier, PostgresSentLog } from '../../src/notifications/index.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`notify-host: set ${name}`);
  return value;
};
const notification = JSON.parse(env('NOTIFICATION')) as CustomerNotification;
const sends = Number(env('SENDS'));
const outboxLog = new PostgresSentLog(env('NOTIFICATIONS_DATABASE_URL'));
const emailLog = new PostgresSentLog(env('NOTIFICATIONS_DATABASE_URL'));
const outbox = new OutboxNotifier({ sentLog: outboxLog });
const email = new EmailNotifier({
  smtpUrl: env('SMTP_URL'),
  from: 'Billing <billing@example.com>',
  resolveRecipient: () => Promise.resolve('customer@example.com'),
  sentLog: emailLog,
  leaseMs: 30_000,
});

async function untilDone(send: () => Promise<{ duplicate: boolean }>): Promise<boolean> {
  for (;;) {
    try {
      return !(await send()).duplicate;
    } catch (error) {
      // The other host holds the claim: retried after its hint, as the activity's retry would.
      if (!(error instanceof NotificationInProgressError)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

await new Promise((resolve) =>
  setTimeout(resolve, Math.max(0, Number(env('START_AT')) - Date.now())),
);
const emailNotification = { ...notification, id: `${notification.id}/email` };
const [outboxFirsts, emailFirsts] = await Promise.all([
  Promise.all(Array.from({ length: sends }, () => untilDone(() => outbox.send(notification)))),
  Promise.all(Array.from({ length: sends }, () => untilDone(() => email.send(emailNotification)))),
]);
await outbox.close();
await email.close();
process.stdout.write(
  `${JSON.stringify({
    outboxFirst: outboxFirsts.filter(Boolean).length,
    emailFirst: emailFirsts.filter(Boolean).length,
  })}\n`,
);
