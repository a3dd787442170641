// Schema-cost variant (c): the same schemas ported to valibot (valibot-schemas.ts) validate the
// input, and the handlers validate their payloads, as a charge's do.
import { ApplicationFailure, setHandler, sleep } from '@temporalio/workflow';
import * as v from 'valibot';
import {
  cancelSchema,
  chargeInputSchema,
  describeIssues,
  retryNowSchema,
  stripeEventSignalSchema,
} from './valibot-schemas.js';
import { cancelSignal, retryNowUpdate, SLEEP, stripeEventSignal } from './messages.js';

export async function schemaCost(input: unknown): Promise<void> {
  const parsed = v.safeParse(chargeInputSchema, input);
  if (!parsed.success) throw ApplicationFailure.nonRetryable(describeIssues(parsed.issues));
  setHandler(stripeEventSignal, (event) => void v.safeParse(stripeEventSignalSchema, event));
  setHandler(cancelSignal, (payload) => void v.safeParse(cancelSchema, payload));
  setHandler(retryNowUpdate, (arg) => v.safeParse(retryNowSchema, arg).success);
  await sleep(SLEEP);
}
