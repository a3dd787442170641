// The outbox and the email sent-log in PostgreSQL (NOTIFICATIONS_DATABASE_URL), for workers on
// several hosts: one row per notification id under a primary key, so the database, not a local
// file, decides every race between hosts. Same operations and outcomes as the file (OutboxFile).
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { createLogger, type Logger } from '../observability/logger.js';
import type { CustomerNotification } from '../shared/notifications.js';
import type { ClaimOutcome, OutboxEntry } from './outbox-file.js';

/** What the notifiers need from a sent-log: the file (OutboxFile) and this store both provide it. */
export interface SentLog {
  /** Where it is, for messages (a path, or the database without its password). */
  readonly path: string;
  sentEntry(id: string): Promise<OutboxEntry | undefined>;
  recordSent(
    entry: Omit<OutboxEntry, 'type' | 'token' | 'at'>,
  ): Promise<{ first: boolean; entry: OutboxEntry }>;
  claim(id: string, leaseMs: number): Promise<ClaimOutcome>;
  release(id: string, token: string, reason: string): Promise<void>;
  close(): Promise<void>;
}

/** The table; created on first use. `id` is the notification id (invariant: one row per id). */
export const NOTIFICATIONS_TABLE = 'billing_notifications';

const CREATE_TABLE = `
CREATE TABLE IF NOT EXISTS ${NOTIFICATIONS_TABLE} (
  id           text        PRIMARY KEY,
  state        text        NOT NULL CHECK (state IN ('claimed', 'released', 'sent')),
  token        text        NOT NULL,
  channel      text,
  notification jsonb,
  message_id   text,
  recipient    text,
  reason       text,
  lease_ms     integer,
  updated_at   timestamptz NOT NULL DEFAULT now()
)`;

interface Row {
  id: string;
  state: 'claimed' | 'released' | 'sent';
  token: string;
  channel: string | null;
  notification: CustomerNotification | null;
  message_id: string | null;
  recipient: string | null;
  updated_at: Date;
  /** ms until a live claim lapses (computed by the database: its clock is the referee). */
  remaining_ms?: number | null;
}

function entryOf(row: Row): OutboxEntry {
  return {
    type: 'sent',
    id: row.id,
    token: row.token,
    at: row.updated_at.toISOString(),
    channel: row.channel ?? 'outbox',
    notification: row.notification!,
    ...(row.message_id !== null && { messageId: row.message_id }),
    ...(row.recipient !== null && { to: row.recipient }),
  };
}

/** The URL without its password, for logs and errors. */
function redacted(url: string): string {
  if (!URL.canParse(url)) return 'postgresql://(unparsable URL)';
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

/**
 * A sent-log in PostgreSQL. Each decision is one statement on the primary key (`INSERT … ON
 * CONFLICT … DO UPDATE … WHERE`), so two hosts that claim or record the same id at once are
 * ordered by the row lock: exactly one gets `first`/`claimed`. Lease expiry is judged by the
 * database's clock, never a host's. The pool connects lazily; `close` ends it.
 */
export class PostgresSentLog implements SentLog {
  readonly path: string;
  readonly #pool: pg.Pool;
  #ready: Promise<void> | undefined;

  constructor(
    databaseUrl: string,
    options: { maxConnections?: number; logger?: Pick<Logger, 'warn'> } = {},
  ) {
    this.path = redacted(databaseUrl);
    this.#pool = new pg.Pool({
      connectionString: databaseUrl,
      max: options.maxConnections ?? 4,
      // Idle connections do not keep a stopping worker's process alive (it does not close notifiers).
      allowExitOnIdle: true,
    });
    // An idle client's connection can end under it (PostgreSQL restarted, failed over): pg then
    // emits `error` on the pool, which with no listener ends the worker's process. The pool has
    // already dropped that client and connects anew for the next statement; a statement that
    // was running fails on its own and its activity retries.
    const logger =
      options.logger ?? createLogger({ name: 'notifications-postgres', secrets: [databaseUrl] });
    this.#pool.on('error', (error) =>
      logger.warn(
        { store: this.path, error: error.message },
        'an idle connection to the notifications database ended; the next statement reconnects',
      ),
    );
  }

  async #query(sql: string, values: unknown[]): Promise<Row[]> {
    this.#ready ??= this.#pool.query(CREATE_TABLE).then(
      () => undefined,
      (error: unknown) => {
        // Two hosts creating the table at once: PostgreSQL's IF NOT EXISTS is not atomic, and
        // the loser gets a unique violation on the catalog (23505) or "already exists" (42P07).
        const code = (error as { code?: unknown }).code;
        if (code === '23505' || code === '42P07') return;
        this.#ready = undefined;
        throw new Error(
          `notifications store ${this.path}: creating ${NOTIFICATIONS_TABLE} failed`,
          {
            cause: error,
          },
        );
      },
    );
    await this.#ready;
    return (await this.#pool.query<Row>(sql, values)).rows;
  }

  async sentEntry(id: string): Promise<OutboxEntry | undefined> {
    const [row] = await this.#query(
      `SELECT * FROM ${NOTIFICATIONS_TABLE} WHERE id = $1 AND state = 'sent'`,
      [id],
    );
    return row && entryOf(row);
  }

  async recordSent(
    entry: Omit<OutboxEntry, 'type' | 'token' | 'at'>,
  ): Promise<{ first: boolean; entry: OutboxEntry }> {
    const token = randomUUID();
    // A row that is not `sent` yet (our own claim, or a released one) becomes the delivery.
    const [row] = await this.#query(
      `INSERT INTO ${NOTIFICATIONS_TABLE} (id, state, token, channel, notification, message_id, recipient)
       VALUES ($1, 'sent', $2, $3, $4, $5, $6)
       ON CONFLICT (id) DO UPDATE SET state = 'sent', token = EXCLUDED.token, channel = EXCLUDED.channel,
         notification = EXCLUDED.notification, message_id = EXCLUDED.message_id,
         recipient = EXCLUDED.recipient, reason = NULL, updated_at = now()
       WHERE ${NOTIFICATIONS_TABLE}.state <> 'sent'
       RETURNING *`,
      [
        entry.id,
        token,
        entry.channel,
        JSON.stringify(entry.notification),
        entry.messageId ?? null,
        entry.to ?? null,
      ],
    );
    if (row) return { first: true, entry: entryOf(row) };
    const earlier = await this.sentEntry(entry.id);
    if (!earlier)
      throw new Error(`notifications store ${this.path}: the record of ${entry.id} is missing`);
    return { first: false, entry: earlier };
  }

  async claim(id: string, leaseMs: number): Promise<ClaimOutcome> {
    const token = randomUUID();
    const [row] = await this.#query(
      `INSERT INTO ${NOTIFICATIONS_TABLE} (id, state, token, lease_ms)
       VALUES ($1, 'claimed', $2, $3)
       ON CONFLICT (id) DO UPDATE SET state = 'claimed', token = EXCLUDED.token,
         lease_ms = EXCLUDED.lease_ms, reason = NULL, updated_at = now()
       WHERE ${NOTIFICATIONS_TABLE}.state = 'released'
          OR (${NOTIFICATIONS_TABLE}.state = 'claimed'
              AND ${NOTIFICATIONS_TABLE}.updated_at + ${NOTIFICATIONS_TABLE}.lease_ms * interval '1 millisecond' <= now())
       RETURNING *`,
      [id, token, leaseMs],
    );
    if (row) return { outcome: 'claimed', token };
    const [current] = await this.#query(
      `SELECT *, GREATEST(0, EXTRACT(EPOCH FROM (updated_at + lease_ms * interval '1 millisecond' - now())) * 1000)::integer AS remaining_ms
       FROM ${NOTIFICATIONS_TABLE} WHERE id = $1`,
      [id],
    );
    if (current?.state === 'sent') return { outcome: 'sent', entry: entryOf(current) };
    // Claimed by another host (or released between our two statements: retry soon).
    return { outcome: 'busy', retryAfterMs: Math.max(current?.remaining_ms ?? 0, 100) };
  }

  async release(id: string, token: string, reason: string): Promise<void> {
    await this.#query(
      `UPDATE ${NOTIFICATIONS_TABLE} SET state = 'released', reason = $3, updated_at = now()
       WHERE id = $1 AND token = $2 AND state = 'claimed'`,
      [id, token, reason],
    );
  }

  /** Every delivered notification, oldest first (what `readOutbox` is for the file). */
  async readSent(): Promise<OutboxEntry[]> {
    const rows = await this.#query(
      `SELECT * FROM ${NOTIFICATIONS_TABLE} WHERE state = 'sent' ORDER BY updated_at, id`,
      [],
    );
    return rows.map(entryOf);
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}
