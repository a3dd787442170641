// The independent checker. It reads only what the simulator says happened (ledger, event log,
// request log, deliveries, and the wire taps' record of each webhook attempt and each
// PaymentIntent request) and what Temporal says happened (visibility, histories), never the
// driver's or the workflows' own bookkeeping, and counts violations of the invariants
// (DESIGN.md 1–5). The README (Chaos) defines every row.
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { defaultPayloadConverter, WorkflowNotFoundError } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { chargeWorkflowId, orderIdFromWorkflowId } from '../src/shared/ids.js';
import { IntentStatus } from '../src/shared/payment-intent.js';
import { cancelSchema } from '../src/shared/schemas.js';
import { RouteKind, UNMATCHED_EVENTS_WORKFLOW_ID } from '../src/shared/stripe-events.js';
import type { Ledger, Simulator, StripeEventLike } from '../src/simulator/index.js';
import { eventRoute, stripeWebhookEventSchema } from '../src/webhooks/event.js';
import {
  ChargeFailureType,
  ChargeOutcome,
  type ChargeConflictDetails,
  type ChargeResult,
  type RetryNowResult,
} from '../src/workflows/messages.js';
import { isAwaitedChargeKey } from '../src/workflows/idempotency-key.js';
import type { ApiTapRecord } from './api-tap.js';
import type { TapRecord } from './tap.js';
import { checkRefunds, loadRefundAcks } from './check-refunds.js';
import type { RefundRequestRecord } from './refunds.js';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** Histories fetched at once. */
const CONCURRENCY = 8;
/** Examples kept per violated row, for the report. */
const EXAMPLES = 5;
/**
 * Requests of the confirm in flight at a cancel that may still reach Stripe after the workflow
 * saw the cancel: the attempt already running, and stripe-node's one retry of it.
 */
const IN_FLIGHT_REQUESTS = 2;
/** How long the receiver may take over one delivery (the tap gives up at 9.5 s). */
const DELIVERY_WINDOW_MS = 10_000;
/**
 * How long a new run may stay out of the receiver's visibility query for open charges of a
 * customer (its first workflow task upserts `BillingCustomerId`; visibility lags behind).
 */
const VISIBILITY_LAG_MS = 10_000;

/** A row of the invariant table: must be 0. */
export interface InvariantRow {
  name: string;
  count: number;
  examples: string[];
}

/** What one run's history says. */
interface RunFacts {
  info: WorkflowExecutionInfo;
  /** The run's `ChargeInput` (its first argument), as started. */
  input:
    { orderId?: unknown; customerId?: unknown; amount?: unknown; currency?: unknown } | undefined;
  result?: ChargeResult;
  failure?: { message: string; type: string | undefined; details: unknown };
  stripeEventIds: string[];
  /** Idempotency keys of the Stripe requests the run's activities were scheduled with. */
  requestKeys: string[];
  signals: number;
  /** When the run took its first valid cancel (ms), or its start if it carried one over. */
  cancelAt?: number;
  /** When the workflow task that saw that cancel completed (ms). */
  cancelSeenAt?: number;
  /** Keys of the confirms in flight when the cancel came (their last attempt may still land). */
  inFlightAtCancel: string[];
  /** When the first of those ended (its answer reached the workflow), ms. */
  inFlightEndedAt?: number;
  /** A confirm had already ended when the cancel came. */
  confirmEndedBeforeCancel: boolean;
  /** Confirms the run scheduled after it had taken a valid cancel. */
  confirmsAfterCancel: number;
  activitiesScheduled: number;
  confirmsScheduled: number;
  retryNow: RetryNowResult[];
}

/** What the runs of one order's workflow id say. */
interface Chain {
  runs: RunFacts[];
  /** The current run (started last). */
  latest: RunFacts;
  /** The run that reports the order: the current one of those started with the order's input. */
  reporting: RunFacts | undefined;
  signalIds: Set<string>;
  /** Every run's request keys: an event caused by one is answered to the run that sent it. */
  requestKeys: Set<string>;
}

export interface CheckedOrder {
  orderId: string;
  scenario: string;
  amount: number;
  /** The adversarial attack on the order, if any. */
  attack?: { kind: string } | undefined;
}

export interface CheckInput {
  client: Client;
  sim: Simulator;
  taps: readonly TapRecord[];
  /** Every PaymentIntent create, confirm and cancel the workers sent (chaos/api-tap.ts). */
  apiTaps: readonly ApiTapRecord[];
  /** The orders the run meant to charge (ids, the scenario each was given, amounts in usd). */
  orders: readonly CheckedOrder[];
  /** Ids of events the driver forged: Stripe never emitted them. */
  forgedEventIds: readonly string[];
  /** Payment methods forged signals named, and those the run names legitimately. */
  forgedMethods?: readonly string[];
  legitMethods?: readonly string[];
  /** Signals Temporal refused to the driver because the run reached its signal limit. */
  signalRefusals?: readonly { orderId: string; detail: string }[];
  /** The refund requests the driver made and their answers (chaos/check-refunds.ts). */
  refunds?: readonly RefundRequestRecord[];
}

export interface CheckResult {
  invariants: InvariantRow[];
  /** scenario → outcome → count (`none` = no final outcome). */
  outcomes: Record<string, Record<string, number>>;
  /** attack → outcome → count (adversarial runs). */
  attackOutcomes: Record<string, Record<string, number>>;
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

function payloadAt<T>(
  payloads: temporal.api.common.v1.IPayloads | null | undefined,
  index = 0,
): T | undefined {
  const payload = payloads?.payloads?.[index];
  if (!payload) return undefined;
  try {
    return defaultPayloadConverter.fromPayload<T>(payload);
  } catch (error) {
    // A junk signal's payload is still valid JSON; anything else is not ours to judge here.
    if (error instanceof Error) return undefined;
    throw error;
  }
}

function eventMs(event: HistoryEvent): number {
  const t = event.eventTime;
  return t ? Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6) : 0;
}

async function history(client: Client, execution: WorkflowExecutionInfo): Promise<HistoryEvent[]> {
  const h = await client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
  return h.events ?? [];
}

/** The run id inside a run-scoped key, `prefix/workflowId/runId/confirm/n`. */
function runOfConfirmKey(key: string | undefined): string | undefined {
  const parts = key?.split('/');
  return parts?.length === 5 && parts[3] === 'confirm' ? parts[2] : undefined;
}

/** Whether some run was open at every moment of [from, to]. */
function openThroughout(runs: readonly RunFacts[], from: number, to: number): boolean {
  const spans = runs
    .map((r) => [r.info.startTime.getTime(), r.info.closeTime?.getTime() ?? Infinity] as const)
    .sort((a, b) => a[0] - b[0]);
  let covered = from;
  for (const [start, end] of spans) {
    if (start > covered) break;
    covered = Math.max(covered, end);
    if (covered >= to) return true;
  }
  return false;
}

/** The charge had ended by `at`: some run had run, and for a moment before `at` none was open. */
function closedBy(chain: Chain | undefined, at: number): boolean {
  return (
    chain !== undefined &&
    chain.runs.some((r) => r.info.startTime.getTime() <= at) &&
    !openThroughout(chain.runs, at - DELIVERY_WINDOW_MS, at)
  );
}

/**
 * Whether one run of the chain was open throughout the `DELIVERY_WINDOW_MS +
 * VISIBILITY_LAG_MS` before `at` and at `at`: the receiver, answering a delivery at `at`,
 * found it among the customer's open charges, and a signal to its workflow id reached it.
 */
function openForFanOut(chain: Chain | undefined, at: number): boolean {
  return (
    chain?.runs.some(
      (r) =>
        r.info.startTime.getTime() <= at - DELIVERY_WINDOW_MS - VISIBILITY_LAG_MS &&
        (r.info.closeTime?.getTime() ?? Infinity) >= at,
    ) ?? false
  );
}

/**
 * The customer an event fans out to, by the receiver's routing contract (DESIGN.md: customer-
 * level events go to every open charge of the customer); `undefined` for any other event.
 */
function fanOutCustomer(event: StripeEventLike): string | undefined {
  const parsed = stripeWebhookEventSchema.safeParse(event);
  if (!parsed.success) return undefined;
  const route = eventRoute(parsed.data);
  return route.kind === RouteKind.customer ? route.customerId : undefined;
}

/**
 * Whether no workflow needs `event` (the routing contract's `other` route: a type outside
 * HANDLED_EVENT_TYPES, or a customer.updated that leaves the default method alone). The
 * receiver answers such events `ignored` and sends them nowhere; nothing can lose them.
 */
function needsNoWorkflow(event: StripeEventLike): boolean {
  const parsed = stripeWebhookEventSchema.safeParse(event);
  return parsed.success && eventRoute(parsed.data).kind === RouteKind.other;
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

/** Reads one run's history into facts (and the run-wide counters). */
function runFacts(
  info: WorkflowExecutionInfo,
  events: readonly HistoryEvent[],
  counters: Record<string, number>,
): RunFacts {
  const facts: RunFacts = {
    info,
    input: undefined,
    stripeEventIds: [],
    requestKeys: [],
    signals: 0,
    confirmsAfterCancel: 0,
    inFlightAtCancel: [],
    confirmEndedBeforeCancel: false,
    activitiesScheduled: 0,
    confirmsScheduled: 0,
    retryNow: [],
  };
  const bump = (name: string) => (counters[name] = (counters[name] ?? 0) + 1);
  /** Confirms scheduled and not yet ended, by scheduled event id → key. */
  const openConfirms = new Map<string, string>();
  let inFlightIds = new Set<string>();
  for (const event of events) {
    bump('historyEvents');
    const started = event.workflowExecutionStartedEventAttributes;
    if (started) {
      facts.input = payloadAt(started.input, 0);
      const carried = payloadAt<{ cancelReason?: unknown }>(started.input, 1);
      if (carried?.cancelReason !== undefined)
        facts.cancelAt = facts.cancelSeenAt = info.startTime.getTime();
    }
    if (
      event.workflowTaskCompletedEventAttributes &&
      facts.cancelAt !== undefined &&
      facts.cancelSeenAt === undefined
    )
      facts.cancelSeenAt = eventMs(event);
    const ended =
      event.activityTaskCompletedEventAttributes ??
      event.activityTaskFailedEventAttributes ??
      event.activityTaskTimedOutEventAttributes ??
      event.activityTaskCanceledEventAttributes;
    if (ended) {
      const id = String(ended.scheduledEventId);
      if (openConfirms.has(id) && facts.cancelAt === undefined)
        facts.confirmEndedBeforeCancel = true;
      if (inFlightIds.has(id)) facts.inFlightEndedAt ??= eventMs(event);
      openConfirms.delete(id);
    }
    if (event.activityTaskFailedEventAttributes || event.activityTaskTimedOutEventAttributes)
      bump('activityFailures');
    if ((event.activityTaskStartedEventAttributes?.attempt ?? 1) > 1) bump('activityRetries');
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled) {
      facts.activitiesScheduled++;
      const requestKey = payloadAt<{ idempotencyKey?: unknown }>(scheduled.input)?.idempotencyKey;
      if (typeof requestKey === 'string') facts.requestKeys.push(requestKey);
      if (scheduled.activityType?.name === 'confirmPaymentIntent') {
        facts.confirmsScheduled++;
        if (facts.cancelAt !== undefined) facts.confirmsAfterCancel++;
        const key = payloadAt<{ idempotencyKey?: unknown }>(scheduled.input)?.idempotencyKey;
        openConfirms.set(String(event.eventId), typeof key === 'string' ? key : '');
      }
    }
    if (event.workflowExecutionUpdateAcceptedEventAttributes) bump('retryNowUpdates');
    const update = event.workflowExecutionUpdateCompletedEventAttributes;
    if (update) {
      const answer = payloadAt<RetryNowResult>(update.outcome?.success);
      if (answer && typeof answer.accepted === 'boolean') facts.retryNow.push(answer);
    }
    const completed = event.workflowExecutionCompletedEventAttributes;
    if (completed) facts.result = payloadAt<ChargeResult>(completed.result);
    const failed = event.workflowExecutionFailedEventAttributes?.failure;
    if (failed)
      facts.failure = {
        message: failed.message ?? '',
        type: failed.applicationFailureInfo?.type ?? undefined,
        details: payloadAt(failed.applicationFailureInfo?.details),
      };
    const signal = event.workflowExecutionSignaledEventAttributes;
    if (!signal) continue;
    facts.signals++;
    if (signal.signalName === 'cancel') {
      bump('cancelSignals');
      if (facts.cancelAt === undefined && cancelSchema.safeParse(payloadAt(signal.input)).success) {
        facts.cancelAt = eventMs(event);
        facts.inFlightAtCancel = [...openConfirms.values()];
        inFlightIds = new Set(openConfirms.keys());
      }
    }
    if (signal.signalName !== 'stripeEvent') continue;
    bump('stripeEventSignals');
    const payload = payloadAt<{ id?: unknown }>(signal.input);
    if (typeof payload?.id === 'string') facts.stripeEventIds.push(payload.id);
  }
  return facts;
}

/** Whether a run was started with the order's own parameters. */
function asksOrder(run: RunFacts, order: CheckedOrder): boolean {
  return (
    run.input?.orderId === order.orderId &&
    run.input.amount === order.amount &&
    run.input.currency === 'usd'
  );
}

/** What is wrong with `result` as an account of the order's money at Stripe, if anything. */
function misreport(result: ChargeResult, order: CheckedOrder, ledger: Ledger): string | undefined {
  const money = ledger.orders[order.orderId];
  const captured = money?.amountCaptured ?? 0;
  if (result.amount !== order.amount || result.currency !== 'usd')
    return `reports ${result.amount} ${result.currency}, the order is ${order.amount} usd`;
  if (result.outcome === ChargeOutcome.succeeded) {
    const intent = result.paymentIntentId
      ? ledger.paymentIntents[result.paymentIntentId]
      : undefined;
    if (!intent || intent.orderId !== order.orderId)
      return `succeeded with ${result.paymentIntentId ?? 'no intent'}, not an intent of the order`;
    if (intent.status !== IntentStatus.succeeded || intent.amountCaptured !== order.amount)
      return `succeeded, but ${result.paymentIntentId} is ${intent.status} with ${intent.amountCaptured} captured`;
    return undefined;
  }
  return captured > 0 ? `${result.outcome}, but Stripe captured ${captured}` : undefined;
}

/** What is wrong with a ChargeConflict failure's account of what Stripe holds, if anything. */
function conflictMisstates(run: RunFacts, orderId: string, ledger: Ledger): string | undefined {
  const failure = run.failure;
  if (failure?.type !== ChargeFailureType.conflict)
    return `ended ${run.info.status.name}${failure ? ` (${failure.type ?? 'no type'}: ${failure.message})` : ''}, not ChargeConflict`;
  const details = failure.details as Partial<ChargeConflictDetails> | undefined;
  const intentId = details?.paymentIntentId;
  const intent = intentId ? ledger.paymentIntents[intentId] : undefined;
  if (!intentId || !intent || intent.orderId !== orderId)
    return `names ${intentId ?? 'no intent'}, not the order's (${ledger.orders[orderId]?.paymentIntents.join(', ') ?? 'none'})`;
  if (details?.held?.amount !== intent.amount || details.held.currency !== intent.currency)
    return `says ${intentId} holds ${details?.held?.amount} ${details?.held?.currency}; Stripe: ${intent.amount} ${intent.currency}`;
  if (!failure.message.includes(intentId) || !failure.message.includes(String(details.status)))
    return `message does not name ${intentId} and its status: ${failure.message}`;
  const final: readonly string[] = [IntentStatus.succeeded, IntentStatus.canceled];
  if (final.includes(String(details.status)) && intent.status !== details.status)
    return `says ${intentId} is ${details.status}; Stripe: ${intent.status}`;
  return undefined;
}

/**
 * Where visibility disagrees with persistence about the orders' charges: for each order whose
 * workflow exists, the current run as the history service holds it (a describe, which reads the
 * shard that owns the id) must be listed by the visibility query with the same status. Visibility
 * is written behind each shard's transfer queue, so a shard that moved hosts (a history host
 * killed) or a store that restarted can leave it behind for a while; a run the list lacks would
 * leave the checker blind to it. One line per disagreement; empty when visibility is complete.
 */
export async function visibilityGaps(
  client: Client,
  orderIds: readonly string[],
  listed: readonly WorkflowExecutionInfo[],
): Promise<string[]> {
  const byRun = new Map(listed.map((e) => [`${e.workflowId}/${e.runId}`, e]));
  const gaps: string[] = [];
  await inBatches(orderIds, async (orderId) => {
    const workflowId = chargeWorkflowId(orderId);
    let current: Pick<WorkflowExecutionInfo, 'runId' | 'status'>;
    try {
      current = await client.workflow.getHandle(workflowId).describe();
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return; // never started: a row of its own
      throw error;
    }
    const seen = byRun.get(`${workflowId}/${current.runId}`);
    if (!seen) gaps.push(`${workflowId}: run ${current.runId} (${current.status.name}) not listed`);
    else if (seen.status.name !== current.status.name)
      gaps.push(
        `${workflowId}: run ${current.runId} is ${current.status.name}, listed ${seen.status.name}`,
      );
  });
  return gaps.sort();
}

/** Every run of the charge workflow type that visibility lists. */
export async function listCharges(client: Client): Promise<WorkflowExecutionInfo[]> {
  const executions: WorkflowExecutionInfo[] = [];
  for await (const execution of client.workflow.list({
    query: `WorkflowType = 'chargeCustomer'`,
    pageSize: 1000,
  }))
    executions.push(execution);
  return executions;
}

/** Runs every check; reads Temporal and the simulator, changes nothing. */
export async function checkRun(input: CheckInput): Promise<CheckResult> {
  const { client, sim, taps } = input;
  const ledger: Ledger = sim.ledger();
  const events = sim.events();
  const deliveries = sim.webhookDeliveries();
  const requests = sim.requests();
  const known = new Set(input.orders.map((o) => o.orderId));
  const orderById = new Map(input.orders.map((o) => [o.orderId, o]));
  const observations: Record<string, number> = {};
  const observe = (name: string, value: number) => (observations[name] = value);

  // ---- Temporal: every run of every charge (and every id a charge ran under), from history ----
  // Visibility lists the runs of every shard (one store); each order's current run, read from
  // the shard that owns it, must be among them, or the checker would judge a partial set.
  const executions = await listCharges(client);
  const unlisted = row('charges whose current run visibility does not list as persistence has it');
  for (const gap of await visibilityGaps(client, [...known], executions)) unlisted.add(gap);
  const unmatchedRuns: WorkflowExecutionInfo[] = [];
  for await (const execution of client.workflow.list({
    // The sharded unmatched-events workflows (stripe-events:unmatched:<n>) and the legacy single one.
    query: `WorkflowId STARTS_WITH '${UNMATCHED_EVENTS_WORKFLOW_ID}'`,
  }))
    unmatchedRuns.push(execution);
  let backfillRuns = 0;
  for await (const execution of client.workflow.list({
    query: `WorkflowType = 'backfillStripeEvents'`,
  }))
    if (execution.status.name !== 'CONTINUED_AS_NEW') backfillRuns++;

  const counters: Record<string, number> = {};
  const allRuns: RunFacts[] = [];
  await inBatches(executions, async (execution) => {
    allRuns.push(runFacts(execution, await history(client, execution), counters));
  });
  const runsById = new Map<string, RunFacts[]>();
  for (const run of allRuns)
    runsById.set(run.info.workflowId, [...(runsById.get(run.info.workflowId) ?? []), run]);

  const chains = new Map<string, Chain>();
  for (const [workflowId, runs] of runsById) {
    const byStart = [...runs].sort(
      (a, b) => a.info.startTime.getTime() - b.info.startTime.getTime(),
    );
    const latest = byStart.at(-1)!;
    const order = orderById.get(orderIdFromWorkflowId(workflowId) ?? '');
    // The order's own runs that end a chain (continue-as-new passes the charge on): the running
    // one, else the one that closed last.
    const own = byStart.filter(
      (r) =>
        order !== undefined && asksOrder(r, order) && r.info.status.name !== 'CONTINUED_AS_NEW',
    );
    const reporting =
      own.find((r) => r.info.status.name === 'RUNNING') ??
      own
        .sort((a, b) => (a.info.closeTime?.getTime() ?? 0) - (b.info.closeTime?.getTime() ?? 0))
        .at(-1);
    chains.set(workflowId, {
      runs,
      latest,
      reporting,
      signalIds: new Set(runs.flatMap((r) => r.stripeEventIds)),
      requestKeys: new Set(runs.flatMap((r) => r.requestKeys)),
    });
  }

  const unmatchedIds = new Set<string>();
  await inBatches(unmatchedRuns, async (execution) => {
    for (const event of await history(client, execution)) {
      const signal = event.workflowExecutionSignaledEventAttributes;
      if (signal?.signalName !== 'unmatchedEvent') continue;
      const payload = payloadAt<{ signal?: { id?: unknown } }>(signal.input);
      if (typeof payload?.signal?.id === 'string') unmatchedIds.add(payload.signal.id);
    }
  });
  const chainOf = (orderId: string) => chains.get(chargeWorkflowId(orderId));

  // ---- 1. double charges, more than one intent (ledger only) ----
  const doubleCharges = row(
    'double charges (orders with > 1 successful charge or > 1 succeeded PaymentIntent)',
  );
  const multipleIntents = row('orders with more than one PaymentIntent');
  const overCaptured = row('orders captured more than their amount (ledger, per order id)');
  const foreignIntents = row("order intents holding another amount or currency than the order's");
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
    const planned = orderById.get(orderId);
    if (order.amountCaptured > (planned?.amount ?? 0))
      overCaptured.add(
        `${orderId}: ${order.amountCaptured} captured, ${planned ? `ordered ${planned.amount}` : 'not an order of the run'}`,
      );
    for (const pi of order.paymentIntents) {
      const intent = ledger.paymentIntents[pi];
      if (planned && intent && (intent.amount !== planned.amount || intent.currency !== 'usd'))
        foreignIntents.add(
          `${orderId}: ${pi} holds ${intent.amount} ${intent.currency} (${intent.status}), ordered ${planned.amount} usd`,
        );
    }
  }

  // ---- 2. outcomes: every order final, no execution failures, money agrees ----
  const noOutcome = row('orders without a final outcome after the drain');
  const executionFailures = row('charges that failed as executions (bug or config)');
  const moneyMismatch = row('money: ledger and workflow results disagree');
  const latestMisreports = row("latest runs that do not report Stripe's money (or are still open)");
  const outcomes: Record<string, Record<string, number>> = {};
  const attackOutcomes: Record<string, Record<string, number>> = {};
  const outcomeOf = (chain: Chain | undefined) =>
    chain?.reporting?.result?.outcome ??
    (chain?.reporting?.info.status.name === 'FAILED' ? 'execution failed' : 'none');
  for (const order of input.orders) {
    const chain = chainOf(order.orderId);
    const reporting = chain?.reporting;
    const outcome = outcomeOf(chain);
    const byScenario = (outcomes[order.scenario] ??= {});
    byScenario[outcome] = (byScenario[outcome] ?? 0) + 1;
    if (order.attack) {
      const byAttack = (attackOutcomes[order.attack.kind] ??= {});
      byAttack[outcome] = (byAttack[outcome] ?? 0) + 1;
    }
    const running = reporting?.info.status.name === 'RUNNING';
    if (!chain) noOutcome.add(`${order.orderId}: never started`);
    else if (!reporting) noOutcome.add(`${order.orderId}: no run with the order's parameters`);
    else if (running) noOutcome.add(`${order.orderId}: still running`);
    else if (reporting.failure)
      executionFailures.add(
        `${order.orderId}: ${reporting.failure.type ?? 'failed'}: ${reporting.failure.message}`,
      );
    else if (!reporting.result)
      noOutcome.add(`${order.orderId}: ended ${reporting.info.status.name} without an outcome`);
    const money = ledger.orders[order.orderId];
    const charged = (money?.successfulCharges ?? 0) > 0;
    const succeeded = reporting?.result?.outcome === 'succeeded';
    if (charged !== succeeded && !running)
      moneyMismatch.add(
        `${order.orderId}: ledger ${charged ? 'charged' : 'not charged'}, workflow ${outcome}`,
      );
    else if (charged && money!.amountCaptured !== order.amount)
      moneyMismatch.add(
        `${order.orderId}: captured ${money!.amountCaptured}, ordered ${order.amount}`,
      );
    else if (
      reporting?.result?.paymentIntentId !== undefined &&
      money !== undefined &&
      !money.paymentIntents.includes(reporting.result.paymentIntentId)
    )
      moneyMismatch.add(
        `${order.orderId}: result names ${reporting.result.paymentIntentId}, not the order's intent`,
      );

    // The latest run of the order, whoever started it, must report what Stripe shows.
    if (!chain) continue;
    const latest = chain.latest;
    const status = latest.info.status.name;
    const where = `${order.orderId} (run ${latest.info.runId})`;
    if (status === 'RUNNING') latestMisreports.add(`${where}: still open`);
    else if (latest.result) {
      const wrong = misreport(latest.result, order, ledger);
      if (wrong) latestMisreports.add(`${where}: ${wrong}`);
    } else if (latest.failure?.type === ChargeFailureType.conflict && !asksOrder(latest, order)) {
      // The conflicting run says what Stripe holds (checked below); the order's own run reports.
      const own = reporting?.result;
      const wrong = own
        ? misreport(own, order, ledger)
        : `a conflicting run is the latest and no run with the order's input reports`;
      if (wrong) latestMisreports.add(`${where}: ChargeConflict; the order's run: ${wrong}`);
    } else
      latestMisreports.add(
        `${where}: ended ${status}${latest.failure ? ` (${latest.failure.type}: ${latest.failure.message})` : ''}, reporting nothing`,
      );
  }

  // ---- adversarial callers: runs with other parameters, under other ids, after a cancel ----
  const conflicts = row(
    "runs asked other parameters than the order's that did not fail ChargeConflict naming Stripe's intent, or confirmed",
  );
  const wrongIds = row(
    'runs under a wrong workflow id that did not fail WrongWorkflowId untouched',
  );
  const afterCancel = row('confirms a run sent after it took a valid cancel');
  let conflictRuns = 0;
  let wrongIdRuns = 0;
  let terminatedRuns = 0;
  for (const run of allRuns) {
    const orderId = typeof run.input?.orderId === 'string' ? run.input.orderId : undefined;
    const order = orderId === undefined ? undefined : orderById.get(orderId);
    const where = `${run.info.workflowId} (run ${run.info.runId})`;
    if (run.info.status.name === 'TERMINATED') terminatedRuns++;
    if (orderId === undefined || run.info.workflowId !== chargeWorkflowId(orderId)) {
      wrongIdRuns++;
      if (run.failure?.type !== ChargeFailureType.wrongWorkflowId || run.activitiesScheduled > 0)
        wrongIds.add(
          `${where}: ${run.info.status.name}${run.failure ? ` ${run.failure.type}` : ''}, ${run.activitiesScheduled} activities`,
        );
      continue;
    }
    if (order && !asksOrder(run, order)) {
      conflictRuns++;
      if (run.info.status.name === 'RUNNING') conflicts.add(`${where}: still running`);
      else {
        const wrong = conflictMisstates(run, order.orderId, ledger);
        if (wrong) conflicts.add(`${where}: ${wrong}`);
      }
      if (run.confirmsScheduled > 0)
        conflicts.add(`${where}: scheduled ${run.confirmsScheduled} confirm(s)`);
    }
    if (run.confirmsAfterCancel > 0)
      afterCancel.add(`${where}: ${run.confirmsAfterCancel} confirm(s) scheduled after the cancel`);
  }
  // On the wire: once the workflow has seen the cancel, the confirm it was waiting for may land
  // at most once more (its attempt in flight, and stripe-node's one retry of it); no other
  // confirm of the run may reach Stripe after the cancel.
  const runById = new Map(allRuns.map((r) => [r.info.runId, r]));
  const lateByKey = new Map<string, number>();
  for (const request of input.apiTaps) {
    if (request.operation !== 'confirm') continue;
    const run = runById.get(runOfConfirmKey(request.idempotencyKey) ?? '');
    if (run?.cancelAt === undefined || request.at <= run.cancelAt) continue;
    const key = request.idempotencyKey ?? '';
    const where = `${run.info.workflowId} (run ${run.info.runId})`;
    if (!run.inFlightAtCancel.includes(key)) {
      afterCancel.add(
        `${where}: ${key} reached Stripe ${((request.at - run.cancelAt) / 1000).toFixed(1)} s after the cancel, not in flight then`,
      );
      continue;
    }
    if (request.at <= (run.cancelSeenAt ?? run.cancelAt)) continue;
    const late = (lateByKey.get(key) ?? 0) + 1;
    lateByKey.set(key, late);
    if (late > IN_FLIGHT_REQUESTS)
      afterCancel.add(
        `${where}: ${key} reached Stripe ${late}× after the workflow saw the cancel (${((request.at - (run.cancelSeenAt ?? run.cancelAt)) / 1000).toFixed(1)} s after)`,
      );
  }

  // ---- forged signals: no request carried a payment method only they named ----
  const legit = new Set(input.legitMethods ?? []);
  const forgedOnly = new Set((input.forgedMethods ?? []).filter((m) => !legit.has(m)));
  const forgedMethodRequests = row(
    'Stripe requests carrying a payment method only forged signals named',
  );
  for (const request of input.apiTaps)
    if (request.paymentMethod !== undefined && forgedOnly.has(request.paymentMethod))
      forgedMethodRequests.add(
        `${request.orderId ?? request.paymentIntentId ?? '?'}: ${request.operation} with ${request.paymentMethod} (${request.status})`,
      );
  const firstSeq = requests[0]?.seq ?? 1;
  if (firstSeq > 1)
    forgedMethodRequests.add(`the simulator's request log lost its first ${firstSeq - 1} entries`);

  // ---- cancels during a retried confirm, storms, floods (attacked orders) ----
  const canceledConfirm = row(
    'cancels seen while the confirm was retried (429s) that did not end canceled',
  );
  let cancelsAnsweredFirst = 0;
  const storms = row(
    'retryNow storms: confirms at Stripe beyond the first attempt and the accepted, unmerged answers',
  );
  const floods = row(
    'signal floods: signals Temporal refused (per-run limit) or a cancel after the flood not honored',
  );
  const executedConfirmKeys = new Map<string, Set<string>>();
  for (const entry of requests)
    if (
      entry.executed &&
      entry.method === 'POST' &&
      entry.orderId !== null &&
      /\/confirm$/.test(entry.path)
    ) {
      const keys = executedConfirmKeys.get(entry.orderId) ?? new Set<string>();
      keys.add(entry.idempotencyKey ?? `(no key ${entry.seq})`);
      executedConfirmKeys.set(entry.orderId, keys);
    }
  let maxSignalsPerRun = 0;
  for (const run of allRuns) maxSignalsPerRun = Math.max(maxSignalsPerRun, run.signals);
  for (const order of input.orders) {
    const kind = order.attack?.kind;
    const chain = chainOf(order.orderId);
    const outcome = outcomeOf(chain);
    const captured = ledger.orders[order.orderId]?.amountCaptured ?? 0;
    const run = chain?.reporting;
    if (kind === 'cancel_confirming_429') {
      // The claim: a cancel the workflow saw before the confirm's answer stops it. A cancel it
      // could not see first (its tasks did not run: a killed worker, a restarting server, a
      // starved machine, while Temporal kept retrying the activity) is counted apart.
      const answeredFirst =
        run?.cancelAt !== undefined &&
        ((run.inFlightAtCancel.length === 0 && run.confirmEndedBeforeCancel) ||
          (run.inFlightEndedAt !== undefined &&
            (run.cancelSeenAt ?? Infinity) > run.inFlightEndedAt));
      if (run?.cancelAt === undefined)
        canceledConfirm.add(`${order.orderId}: no valid cancel in its history`);
      else if (answeredFirst) cancelsAnsweredFirst++;
      else if (outcome !== ChargeOutcome.canceled || captured > 0)
        canceledConfirm.add(
          `${order.orderId}: ${outcome}, ${captured} captured; the workflow saw the cancel ${run.cancelSeenAt === undefined ? 'never' : new Date(run.cancelSeenAt).toISOString()}, the confirm answered ${run.inFlightEndedAt === undefined ? '(none in flight)' : new Date(run.inFlightEndedAt).toISOString()}`,
        );
    }
    if (kind === 'retry_storm') {
      const answers = chain?.runs.flatMap((r) => r.retryNow) ?? [];
      const accepted = answers.filter((a) => a.accepted && !a.merged).length;
      const confirms = executedConfirmKeys.get(order.orderId)?.size ?? 0;
      if (confirms > 1 + accepted)
        storms.add(
          `${order.orderId}: ${confirms} confirms executed, ${accepted} of ${answers.length} answers accepted unmerged`,
        );
    }
    if (kind === 'signal_flood' && outcome !== ChargeOutcome.canceled)
      floods.add(
        `${order.orderId}: ${outcome} after the flood (${chain?.runs.length ?? 0} runs, ${chain?.runs.reduce((n, r) => n + r.signals, 0) ?? 0} signals)`,
      );
  }
  for (const refusal of input.signalRefusals ?? [])
    floods.add(`${refusal.orderId}: ${refusal.detail}`);

  const ledgerSucceeded = input.orders.filter(
    (o) => (ledger.orders[o.orderId]?.successfulCharges ?? 0) > 0,
  ).length;
  const workflowsSucceeded = input.orders.filter(
    (o) => chainOf(o.orderId)?.reporting?.result?.outcome === 'succeeded',
  ).length;
  const durations = input.orders
    .map((o) => chainOf(o.orderId))
    .filter((c): c is Chain => c?.reporting?.info.closeTime !== undefined)
    .map((c) => {
      const start = Math.min(...c.runs.map((r) => r.info.startTime.getTime()));
      return {
        id: c.latest.info.workflowId,
        seconds: (c.reporting!.info.closeTime!.getTime() - start) / 1000,
      };
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

  // ---- 3. events: every validly signed, acknowledged event is applied, answered, parked or late ----
  // A customer's orders: those with an intent of the customer at Stripe, and those whose own
  // runs charge the customer (an open charge may have no intent yet).
  const customerOrders = new Map<string, Set<string>>();
  const addCustomerOrder = (customerId: unknown, orderId: unknown) => {
    if (typeof customerId !== 'string' || typeof orderId !== 'string' || !known.has(orderId))
      return;
    customerOrders.set(customerId, (customerOrders.get(customerId) ?? new Set()).add(orderId));
  };
  for (const pi of Object.values(ledger.paymentIntents))
    addCustomerOrder(pi.customerId, pi.orderId);
  for (const chain of chains.values())
    for (const r of chain.runs) {
      const order = orderById.get(typeof r.input?.orderId === 'string' ? r.input.orderId : '');
      if (order && asksOrder(r, order)) addCustomerOrder(r.input?.customerId, order.orderId);
    }
  const ordersByCustomer = new Map(
    [...customerOrders].map(([customerId, orders]) => [customerId, [...orders]]),
  );
  const tapsByEvent = new Map<string, TapRecord[]>();
  for (const t of taps)
    if (t.eventId !== undefined && !t.injected)
      tapsByEvent.set(t.eventId, [...(tapsByEvent.get(t.eventId) ?? []), t]);
  const attemptsByEvent = new Map<string, number>();
  for (const d of deliveries)
    attemptsByEvent.set(d.eventId, (attemptsByEvent.get(d.eventId) ?? 0) + 1);

  // A customer-level event counts as lost too when it missed one of the customer's open charges.
  const lostEvents = row('valid events neither applied nor in the unmatched workflow');
  const falseAcks = row('acknowledgements contradicted by Temporal (200 but not recorded)');
  const refundAcks = await loadRefundAcks(client, DELIVERY_WINDOW_MS);
  const forged = row('forged events that caused a signal or were acknowledged');
  let aboutOrders = 0;
  let acked = 0;
  let applied = 0;
  let parked = 0;
  let afterClose = 0;
  let answered = 0;
  let droppedByFault = 0;
  let droppedThenApplied = 0;
  let pendingAtEnd = 0;
  let unacknowledgedUnseen = 0;
  let ignored = 0;
  for (const event of events) {
    const orderIds = ordersOf(event, ordersByCustomer, known);
    if (orderIds.length === 0) continue;
    aboutOrders++;
    if (needsNoWorkflow(event)) {
      // Acknowledged and sent nowhere by design; an answer claiming more is still judged.
      ignored++;
      for (const t of tapsByEvent.get(event.id) ?? []) {
        if (t.signature !== 'valid' || typeof t.status !== 'number' || t.status >= 300) continue;
        if (t.delivery !== 'ignored')
          falseAcks.add(
            `${event.id} (${event.type}): no workflow handles it, yet the receiver said ${t.delivery ?? '(nothing)'}`,
          );
      }
      continue;
    }
    const inChain = orderIds.some((o) => chainOf(o)?.signalIds.has(event.id));
    // Caused by a confirm or cancel of the order's workflow (the receiver's own rule, and a key
    // one of its runs scheduled): that run had the answer as its activity's result.
    const causedBy = event.request.idempotency_key;
    const answersOwnRequest = (workflowId: string) =>
      causedBy !== null &&
      isAwaitedChargeKey(causedBy, workflowId) &&
      (chains.get(workflowId)?.requestKeys.has(causedBy) ?? false);
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
    if (acks.length === 0) {
      // Never acknowledged: the receiver never claimed it durable (invariant 5 holds), and a
      // charge polls Stripe without it (invariant 4); how many reached no history is shown.
      if (
        records.some((t) => t.signature === 'valid') &&
        event.pending_webhooks === 0 &&
        !inChain &&
        !inUnmatched
      )
        unacknowledgedUnseen++;
      continue;
    }
    acked++;
    const firstAck = Math.min(...acks.map((t) => t.answeredAt));
    // A customer-level event fans out: every charge of the customer that was open when the
    // receiver acknowledged a delivery naming the customer (a thin payload does not), and long
    // enough before to be visible, must have it, not just one of them.
    const fullAcks = acks.filter((t) => !t.thin).map((t) => t.answeredAt);
    const fanOutAt = fullAcks.length > 0 ? Math.min(...fullAcks) : undefined;
    const customer = fanOutAt === undefined ? undefined : fanOutCustomer(event);
    const missed =
      customer === undefined
        ? []
        : (ordersByCustomer.get(customer) ?? []).filter(
            (o) => openForFanOut(chainOf(o), fanOutAt!) && !chainOf(o)?.signalIds.has(event.id),
          );
    if (missed.length > 0)
      lostEvents.add(
        `${event.id} (${event.type}, customer ${customer}): acknowledged ${new Date(fanOutAt!).toISOString()}, not signalled to its open charge(s) ${missed.join(', ')}`,
      );
    else if (inChain) applied++;
    else if (orderIds.some((o) => answersOwnRequest(chargeWorkflowId(o)))) answered++;
    else if (inUnmatched) parked++;
    else if (orderIds.some((o) => closedBy(chainOf(o), firstAck))) afterClose++;
    else
      lostEvents.add(
        `${event.id} (${event.type}, order ${orderIds.join('/')}): acknowledged ${new Date(firstAck).toISOString()}, no signal`,
      );
    for (const t of acks) {
      const claim = t.delivery;
      // Answers naming refund workflows: chaos/check-refunds.ts.
      const ok =
        refundAcks.holds(claim, t.workflowIds, event.id, t.answeredAt) ??
        (claim === 'workflow'
          ? t.workflowIds.length > 0 &&
            t.workflowIds.every((id) => chains.get(id)?.signalIds.has(event.id))
          : claim === 'answered'
            ? t.workflowIds.length === 1 && answersOwnRequest(t.workflowIds[0]!)
            : claim === 'unmatched'
              ? inUnmatched
              : claim === 'closed'
                ? t.workflowIds.every((id) => closedBy(chains.get(id), t.answeredAt))
                : false); // 'ignored' for an event a workflow needs is a lost event

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
  observe('  of types no workflow handles (answered ignored, sent nowhere)', ignored);
  observe('  acknowledged by the receiver (validly signed, 2xx)', acked);
  observe('  applied: a stripeEvent signal in the order’s workflow chain', applied);
  observe(
    '  answered: caused by a confirm or cancel of the order’s workflow, which had the answer',
    answered,
  );
  observe('  parked: in the unmatched-events workflow', parked);
  observe('  after close: acknowledged once the charge had ended', afterClose);
  observe('  dropped by a fault (never delivered)', droppedByFault);
  observe('    of which signalled anyway (backfill Schedule)', droppedThenApplied);
  observe('  deliveries still pending at the end', pendingAtEnd);
  observe(
    '  delivered validly, never acknowledged, no longer retried, in no history',
    unacknowledgedUnseen,
  );
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
  observe('history events (all charge runs)', counters.historyEvents ?? 0);
  observe('stripeEvent signals (incl. duplicates)', counters.stripeEventSignals ?? 0);
  observe('activity failures (declines included) and timeouts', counters.activityFailures ?? 0);
  observe('activity attempts after the first', counters.activityRetries ?? 0);
  observe('retryNow updates accepted by the server', counters.retryNowUpdates ?? 0);
  observe('cancel signals', counters.cancelSignals ?? 0);
  observe('backfill runs', backfillRuns);
  observe('unmatched-events runs', unmatchedRuns.length);
  observe(
    'PaymentIntent creates, confirms and cancels the workers sent (API tap)',
    input.apiTaps.length,
  );
  observe('Stripe API requests (simulator request log)', requests.length);
  if (input.orders.some((o) => o.attack)) {
    const multi = [...chains.values()].filter((c) => c.runs.length > 1).length;
    observe('adversarial: orders with more than one run', multi);
    observe(
      'adversarial: runs terminated (by a caller, a reset or TERMINATE_EXISTING)',
      terminatedRuns,
    );
    observe(
      'adversarial: runs asked other parameters than the order (ChargeConflict)',
      conflictRuns,
    );
    observe('adversarial: runs under a wrong workflow id (WrongWorkflowId)', wrongIdRuns);
    observe(
      'adversarial: runs continued as new',
      allRuns.filter((r) => r.info.status.name === 'CONTINUED_AS_NEW').length,
    );
    observe('adversarial: most signals in one run', maxSignalsPerRun);
    observe(
      "adversarial: cancels (429 attack) the workflow could not see before Stripe's answer",
      cancelsAnsweredFirst,
    );
    observe(
      'adversarial: most confirms executed at Stripe for one order (distinct keys)',
      Math.max(0, ...[...executedConfirmKeys.values()].map((k) => k.size)),
    );
  }

  const refunds = checkRefunds(ledger, input.refunds ?? []); // issue 14: chaos/check-refunds.ts
  Object.assign(observations, refunds.observations);
  return {
    invariants: [
      ...refunds.invariants,
      doubleCharges,
      noOutcome,
      lostEvents,
      forged,
      executionFailures,
      moneyMismatch,
      multipleIntents,
      falseAcks,
      overCaptured,
      foreignIntents,
      latestMisreports,
      forgedMethodRequests,
      conflicts,
      wrongIds,
      afterCancel,
      canceledConfirm,
      storms,
      floods,
      unlisted,
    ].map(({ name, count, examples }) => ({ name, count, examples })),
    outcomes,
    attackOutcomes,
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
