// What the CLI prints and exits with for the charge failures that need no server to build: a
// conflict found by the client, and a run that failed with one of the workflow's failure types.
import { ApplicationFailure, TerminatedFailure, WorkflowFailedError } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { ChargeRunFailedError, describeFailure, ExitCode } from '../../src/cli/errors.js';
import { ChargeConflictError } from '../../src/client/index.js';
import { ChargeFailureType, type ChargeConflictDetails } from '../../src/workflows/messages.js';

/** The error `handle.result()` throws for a run that failed with `failure`. */
const failedRun = (failure: Error) =>
  new WorkflowFailedError('Workflow execution failed', failure, 'NON_RETRYABLE_FAILURE');

describe('describeFailure', () => {
  it('a ChargeConflictError exits 1 with its message and, for --json, the differences', () => {
    const error = new ChargeConflictError('ord_1', 'charge:ord_1', 'run-1', [
      { field: 'amount', existing: 1500, requested: 2500 },
      { field: 'currency', existing: 'usd', requested: 'eur' },
    ]);
    expect(describeFailure(error)).toEqual({
      code: ExitCode.failure,
      type: 'ChargeConflictError',
      message: error.message,
      details: {
        orderId: 'ord_1',
        workflowId: 'charge:ord_1',
        runId: 'run-1',
        differences: error.differences,
      },
    });
    expect(error.message).toMatch(
      /^order ord_1 is already charged with other parameters: amount 1500 \(existing\) vs 2500 \(requested\); currency usd \(existing\) vs eur \(requested\)\. /,
    );
  });

  it('a run failed with ChargeConflict prints the workflow’s message, what to do, and the details', () => {
    const details: ChargeConflictDetails = {
      paymentIntentId: 'pi_1',
      status: 'succeeded',
      held: { amount: 1500, currency: 'usd', customerId: 'cus_1' },
      asked: { amount: 2500, currency: 'usd', customerId: 'cus_1' },
      fields: ['amount'],
    };
    const cause = failedRun(
      ApplicationFailure.create({
        type: ChargeFailureType.conflict,
        message: 'order ord_1: pi_1 has 1500 usd for cus_1, succeeded; this run asked 2500 usd',
        nonRetryable: true,
        details: [details],
      }),
    );
    const error = new ChargeRunFailedError('ord_1', 'charge:ord_1', { cause });
    expect(error.cause).toBe(cause);
    const described = describeFailure(error);
    expect(described).toMatchObject({
      code: ExitCode.failure,
      type: 'ChargeRunFailedError',
      details: {
        orderId: 'ord_1',
        workflowId: 'charge:ord_1',
        failure: { type: 'ChargeConflict', details: [details] },
      },
    });
    expect(described.message).toBe(
      'the charge of order ord_1 (workflow charge:ord_1) failed (ChargeConflict): order ord_1: pi_1 has 1500 usd for cus_1, succeeded; this run asked 2500 usd\n' +
        'The order’s PaymentIntent holds another amount, currency or customer than this run asked: charge a different one under a new order id.',
    );
  });

  it('a run failed with WrongWorkflowId says how charges are started', () => {
    const error = new ChargeRunFailedError('ord_2', 'charge:ord_2', {
      cause: failedRun(
        ApplicationFailure.create({
          type: ChargeFailureType.wrongWorkflowId,
          message: 'chargeCustomer for order ord_9 must run as workflow id "charge:ord_9"',
          nonRetryable: true,
        }),
      ),
    });
    const { code, message } = describeFailure(error);
    expect(code).toBe(ExitCode.failure);
    expect(message).toContain(
      'failed (WrongWorkflowId): chargeCustomer for order ord_9 must run as workflow id "charge:ord_9"\nCharges run as workflow charge:<orderId>',
    );
  });

  it('a run ended otherwise (terminated) names the failure and points at its history', () => {
    const error = new ChargeRunFailedError('ord_3', 'charge:ord_3', {
      cause: failedRun(new TerminatedFailure('operator stopped it')),
    });
    expect(describeFailure(error).message).toBe(
      'the charge of order ord_3 (workflow charge:ord_3) failed (TerminatedFailure): operator stopped it\n' +
        'Its history says why: temporal workflow show --workflow-id charge:ord_3',
    );
  });
});
