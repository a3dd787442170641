// The charge's state machine as a table: every row is one situation and the step it must take.
import { describe, expect, it } from 'vitest';
import { ChargeStep, nextStep, type StepInput } from '../../src/workflows/charge-steps.js';

const open: StepInput = {
  status: 'requires_confirmation',
  declined: false,
  declineHandled: false,
  cancelRequested: false,
  retryRequested: false,
  released: true,
};

const rows: [string, Partial<StepInput>, ChargeStep][] = [
  ['a fresh intent is confirmed', {}, ChargeStep.attempt],
  [
    'a succeeded intent ends the charge, whatever is pending',
    { status: 'succeeded', cancelRequested: true, retryRequested: true },
    ChargeStep.succeed,
  ],
  ['a canceled intent ends it', { status: 'canceled', retryRequested: true }, ChargeStep.end],
  [
    'processing is awaited, never canceled or retried',
    { status: 'processing', cancelRequested: true, retryRequested: true },
    ChargeStep.awaitProcessing,
  ],
  ['requires_capture fails loudly', { status: 'requires_capture' }, ChargeStep.failUnexpectedState],
  [
    'a cancel comes before an attempt',
    { cancelRequested: true, retryRequested: true },
    ChargeStep.cancel,
  ],
  [
    'a cancel comes before handling a decline',
    { status: 'requires_payment_method', declined: true, cancelRequested: true },
    ChargeStep.cancel,
  ],
  [
    'a new decline is handled first, even with a retry asked for',
    { status: 'requires_payment_method', declined: true, retryRequested: true },
    ChargeStep.handleDecline,
  ],
  [
    'a handled decline waits for the next attempt',
    { status: 'requires_payment_method', declined: true, declineHandled: true },
    ChargeStep.dunning,
  ],
  [
    'a handled decline with a retry asked for is attempted',
    {
      status: 'requires_payment_method',
      declined: true,
      declineHandled: true,
      retryRequested: true,
    },
    ChargeStep.attempt,
  ],
  [
    'requires_action waits for the customer',
    { status: 'requires_action' },
    ChargeStep.awaitAuthentication,
  ],
  [
    'requires_action with a retry asked for (a new card) is attempted',
    { status: 'requires_action', retryRequested: true },
    ChargeStep.attempt,
  ],
  [
    'requires_action after a decline is not a new decline',
    { status: 'requires_action', declined: true },
    ChargeStep.awaitAuthentication,
  ],
  [
    'a run from before the patch attempts a requested retry before counting the decline',
    { status: 'requires_payment_method', declined: true, retryRequested: true, released: false },
    ChargeStep.attempt,
  ],
  [
    'a run from before the patch counts the decline while dunning',
    { status: 'requires_payment_method', declined: true, released: false },
    ChargeStep.dunning,
  ],
];

describe('nextStep', () => {
  it.each(rows)('%s', (_, situation, step) => {
    expect(nextStep({ ...open, ...situation })).toBe(step);
  });
});
