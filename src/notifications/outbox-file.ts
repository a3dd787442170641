// The outbox file: an append-only JSON-lines record of every notification sent, by id. It is
// both the default notifier's output and the email notifier's sent-log; several processes may
// share it, and the order of lines in the file decides every race between them.
import { randomUUID } from 'node:crypto';
import { open, mkdir, readFile, type FileHandle } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { customerNotificationSchema } from './schema.js';

/** `$DURABLE_BILLING_CACHE/outbox/notifications.jsonl`, by default under `~/.cache/durable-billing`. */
export function defaultOutboxPath(): string {
  const cache = process.env.DURABLE_BILLING_CACHE ?? join(homedir(), '.cache', 'durable-billing');
  return join(cache, 'outbox', 'notifications.jsonl');
}

const base = { id: z.string(), token: z.string(), at: z.iso.datetime() };

/** A notification that was delivered (to the outbox, or accepted by the SMTP server). */
const sentRecordSchema = z.object({
  type: z.literal('sent'),
  ...base,
  /** Which notifier delivered it: `outbox`, `email`, or your own. */
  channel: z.string(),
  notification: customerNotificationSchema,
  /** The email's Message-ID, for the email channel. */
  messageId: z.string().optional(),
  /** The recipient address, for the email channel. */
  to: z.string().optional(),
});

/** A sender took the id for `leaseMs` before a side effect outside the file (SMTP). */
const claimedRecordSchema = z.object({
  type: z.literal('claimed'),
  ...base,
  leaseMs: z.number().int().positive(),
});

/** The claim's holder failed before delivering; the id is free again. */
const releasedRecordSchema = z.object({
  type: z.literal('released'),
  ...base,
  reason: z.string(),
});

const outboxRecordSchema = z.discriminatedUnion('type', [
  sentRecordSchema,
  claimedRecordSchema,
  releasedRecordSchema,
]);

/** One delivered notification as the outbox records it (one JSON line). */
export type OutboxEntry = z.infer<typeof sentRecordSchema>;
type ClaimedRecord = z.infer<typeof claimedRecordSchema>;
type OutboxRecord = z.infer<typeof outboxRecordSchema>;

/** What the file says about one id, folded over its lines in file order. */
interface IdState {
  /** The first `sent` line: the delivery that counts. Later ones are ignored. */
  sent?: OutboxEntry | undefined;
  /** The live claim: the first claim after the last release or expiry, while nothing is sent. */
  holder?: ClaimedRecord | undefined;
}

const expiresAt = (claim: ClaimedRecord) => Date.parse(claim.at) + claim.leaseMs;

/**
 * Folds one record into the per-id state. Pure and order-dependent: every process that has read
 * the same prefix of the file reaches the same state, which is what makes the file the referee.
 * A claim's expiry is judged by the next claimer's own timestamp, so it is also read from the
 * file, not from the reader's clock.
 */
function fold(states: Map<string, IdState>, record: OutboxRecord): void {
  const state = states.get(record.id) ?? {};
  states.set(record.id, state);
  switch (record.type) {
    case 'sent':
      state.sent ??= record;
      state.holder = undefined;
      return;
    case 'claimed':
      if (state.sent) return;
      if (!state.holder || Date.parse(record.at) >= expiresAt(state.holder)) state.holder = record;
      return;
    case 'released':
      if (state.holder?.token === record.token) state.holder = undefined;
      return;
  }
}

/** A line that did not parse (a record torn by a crash, or a foreign edit); skipped, never fatal. */
export interface SkippedLine {
  line: string;
  problem: string;
}

function parseLines(text: string, onRecord: (r: OutboxRecord) => void, skipped: SkippedLine[]) {
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (error) {
      skipped.push({ line, problem: error instanceof Error ? error.message : String(error) });
      continue;
    }
    const parsed = outboxRecordSchema.safeParse(json);
    if (parsed.success) onRecord(parsed.data);
    else skipped.push({ line, problem: z.prettifyError(parsed.error) });
  }
}

/**
 * Reads an outbox file: every delivered notification once (the first line per id wins), in file
 * order. A missing file reads as empty. For tests, the CLI, the demo and operators.
 */
export async function readOutbox(path: string): Promise<OutboxEntry[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new Error(`reading the outbox ${path} failed`, { cause: error });
  }
  // A trailing fragment without a newline is a write in progress (or torn): not yet a record.
  const complete = text.slice(0, text.lastIndexOf('\n') + 1);
  const states = new Map<string, IdState>();
  const order: string[] = [];
  parseLines(
    complete,
    (record) => {
      if (record.type === 'sent' && !states.get(record.id)?.sent) order.push(record.id);
      fold(states, record);
    },
    [],
  );
  return order.flatMap((id) => states.get(id)?.sent ?? []);
}

/** The result of `OutboxFile.claim`. */
export type ClaimOutcome =
  | { outcome: 'sent'; entry: OutboxEntry }
  | { outcome: 'busy'; retryAfterMs: number }
  | { outcome: 'claimed'; token: string };

/**
 * One process's handle on an outbox file. Every operation runs in order on one queue; the
 * in-memory state is the fold of the file's lines up to `offset`, refreshed before each decision.
 *
 * Cross-process safety rests on `O_APPEND`: each record is one `write(2)` of one line, so on a
 * local POSIX filesystem appends never interleave and every process sees one total order of
 * lines. After appending, a writer re-reads up to and past its own line; the first line for an id
 * wins everywhere. Not safe on NFS or other filesystems without atomic append.
 */
export class OutboxFile {
  readonly path: string;
  /** Lines that did not parse, for inspection (they are skipped). */
  readonly skipped: SkippedLine[] = [];
  #file: Promise<FileHandle> | undefined;
  #offset = 0;
  readonly #states = new Map<string, IdState>();
  #queue: Promise<unknown> = Promise.resolve();

  constructor(path: string) {
    this.path = path;
  }

  /** The delivered entry for `id`, if any line of the file records one. */
  sentEntry(id: string): Promise<OutboxEntry | undefined> {
    return this.#serial(async (file) => {
      await this.#refresh(file);
      return this.#states.get(id)?.sent;
    });
  }

  /**
   * Records a delivery, durably (fsync) before resolving. `first` is false when an earlier line
   * already recorded this id (then this call appended nothing, or — in a cross-process race —
   * appended a line that every reader ignores).
   */
  recordSent(
    entry: Omit<OutboxEntry, 'type' | 'token' | 'at'>,
    now = new Date(),
  ): Promise<{ first: boolean; entry: OutboxEntry }> {
    return this.#serial(async (file) => {
      await this.#refresh(file);
      const earlier = this.#states.get(entry.id)?.sent;
      if (earlier) return { first: false, entry: earlier };
      const { id, ...rest } = entry;
      const record: OutboxEntry = {
        type: 'sent',
        id,
        at: now.toISOString(),
        token: randomUUID(),
        ...rest,
      };
      await this.#append(file, record, { sync: true });
      const winner = this.#states.get(entry.id)?.sent;
      if (!winner) throw new Error(`outbox ${this.path}: the record of ${entry.id} is missing`);
      return { first: winner.token === record.token, entry: winner };
    });
  }

  /**
   * Takes `id` for `leaseMs` before an outside side effect. `busy` when another live claim holds
   * it; `sent` when it is already delivered. The claim is not fsynced: losing it in a crash only
   * frees the id, and nothing was delivered under it yet.
   */
  claim(id: string, leaseMs: number, now = new Date()): Promise<ClaimOutcome> {
    return this.#serial(async (file): Promise<ClaimOutcome> => {
      const decide = (token?: string): ClaimOutcome | undefined => {
        const state = this.#states.get(id);
        if (state?.sent) return { outcome: 'sent', entry: state.sent };
        const holder = state?.holder;
        if (holder && holder.token !== token && expiresAt(holder) > now.getTime())
          return { outcome: 'busy', retryAfterMs: expiresAt(holder) - now.getTime() };
        return undefined;
      };
      await this.#refresh(file);
      const before = decide();
      if (before) return before;
      const token = randomUUID();
      await this.#append(
        file,
        { type: 'claimed', id, token, at: now.toISOString(), leaseMs },
        { sync: false },
      );
      const after = decide(token);
      if (after) return after;
      if (this.#states.get(id)?.holder?.token !== token)
        throw new Error(`outbox ${this.path}: the claim of ${id} is missing`);
      return { outcome: 'claimed', token };
    });
  }

  /** Gives a claim back after a failed delivery, so a retry can claim the id at once. */
  release(id: string, token: string, reason: string, now = new Date()): Promise<void> {
    return this.#serial(async (file) => {
      await this.#append(
        file,
        { type: 'released', id, token, at: now.toISOString(), reason },
        { sync: false },
      );
    });
  }

  /** Closes the file; later operations reopen it. */
  close(): Promise<void> {
    return this.#serial(async (file) => {
      this.#file = undefined;
      await file.close();
    });
  }

  #serial<T>(operation: (file: FileHandle) => Promise<T>): Promise<T> {
    const run = this.#queue.then(async () => operation(await this.#open()));
    // The queue continues after a failure; the caller still sees the error.
    this.#queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  #open(): Promise<FileHandle> {
    this.#file ??= this.#openFile().catch((error: unknown) => {
      this.#file = undefined;
      throw new Error(`opening the outbox ${this.path} failed: check OUTBOX_PATH`, {
        cause: error,
      });
    });
    return this.#file;
  }

  async #openFile(): Promise<FileHandle> {
    const directory = dirname(this.path);
    await mkdir(directory, { recursive: true, mode: 0o700 });
    // O_APPEND | O_CREAT | O_RDWR; 0600: the records name customers and amounts.
    const file = await open(this.path, 'a+', 0o600);
    const { size } = await file.stat();
    if (size === 0) {
      // A new file's directory entry must be durable too, or an fsynced record can vanish.
      const dir = await open(directory, 'r');
      await dir.sync().finally(() => dir.close());
    } else {
      // A record torn by a crash (no final newline) must not swallow the next one.
      const last = Buffer.alloc(1);
      await file.read(last, 0, 1, size - 1);
      if (last[0] !== 0x0a) await file.write('\n');
    }
    this.#offset = 0;
    this.#states.clear();
    return file;
  }

  /** Folds the lines appended since the last refresh (by anyone) into the state. */
  async #refresh(file: FileHandle): Promise<void> {
    const { size } = await file.stat();
    if (size <= this.#offset) return;
    const chunk = Buffer.alloc(size - this.#offset);
    const { bytesRead } = await file.read(chunk, 0, chunk.length, this.#offset);
    const end = chunk.subarray(0, bytesRead).lastIndexOf(0x0a) + 1;
    if (end === 0) return;
    this.#offset += end;
    parseLines(
      chunk.subarray(0, end).toString('utf8'),
      (record) => fold(this.#states, record),
      this.skipped,
    );
  }

  /** One record, one `write(2)` (atomic under O_APPEND), then the re-read that orders it. */
  async #append(file: FileHandle, record: OutboxRecord, { sync }: { sync: boolean }) {
    const line = Buffer.from(`${JSON.stringify(record)}\n`, 'utf8');
    const { bytesWritten } = await file.write(line);
    if (bytesWritten !== line.length)
      throw new Error(
        `outbox ${this.path}: short write (${bytesWritten} of ${line.length} bytes); check free disk space`,
      );
    if (sync) await file.datasync();
    await this.#refresh(file);
  }
}
