// The default notifier: writes each notification once to the outbox file, a durable and
// inspectable record that an app, a relay or an operator reads (`readOutbox`). Sends nothing.
import type { CustomerNotification } from '../shared/notifications.js';
import type { Notifier, NotifierResult } from './notifier.js';
import { OutboxFile, defaultOutboxPath } from './outbox-file.js';
import type { SentLog } from './outbox-postgres.js';

/** Options of `OutboxNotifier`. */
export interface OutboxNotifierOptions {
  /** The JSON-lines file; default `defaultOutboxPath()`. Created (0600) on the first send. */
  path?: string | undefined;
  /** Another store instead of the file: `PostgresSentLog` (NOTIFICATIONS_DATABASE_URL) for several hosts. */
  sentLog?: SentLog | undefined;
}

/**
 * Records notifications in the outbox file, once per id. A send resolves only after its line is
 * fsynced, so an acknowledged notification survives a crash. Same id twice (sequentially or
 * concurrently, in one process or several sharing a local file): exactly one call returns
 * `duplicate: false`, and `readOutbox` yields the id once. The file is opened lazily: creating
 * the notifier does no I/O.
 */
export class OutboxNotifier implements Notifier {
  /** The outbox file (opened only when it is the store). */
  readonly file: OutboxFile;
  /** Where sends are recorded: the file, or the `sentLog` given. */
  readonly store: SentLog;

  constructor(options: OutboxNotifierOptions = {}) {
    this.file = new OutboxFile(options.path ?? defaultOutboxPath());
    this.store = options.sentLog ?? this.file;
  }

  /** The file this notifier writes. */
  get path(): string {
    return this.store.path;
  }

  async send(notification: CustomerNotification): Promise<NotifierResult> {
    const { first } = await this.store.recordSent({
      id: notification.id,
      channel: 'outbox',
      notification,
    });
    return { id: notification.id, duplicate: !first };
  }

  /** Closes the file handle (tests; the worker keeps it open for its lifetime). */
  close(): Promise<void> {
    return this.store.close();
  }
}
