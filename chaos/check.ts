// The independent checker. It reads only what the simulator says happened (ledger, event log,
// deliveries, and the wire tap's record of each attempt) and what Temporal says happened
// (visibility, results, histories), never the driver's or the workflows' own bookkeeping, and
// counts violations of the invariants (DESIGN.md 1–5). the README (Chaos) defines every row.
import { WorkflowFailedError, type Client, type WorkflowExecutionInfo } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { chargeWorkflowId } from '../src/shared/ids.js';
import { UNMATCHED_EVENTS_WORKFLOW_ID } from '../src/shared/stripe-events.js';
import type { Ledger, Simulator, StripeEventLike } from '../src/simulator/index.js';
import type { chargeCustomer } from '../src/workflows/charge-customer.js';
import type { ChargeResult } from '../src/workflows/messages.js';
import type { TapRecord } from './tap.js';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** Histories fetched at once. */
const CONCURRENCY = 8;
/** Examples kept per violated row, for the report. */
const EXAMPLES = 5;

/** A row of the invariant table: must be 0. */
export interface InvariantRow {
  name: string;
  count: number;
  examples: string[];
}

/** What a charge's chain of runs says. */
interface Chain {
  runs: WorkflowExecutionInfo[];
  /** The run that is not continued-as-new (the current or last). */
  last: WorkflowExecutionInfo;
  signalIds: Set<string>;
  result?: ChargeResult;
  failure?: string;
}

export interface CheckInput {
  client: Client;
  sim: Simulator;
  taps: readonly TapRecord[];
  /** The orders the run meant to charge (ids and the scenario each was given). */
  orders: readonly { orderId: string; scenario: string; amount: number }[];
  /** Ids of events the driver forged: Stripe never emitted them. */
  forgedEventIds: readonly string[];
}

export interface CheckResult {
  invariants: InvariantRow[];
  /** scenario → outcome → count (`none` = no final outcome). */
  outcomes: Record<string, Record<string, number>>;
  /** Named counts that explain the run (not invariants). */
  observations: Record<string, number>;
}

function row(name: string): InvariantRow & { add(example: string): void } {
  const r = {
    name,
    count: 0,
    examples: [] as string[],
    add(example: string) {
      r.count++;
      if (r.examples.length < EXAMPLES) r.examples.push(example);
    },
  };
  return r;
}

async function inBatches<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

function payloadOf<T>(
  payloads: temporal.api.common.v1.IPayloads | null | undefined,
): T | undefined {
  const first = payloads?.payloads?.[0];
  return first ? defaultPayloadConverter.fromPayload<T>(first) : undefined;
}

async function history(client: Client, execution: WorkflowExecutionInfo): Promise<HistoryEvent[]> {
  const h = await client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
  return h.events ?? [];
}

/** The order (or orders) a Stripe event is about, from the event and the ledger alone. */
function ordersOf(
  event: StripeEventLike,
  ordersByCustomer: Map<string, string[]>,
  known: Set<string>,
): string[] {
  const object = event.data.object as Record<string, unknown>;
  if (event.type.startsWith('payment_intent.')) {
    const orderId = (object.metadata as Record<string, string> | undefined)?.order_id;
    return orderId !== undefined && known.has(orderId) ? [orderId] : [];
  }
  const customer = event.type.startsWith('customer.') ? object.id : object.customer;
  return typeof customer === 'string' ? (ordersByCustomer.get(customer) ?? []) : [];
}

/** Runs every check; reads Temporal and the simulator, changes nothing. */
export async function checkRun(input: CheckInput): Promise<CheckResult> {
  const { client, sim, taps } = input;
  const ledger: Ledger = sim.ledger();
  const events = sim.events();
  const deliveries = sim.webhookDeliveries();
  const known = new Set(input.orders.map((o) => o.orderId));
  const observations: Record<string, number> = {};
  const observe = (name: string, value: number) => (observations[name] = value);

  // ---- Temporal: every run of every charge, its signals, its result ----
  const runsById = new Map<string, WorkflowExecutionInfo[]>();
  for await (const execution of client.workflow.list({
    query: `WorkflowType = 'chargeCustomer'`,
    pageSize: 1000,
  }))
    runsById.set(execution.workflowId, [...(runsById.get(execution.workflowId) ?? []), execution]);
  const unmatchedRuns: WorkflowExecutionInfo[] = [];
  for await (const execution of client.workflow.list({
    query: `WorkflowId = '${UNMATCHED_EVENTS_WORKFLOW_ID}'`,
  }))
    unmatchedRuns.push(execution);
  let backfillRuns = 0;
  for await (const execution of client.workflow.list({
    query: `WorkflowType = 'backfillStripeEvents'`,
  }))
    if (execution.status.name !== 'CONTINUED_AS_NEW') backfillRuns++;

  const chains = new Map<string, Chain>();
  let historyEvents = 0;
  let activityFailures = 0;
  let activityRetries = 0;
  let stripeEventSignals = 0;
  let cancelSignals = 0;
  let retryNowUpdates = 0;
  const allRuns = [...runsById.values()].flat();
  const signalsByRun = new Map<string, string[]>();
  await inBatches(allRuns, async (execution) => {
    const ids: string[] = [];
    for (const event of await history(client, execution)) {
      historyEvents++;
      if (event.activityTaskFailedEventAttributes || event.activityTaskTimedOutEventAttributes)
        activityFailures++;
      if ((event.activityTaskStartedEventAttributes?.attempt ?? 1) > 1) activityRetries++;
      if (event.workflowExecutionUpdateAcceptedEventAttributes) retryNowUpdates++;
      const signal = event.workflowExecutionSignaledEventAttributes;
      if (!signal) continue;
      if (signal.signalName === 'cancel') cancelSignals++;
      if (signal.signalName !== 'stripeEvent') continue;
      stripeEventSignals++;
      const payload = payloadOf<{ id?: unknown }>(signal.input);
      if (typeof payload?.id === 'string') ids.push(payload.id);
    }
    signalsByRun.set(execution.runId, ids);
  });
  for (const [workflowId, runs] of runsById) {
    const last = runs.find((r) => r.status.name !== 'CONTINUED_AS_NEW') ?? runs[0]!;
    chains.set(workflowId, {
      runs,
      last,
      signalIds: new Set(runs.flatMap((r) => signalsByRun.get(r.runId) ?? [])),
    });
  }
  await inBatches([...chains.entries()], async ([workflowId, chain]) => {
    if (chain.last.status.name !== 'COMPLETED') {
      if (chain.last.status.name !== 'RUNNING') chain.failure = chain.last.status.name;
      return;
    }
    try {
      chain.result = await client.workflow.getHandle<typeof chargeCustomer>(workflowId).result();
    } catch (error) {
      if (!(error instanceof WorkflowFailedError)) throw error;
      chain.failure = error.cause?.message ?? error.message;
    }
  });

  const unmatchedIds = new Set<string>();
  await inBatches(unmatchedRuns, async (execution) => {
    for (const event of await history(client, execution)) {
      const signal = event.workflowExecutionSignaledEventAttributes;
      if (signal?.signalName !== 'unmatchedEvent') continue;
      const payload = payloadOf<{ signal?: { id?: unknown } }>(signal.input);
      if (typeof payload?.signal?.id === 'string') unmatchedIds.add(payload.signal.id);
    }
  });
  const chainOf = (orderId: string) => chains.get(chargeWorkflowId(orderId));

  // ---- 1. double charges, more than one intent (ledger only) ----
  const doubleCharges = row(
    'double charges (orders with > 1 successful charge or > 1 succeeded PaymentIntent)',
  );
  const multipleIntents = row('orders with more than one PaymentIntent');
  for (const [orderId, order] of Object.entries(ledger.orders)) {
    const succeededIntents = order.paymentIntents.filter(
      (pi) => ledger.paymentIntents[pi]?.status === 'succeeded',
    ).length;
    if (order.successfulCharges > 1 || succeededIntents > 1)
      doubleCharges.add(
        `${orderId}: ${order.successfulCharges} charges, ${succeededIntents} intents succeeded`,
      );
    if (order.paymentIntents.length > 1)
      multipleIntents.add(`${orderId}: ${order.paymentIntents.join(', ')}`);
  }

  // ---- 2. outcomes: every order final, no execution failures, money agrees ----
  const noOutcome = row('orders without a final outcome after the drain');
  const executionFailures = row('charges that failed as executions (bug or config)');
  const moneyMismatch = row('money: ledger and workflow results disagree');
  const outcomes: Record<string, Record<string, number>> = {};
  for (const order of input.orders) {
    const chain = chainOf(order.orderId);
    const outcome = chain?.result?.outcome ?? (chain?.failure ? 'execution failed' : 'none');
    const byScenario = (outcomes[order.scenario] ??= {});
    byScenario[outcome] = (byScenario[outcome] ?? 0) + 1;
    if (!chain) noOutcome.add(`${order.orderId}: never started`);
    else if (chain.last.status.name === 'RUNNING') noOutcome.add(`${order.orderId}: still running`);
    else if (chain.failure) executionFailures.add(`${order.orderId}: ${chain.failure}`);
    const money = ledger.orders[order.orderId];
    const charged = (money?.successfulCharges ?? 0) > 0;
    const succeeded = chain?.result?.outcome === 'succeeded';
    if (charged !== succeeded && chain?.last.status.name !== 'RUNNING')
      moneyMismatch.add(
        `${order.orderId}: ledger ${charged ? 'charged' : 'not charged'}, workflow ${outcome}`,
      );
    else if (charged && money!.amountCaptured !== order.amount)
      moneyMismatch.add(
        `${order.orderId}: captured ${money!.amountCaptured}, ordered ${order.amount}`,
      );
    else if (
      chain?.result?.paymentIntentId !== undefined &&
      money !== undefined &&
      !money.paymentIntents.includes(chain.result.paymentIntentId)
    )
      moneyMismatch.add(
        `${order.orderId}: result names ${chain.result.paymentIntentId}, not the order's intent`,
      );
  }
  const ledgerSucceeded = input.orders.filter(
    (o) => (ledger.orders[o.orderId]?.successfulCharges ?? 0) > 0,
  ).length;
  const workflowsSucceeded = input.orders.filter(
    (o) => chainOf(o.orderId)?.result?.outcome === 'succeeded',
  ).length;
  const durations = [...chains.values()]
    .filter((c) => c.last.status.name !== 'RUNNING' && c.last.closeTime !== undefined)
    .map((c) => {
      const start = Math.min(...c.runs.map((r) => r.startTime.getTime()));
      return { id: c.last.workflowId, seconds: (c.last.closeTime!.getTime() - start) / 1000 };
    });
  const seconds = durations.map((d) => d.seconds);
  const slowest = durations.reduce<(typeof durations)[number] | undefined>(
    (a, b) => (a === undefined || b.seconds > a.seconds ? b : a),
    undefined,
  );
  observe('start → outcome p50 (s)', Math.round(quantile(seconds, 0.5) * 10) / 10);
  observe('start → outcome p99 (s)', Math.round(quantile(seconds, 0.99) * 10) / 10);
  observe(
    `start → outcome max (s): ${slowest?.id ?? '-'}`,
    Math.round((slowest?.seconds ?? 0) * 10) / 10,
  );
  observe('orders charged (ledger)', ledgerSucceeded);
  observe('charges succeeded (workflow results)', workflowsSucceeded);

  // ---- 3. events: every validly signed, acknowledged event is applied, parked or late ----
  const ordersByCustomer = new Map<string, string[]>();
  for (const pi of Object.values(ledger.paymentIntents))
    if (pi.customerId !== undefined && pi.orderId !== undefined && known.has(pi.orderId))
      ordersByCustomer.set(pi.customerId, [
        ...(ordersByCustomer.get(pi.customerId) ?? []),
        pi.orderId,
      ]);
  const tapsByEvent = new Map<string, TapRecord[]>();
  for (const t of taps)
    if (t.eventId !== undefined && !t.injected)
      tapsByEvent.set(t.eventId, [...(tapsByEvent.get(t.eventId) ?? []), t]);
  const attemptsByEvent = new Map<string, number>();
  for (const d of deliveries)
    attemptsByEvent.set(d.eventId, (attemptsByEvent.get(d.eventId) ?? 0) + 1);

  const lostEvents = row('valid events neither applied nor in the unmatched workflow');
  const falseAcks = row('acknowledgements contradicted by Temporal (200 but not recorded)');
  const forged = row('forged events that caused a signal or were acknowledged');
  let aboutOrders = 0;
  let acked = 0;
  let applied = 0;
  let parked = 0;
  let afterClose = 0;
  let droppedByFault = 0;
  let droppedThenApplied = 0;
  let pendingAtEnd = 0;
  const closedBy = (orderId: string, at: number) => {
    const last = chainOf(orderId)?.last;
    return (
      last !== undefined &&
      last.status.name !== 'RUNNING' &&
      (last.closeTime?.getTime() ?? Infinity) <= at
    );
  };
  for (const event of events) {
    const orderIds = ordersOf(event, ordersByCustomer, known);
    if (orderIds.length === 0) continue;
    aboutOrders++;
    const inChain = orderIds.some((o) => chainOf(o)?.signalIds.has(event.id));
    const inUnmatched = unmatchedIds.has(event.id);
    if (event.pending_webhooks > 0) pendingAtEnd++;
    const records = tapsByEvent.get(event.id) ?? [];
    if (
      records.length === 0 &&
      (attemptsByEvent.get(event.id) ?? 0) === 0 &&
      event.pending_webhooks === 0
    ) {
      droppedByFault++;
      if (inChain || inUnmatched) droppedThenApplied++;
    }
    const acks = records.filter(
      (t) => t.signature === 'valid' && typeof t.status === 'number' && t.status < 300,
    );
    for (const t of records)
      if (t.signature !== 'valid' && typeof t.status === 'number' && t.status < 300)
        forged.add(`${event.id}: a ${t.signature} delivery was answered ${t.status}`);
    if (acks.length === 0) continue;
    acked++;
    const firstAck = Math.min(...acks.map((t) => t.answeredAt));
    if (inChain) applied++;
    else if (inUnmatched) parked++;
    else if (orderIds.some((o) => closedBy(o, firstAck))) afterClose++;
    else
      lostEvents.add(
        `${event.id} (${event.type}, order ${orderIds.join('/')}): acknowledged ${new Date(firstAck).toISOString()}, no signal`,
      );
    for (const t of acks) {
      const claim = t.delivery;
      const ok =
        claim === 'workflow'
          ? t.workflowIds.length > 0 &&
            t.workflowIds.every((id) => chains.get(id)?.signalIds.has(event.id))
          : claim === 'unmatched'
            ? inUnmatched
            : claim === 'closed'
              ? t.workflowIds.every((id) => {
                  const last = chains.get(id)?.last;
                  return (
                    last !== undefined &&
                    last.status.name !== 'RUNNING' &&
                    (last.closeTime?.getTime() ?? Infinity) <= t.answeredAt
                  );
                })
              : false;
      if (!ok)
        falseAcks.add(
          `${event.id}: receiver said ${claim ?? '(nothing)'} ${t.workflowIds.join(',')}`,
        );
    }
  }
  const signalled = new Set([
    ...[...chains.values()].flatMap((c) => [...c.signalIds]),
    ...unmatchedIds,
  ]);
  for (const id of input.forgedEventIds)
    if (signalled.has(id)) forged.add(`${id}: forged, yet signalled`);
  for (const t of taps)
    if (t.injected && typeof t.status === 'number' && t.status < 300)
      forged.add(`${t.eventId ?? '?'}: forged, answered ${t.status}`);

  observe('events about the orders (emitted)', aboutOrders);
  observe('  acknowledged by the receiver (validly signed, 2xx)', acked);
  observe('  applied: a stripeEvent signal in the order’s workflow chain', applied);
  observe('  parked: in the unmatched-events workflow', parked);
  observe('  after close: acknowledged once the charge had ended', afterClose);
  observe('  dropped by a fault (never delivered)', droppedByFault);
  observe('    of which signalled anyway (backfill Schedule)', droppedThenApplied);
  observe('  deliveries still pending at the end', pendingAtEnd);
  observe('webhook delivery attempts', taps.filter((t) => !t.injected).length);
  observe(
    '  answered 503 (Temporal unavailable) or not answered',
    taps.filter((t) => !t.injected && (typeof t.status !== 'number' || t.status >= 500)).length,
  );
  observe(
    '  badly signed (wrong secret, stale, future)',
    taps.filter((t) => !t.injected && t.signature !== 'valid').length,
  );
  observe('  thin payload', taps.filter((t) => !t.injected && t.thin).length);
  observe('  metadata stripped', taps.filter((t) => !t.injected && t.strippedMetadata).length);
  observe(
    '  events acknowledged more than once (duplicates)',
    [...tapsByEvent.values()].filter((r) => r.filter((t) => t.status === 200).length > 1).length,
  );
  observe('  delivered out of emission order', outOfOrder(events, taps));
  observe('forged deliveries posted by the driver', input.forgedEventIds.length);
  observe('charge workflow runs (incl. continue-as-new)', allRuns.length);
  observe('history events (all charge runs)', historyEvents);
  observe('stripeEvent signals (incl. duplicates)', stripeEventSignals);
  observe('activity failures (declines included) and timeouts', activityFailures);
  observe('activity attempts after the first', activityRetries);
  observe('retryNow updates accepted by the server', retryNowUpdates);
  observe('cancel signals', cancelSignals);
  observe('backfill runs', backfillRuns);
  observe('unmatched-events runs', unmatchedRuns.length);

  return {
    invariants: [
      doubleCharges,
      noOutcome,
      lostEvents,
      forged,
      executionFailures,
      moneyMismatch,
      multipleIntents,
      falseAcks,
    ].map(({ name, count, examples }) => ({ name, count, examples })),
    outcomes,
    observations,
  };
}

/** Adjacent pairs of events (emission order) whose first deliveries came the other way round. */
function outOfOrder(events: readonly StripeEventLike[], taps: readonly TapRecord[]): number {
  const firstSeen = new Map<string, number>();
  taps.forEach((t, i) => {
    if (t.eventId !== undefined && !t.injected && !firstSeen.has(t.eventId))
      firstSeen.set(t.eventId, i);
  });
  let count = 0;
  let previous: number | undefined;
  for (const event of events) {
    const seen = firstSeen.get(event.id);
    if (seen === undefined) continue;
    if (previous !== undefined && seen < previous) count++;
    previous = seen;
  }
  return count;
}

/** The `q` quantile (0–1) of `values`, nearest rank; 0 when empty. */
function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? 0;
}
