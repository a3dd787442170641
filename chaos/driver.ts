// Drives the plan through the stack: starts each order at its time (a customer, then the
// charge), then on its own clock calls retryNow and cancel, posts forged webhooks, kills
// workers and takes the server's processes down and back (the dev server, or the cluster's);
// records what it did and what came back. Errors while Temporal is down are tolerated and
// recorded, never retried into the invariants' way.
import { setTimeout as delay } from 'node:timers/promises';
import { WorkflowNotFoundError } from '@temporalio/common';
import type { ChargeInput } from '../src/client/index.js';
import { chargeWorkflowId } from '../src/shared/ids.js';
import { signPayload, SIM_API_VERSION } from '../src/simulator/index.js';
import { Adversary, type AdversaryRecord } from './adversary.js';
import type { ChaosOptions } from './options.js';
import {
  CHAOS_DUNNING,
  ForgeryKind,
  type ChaosPlan,
  type PlannedOrder,
  type ServerFaultKind,
} from './plan.js';
import { WEBHOOK_SECRET, type ChaosStack, type Progress } from './stack.js';
import { driveRefunds, type RefundRequestRecord } from './refunds.js';

/** What the progress line says as each server fault begins. */
const SERVER_FAULT_LABEL: Record<ServerFaultKind, (index: number) => string> = {
  dev_server: () => 'kill -9 the dev server, restart on its db file',
  history: (index) => `kill -9 history-${index}`,
  frontend: () => 'kill -9 the frontend',
  temporal_worker: () => "kill -9 Temporal's worker service",
  postgres: () => 'stop and start PostgreSQL',
};

/** How long the driver keeps trying to start one order (Temporal may be restarting). */
const START_DEADLINE_MS = 180_000;

export type ActionKind = 'retryNow' | 'retryNow+card' | 'cancel' | 'forgery';

/** One app action on an order and what it got. */
export interface ActionRecord {
  orderId: string;
  kind: ActionKind;
  at: number;
  /**
   * accepted; rejected (by the workflow, with its reason); ended (the charge had already
   * closed, so the server refused the update or signal); error (Temporal down, transport).
   */
  result: 'accepted' | 'rejected' | 'ended' | 'error';
  detail: string;
}

export interface DriverRecord {
  /** Orders whose charge was started, and when. */
  started: Map<string, number>;
  /** Orders the driver never managed to start (with the last error). */
  notStarted: Map<string, string>;
  /** Start calls that failed and were retried. */
  startRetries: number;
  actions: ActionRecord[];
  /** Ids of the forged events the driver posted. */
  forgedEventIds: string[];
  /** When the last order started (wall ms). */
  loadEndedAt: number;
  /** What the adversarial mix did (`--adversarial`). */
  adversary?: AdversaryRecord;
  /** The refund requests made once charges succeeded, and what they answered (issue 14). */
  refunds: RefundRequestRecord[];
  /** Settle when each refund request has its answer (or its deadline passed): after the drain. */
  refundAnswers: Promise<void>[];
}

function message(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** A forged `payment_intent.succeeded` about the order's workflow: a real id, a fake intent. */
function forgedDelivery(
  order: PlannedOrder,
  seed: number,
  kind: ForgeryKind,
): { eventId: string; body: string; signature: string | undefined } {
  const eventId = `evt_chaosforged_${seed}_${order.index}`;
  const now = Math.floor(Date.now() / 1000);
  const event = (id: string, type: string) =>
    JSON.stringify({
      id,
      object: 'event',
      api_version: SIM_API_VERSION,
      created: now,
      data: {
        object: {
          id: `pi_chaosforged_${order.index}`,
          object: 'payment_intent',
          status: 'succeeded',
          amount: order.amount,
          metadata: { workflow_id: chargeWorkflowId(order.orderId), order_id: order.orderId },
        },
      },
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      type,
    });
  const body = event(eventId, 'payment_intent.succeeded');
  switch (kind) {
    case ForgeryKind.wrongSecret:
      return { eventId, body, signature: signPayload(body, `whsec_forged_${seed}`, now) };
    case ForgeryKind.staleTimestamp:
      // The right secret, 15 minutes old: a replay outside Stripe's 300 s tolerance.
      return { eventId, body, signature: signPayload(body, WEBHOOK_SECRET, now - 900) };
    case ForgeryKind.tamperedBody: {
      // A validly signed body of another event, with this body swapped in.
      const signed = event(`${eventId}_original`, 'payment_intent.payment_failed');
      return { eventId, body, signature: signPayload(signed, WEBHOOK_SECRET, now) };
    }
    case ForgeryKind.unsigned:
      return { eventId, body, signature: undefined };
  }
}

/** Runs the plan's load and disruptions; resolves when all of it is done (not the drain). */
export async function drive(
  stack: ChaosStack,
  plan: ChaosPlan,
  options: ChaosOptions,
  progress: Progress,
): Promise<DriverRecord> {
  const record: DriverRecord = {
    started: new Map(),
    notStarted: new Map(),
    startRetries: 0,
    actions: [],
    forgedEventIds: [],
    loadEndedAt: 0,
    refunds: [],
    refundAnswers: [],
  };
  // One customer object per planned customer, created by its first order.
  const customers = new Map<number, Promise<string>>();
  const customerOf = (order: PlannedOrder): Promise<string> => {
    let id = customers.get(order.customer);
    if (!id) {
      id = stack.stripe.customers
        .create({ email: `customer-${order.customer}@chaos.example` })
        .then((c) => c.id);
      id.catch(() => customers.delete(order.customer)); // the next order tries again
      customers.set(order.customer, id);
    }
    return id;
  };
  const adversary = plan.adversarial
    ? new Adversary(stack, plan, options.seed, progress)
    : undefined;
  if (adversary) {
    await adversary.setup();
    record.adversary = adversary.record;
  }
  const t0 = Date.now();
  const at = (offsetMs: number) => delay(Math.max(0, t0 + offsetMs - Date.now()));

  async function act(
    order: PlannedOrder,
    kind: ActionKind,
    call: () => Promise<string | undefined>,
  ) {
    const started = Date.now();
    try {
      const rejection = await call();
      record.actions.push({
        orderId: order.orderId,
        kind,
        at: started,
        result: rejection === undefined ? 'accepted' : 'rejected',
        detail: rejection ?? '',
      });
    } catch (error) {
      record.actions.push({
        orderId: order.orderId,
        kind,
        at: started,
        result: error instanceof WorkflowNotFoundError ? 'ended' : 'error',
        detail: message(error),
      });
    }
  }

  async function runOrder(order: PlannedOrder): Promise<void> {
    await at(order.startAtMs);
    let input: ChargeInput | undefined;
    let lastError = '';
    adversary?.prepare(order);
    const deadline = Date.now() + START_DEADLINE_MS;
    while (Date.now() < deadline) {
      try {
        input ??= {
          orderId: order.orderId,
          customerId: await customerOf(order),
          amount: order.amount,
          currency: 'usd',
          paymentMethodId: order.paymentMethodId,
          description: `chaos ${order.scenario}`,
          dunning: order.dunning ?? CHAOS_DUNNING,
        };
        if (adversary && order.attack?.rawFirstStart) await adversary.firstStart(order, input);
        else await stack.billing.startCharge(input);
        record.started.set(order.orderId, Date.now());
        break;
      } catch (error) {
        lastError = message(error);
        record.startRetries++;
        await delay(500);
      }
    }
    if (!record.started.has(order.orderId) || !input) {
      record.notStarted.set(order.orderId, lastError);
      return;
    }
    const attack = adversary?.attack(order, input);
    const base = Date.now();
    const charge = stack.billing.getCharge(order.orderId);
    const after = (ms: number) => delay(Math.max(0, base + ms - Date.now()));
    await Promise.all([
      attack,
      order.retryNow &&
        after(order.retryNow.afterMs).then(() => {
          const paymentMethodId = order.retryNow?.paymentMethodId;
          return act(order, paymentMethodId ? 'retryNow+card' : 'retryNow', async () => {
            const result = await charge.retryNow(paymentMethodId ? { paymentMethodId } : {});
            return result.accepted ? undefined : (result.reason ?? 'rejected');
          });
        }),
      order.cancel &&
        after(order.cancel.afterMs).then(() =>
          act(order, 'cancel', async () => {
            await charge.cancel('chaos: the customer canceled the order');
            return undefined;
          }),
        ),
      order.forgery &&
        after(order.forgery.afterMs).then(() => {
          const kind = order.forgery!.kind;
          const forged = forgedDelivery(order, options.seed, kind);
          record.forgedEventIds.push(forged.eventId);
          return act(order, 'forgery', async () => {
            const answer = await stack.tap.inject(forged.body, forged.signature);
            // A forgery is "accepted" only if the receiver took it: that would be a violation.
            return typeof answer.status === 'number' && answer.status < 300
              ? undefined
              : `${kind}: ${answer.status}`;
          });
        }),
    ]);
    // Refunds join the mix once the charge succeeded (chaos/refunds.ts).
    if (order.refunds)
      record.refunds.push(...(await driveRefunds(stack, order, charge, record.refundAnswers)));
  }

  const disruptions = [
    ...plan.workerKills.map(async (kill) => {
      await at(kill.atMs);
      progress(`kill -9 worker-${kill.worker} (down ${kill.downMs} ms)`);
      await stack.killWorker(kill.worker, kill.downMs);
    }),
    // The server faults one after the other: each at its time, once the previous one is back.
    plan.serverFaults.reduce(async (previous, fault) => {
      await previous;
      await at(fault.atMs);
      progress(`${SERVER_FAULT_LABEL[fault.kind](fault.index)} (down ${fault.downMs} ms)`);
      await stack.disrupt(fault);
      progress(`${fault.kind} back`);
    }, Promise.resolve()),
    ...(adversary ? [adversary.clockJumps(at)] : []),
  ];
  const ticker = setInterval(
    () =>
      progress(
        `${record.started.size}/${plan.orders.length} orders started, ${record.actions.length} actions, ${stack.tap.records.length} webhook attempts`,
      ),
    10_000,
  );
  try {
    const orders = plan.orders.map(runOrder);
    await Promise.all(orders.map((o) => o.catch(() => undefined)));
    record.loadEndedAt = Date.now();
    await Promise.all(disruptions);
    await Promise.all(orders);
  } finally {
    clearInterval(ticker);
    adversary?.close();
  }
  return record;
}
