// Shared inputs of the notification tests: a notification with overridable fields, and a fresh
// outbox path per test under the OS temp directory.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NotificationKind, type CustomerNotification } from '../../src/shared/notifications.js';

/** A `payment_failed` notification for order-1, attempt 2 (override any field). */
export function notification(overrides: Partial<CustomerNotification> = {}): CustomerNotification {
  const kind = overrides.kind ?? NotificationKind.paymentFailed;
  const attempt = overrides.attempt ?? 2;
  return {
    id: `db/charge:order-1/notify/${attempt}/${kind}`,
    kind,
    orderId: 'order-1',
    customerId: 'cus_123',
    paymentIntentId: 'pi_123',
    amount: 12_34,
    currency: 'usd',
    attempt,
    nextAttemptAt: '2026-03-05T09:30:00.000Z',
    declineCode: 'insufficient_funds',
    ...overrides,
  };
}

/** A fresh directory for one test's outbox; `cleanup` removes it. */
export async function scratchOutbox(): Promise<{ path: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'durable-billing-outbox-'));
  return {
    path: join(dir, 'notifications.jsonl'),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
