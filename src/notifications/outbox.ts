// The default notifier: writes each notification once to the outbox file, a durable and
// inspectable record that an app, a relay or an operator reads (`readOutbox`). Sends nothing.
import type { CustomerNotification } from '../shared/notifications.js';
import type { Notifier, NotifierResult } from './notifier.js';
import { OutboxFile, defaultOutboxPath } from './outbox-file.js';

/** Options of `OutboxNotifier`. */
export interface OutboxNotifierOptions {
  /** The JSON-lines file; default `defaultOutboxPath()`. Created (0600) on the first send. */
  path?: string | undefined;
}

/**
 * Records notifications in the outbox file, once per id. A send resolves only after its line is
 * fsynced, so an acknowledged notification survives a crash. Same id twice (sequentially or
 * concurrently, in one process or several sharing a local file): exactly one call returns
 * `duplicate: false`, and `readOutbox` yields the id once. The file is opened lazily: creating
 * the notifier does no I/O.
 */
export class OutboxNotifier implements Notifier {
  readonly file: OutboxFile;

  constructor(options: OutboxNotifierOptions = {}) {
    this.file = new OutboxFile(options.path ?? defaultOutboxPath());
  }

  /** The file this notifier writes. */
  get path(): string {
    return this.file.path;
  }

  async send(notification: CustomerNotification): Promise<NotifierResult> {
    const { first } = await this.file.recordSent({
      id: notification.id,
      channel: 'outbox',
      notification,
    });
    return { id: notification.id, duplicate: !first };
  }

  /** Closes the file handle (tests; the worker keeps it open for its lifetime). */
  close(): Promise<void> {
    return this.file.close();
  }
}
