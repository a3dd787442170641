// `npm run backfill`: route every Stripe event since --since (ISO time or unix seconds; default
// 3 days back) now, or with --schedule create/update the backfill Schedule and exit.
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { connectClient } from '../temporal.js';
import { ensureBackfillSchedule, runBackfill } from './backfill.js';

function unixSeconds(value: string): number {
  const seconds = /^\d+$/.test(value) ? Number(value) : Date.parse(value) / 1000;
  if (!Number.isFinite(seconds))
    throw new Error(`--since must be an ISO time or unix seconds, got "${value}"`);
  return Math.floor(seconds);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { since: { type: 'string' }, schedule: { type: 'boolean', default: false } },
  });
  const config = loadConfig();
  const client = await connectClient(config);
  try {
    if (values.schedule) {
      const handle = await ensureBackfillSchedule(client, {
        taskQueue: config.TEMPORAL_TASK_QUEUE,
        intervalMinutes: config.BACKFILL_INTERVAL_MINUTES,
      });
      console.log(
        `backfill: schedule ${handle.scheduleId} runs every ${config.BACKFILL_INTERVAL_MINUTES} min`,
      );
      return;
    }
    const result = await runBackfill(client, {
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      ...(values.since !== undefined && { since: unixSeconds(values.since) }),
    });
    console.log(`backfill: ${JSON.stringify(result)}`);
  } finally {
    await client.connection.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
