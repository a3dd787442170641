// A chargeCustomer that sleeps before doing anything: the kind of unguarded change (no
// `patched()`) that the replay test must catch.
import { sleep } from '@temporalio/workflow';
import { chargeCustomer as released } from '../../src/workflows/charge-customer.js';

export async function chargeCustomer(
  ...args: Parameters<typeof released>
): ReturnType<typeof released> {
  await sleep('1 second');
  return released(...args);
}
