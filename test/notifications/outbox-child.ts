// A separate process for the cross-process outbox test: sends the given ids through its own
// OutboxNotifier and prints how many it recorded first (not duplicates).
import { OutboxNotifier } from '../../src/notifications/outbox.js';
import { notification } from './fixtures.js';

const [path, count] = process.argv.slice(2);
if (!path || !count) throw new Error('usage: outbox-child.ts <outbox path> <id count>');
const notifier = new OutboxNotifier({ path });
const ids = Array.from({ length: Number(count) }, (_, i) => `race/${i}`);
const results = await Promise.all(ids.map((id) => notifier.send(notification({ id }))));
await notifier.close();
process.stdout.write(JSON.stringify(results.filter((r) => !r.duplicate).map((r) => r.id)));
