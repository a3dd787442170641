// Schema-cost variant (b): the project's own schemas (src/shared/schemas.ts on validate.ts)
// validate the input, and the handlers validate their payloads, as a charge's do.
import { ApplicationFailure, setHandler, sleep } from '@temporalio/workflow';
import {
  cancelSchema,
  chargeInputSchema,
  describeIssues,
  retryNowSchema,
  stripeEventSignalSchema,
} from '../../src/shared/schemas.js';
import { cancelSignal, retryNowUpdate, SLEEP, stripeEventSignal } from './messages.js';

export async function schemaCost(input: unknown): Promise<void> {
  const parsed = chargeInputSchema.safeParse(input);
  if (!parsed.success) throw ApplicationFailure.nonRetryable(describeIssues(parsed.error));
  setHandler(stripeEventSignal, (event) => void stripeEventSignalSchema.safeParse(event));
  setHandler(cancelSignal, (payload) => void cancelSchema.safeParse(payload));
  setHandler(retryNowUpdate, (arg) => retryNowSchema.safeParse(arg).success);
  await sleep(SLEEP);
}
