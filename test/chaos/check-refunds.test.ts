// The refund rows of the chaos checker, fed one made-up violation of each and a consistent run.
import { describe, expect, it } from 'vitest';
import { checkRefunds } from '../../chaos/check-refunds.js';
import { planChaos } from '../../chaos/plan.js';
import { CI_OPTIONS } from '../../chaos/options.js';
import type { Ledger } from '../../src/simulator/index.js';

function ledger(
  orders: Record<
    string,
    { captured: number; refunded: number; byRefundId: Record<string, number> }
  >,
): Ledger {
  return {
    paymentIntents: {},
    orders: Object.fromEntries(
      Object.entries(orders).map(([id, o]) => [
        id,
        {
          paymentIntents: [`pi_${id}`],
          successfulCharges: 1,
          amountCaptured: o.captured,
          refunds: {
            count: Object.values(o.byRefundId).reduce((a, b) => a + b, 0),
            amountRefunded: o.refunded,
            amountPending: 0,
            failed: 0,
            byRefundId: o.byRefundId,
          },
        },
      ]),
    ),
  };
}

const rows = (check: ReturnType<typeof checkRefunds>): Record<string, number> =>
  Object.fromEntries(check.invariants.map((r) => [r.name.split(' (')[0] ?? r.name, r.count]));

describe('checkRefunds', () => {
  it('counts 0 on a consistent run', () => {
    const check = checkRefunds(
      ledger({ a: { captured: 1000, refunded: 1000, byRefundId: { r0: 1, r1: 1 } } }),
      [
        {
          orderId: 'a',
          refundId: 'r0',
          amount: 600,
          at: 0,
          result: { outcome: 'succeeded', orderId: 'a', refundId: 'r0' },
        },
        {
          orderId: 'a',
          refundId: 'r1',
          amount: undefined,
          at: 0,
          result: { outcome: 'succeeded', orderId: 'a', refundId: 'r1' },
        },
        {
          orderId: 'a',
          refundId: 'r2',
          amount: 600,
          at: 0,
          result: { outcome: 'refused', orderId: 'a', refundId: 'r2' },
        },
      ],
    );
    expect(check.invariants.every((r) => r.count === 0)).toBe(true);
    expect(check.observations).toEqual({
      'refund requests: succeeded': 2,
      'refund requests: refused': 1,
    });
  });

  it('counts an over-refund, a doubled refund id, a misreport and a lost answer', () => {
    const check = checkRefunds(
      ledger({ a: { captured: 1000, refunded: 1200, byRefundId: { r0: 2 } } }),
      [
        {
          orderId: 'a',
          refundId: 'r0',
          amount: 600,
          at: 0,
          result: { outcome: 'succeeded', orderId: 'a', refundId: 'r0' },
        },
        { orderId: 'a', refundId: 'r3', amount: 100, at: 0, error: 'Temporal down' },
      ],
    );
    expect(rows(check)).toEqual({
      'orders refunded more than captured': 1,
      'refund ids carried out more than once': 1,
      'refund results that disagree with Stripe': 1,
      'refund requests with no answer': 1,
    });
  });

  it('plans refunds only for paid orders, and leaves the rest of a seed’s plan as it was', () => {
    const withRefunds = planChaos({ ...CI_OPTIONS, refunds: 1 });
    const without = planChaos({ ...CI_OPTIONS, refunds: 0 });
    const strip = (plan: typeof without) => plan.orders.map(({ refunds: _r, ...o }) => o);
    expect(strip(withRefunds)).toEqual(strip(without));
    const refunded = withRefunds.orders.filter((o) => o.refunds);
    expect(refunded.length).toBeGreaterThan(0);
    expect(
      refunded.every((o) => o.scenario === 'success' || o.scenario === 'bank_debit_success'),
    ).toBe(true);
    expect(without.orders.some((o) => o.refunds)).toBe(false);
    expect(withRefunds.apiFaults.slice(0, without.apiFaults.length)).toEqual(without.apiFaults);
  });
});
