// The dunning policy: the decline table row by row, policy merging and validation, jitter.
import { describe, expect, it } from 'vitest';
import {
  classifyDecline,
  DEFAULT_DUNNING_POLICY,
  DEFAULT_RETRY_DELAYS_DAYS,
  dunningOverrideSchema,
  HARD_DECLINE_CODES,
  jitterMs,
  resolveDunningPolicy,
} from '../../src/shared/dunning.js';

const policy = DEFAULT_DUNNING_POLICY;

describe('classifyDecline', () => {
  it.each([
    // [decline code, advice code, expected] — Stripe's decline-code table and advice codes
    ['insufficient_funds', 'try_again_later', 'soft'],
    ['insufficient_funds', undefined, 'soft'],
    ['generic_decline', undefined, 'soft'],
    ['do_not_honor', undefined, 'soft'],
    ['processing_error', 'try_again_later', 'soft'],
    ['try_again_later', undefined, 'soft'],
    ['issuer_not_available', undefined, 'soft'],
    ['card_velocity_exceeded', undefined, 'soft'],
    ['lost_card', 'do_not_try_again', 'hard'],
    ['stolen_card', 'do_not_try_again', 'hard'],
    ['pickup_card', undefined, 'hard'],
    ['fraudulent', undefined, 'hard'],
    ['invalid_account', undefined, 'hard'],
    ['invalid_number', undefined, 'hard'],
    ['revocation_of_authorization', undefined, 'hard'],
    ['expired_card', undefined, 'hard'],
    ['incorrect_cvc', 'confirm_card_data', 'hard'],
    ['generic_decline', 'do_not_try_again', 'hard'],
    ['do_not_honor', 'confirm_card_data', 'hard'],
    ['authentication_required', undefined, 'action_required'],
    ['some_future_code', undefined, 'soft'],
  ] as const)('%s (advice %s) is %s', (declineCode, adviceCode, expected) => {
    expect(classifyDecline({ code: 'card_declined', declineCode, adviceCode }, policy)).toBe(
      expected,
    );
  });

  it('classifies card errors that carry only a code (expired_card, incorrect_cvc) by the code', () => {
    expect(classifyDecline({ code: 'expired_card' }, policy)).toBe('hard');
    expect(classifyDecline({ code: 'incorrect_cvc' }, policy)).toBe('hard');
    expect(classifyDecline({ code: 'authentication_required' }, policy)).toBe('action_required');
  });

  it('treats every code of the hard table as hard', () => {
    for (const declineCode of HARD_DECLINE_CODES)
      expect(classifyDecline({ declineCode }, policy)).toBe('hard');
  });
});

describe('the dunning policy', () => {
  it('defaults to Stripe’s recommendation: 8 tries within 2 weeks, below the card networks’ cap', () => {
    expect(DEFAULT_RETRY_DELAYS_DAYS.length + 1).toBe(8);
    expect(DEFAULT_RETRY_DELAYS_DAYS.reduce((a, b) => a + b, 0)).toBe(14);
    expect(policy.maxAttemptsPer30Days).toBeLessThan(15);
    expect(policy.notify).toEqual({
      paymentFailed: 'first',
      actionRequired: true,
      finalWarning: true,
      recovered: true,
      gaveUp: true,
    });
  });

  it('merges overrides in order, field by field (notify too)', () => {
    const merged = resolveDunningPolicy(
      { retryDelaysDays: [3, 3], notify: { recovered: false } },
      { maxAttemptsPer30Days: 4 },
    );
    expect(merged).toMatchObject({
      retryDelaysDays: [3, 3],
      maxAttemptsPer30Days: 4,
      notify: { recovered: false, gaveUp: true },
    });
  });

  it('an override parsed on its own fills in nothing, so it cannot reset a deployment-level setting', () => {
    const charge = dunningOverrideSchema.parse({ retryDelaysDays: [3] });
    expect(charge).toEqual({ retryDelaysDays: [3] });
    expect(resolveDunningPolicy({ maxAttemptsPer30Days: 4 }, charge)).toMatchObject({
      retryDelaysDays: [3],
      maxAttemptsPer30Days: 4,
    });
  });

  it('rejects a cap at or above the card networks’ limit and non-positive delays, naming the field', () => {
    expect(() => resolveDunningPolicy({ maxAttemptsPer30Days: 15 })).toThrow(
      /maxAttemptsPer30Days[\s\S]*card networks/,
    );
    expect(() => resolveDunningPolicy({ retryDelaysDays: [1, 0] })).toThrow(/retryDelaysDays/);
  });
});

describe('jitterMs', () => {
  it('is deterministic, within the bound, and spreads workflows apart', () => {
    expect(jitterMs('charge:a', 1, 60)).toBe(jitterMs('charge:a', 1, 60));
    const spread = new Set(
      Array.from({ length: 200 }, (_, i) => Math.floor(jitterMs(`charge:${i}`, 1, 60) / 60_000)),
    );
    expect(spread.size).toBeGreaterThan(40);
    for (let i = 0; i < 200; i++)
      expect(jitterMs(`charge:${i}`, 2, 60)).toBeLessThanOrEqual(3_600_000);
    expect(jitterMs('charge:a', 1, 0)).toBe(0);
  });
});
