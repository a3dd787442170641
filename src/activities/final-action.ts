// The campaign's final action: a documented hook the application provides (mark the order
// uncollectible, cancel the subscription, …), run once when a campaign gives up or is canceled.
import { log } from '@temporalio/activity';

export interface FinalActionRequest {
  /** Idempotency id (`…/final/<n>`): a hook called twice with one id must act once. */
  id: string;
  /** The policy's `finalAction` name, e.g. `mark_uncollectible`. */
  action: string;
  orderId: string;
  customerId: string;
  paymentIntentId: string | undefined;
  /** Why the campaign ended: `gave_up` (schedule exhausted) or `canceled` (with the reason). */
  reason: string;
}

/** What the application plugs in. It should be idempotent by `request.id`. */
export type FinalActionHook = (request: FinalActionRequest) => Promise<void>;

/** The default hook only records the decision in the worker log; applications replace it. */
export const logFinalAction: FinalActionHook = async (request) => {
  log.info('dunning final action', { ...request });
};

export function createFinalActionActivities(hook: FinalActionHook = logFinalAction) {
  return {
    /** Runs the application's final-action hook for an ended campaign. */
    async runFinalAction(request: FinalActionRequest): Promise<void> {
      await hook(request);
    },
  };
}
