// refundLock: serialises the refunds of one order (`refund-lock:<orderId>`), so that two refund
// requests never both read "enough left" from Stripe and both create (issue 14). Turns are
// granted one at a time, in the order asked, by signal; the holder releases with its token.
// A holder whose run has ended (terminated, reset, crashed out) is found by the grant signal
// itself failing to reach it, and its turn passes on.
import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  defineQuery,
  getExternalWorkflowHandle,
  log,
  setDefaultSignalHandler,
  setHandler,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import { refundIdsFromWorkflowId, refundLockWorkflowId } from '../shared/after-charge-ids.js';
import { v } from '../shared/validate.js';
import {
  acquireRefundLockSignal,
  refundLockGrantedSignal,
  releaseRefundLockSignal,
  RefundFailureType,
  type RefundLockRequest,
} from './refund-messages.js';

/** How long the lock stays open after the last release: a burst of refunds shares one run. */
export const LOCK_IDLE_MS = 60_000;
/** While a turn is held, how often the holder's run is checked (by re-sending its grant). */
export const HOLDER_CHECK_MS = 5 * 60_000;
/** History events after which the lock continues as new, carrying its queue and holder. */
export const LOCK_EVENTS_PER_RUN = 2_000;

export interface RefundLockInput {
  orderId: string;
}

export interface RefundLockState {
  queue: RefundLockRequest[];
  holder: (RefundLockRequest & { token: string }) | undefined;
  grants: number;
}

export interface RefundLockView extends RefundLockState {
  ignored: number;
}

export const refundLockStatusQuery = defineQuery<RefundLockView>('refundLockStatus');

const requestSchema = v.object({ workflowId: v.string().min(1), runId: v.string().min(1) });
const releaseSchema = requestSchema.extend({ token: v.string().min(1) });

const same = (a: RefundLockRequest, b: RefundLockRequest) =>
  a.workflowId === b.workflowId && a.runId === b.runId;

/** Grants turns on the refunds of `input.orderId` until no one has asked for a minute. */
export async function refundLock(
  input: RefundLockInput,
  carried?: RefundLockState,
): Promise<RefundLockState> {
  const { workflowId } = workflowInfo();
  if (typeof input?.orderId !== 'string' || refundLockWorkflowId(input.orderId) !== workflowId)
    throw ApplicationFailure.create({
      type: RefundFailureType.wrongWorkflowId,
      message: `refundLock must run as workflow id "refund-lock:<orderId>" of its input's order, not "${workflowId}"`,
      nonRetryable: true,
    });
  const { orderId } = input;
  const state: RefundLockState = carried ?? { queue: [], holder: undefined, grants: 0 };
  let ignored = 0;
  let regrant = false;

  setHandler(refundLockStatusQuery, () => ({ ...state, ignored }));
  setHandler(acquireRefundLockSignal, (raw) => {
    const parsed = requestSchema.safeParse(raw);
    // Only this order's refund workflows take turns: anything else could hold the lock forever.
    if (!parsed.success || refundIdsFromWorkflowId(parsed.data.workflowId)?.orderId !== orderId) {
      if (ignored++ < 10) log.warn('refund lock request ignored', { request: raw });
      return;
    }
    const request = parsed.data;
    if (state.holder && same(state.holder, request))
      regrant = true; // its grant may be lost
    else if (!state.queue.some((q) => same(q, request))) state.queue.push(request);
  });
  setHandler(releaseRefundLockSignal, (raw) => {
    const parsed = releaseSchema.safeParse(raw);
    if (parsed.success && state.holder && same(state.holder, parsed.data)) {
      if (parsed.data.token === state.holder.token) state.holder = undefined;
    } else if (ignored++ < 10) log.warn('refund lock release ignored', { release: raw });
  });
  setDefaultSignalHandler(() => void ignored++);

  /** Signals the grant; false when the holder's run has ended (the signal cannot reach it). */
  async function grant(holder: RefundLockRequest & { token: string }): Promise<boolean> {
    try {
      await getExternalWorkflowHandle(holder.workflowId, holder.runId).signal(
        refundLockGrantedSignal,
        { token: holder.token },
      );
      return true;
    } catch (error) {
      log.info('refund lock holder is gone; its turn passes on', { holder, error });
      return false;
    }
  }

  for (;;) {
    const holder = state.holder;
    if (holder) {
      const moved = await condition(() => state.holder !== holder || regrant, HOLDER_CHECK_MS);
      if (moved && !regrant) continue;
      regrant = false;
      if (!(await grant(holder)) && state.holder === holder) state.holder = undefined;
      continue;
    }
    const next = state.queue.shift();
    if (next) {
      const granted = { ...next, token: uuid4() };
      state.holder = granted;
      state.grants++;
      if (!(await grant(granted)) && state.holder === granted) state.holder = undefined;
      continue;
    }
    if (
      workflowInfo().historyLength > LOCK_EVENTS_PER_RUN ||
      workflowInfo().continueAsNewSuggested
    ) {
      await condition(allHandlersFinished);
      return continueAsNew<typeof refundLock>(input, state);
    }
    const asked = await condition(() => state.queue.length > 0, LOCK_IDLE_MS);
    if (asked) continue;
    // Idle: end, unless a request came in the meantime (Temporal does not let a run complete
    // over a signal its last task did not see: that task is retried with the signal).
    await condition(allHandlersFinished);
    if (state.queue.length === 0 && !state.holder) return state;
  }
}
