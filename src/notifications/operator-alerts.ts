// Alerts to operators (disputes, issue 14): the seam the alertOperators activity calls, and the
// default, a JSON-lines file next to the customer outbox that an app, a relay or an on-call
// tool reads. At most once per alert id, like customer notifications.
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { OperatorAlert } from '../shared/disputes.js';
import { defaultOutboxPath } from './outbox-file.js';

/** Sends operator alerts, at most once per `OperatorAlert.id`. */
export interface OperatorAlerter {
  send(alert: OperatorAlert): Promise<{ id: string; duplicate: boolean }>;
}

/** `operator-alerts.jsonl` in the outbox's directory. */
export function defaultOperatorAlertsPath(): string {
  return join(dirname(defaultOutboxPath()), 'operator-alerts.jsonl');
}

/**
 * Appends each alert once to a JSON-lines file (`{ at, alert }` per line). Dedupe is by the
 * ids already in the file, read once per process, and by the ids this process appended; two
 * processes racing on one id may both append it (a reader dedupes by id).
 */
export class FileOperatorAlerter implements OperatorAlerter {
  private sent: Promise<Set<string>> | undefined;

  constructor(readonly path: string = defaultOperatorAlertsPath()) {}

  async send(alert: OperatorAlert): Promise<{ id: string; duplicate: boolean }> {
    const sent = await (this.sent ??= this.load());
    if (sent.has(alert.id)) return { id: alert.id, duplicate: true };
    sent.add(alert.id);
    await mkdir(dirname(this.path), { recursive: true });
    await appendFile(this.path, `${JSON.stringify({ at: new Date().toISOString(), alert })}\n`, {
      mode: 0o600,
    });
    return { id: alert.id, duplicate: false };
  }

  private async load(): Promise<Set<string>> {
    const ids = new Set<string>();
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return ids;
      throw error;
    }
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        const { alert } = JSON.parse(line) as { alert?: { id?: unknown } };
        if (typeof alert?.id === 'string') ids.add(alert.id);
      } catch {
        // A torn last line (crash mid-append): that alert is sent again.
        continue;
      }
    }
    return ids;
  }
}
