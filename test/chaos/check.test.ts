// The checker is not vacuous: fed what Temporal and the simulator would show (histories, a
// ledger, events and the webhook tap's records, made up here, no servers), a consistent run
// counts nothing, one planted violation of each core invariant is counted by its row, and one
// violation of each adversarial row is counted by that row.
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { defaultPayloadConverter, WorkflowNotFoundError } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import type { ApiTapRecord } from '../../chaos/api-tap.js';
import { checkRun, type CheckedOrder } from '../../chaos/check.js';
import type { TapRecord } from '../../chaos/tap.js';
import type {
  Ledger,
  RequestLogEntry,
  Simulator,
  StripeEventLike,
} from '../../src/simulator/index.js';

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

/**
 * Temporal as the checker reads it: `list` is visibility, which lists `runs` except the run ids in
 * `unlisted` (and shows a run of `staleStatus` with that status); `describe` is persistence, the
 * latest run of an id.
 */
function fakeClient(
  runs: FakeRun[],
  {
    unlisted = [],
    staleStatus = {},
  }: { unlisted?: string[]; staleStatus?: Record<string, string> } = {},
): Client {
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
        if (query.includes('chargeCustomer'))
          for (const r of runs)
            if (!unlisted.includes(r.runId))
              yield info({ ...r, status: staleStatus[r.runId] ?? r.status });
      },
      getHandle: (workflowId: string, runId?: string) => ({
        describe: async () => {
          const latest = runs
            .filter((r) => r.workflowId === workflowId)
            .sort((a, b) => a.start - b.start)
            .at(-1);
          if (!latest) throw new WorkflowNotFoundError('not found', workflowId, undefined);
          return info(latest);
        },
        fetchHistory: async () => ({
          events: runs.find((r) => r.workflowId === workflowId && r.runId === runId)?.events,
        }),
      }),
    },
  } as unknown as Client;
}

function fakeSim(
  ledger: Ledger,
  requests: Partial<RequestLogEntry>[],
  events: StripeEventLike[] = [],
): Simulator {
  return {
    ledger: () => ledger,
    events: () => events,
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

/** The rows of the core invariants (DESIGN.md 1–5), as the checker names them. */
const Row = {
  unlisted: 'charges whose current run visibility does not list as persistence has it',
  doubleCharges:
    'double charges (orders with > 1 successful charge or > 1 succeeded PaymentIntent)',
  overCaptured: 'orders captured more than their amount (ledger, per order id)',
  lostEvents: 'valid events neither applied nor in the unmatched workflow',
  forged: 'forged events that caused a signal or were acknowledged',
  noOutcome: 'orders without a final outcome after the drain',
  falseAcks: 'acknowledgements contradicted by Temporal (200 but not recorded)',
} as const;

/**
 * One consistent run as the checker reads it: two orders of one customer, both paid, each run
 * open for a minute; a `payment_intent.succeeded` event for order `a`, and a customer-level
 * `payment_method.attached` event fanned out to both open charges, each acknowledged once;
 * one forged delivery refused. `plant` changes one thing before the check.
 */
async function checkConsistentRun(
  plant: (run: {
    ledger: Ledger;
    histories: Record<'a' | 'b', FakeRun>;
    taps: TapRecord[];
    forgedEventIds: string[];
    events: StripeEventLike[];
  }) => void = () => {},
  visibility: Parameters<typeof fakeClient>[1] = {},
) {
  const ledger: Ledger = {
    paymentIntents: {
      pi_a: { ...intent('a', 'succeeded', 1500, 1500) },
      pi_b: { ...intent('b', 'succeeded', 1500, 1500) },
    },
    orders: {
      a: { paymentIntents: ['pi_a'], successfulCharges: 1, amountCaptured: 1500 },
      b: { paymentIntents: ['pi_b'], successfulCharges: 1, amountCaptured: 1500 },
    },
  };
  const event = (id: string, type: string, object: Record<string, unknown>): StripeEventLike => ({
    id,
    object: 'event',
    api_version: '2025-01-01',
    created: Math.floor((T0 + 20_000) / 1000),
    data: { object: object as StripeEventLike['data']['object'] },
    livemode: false,
    pending_webhooks: 0,
    request: { id: null, idempotency_key: null },
    type,
  });
  const events = [
    event('evt_a_paid', 'payment_intent.succeeded', {
      id: 'pi_a',
      object: 'payment_intent',
      customer: 'cus_1',
      metadata: { order_id: 'a', workflow_id: 'charge:a' },
    }),
    event('evt_card', 'payment_method.attached', {
      id: 'pm_card_new',
      object: 'payment_method',
      customer: 'cus_1',
    }),
  ];
  const stripeEvent = (ms: number, id: string) =>
    signal(ms, 'stripeEvent', { id, type: 'x', created: 1, objectId: 'x' });
  const chargeRun = (orderId: 'a' | 'b', middle: Event[]): FakeRun => ({
    ...run(`charge:${orderId}`, `r-${orderId}`, input(orderId), T0, {}, middle),
    close: T0 + 60_000,
    status: 'COMPLETED',
  });
  const histories = {
    a: chargeRun('a', [
      stripeEvent(T0 + 30_000, 'evt_card'),
      stripeEvent(T0 + 31_000, 'evt_a_paid'),
    ]),
    b: chargeRun('b', [stripeEvent(T0 + 30_000, 'evt_card')]),
  };
  for (const orderId of ['a', 'b'] as const)
    histories[orderId].events.push({
      eventTime: at(T0 + 60_000),
      workflowExecutionCompletedEventAttributes: { result: payloads(paid(`pi_${orderId}`)) },
    });
  const tap = (eventId: string, workflowIds: string[], answeredAt: number): TapRecord => ({
    eventId,
    type: undefined,
    injected: false,
    signature: 'valid',
    status: 200,
    delivery: 'workflow',
    workflowIds,
    answeredAt,
    thin: false,
    strippedMetadata: false,
  });
  const taps: TapRecord[] = [
    tap('evt_card', ['charge:a', 'charge:b'], T0 + 30_500),
    tap('evt_a_paid', ['charge:a'], T0 + 31_500),
    {
      ...tap('evt_forged', [], T0 + 32_000),
      injected: true,
      signature: 'wrong_secret',
      status: 400,
      delivery: undefined,
    },
  ];
  const forgedEventIds = ['evt_forged'];
  plant({ ledger, histories, taps, forgedEventIds, events });
  const result = await checkRun({
    client: fakeClient([histories.a, histories.b], visibility),
    sim: fakeSim(ledger, [], events),
    taps,
    apiTaps: [],
    orders: ['a', 'b'].map((orderId) => ({ orderId, scenario: 'success', amount: 1500 })),
    forgedEventIds,
  });
  return Object.fromEntries(result.invariants.map((r) => [r.name, r]));
}

/** Drops the `stripeEvent` signal carrying `eventId` from a history. */
function dropSignal(history: FakeRun, eventId: string): void {
  history.events = history.events.filter((e) => {
    const attributes = e.workflowExecutionSignaledEventAttributes as
      { input: ReturnType<typeof payloads> } | undefined;
    const payload = attributes?.input.payloads[0];
    return !(
      payload && defaultPayloadConverter.fromPayload<{ id?: string }>(payload).id === eventId
    );
  });
}

describe('the chaos checker on the core invariants', () => {
  it('counts nothing for a consistent run', async () => {
    const rows = await checkConsistentRun();
    for (const r of Object.values(rows)) expect(r.examples, r.name).toEqual([]);
  });

  it.each([
    {
      violation: 'a second succeeded intent of an order',
      row: Row.doubleCharges,
      names: 'a: 1 charges, 2 intents succeeded',
      plant: ({ ledger }: { ledger: Ledger }) => {
        ledger.paymentIntents.pi_a2 = intent('a', 'succeeded', 1500, 0);
        ledger.orders.a!.paymentIntents.push('pi_a2');
      },
    },
    {
      violation: "a captured amount above the order's",
      row: Row.overCaptured,
      names: 'a: 3000 captured, ordered 1500',
      plant: ({ ledger }: { ledger: Ledger }) => {
        ledger.paymentIntents.pi_a!.amountCaptured = 3000;
        ledger.orders.a!.amountCaptured = 3000;
      },
    },
    {
      violation: 'an acknowledged event in no history',
      row: Row.lostEvents,
      names: 'evt_a_paid',
      plant: ({ histories }: { histories: Record<'a' | 'b', FakeRun> }) =>
        dropSignal(histories.a, 'evt_a_paid'),
    },
    {
      violation: 'a forged event that signalled',
      row: Row.forged,
      names: 'evt_forged: forged, yet signalled',
      plant: ({ histories }: { histories: Record<'a' | 'b', FakeRun> }) => {
        histories.b.events.splice(
          1,
          0,
          signal(T0 + 32_500, 'stripeEvent', { id: 'evt_forged', type: 'x', created: 1 }),
        );
      },
    },
    {
      violation: 'an order without an outcome (its run terminated)',
      row: Row.noOutcome,
      names: 'b: ended TERMINATED without an outcome',
      plant: ({ histories }: { histories: Record<'a' | 'b', FakeRun> }) => {
        histories.b.status = 'TERMINATED';
        histories.b.events = histories.b.events.filter(
          (e) => !e.workflowExecutionCompletedEventAttributes,
        );
      },
    },
    {
      violation: "a customer-level event's fan-out that missed one open charge",
      row: Row.lostEvents,
      names:
        'evt_card (payment_method.attached, customer cus_1): acknowledged 2026-12-01T10:00:30.500Z, not signalled to its open charge(s) b',
      plant: ({
        histories,
        taps,
      }: {
        histories: Record<'a' | 'b', FakeRun>;
        taps: TapRecord[];
      }) => {
        dropSignal(histories.b, 'evt_card');
        taps[0]!.workflowIds = ['charge:a'];
      },
    },
  ])('reports $violation', async ({ row: name, names, plant }) => {
    const rows = await checkConsistentRun(plant);
    expect(rows[name]?.count, name).toBe(1);
    expect(rows[name]?.examples, name).toEqual([expect.stringContaining(names)]);
  });

  /** Order a's `succeeded` event answered (not signalled) as caused by the request key `key`. */
  const answeredWith =
    (key: string, scheduled: string) =>
    ({
      histories,
      taps,
      events,
    }: {
      histories: Record<'a' | 'b', FakeRun>;
      taps: TapRecord[];
      events: StripeEventLike[];
    }) => {
      dropSignal(histories.a, 'evt_a_paid');
      histories.a.events.splice(1, 0, {
        ...confirmScheduled(T0 + 20_000),
        activityTaskScheduledEventAttributes: {
          activityType: { name: 'confirmPaymentIntent' },
          input: payloads({ idempotencyKey: scheduled, paymentIntentId: 'pi_a' }),
        },
      });
      events[0]!.request = { id: 'req_1', idempotency_key: key };
      taps[1]!.delivery = 'answered';
    };

  it("counts nothing for an event answered as the answer to its charge's own confirm", async () => {
    const key = 'db/charge:a/r-a/confirm/0';
    const rows = await checkConsistentRun(answeredWith(key, key));
    for (const r of Object.values(rows)) expect(r.examples, r.name).toEqual([]);
  });

  it('reports an event answered as a charge’s own whose key no run of the order sent', async () => {
    const rows = await checkConsistentRun(
      answeredWith('db/charge:a/r-a/confirm/0', 'db/charge:a/r-a/confirm/1'),
    );
    expect(rows[Row.lostEvents]?.examples).toEqual([expect.stringContaining('evt_a_paid')]);
    expect(rows[Row.falseAcks]?.examples).toEqual([
      expect.stringContaining('evt_a_paid: receiver said answered charge:a'),
    ]);
  });

  it("counts a charge whose current run visibility does not list, and one it lists with a stale status (a shard's visibility behind)", async () => {
    const rows = await checkConsistentRun(undefined, {
      unlisted: ['r-a'],
      staleStatus: { 'r-b': 'RUNNING' },
    });
    expect(rows[Row.unlisted]?.examples).toEqual([
      'charge:a: run r-a (COMPLETED) not listed',
      'charge:b: run r-b is COMPLETED, listed RUNNING',
    ]);
  });

  it('does not ask the fan-out of a charge that opened as the event was acknowledged (not yet visible)', async () => {
    const rows = await checkConsistentRun(({ histories, taps }) => {
      dropSignal(histories.b, 'evt_card');
      taps[0]!.workflowIds = ['charge:a'];
      histories.b.start = T0 + 25_000;
    });
    expect(rows[Row.lostEvents]?.examples).toEqual([]);
  });
});
