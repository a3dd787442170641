// `refund <orderId>`: one refund request of an order (issue 14), carried out at most once per
// --refund-id. It waits until the refund is made or refused (seconds; --wait: until Stripe's
// final answer) and exits 1 when refused, with what remains, or when it failed.
import { WorkflowFailedError } from '@temporalio/client';
import { parseInput } from '../client/index.js';
import type { RefundHandle } from '../client/after-charge.js';
import { RefundReason, refundInputSchema, type RefundResult } from '../shared/refunds.js';
import { RefundState, type RefundStatusView } from '../workflows/refund-messages.js';
import type { Command, CommandContext } from './command.js';
import { ExitCode, UsageError, runFailure } from './errors.js';
import { formatFields } from './output.js';

/** States in which the refund is still being decided (the lock, the checks, the create). */
const DECIDING: ReadonlySet<string> = new Set([
  RefundState.waitingForLock,
  RefundState.checking,
  RefundState.creating,
  RefundState.reconciling,
]);
/** How long the command waits for the refund to be made or refused without --wait. */
const DECISION_TIMEOUT_MS = 60_000;
const QUERY_INTERVAL_MS = 250;

function amountFlag(text: string): number {
  if (!/^\d+$/.test(text.trim()))
    throw new UsageError(
      `--amount must be a whole number of minor units (cents), e.g. 500 for 5.00, got "${text}"`,
      'refund',
    );
  return Number(text);
}

function metadataFlag(pairs: readonly string[]): Record<string, string> | undefined {
  if (pairs.length === 0) return undefined;
  return Object.fromEntries(
    pairs.map((pair) => {
      const at = pair.indexOf('=');
      if (at <= 0) throw new UsageError(`--metadata must be key=value, got "${pair}"`, 'refund');
      return [pair.slice(0, at), pair.slice(at + 1)] as const;
    }),
  );
}

function describeRefund(result: RefundResult, workflowId: string): string {
  const money = (n: number | undefined) =>
    n === undefined
      ? undefined
      : `${n}${result.currency ? ` ${result.currency}` : ''} (minor units)`;
  return formatFields([
    ['order', result.orderId],
    ['refund id', result.refundId],
    ['workflow', workflowId],
    ['outcome', result.outcome],
    ['amount', money(result.amount)],
    ['remaining', money(result.remaining)],
    ['stripe refund', result.stripeRefundId],
    ['intent', result.paymentIntentId],
    ['reason', result.reason],
  ]);
}

/** The refund's result, or a typed CLI error for a failed execution (a bug or misuse). */
async function resultOf(handle: RefundHandle): Promise<RefundResult> {
  try {
    return await handle.result();
  } catch (error) {
    if (!(error instanceof WorkflowFailedError)) throw error;
    const failure = runFailure(error);
    throw new Error(
      `the refund ${handle.refundId} of order ${handle.orderId} (workflow ${handle.workflowId}) failed (${failure.type}): ${failure.message}`,
      { cause: error },
    );
  }
}

/** Waits until the refund is made (pending or final) or refused; undefined on the deadline. */
async function decided(handle: RefundHandle): Promise<RefundStatusView | undefined> {
  const deadline = Date.now() + DECISION_TIMEOUT_MS;
  for (;;) {
    const description = await handle.workflow.describe();
    if (description.status.name !== 'RUNNING') return undefined; // ended: the result says
    const view = await handle.status().catch(() => undefined); // no worker yet: ask again
    if (view && !DECIDING.has(view.state)) return view;
    if (Date.now() > deadline) return view;
    await new Promise((resolve) => setTimeout(resolve, QUERY_INTERVAL_MS));
  }
}

function exitFor(result: RefundResult, finalOnly: boolean): ExitCode {
  if (result.outcome === 'refused' || result.outcome === 'failed' || result.outcome === 'canceled')
    return ExitCode.failure;
  return finalOnly && result.outcome !== 'succeeded' ? ExitCode.failure : ExitCode.ok;
}

function report(context: CommandContext, handle: RefundHandle, result: RefundResult) {
  context.out.result({ workflowId: handle.workflowId, ...result }, () => {
    const text = describeRefund(result, handle.workflowId);
    return result.outcome === 'refused' ? `refund refused: ${result.reason ?? ''}\n${text}` : text;
  });
}

export const refundCommand: Command = {
  name: 'refund',
  summary: 'Refund an order once per --refund-id (exit 1 when refused, with what remains).',
  description: [
    'Starts the refundOrder workflow refund:<orderId>:<refundId>, or returns the one already made',
    'under that refund id (its first result: a refund id is carried out at most once). The order’s',
    'refunds never exceed what Stripe shows captured: a request for more is refused, exit 1, with the',
    'amount that remains. Waits until the refund is made or refused; --wait waits for Stripe’s final',
    'answer (a pending refund can take days).',
  ].join('\n'),
  positionals: [{ name: 'orderId', description: 'The order whose payment to refund.' }],
  flags: {
    'refund-id': {
      type: 'string',
      value: '<id>',
      required: true,
      description: 'Your id of this refund request (letters, digits, . _ -): repeat it safely.',
    },
    amount: {
      type: 'string',
      value: '<minor units>',
      description: 'How much, in minor units; default: all that remains.',
    },
    reason: {
      type: 'string',
      value: '<reason>',
      required: true,
      description: `Stripe's reason: ${Object.values(RefundReason).join(', ')}.`,
    },
    metadata: {
      type: 'string',
      value: '<key=value>',
      multiple: true,
      description: 'Metadata on the Stripe refund (refund_id, order_id, workflow_id are reserved).',
    },
    wait: {
      type: 'boolean',
      description: 'Wait for Stripe’s final answer; exit 1 unless it succeeded.',
    },
  },
  examples: [
    'durable-billing refund ord_1001 --refund-id rf_1 --reason requested_by_customer',
    'durable-billing refund ord_1001 --refund-id rf_2 --amount 500 --reason duplicate --wait --json',
  ],
  async run(context) {
    const orderId = context.positionals[0] ?? '';
    const amount = context.string('amount');
    const metadata = metadataFlag(context.strings('metadata'));
    const reason = context.required('reason');
    if (!(Object.values(RefundReason) as string[]).includes(reason))
      throw new UsageError(
        `--reason must be one of ${Object.values(RefundReason).join(', ')}, got "${reason}"`,
        'refund',
      );
    const input = parseInput(
      refundInputSchema,
      {
        orderId,
        refundId: context.required('refund-id'),
        reason,
        ...(amount !== undefined && { amount: amountFlag(amount) }),
        ...(metadata !== undefined && { metadata }),
      },
      'refund input',
    );
    context.config();
    const session = await context.connect();
    const { orderId: order, ...request } = input;
    const handle = await session.billing.refund(order, request);
    if (context.flag('wait')) {
      context.out.progress(`waiting for the outcome of ${handle.workflowId}…`);
      const result = await resultOf(handle);
      report(context, handle, result);
      return exitFor(result, true);
    }
    const view = await decided(handle);
    if (view === undefined || !DECIDING.has(view.state)) {
      const running = view?.state === RefundState.pending;
      if (!running) {
        const result = await resultOf(handle);
        report(context, handle, result);
        return exitFor(result, false);
      }
    }
    context.out.result(
      {
        workflowId: handle.workflowId,
        orderId: order,
        refundId: input.refundId,
        state: view?.state,
        refund: view?.refund,
      },
      `refund ${input.refundId} of order ${order}: ${view?.state ?? 'started'} (workflow ${handle.workflowId})${view?.refund ? `, Stripe refund ${view.refund.id}` : ''}`,
    );
    context.out.note(
      `its final answer: durable-billing refund ${order} --refund-id ${input.refundId} --reason ${reason} --wait`,
    );
    return ExitCode.ok;
  },
};
