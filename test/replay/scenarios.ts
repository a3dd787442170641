// Representative charges whose histories are recorded for the replay test: each a test payment
// method plus an optional simulator fault. Recorded by `npm run record:histories`.
import type { DunningOverride } from '../../src/shared/dunning.js';
import type { FaultRule } from '../../src/simulator/index.js';

export interface ReplayScenario {
  name: string;
  paymentMethodId: string;
  fault?: FaultRule;
  dunning?: DunningOverride;
}

export const SCENARIOS: readonly ReplayScenario[] = [
  { name: 'success', paymentMethodId: 'pm_card_visa' },
  {
    name: 'decline-no-retries',
    paymentMethodId: 'pm_card_chargeDeclinedInsufficientFunds',
    dunning: { retryDelaysDays: [], jitterMinutes: 0 },
  },
  {
    // Two scheduled retries of about 1.7 s each, then give-up: dunning timers, cancel, final action.
    name: 'dunning-gives-up',
    paymentMethodId: 'pm_card_chargeDeclinedInsufficientFunds',
    dunning: { retryDelaysDays: [0.00002, 0.00002], jitterMinutes: 0 },
  },
  {
    name: 'reconcile-500-after-confirm',
    paymentMethodId: 'pm_card_visa',
    fault: {
      kind: 'error_500_after',
      method: 'POST',
      path: '/v1/payment_intents/:id/confirm',
      times: 1,
    },
  },
  {
    name: 'retry-500-before-confirm',
    paymentMethodId: 'pm_card_visa',
    fault: {
      kind: 'error_500_before',
      method: 'POST',
      path: '/v1/payment_intents/:id/confirm',
      times: 1,
    },
  },
  // Recorded with the exactly-once patch (its marker, the search before create, run-scoped
  // keys): the earlier five guard runs that started before it.
  { name: 'v2-success', paymentMethodId: 'pm_card_visa' },
  {
    name: 'v2-dunning-gives-up',
    paymentMethodId: 'pm_card_chargeDeclinedInsufficientFunds',
    dunning: { retryDelaysDays: [0.00002, 0.00002], jitterMinutes: 0 },
  },
];

export const HISTORIES_DIR = new URL('./histories/', import.meta.url);
export const scenarioWorkflowId = (name: string) => `charge:replay-${name}`;
