// The bench worker's workflow entry: every production workflow plus `noopCharge`, Temporal's own
// floor for a charge (one workflow, two sequential activities that do nothing). Deterministic code.
import { proxyActivities } from '@temporalio/workflow';
import type { NoopActivities } from './noop-activities.js';

export * from '../src/workflows/index.js';

const { benchNoop } = proxyActivities<NoopActivities>({ startToCloseTimeout: '1 minute' });

/** The floor: the same shape as a card charge (create, then confirm) with nothing behind it. */
export async function noopCharge(
  orderId: string,
): Promise<{ outcome: 'succeeded'; orderId: string }> {
  await benchNoop(`create ${orderId}`);
  await benchNoop(`confirm ${orderId}`);
  return { outcome: 'succeeded', orderId };
}
