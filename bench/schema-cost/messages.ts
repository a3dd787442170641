// The signals and update of the schema-cost workflows (bench/schema-cost.ts): the same names and
// payloads as a charge's, so each variant registers the same handlers.
import { defineSignal, defineUpdate } from '@temporalio/workflow';

export const stripeEventSignal = defineSignal<[unknown]>('stripeEvent');
export const cancelSignal = defineSignal<[unknown]>('cancel');
export const retryNowUpdate = defineUpdate<boolean, [unknown]>('retryNow');

/** Long enough that every workflow of a run stays asleep (and cached) until the worker stops. */
export const SLEEP = '30 days';
