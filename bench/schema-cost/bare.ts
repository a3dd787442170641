// Schema-cost variant (a), the baseline: a bare workflow that registers a charge's handlers and
// sleeps, validating nothing.
import { setHandler, sleep } from '@temporalio/workflow';
import { cancelSignal, retryNowUpdate, SLEEP, stripeEventSignal } from './messages.js';

export async function schemaCost(input: unknown): Promise<void> {
  if (typeof input !== 'object' || input === null) throw new Error('no input');
  setHandler(stripeEventSignal, () => undefined);
  setHandler(cancelSignal, () => undefined);
  setHandler(retryNowUpdate, () => true);
  await sleep(SLEEP);
}
