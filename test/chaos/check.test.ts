// The checker is not vacuous: fed what Temporal and the simulator would show for one violation
// of each adversarial row (histories and a ledger made up here, no servers), every one of those
// rows counts it, and a consistent order next to them counts nowhere.
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import type { ApiTapRecord } from '../../chaos/api-tap.js';
import { checkRun, type CheckedOrder } from '../../chaos/check.js';
import type { Ledger, RequestLogEntry, Simulator } from '../../src/simulator/index.js';

/** A history event as the checker reads it (the proto's fields, numbers for its Longs). */
type Event = Record<string, unknown>;

const T0 = Date.parse('2026-12-01T10:00:00Z');
const payloads = (...values: unknown[]) => ({
  payloads: values.map((v) => defaultPayloadConverter.toPayload(v)),
});
const at = (ms: number) => ({ seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 });

interface FakeRun {
  workflowId: string;
  runId: string;
  status: string;
  start: number;
  close?: number;
  events: Event[];
}

function run(
  workflowId: string,
  runId: string,
  input: Record<string, unknown>,
  start: number,
  end: { result?: unknown; failure?: { type: string; message: string; details?: unknown } },
  middle: Event[] = [],
): FakeRun {
  const events: Event[] = [
    { eventTime: at(start), workflowExecutionStartedEventAttributes: { input: payloads(input) } },
    ...middle,
  ];
  if (end.result)
    events.push({
      eventTime: at(start + 5000),
      workflowExecutionCompletedEventAttributes: { result: payloads(end.result) },
    });
  if (end.failure)
    events.push({
      eventTime: at(start + 5000),
      workflowExecutionFailedEventAttributes: {
        failure: {
          message: end.failure.message,
          applicationFailureInfo: {
            type: end.failure.type,
            ...(end.failure.details !== undefined && { details: payloads(end.failure.details) }),
          },
        },
      },
    });
  return {
    workflowId,
    runId,
    status: end.failure ? 'FAILED' : 'COMPLETED',
    start,
    close: start + 5000,
    events,
  };
}

const confirmScheduled = (ms: number): Event => ({
  eventTime: at(ms),
  activityTaskScheduledEventAttributes: { activityType: { name: 'confirmPaymentIntent' } },
});
const signal = (ms: number, signalName: string, value: unknown): Event => ({
  eventTime: at(ms),
  workflowExecutionSignaledEventAttributes: { signalName, input: payloads(value) },
});
const retryNowAnswer = (answer: unknown): Event => ({
  workflowExecutionUpdateCompletedEventAttributes: { outcome: { success: payloads(answer) } },
});

function fakeClient(runs: FakeRun[]): Client {
  const info = (r: FakeRun) =>
    ({
      workflowId: r.workflowId,
      runId: r.runId,
      firstExecutionRunId: r.runId,
      status: { name: r.status },
      startTime: new Date(r.start),
      closeTime: r.close === undefined ? undefined : new Date(r.close),
    }) as unknown as WorkflowExecutionInfo;
  return {
    workflow: {
      async *list({ query }: { query: string }) {
        if (query.includes('chargeCustomer')) for (const r of runs) yield info(r);
      },
      getHandle: (workflowId: string, runId: string) => ({
        fetchHistory: async () => ({
          events: runs.find((r) => r.workflowId === workflowId && r.runId === runId)?.events,
        }),
      }),
    },
  } as unknown as Client;
}

function fakeSim(ledger: Ledger, requests: Partial<RequestLogEntry>[]): Simulator {
  return {
    ledger: () => ledger,
    events: () => [],
    webhookDeliveries: () => [],
    requests: () => requests.map((r, i) => ({ seq: i + 1, ...r }) as RequestLogEntry),
  } as unknown as Simulator;
}

const input = (orderId: string, amount = 1500, currency = 'usd') => ({
  orderId,
  customerId: 'cus_1',
  amount,
  currency,
});
const paid = (pi: string, amount = 1500) => ({
  outcome: 'succeeded',
  paymentIntentId: pi,
  attempts: 1,
  amount,
  currency: 'usd',
});
const intent = (orderId: string, status: string, amount = 1500, captured = 0) => ({
  orderId,
  customerId: 'cus_1',
  amount,
  currency: 'usd',
  status,
  successfulCharges: captured > 0 ? 1 : 0,
  amountCaptured: captured,
  confirmations: 1,
});

describe('the chaos checker', () => {
  it('counts one violation of each adversarial row, and nothing for a consistent order', async () => {
    const orders: CheckedOrder[] = [
      'ok',
      'over',
      'foreign',
      'misreport',
      'forged',
      'conflict',
      'wrongid',
      'aftercancel',
      'cancel429',
      'late429',
      'storm',
      'flood',
    ].map((orderId) => ({ orderId, scenario: 'success', amount: 1500 }));
    orders.find((o) => o.orderId === 'cancel429')!.attack = { kind: 'cancel_confirming_429' };
    orders.find((o) => o.orderId === 'late429')!.attack = { kind: 'cancel_confirming_429' };
    orders.find((o) => o.orderId === 'storm')!.attack = { kind: 'retry_storm' };
    orders.find((o) => o.orderId === 'flood')!.attack = { kind: 'signal_flood' };

    const ledger: Ledger = { paymentIntents: {}, orders: {} };
    const add = (pi: string, entry: ReturnType<typeof intent>) => {
      ledger.paymentIntents[pi] = entry;
      const order = (ledger.orders[entry.orderId] ??= {
        paymentIntents: [],
        successfulCharges: 0,
        amountCaptured: 0,
      });
      order.paymentIntents.push(pi);
      order.successfulCharges += entry.successfulCharges;
      order.amountCaptured += entry.amountCaptured;
    };
    add('pi_ok', intent('ok', 'succeeded', 1500, 1500));
    add('pi_over', {
      ...intent('over', 'succeeded', 1500, 1500),
      successfulCharges: 2,
      amountCaptured: 3000,
    });
    add('pi_foreign', intent('foreign', 'canceled', 1600));
    add('pi_misreport', intent('misreport', 'requires_payment_method'));
    add('pi_forged', intent('forged', 'canceled'));
    add('pi_conflict', intent('conflict', 'succeeded', 1500, 1500));
    add('pi_wrongid', intent('wrongid', 'succeeded', 1500, 1500));
    add('pi_aftercancel', intent('aftercancel', 'canceled'));
    add('pi_cancel429', intent('cancel429', 'succeeded', 1500, 1500));
    add('pi_late429', intent('late429', 'succeeded', 1500, 1500));
    add('pi_storm', intent('storm', 'canceled'));
    add('pi_flood', intent('flood', 'canceled'));

    const canceled = (pi: string) => ({ ...paid(pi), outcome: 'canceled' });
    const runs: FakeRun[] = [
      run('charge:ok', 'r-ok', input('ok'), T0, { result: paid('pi_ok') }),
      run('charge:over', 'r-over', input('over'), T0, { result: paid('pi_over') }),
      run('charge:foreign', 'r-foreign', input('foreign'), T0, { result: canceled('pi_foreign') }),
      run('charge:misreport', 'r-mis', input('misreport'), T0, { result: paid('pi_misreport') }),
      run('charge:forged', 'r-forged', input('forged'), T0, { result: canceled('pi_forged') }),
      run('charge:conflict', 'r-c1', input('conflict'), T0, { result: paid('pi_conflict') }),
      // A run with another amount that completed instead of failing ChargeConflict.
      run('charge:conflict', 'r-c2', input('conflict', 2500), T0 + 10_000, {
        result: paid('pi_conflict', 2500),
      }),
      run('charge:wrongid', 'r-w1', input('wrongid'), T0, { result: paid('pi_wrongid') }),
      // Under a wrong id: it ran an activity and completed.
      run('wrongid', 'r-w2', input('wrongid'), T0 + 1000, { result: paid('pi_wrongid') }, [
        confirmScheduled(T0 + 1500),
      ]),
      run(
        'charge:aftercancel',
        'r-ac',
        input('aftercancel'),
        T0,
        { result: canceled('pi_aftercancel') },
        [signal(T0 + 1000, 'cancel', { reason: 'stop' }), confirmScheduled(T0 + 2000)],
      ),
      run('charge:cancel429', 'r-429', input('cancel429'), T0, { result: paid('pi_cancel429') }, [
        signal(T0 + 1000, 'cancel', { reason: 'stop' }),
      ]),
      // The confirm answered before any workflow task could see the cancel: not this row's.
      run('charge:late429', 'r-late', input('late429'), T0, { result: paid('pi_late429') }, [
        { eventId: 7, ...confirmScheduled(T0 + 500) },
        signal(T0 + 1000, 'cancel', { reason: 'stop' }),
        {
          eventTime: at(T0 + 90_000),
          activityTaskCompletedEventAttributes: { scheduledEventId: 7 },
        },
        { eventTime: at(T0 + 91_000), workflowTaskCompletedEventAttributes: {} },
      ]),
      run('charge:storm', 'r-storm', input('storm'), T0, { result: canceled('pi_storm') }, [
        retryNowAnswer({ accepted: true, merged: true }),
        retryNowAnswer({ accepted: false, reason: 'no' }),
      ]),
      run('charge:flood', 'r-flood', input('flood'), T0, {
        failure: { type: 'Boom', message: 'task failure' },
      }),
    ];
    const confirm = (orderId: string, key: string): Partial<RequestLogEntry> => ({
      method: 'POST',
      path: `/v1/payment_intents/pi_${orderId}/confirm`,
      executed: true,
      orderId,
      idempotencyKey: key,
    });
    const apiTaps: ApiTapRecord[] = [
      {
        at: T0 + 1000,
        operation: 'confirm',
        idempotencyKey: 'db/charge:forged/r-forged/confirm/1',
        paymentMethod: 'pm_card_mastercard',
        orderId: 'forged',
        paymentIntentId: 'pi_forged',
        status: 200,
      },
      {
        at: T0 + 1000 + 60_000,
        operation: 'confirm',
        idempotencyKey: 'db/charge:cancel429/r-429/confirm/0',
        paymentMethod: undefined,
        orderId: 'cancel429',
        paymentIntentId: 'pi_cancel429',
        status: 200,
      },
    ];
    const result = await checkRun({
      client: fakeClient(runs),
      sim: fakeSim(ledger, [
        confirm('storm', 'k0'),
        confirm('storm', 'k1'),
        confirm('storm', 'k2'),
        confirm('ok', 'k-ok'),
      ]),
      taps: [],
      apiTaps,
      orders,
      forgedEventIds: [],
      forgedMethods: ['pm_card_mastercard', 'pm_bogus'],
      legitMethods: ['pm_card_visa'],
      signalRefusals: [
        { orderId: 'flood', detail: 'exceeded workflow execution limit for signal events' },
      ],
    });
    const counts = Object.fromEntries(result.invariants.map((r) => [r.name, r]));
    const expected: Record<string, string> = {
      'orders captured more than their amount (ledger, per order id)': 'over',
      "order intents holding another amount or currency than the order's": 'foreign',
      "latest runs that do not report Stripe's money (or are still open)": 'misreport',
      'Stripe requests carrying a payment method only forged signals named': 'forged',
      "runs asked other parameters than the order's that did not fail ChargeConflict naming Stripe's intent, or confirmed":
        'conflict',
      'runs under a wrong workflow id that did not fail WrongWorkflowId untouched': 'wrongid',
      'confirms a run sent after it took a valid cancel': 'aftercancel',
      'cancels seen while the confirm was retried (429s) that did not end canceled': 'cancel429',
      'retryNow storms: confirms at Stripe beyond the first attempt and the accepted, unmerged answers':
        'storm',
      'signal floods: signals Temporal refused (per-run limit) or a cancel after the flood not honored':
        'flood',
    };
    for (const [name, orderId] of Object.entries(expected)) {
      expect(counts[name]?.count, name).toBeGreaterThan(0);
      expect(counts[name]?.examples.join('\n'), name).toContain(orderId);
    }
    // The consistent orders appear in no row.
    for (const r of result.invariants)
      expect(
        r.examples.filter((e) => /^(charge:)?(ok|late429)\b/.test(e)),
        r.name,
      ).toEqual([]);
    expect(
      result.observations[
        "adversarial: cancels (429 attack) the workflow could not see before Stripe's answer"
      ],
    ).toBe(1);
  });
});
