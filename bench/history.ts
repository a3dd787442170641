// Figure 3, history cost: events in real histories (`fetchHistory`) of a successful card charge,
// of one reconcile (a 500 after the confirm executed), and of one dunning attempt (a soft-decline
// campaign with 1 + n retries against one with 1), against the `noopCharge` floor.
import proto, { type temporal } from '@temporalio/proto';
import { ChargeOutcome, type ChargeInput } from '../src/client/index.js';
import { FaultKind } from '../src/simulator/index.js';
import { median, progress } from './measure.js';
import { BENCH_TASK_QUEUE, type BenchStack } from './stack.js';
import type { noopCharge } from './workflows.js';

export interface HistorySizes {
  /** Charges sampled for the success count (the median is reported). */
  samples: number;
  /**
   * Extra retries in the longer dunning campaign: per attempt = (events(1 + n) − events(1)) / n.
   * Both campaigns have one retry or more, so the one-time events (the final-warning notice
   * before the last retry, giving up, the final action) cancel out.
   */
  retries: number;
}

/** Event counts per event type, for reading where the events go. */
export type EventBreakdown = Record<string, number>;

export interface HistoryResult {
  sizes: HistorySizes;
  perCharge: number;
  floor: number;
  perReconcile: number;
  perDunningAttempt: number;
  /** Raw counts: the runs the per-item figures are derived from. */
  counts: {
    charge: number[];
    floor: number[];
    reconcile: number;
    /** The campaign with one retry. */
    dunning1: number;
    /** The campaign with 1 + n retries. */
    dunningN: number;
  };
  /** Per event type: the charge, the reconciled charge, and one dunning attempt (difference ÷ n). */
  breakdown: { charge: EventBreakdown; reconcile: EventBreakdown; dunningAttempt: EventBreakdown };
}

type History = temporal.api.history.v1.IHistory;

/** EventType numbers to their proto names (`EVENT_TYPE_ACTIVITY_TASK_SCHEDULED`, …). */
const EVENT_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(proto.temporal.api.enums.v1.EventType).map(([name, value]) => [value, name]),
);

function eventTypeName(type: number | null | undefined): string {
  return EVENT_NAMES[type ?? 0] ?? `EVENT_TYPE_${type}`;
}

function breakdown(history: History): EventBreakdown {
  const counts: EventBreakdown = {};
  for (const event of history.events ?? []) {
    const name = eventTypeName(event.eventType)
      .replace(/^EVENT_TYPE_/, '')
      .toLowerCase();
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

/** (a − b) ÷ n per event type, without the types that cancel out. */
function difference(a: EventBreakdown, b: EventBreakdown, n: number): EventBreakdown {
  const out: EventBreakdown = {};
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const value = ((a[key] ?? 0) - (b[key] ?? 0)) / n;
    if (value !== 0) out[key] = Math.round(value * 100) / 100;
  }
  return out;
}

export async function benchHistory(
  stack: BenchStack,
  sizes: HistorySizes,
  runId: string,
): Promise<HistoryResult> {
  let seq = 0;
  const order = (paymentMethodId: string, extra: Partial<ChargeInput> = {}): ChargeInput => ({
    orderId: `${runId}-history-${seq++}`,
    customerId: stack.customerId,
    amount: 4200,
    currency: 'usd',
    paymentMethodId,
    ...extra,
  });
  /** Runs one charge to its end and returns its history. */
  const charge = async (input: ChargeInput, expected: ChargeOutcome): Promise<History> => {
    const handle = await stack.billing.startCharge(input);
    const result = await handle.result();
    if (result.outcome !== expected)
      throw new Error(`${handle.workflowId} ended ${result.outcome}, expected ${expected}`);
    return handle.workflow.fetchHistory();
  };
  const length = (h: History) => h.events?.length ?? 0;

  const worker = await stack.createWorker(BENCH_TASK_QUEUE);
  return worker.runUntil(async () => {
    progress(`history: ${sizes.samples} card charges and ${sizes.samples} floor runs`);
    const charges: History[] = [];
    const floors: number[] = [];
    for (let i = 0; i < sizes.samples; i++) {
      charges.push(await charge(order('pm_card_visa'), ChargeOutcome.succeeded));
      const id = `${runId}-history-noop-${i}`;
      const handle = await stack.client.workflow.start<typeof noopCharge>('noopCharge', {
        taskQueue: BENCH_TASK_QUEUE,
        workflowId: `noop:${id}`,
        args: [id],
      });
      await handle.result();
      floors.push(length(await handle.fetchHistory()));
    }
    const chargeCounts = charges.map(length);
    const perCharge = median(chargeCounts);
    const typical = charges.find((h) => length(h) === perCharge) ?? charges[0]!;

    progress('history: a charge whose confirm answers 500 after executing (reconcile)');
    stack.sim.faults.add({
      kind: FaultKind.error500After,
      method: 'POST',
      path: '/v1/payment_intents/:id/confirm',
      times: 1,
    });
    const reconciled = await charge(order('pm_card_visa'), ChargeOutcome.succeeded);

    progress(`history: soft-decline campaigns with 1 and ${1 + sizes.retries} retries`);
    const tiny = 0.00001; // days: under a second
    const soft = 'pm_card_chargeDeclinedInsufficientFunds';
    const campaign = (retries: number) =>
      charge(
        order(soft, {
          dunning: { retryDelaysDays: Array<number>(retries).fill(tiny), jitterMinutes: 0 },
        }),
        ChargeOutcome.failed,
      );
    const dunning1 = await campaign(1);
    const dunningN = await campaign(1 + sizes.retries);
    return {
      sizes,
      perCharge,
      floor: median(floors),
      perReconcile: length(reconciled) - perCharge,
      perDunningAttempt: (length(dunningN) - length(dunning1)) / sizes.retries,
      counts: {
        charge: chargeCounts,
        floor: floors,
        reconcile: length(reconciled),
        dunning1: length(dunning1),
        dunningN: length(dunningN),
      },
      breakdown: {
        charge: breakdown(typical),
        reconcile: breakdown(reconciled),
        dunningAttempt: difference(breakdown(dunningN), breakdown(dunning1), sizes.retries),
      },
    };
  });
}
