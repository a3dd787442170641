// The outbox notifier: one durable line per notification id, whoever sends it and how often —
// sequentially, concurrently, from a second instance, or from other processes sharing the file.
import { execFile } from 'node:child_process';
import { appendFile, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OutboxFile, readOutbox } from '../../src/notifications/outbox-file.js';
import { OutboxNotifier } from '../../src/notifications/outbox.js';
import { notification, scratchOutbox } from './fixtures.js';

const lines = async (path: string) =>
  (await readFile(path, 'utf8')).split('\n').filter((line) => line.trim() !== '');

let outbox: Awaited<ReturnType<typeof scratchOutbox>>;
const notifiers: OutboxNotifier[] = [];
const open = (path = outbox.path) => {
  const notifier = new OutboxNotifier({ path });
  notifiers.push(notifier);
  return notifier;
};

beforeEach(async () => {
  outbox = await scratchOutbox();
});
afterEach(async () => {
  await Promise.all(notifiers.splice(0).map((n) => n.close()));
  await outbox.cleanup();
});

describe('OutboxNotifier', () => {
  it('records a notification once: the same id sent twice writes one line', async () => {
    const notifier = open();
    const n = notification();

    expect(await notifier.send(n)).toEqual({ id: n.id, duplicate: false });
    expect(await notifier.send(n)).toEqual({ id: n.id, duplicate: true });

    expect(await lines(outbox.path)).toHaveLength(1);
    const [entry] = await readOutbox(outbox.path);
    expect(entry).toMatchObject({ type: 'sent', id: n.id, channel: 'outbox', notification: n });
  });

  it('concurrent sends of one id write one line, and exactly one of them is not a duplicate', async () => {
    const notifier = open();
    const n = notification();

    const results = await Promise.all(Array.from({ length: 10 }, () => notifier.send(n)));

    expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
    expect(await lines(outbox.path)).toHaveLength(1);
  });

  it('a second notifier over the same file (a restarted worker) sees the ids of the first', async () => {
    const n = notification();
    await open().send(n);

    const restarted = open();
    expect(await restarted.send(n)).toEqual({ id: n.id, duplicate: true });
    expect(await restarted.send(notification({ attempt: 3 }))).toMatchObject({ duplicate: false });
    expect((await readOutbox(outbox.path)).map((e) => e.id)).toEqual([
      n.id,
      notification({ attempt: 3 }).id,
    ]);
  });

  it('two live notifiers racing on one file agree on a single first send per id', async () => {
    const [a, b] = [open(), open()];
    const ids = Array.from({ length: 20 }, (_, i) => `race/${i}`);

    const results = await Promise.all(
      ids.flatMap((id) => [a.send(notification({ id })), b.send(notification({ id }))]),
    );

    const firsts = results.filter((r) => !r.duplicate).map((r) => r.id);
    expect(firsts.sort()).toEqual([...ids].sort());
    expect((await readOutbox(outbox.path)).map((e) => e.id).sort()).toEqual([...ids].sort());
  });

  it('processes sharing the file record each id first exactly once (O_APPEND, first line wins)', async () => {
    const child = fileURLToPath(new URL('./outbox-child.ts', import.meta.url));
    const run = promisify(execFile);
    const outputs = await Promise.all(
      Array.from({ length: 4 }, () =>
        run(process.execPath, ['--import', 'tsx', child, outbox.path, '25']),
      ),
    );

    const firsts = outputs.flatMap(({ stdout }) => JSON.parse(stdout) as string[]);
    const ids = Array.from({ length: 25 }, (_, i) => `race/${i}`);
    expect(firsts.sort()).toEqual([...ids].sort());
    expect((await readOutbox(outbox.path)).map((e) => e.id).sort()).toEqual([...ids].sort());
  });

  it('a record torn by a crash is skipped and does not swallow the next one', async () => {
    const before = notification({ attempt: 1 });
    await open().send(before);
    await appendFile(outbox.path, '{"type":"sent","id":"torn'); // power lost mid-write

    const after = notification({ attempt: 2 });
    const restarted = open();
    expect(await restarted.send(after)).toMatchObject({ duplicate: false });

    expect((await readOutbox(outbox.path)).map((e) => e.id)).toEqual([before.id, after.id]);
    expect(restarted.file.skipped).toHaveLength(1);
  });

  it('reads a missing outbox as empty, and creates the file only on the first send', async () => {
    const notifier = open();
    expect(await readOutbox(outbox.path)).toEqual([]);
    await notifier.send(notification());
    expect(await readOutbox(outbox.path)).toHaveLength(1);
  });
});

describe('OutboxFile claims (the email sent-log)', () => {
  const at = (seconds: number) => new Date(Date.UTC(2026, 2, 1, 0, 0, seconds));

  it('a live claim makes another sender wait; once it lapses, the id can be claimed again', async () => {
    const [first, second] = [new OutboxFile(outbox.path), new OutboxFile(outbox.path)];
    try {
      const claimed = await first.claim('n-1', 60_000, at(0));
      expect(claimed.outcome).toBe('claimed');

      expect(await second.claim('n-1', 60_000, at(10))).toEqual({
        outcome: 'busy',
        retryAfterMs: 50_000,
      });
      expect((await second.claim('n-1', 60_000, at(61))).outcome).toBe('claimed');
      // The first holder's claim lapsed: it no longer owns the id.
      expect((await first.claim('n-1', 60_000, at(62))).outcome).toBe('busy');
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });

  it('a released claim frees the id at once, and a recorded send ends all claims', async () => {
    const [first, second] = [new OutboxFile(outbox.path), new OutboxFile(outbox.path)];
    try {
      const claimed = await first.claim('n-1', 60_000, at(0));
      if (claimed.outcome !== 'claimed') throw new Error('expected a claim');
      await first.release('n-1', claimed.token, 'SMTP 451', at(1));

      expect((await second.claim('n-1', 60_000, at(2))).outcome).toBe('claimed');
      await second.recordSent({ id: 'n-1', channel: 'email', notification: notification() });
      expect((await first.claim('n-1', 60_000, at(3))).outcome).toBe('sent');
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });
});
