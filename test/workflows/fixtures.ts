// Fixture workflows for the foundation tests (not part of the production bundle).
import { sleep, upsertSearchAttributes } from '@temporalio/workflow';
import { BillingStatus } from '../../src/shared/search-attributes.js';

/** Sleeps for `duration` (e.g. '30 days') and returns it: proves time skipping is real. */
export async function sleepFor(duration: string): Promise<string> {
  await sleep(duration);
  return duration;
}

/** Sets a search attribute, then waits a long time, so a visibility query can find it running. */
export async function markAndWait(status: string): Promise<void> {
  upsertSearchAttributes([{ key: BillingStatus, value: status }]);
  await sleep('1 day');
}
