// Message contracts of the refund workflows (issue 14), defined once and imported by the
// workflows, the activities and the client: the refund's status query, and the signals by
// which the order's refund lock grants turns.
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { RefundSnapshot } from '../shared/refunds.js';

/** Where a refund request is; `BillingStatus` carries the same value. */
export const RefundState = {
  /** Waiting for the order's refund lock (another refund of the order is being made). */
  waitingForLock: 'waiting_for_lock',
  /** Reading the order's money from Stripe, under the lock. */
  checking: 'checking',
  creating: 'creating',
  reconciling: 'reconciling',
  /** Stripe accepted the refund; the bank has not confirmed it yet. */
  pending: 'pending',
  succeeded: 'succeeded',
  failed: 'failed',
  canceled: 'canceled',
  refused: 'refused',
} as const;
export type RefundState = (typeof RefundState)[keyof typeof RefundState];

export interface RefundStatusView {
  state: RefundState;
  refund: RefundSnapshot | undefined;
  /** Why refused or failed. */
  reason?: string | undefined;
}

/** Failure types with which a refund run fails (never retried: someone must look). */
export const RefundFailureType = {
  /** The run's workflow id is not `refund:<orderId>:<refundId>` of its input. */
  wrongWorkflowId: 'WrongWorkflowId',
  /** The invalid input (a raw start; the client validates first). */
  invalidInput: 'InvalidRefundInput',
} as const;

export const refundStatusQuery = defineQuery<RefundStatusView>('refundStatus');

/** A refund workflow's run asking the lock for a turn (also its address for the grant). */
export interface RefundLockRequest {
  workflowId: string;
  runId: string;
}

/** A turn granted: `token` must come back with the release, so only the holder releases. */
export interface RefundLockGrant {
  token: string;
}

/** A refund's turn with the order's money, released with its token. */
export interface RefundLockRelease extends RefundLockRequest {
  token: string;
}

export const acquireRefundLockSignal = defineSignal<[RefundLockRequest]>('acquireRefundLock');
export const releaseRefundLockSignal = defineSignal<[RefundLockRelease]>('releaseRefundLock');
export const refundLockGrantedSignal = defineSignal<[RefundLockGrant]>('refundLockGranted');
