// The charge commands: start one (`charge`), read one (`status`), find them (`list`, a visibility
// query over the Billing* search attributes), and act on one (`retry-now`, `cancel`). Input is
// validated before Temporal is contacted, so a bad flag never half-does anything.
import {
  WorkflowFailedError,
  WorkflowNotFoundError,
  type WorkflowExecutionInfo,
} from '@temporalio/client';
import {
  parseInput,
  type ChargeHandle,
  type ChargeInput,
  type ChargeResult,
  type ChargeStatus,
} from '../client/index.js';
import { chargeWorkflowId, orderIdFromWorkflowId } from '../shared/ids.js';
import type { PaymentError } from '../shared/payment-intent.js';
import { cancelSchema, chargeInputSchema, retryNowSchema } from '../shared/schemas.js';
import {
  BillingAttempt,
  BillingCustomerId,
  BillingNextAttemptAt,
  BillingOrderId,
  BillingPaymentIntentId,
  BillingStatus,
} from '../shared/search-attributes.js';
import { ChargeState } from '../workflows/messages.js';
import { integerFlag, jsonFlag, type Command, type CommandContext } from './command.js';
import {
  ChargeNotFoundError,
  ChargeRunFailedError,
  ExitCode,
  runFailure,
  UsageError,
  type RunFailure,
} from './errors.js';
import { formatFields, formatTable } from './output.js';
import type { Session } from './session.js';

/** How long `status` waits for the workflow's `status` query before falling back to search attributes. */
const STATUS_QUERY_TIMEOUT_MS = 5000;

/** `--metadata key=value` pairs. */
function metadataFlag(pairs: readonly string[]): Record<string, string> | undefined {
  if (pairs.length === 0) return undefined;
  const entries = pairs.map((pair) => {
    const at = pair.indexOf('=');
    if (at <= 0) throw new UsageError(`--metadata must be key=value, got "${pair}"`, 'charge');
    return [pair.slice(0, at), pair.slice(at + 1)] as const;
  });
  return Object.fromEntries(entries);
}

/** Minor units as typed: digits only, so "19.99" is refused rather than rounded. */
function amountFlag(text: string): number {
  if (!/^-?\d+$/.test(text.trim()))
    throw new UsageError(
      `--amount must be a whole number of minor units (cents), e.g. 1999 for 19.99, got "${text}"`,
      'charge',
    );
  return Number(text);
}

function describeError(error: PaymentError | undefined): string | undefined {
  if (!error) return undefined;
  const codes = [error.code, error.declineCode, error.adviceCode].filter(Boolean).join(' / ');
  return [codes, error.message].filter(Boolean).join(': ') || undefined;
}

/** `4200 usd (minor units)`: as Stripe counts (no decimal point: currencies differ in digits). */
function describeAmount({ amount, currency }: ChargeResult): string | undefined {
  // Runs from before ChargeResult carried the amount returned neither field.
  return typeof amount === 'number' ? `${amount} ${currency} (minor units)` : undefined;
}

function describeResult(orderId: string, workflowId: string, result: ChargeResult): string {
  return formatFields([
    ['order', orderId],
    ['workflow', workflowId],
    ['outcome', result.outcome],
    ['amount', describeAmount(result)],
    ['attempts', String(result.attempts)],
    ['intent', result.paymentIntentId],
    ['failure', describeError(result.failure)],
  ]);
}

/** The run of `orderId`'s charge, or `ChargeNotFoundError`. */
async function describeCharge(session: Session, handle: ChargeHandle) {
  try {
    return await handle.workflow.describe();
  } catch (error) {
    if (error instanceof WorkflowNotFoundError)
      throw new ChargeNotFoundError(handle.orderId, handle.workflowId, session.namespace, {
        cause: error,
      });
    throw error;
  }
}

/** Refuses to act on a charge that has ended (exit 1), saying how it ended. */
async function requireOpen(context: CommandContext, session: Session, handle: ChargeHandle) {
  const described = await describeCharge(session, handle);
  if (described.status.name === 'RUNNING') return;
  const state = described.typedSearchAttributes.get(BillingStatus);
  const message = `the charge of order ${handle.orderId} has already ended (${described.status.name}${state ? `, ${state}` : ''}); nothing to ${context.command.name}`;
  throw new ChargeEndedError(message);
}

/** Acting on a charge that has ended (exit 1). */
class ChargeEndedError extends Error {
  override readonly name = 'ChargeEndedError';
}

/** With --wait: the outcome, printed; exit 0 only when it is `expected`. */
async function waitForOutcome(
  context: CommandContext,
  handle: ChargeHandle,
  expected: ChargeResult['outcome'],
  extra: object = {},
): Promise<ExitCode> {
  context.out.progress(
    `waiting for the outcome of ${handle.workflowId} (Ctrl-C stops waiting; the charge goes on)…`,
  );
  const result = await outcomeOf(handle);
  context.out.result(
    { orderId: handle.orderId, workflowId: handle.workflowId, ...extra, ...result },
    () => describeResult(handle.orderId, handle.workflowId, result),
  );
  return result.outcome === expected ? ExitCode.ok : ExitCode.failure;
}

/**
 * The charge's result; a failed execution (not a decline: a conflict, a bug, a terminate) throws
 * `ChargeRunFailedError` with the failure's type and message.
 */
async function outcomeOf(handle: ChargeHandle): Promise<ChargeResult> {
  try {
    return await handle.result();
  } catch (error) {
    if (error instanceof WorkflowFailedError)
      throw new ChargeRunFailedError(handle.orderId, handle.workflowId, { cause: error });
    throw error;
  }
}

/** How a failed execution failed, for `status` (which reports it and exits 0). */
async function failureOf(handle: ChargeHandle): Promise<RunFailure | undefined> {
  try {
    await handle.result();
    return undefined;
  } catch (error) {
    if (error instanceof WorkflowFailedError) return runFailure(error);
    throw error;
  }
}

const orderPositional = [
  { name: 'orderId', description: 'The order (its charge is the workflow charge:<orderId>).' },
];
const waitFlag = {
  type: 'boolean',
  description: 'Wait for the charge’s outcome; exit 1 unless it is the one asked for.',
} as const;

/** `charge`: starts (or finds) the charge of an order; `--wait` waits for the outcome. */
export const chargeCommand: Command = {
  name: 'charge',
  summary: 'Start the charge of an order (returns at once; --wait for the outcome).',
  description: [
    'Starts the chargeCustomer workflow for an order, or returns the one already started for it:',
    'one order is charged at most once, so running this twice is safe. If the order’s charge has',
    'another amount, currency or customer, nothing starts and it exits 1 naming them. The',
    'deployment’s DUNNING_POLICY applies; --dunning overrides it field by field for this charge.',
  ].join('\n'),
  positionals: [],
  flags: {
    order: {
      type: 'string',
      value: '<id>',
      required: true,
      description: 'Order id (letters, digits, . _ : -).',
    },
    customer: { type: 'string', value: '<cus_…>', required: true, description: 'Stripe customer.' },
    amount: {
      type: 'string',
      value: '<minor units>',
      required: true,
      description: 'Amount in minor units, e.g. 1999 for 19.99 USD.',
    },
    currency: {
      type: 'string',
      value: '<iso>',
      required: true,
      description: 'ISO 4217 currency, e.g. usd.',
    },
    'payment-method': {
      type: 'string',
      value: '<pm_…>',
      description: 'Payment method; default the customer’s default.',
    },
    description: {
      type: 'string',
      value: '<text>',
      description: 'Description on the PaymentIntent.',
    },
    metadata: {
      type: 'string',
      value: '<key=value>',
      multiple: true,
      description: 'Metadata on the PaymentIntent (workflow_id and order_id are reserved).',
    },
    dunning: {
      type: 'string',
      value: '<json>',
      description: 'Dunning override, e.g. \'{"retryDelaysDays":[1,3,5]}\'.',
    },
    wait: waitFlag,
  },
  examples: [
    'durable-billing charge --order ord_1001 --customer cus_123 --amount 4200 --currency usd --payment-method pm_card_visa',
    'durable-billing charge --order ord_1002 --customer cus_123 --amount 999 --currency eur --wait --json',
  ],
  async run(context) {
    const paymentMethodId = context.string('payment-method');
    const description = context.string('description');
    const metadata = metadataFlag(context.strings('metadata'));
    const dunning = context.string('dunning');
    const input: ChargeInput = parseInput(
      chargeInputSchema,
      {
        orderId: context.required('order'),
        customerId: context.required('customer'),
        amount: amountFlag(context.required('amount')),
        currency: context.required('currency').toLowerCase(),
        ...(paymentMethodId !== undefined && { paymentMethodId }),
        ...(description !== undefined && { description }),
        ...(metadata !== undefined && { metadata }),
        ...(dunning !== undefined && { dunning: jsonFlag('charge', 'dunning', dunning) }),
      },
      'charge input',
    );
    context.config(); // a bad environment is a usage error too: report it before connecting
    const session = await context.connect();
    const handle = await session.billing.startCharge(input);
    if (context.flag('wait')) return waitForOutcome(context, handle, 'succeeded');
    context.out.result(
      {
        orderId: handle.orderId,
        workflowId: handle.workflowId,
        taskQueue: session.billing.taskQueue,
      },
      `charge of order ${handle.orderId} started (or already running): workflow ${handle.workflowId}`,
    );
    context.out.note(`follow it: durable-billing status ${handle.orderId}`);
    return ExitCode.ok;
  },
};

/** `status <orderId>`: the charge's `status` query, else its search attributes. */
export const statusCommand: Command = {
  name: 'status',
  summary: 'Show where a charge is: state, attempt, next attempt, last decline.',
  description: [
    'Reads the charge’s run (execution status, search attributes) and asks the workflow its',
    '`status` query. Without a worker to answer within 5 s it shows the search attributes alone.',
  ].join('\n'),
  positionals: orderPositional,
  flags: {},
  examples: ['durable-billing status ord_1001', 'durable-billing status ord_1001 --json'],
  async run(context) {
    const orderId = context.positionals[0] ?? '';
    const session = await context.connect();
    const handle = session.billing.getCharge(orderId);
    const described = await describeCharge(session, handle);
    const attributes = described.typedSearchAttributes;
    let status: ChargeStatus | undefined;
    let queryError: string | undefined;
    try {
      status = await session.client.withDeadline(Date.now() + STATUS_QUERY_TIMEOUT_MS, () =>
        handle.status(),
      );
    } catch (error) {
      queryError = error instanceof Error ? error.message : String(error);
      context.out.note(
        `the status query was not answered (${queryError}); is a worker polling ${described.taskQueue}? Showing search attributes.`,
      );
    }
    const result =
      described.status.name === 'COMPLETED'
        ? ((await handle.result()) as ChargeResult | undefined)
        : undefined;
    const failure = described.status.name === 'FAILED' ? await failureOf(handle) : undefined;
    const view = {
      orderId,
      workflowId: handle.workflowId,
      runId: described.runId,
      execution: described.status.name,
      taskQueue: described.taskQueue,
      startedAt: described.startTime.toISOString(),
      ...(described.closeTime && { closedAt: described.closeTime.toISOString() }),
      customerId: attributes.get(BillingCustomerId),
      status: status ?? {
        state: attributes.get(BillingStatus),
        attempt: attributes.get(BillingAttempt),
        paymentIntentId: attributes.get(BillingPaymentIntentId),
        nextAttemptAt: attributes.get(BillingNextAttemptAt)?.toISOString(),
      },
      statusSource: status ? 'query' : 'search-attributes',
      ...(queryError !== undefined && { queryError }),
      ...(result && { result }),
      ...(failure && { failure }),
    };
    context.out.result(view, () =>
      formatFields([
        ['order', orderId],
        ['workflow', `${handle.workflowId} (${described.status.name})`],
        ['customer', view.customerId],
        ['state', view.status.state],
        ['attempt', view.status.attempt === undefined ? undefined : String(view.status.attempt)],
        ['intent', view.status.paymentIntentId],
        ['next attempt', view.status.nextAttemptAt],
        ['last error', describeError(status?.lastError)],
        [
          'campaign',
          status?.campaign &&
            `${status.campaign.failures} failed attempt(s), ${status.campaign.kind} decline, gives up at ${status.campaign.endsAt}`,
        ],
        [
          'events',
          status &&
            `${status.events.received} received, ${status.events.duplicates} duplicates ignored`,
        ],
        ['outcome', result && `${result.outcome} after ${result.attempts} attempt(s)`],
        ['amount', result && describeAmount(result)],
        ['failure', failure && `${failure.type}: ${failure.message}`],
        ['started', view.startedAt],
        ['ended', view.closedAt],
      ]),
    );
    return ExitCode.ok;
  },
};

const STATES = Object.values(ChargeState);

/** One row of `list`, from the visibility record alone (no query, no worker needed). */
function listedCharge(info: WorkflowExecutionInfo) {
  const attributes = info.typedSearchAttributes;
  return {
    orderId: attributes.get(BillingOrderId) ?? orderIdFromWorkflowId(info.workflowId),
    workflowId: info.workflowId,
    runId: info.runId,
    customerId: attributes.get(BillingCustomerId),
    status: attributes.get(BillingStatus),
    attempt: attributes.get(BillingAttempt),
    paymentIntentId: attributes.get(BillingPaymentIntentId),
    nextAttemptAt: attributes.get(BillingNextAttemptAt)?.toISOString(),
    execution: info.status.name,
    startedAt: info.startTime.toISOString(),
    closedAt: info.closeTime?.toISOString(),
  };
}

/** `list`: charges by `BillingStatus` and/or `BillingCustomerId`, newest first. */
export const listCommand: Command = {
  name: 'list',
  summary: 'List charges, newest first, by billing status and/or customer.',
  description: [
    'A visibility query over the charges’ search attributes (BillingStatus, BillingCustomerId),',
    'the same filter the Temporal UI uses. Prints the query it ran.',
  ].join('\n'),
  positionals: [],
  flags: {
    status: {
      type: 'string',
      value: '<BillingStatus>',
      description: `Only charges in this state: ${STATES.join(', ')}.`,
    },
    customer: { type: 'string', value: '<cus_…>', description: 'Only this customer’s charges.' },
    limit: { type: 'string', value: '<n>', description: 'At most this many (1–1000, default 20).' },
  },
  examples: [
    'durable-billing list --status dunning',
    'durable-billing list --customer cus_123 --limit 100 --json',
  ],
  async run(context) {
    const status = context.string('status');
    const customer = context.string('customer');
    const limitText = context.string('limit');
    const limit =
      limitText === undefined ? 20 : integerFlag('list', 'limit', limitText, { min: 1, max: 1000 });
    if (status !== undefined && !(STATES as readonly string[]).includes(status))
      throw new UsageError(`--status must be one of ${STATES.join(', ')}, got "${status}"`, 'list');
    // Validated to Stripe's id shape, so it cannot break out of the quoted literal.
    if (customer !== undefined && !/^cus_[A-Za-z0-9_]+$/.test(customer))
      throw new UsageError(
        `--customer must be a Stripe customer id such as cus_123, got "${customer}"`,
        'list',
      );
    const clauses = ["WorkflowType = 'chargeCustomer'"];
    if (status !== undefined) clauses.push(`${BillingStatus.name} = '${status}'`);
    if (customer !== undefined) clauses.push(`${BillingCustomerId.name} = '${customer}'`);
    const query = clauses.join(' AND ');

    const session = await context.connect();
    const charges: ReturnType<typeof listedCharge>[] = [];
    for await (const info of session.client.workflow.list({
      query,
      pageSize: Math.min(limit, 100),
    })) {
      charges.push(listedCharge(info));
      if (charges.length >= limit) break;
    }
    context.out.result({ query, limit, count: charges.length, charges }, () => {
      if (charges.length === 0) return `no charges match ${query}`;
      const table = formatTable(
        ['ORDER', 'CUSTOMER', 'STATUS', 'ATTEMPT', 'NEXT ATTEMPT', 'STARTED', 'EXECUTION'],
        charges.map((c) => [
          c.orderId,
          c.customerId,
          c.status,
          c.attempt === undefined ? undefined : String(c.attempt),
          c.nextAttemptAt,
          c.startedAt,
          c.execution,
        ]),
      );
      const more = charges.length >= limit ? ` (limit ${limit}; --limit for more)` : '';
      return `${table}\n\n${charges.length} charge(s)${more}`;
    });
    return ExitCode.ok;
  },
};

/** `retry-now <orderId>`: the `retryNow` update, optionally with a new payment method. */
export const retryNowCommand: Command = {
  name: 'retry-now',
  summary: 'Attempt a charge again now, optionally with a new payment method.',
  description: [
    'Sends the workflow’s retryNow update: the next attempt runs now instead of on the dunning',
    'schedule. A hard decline needs --payment-method. Exit 1 if the workflow does not accept it.',
  ].join('\n'),
  positionals: orderPositional,
  flags: {
    'payment-method': {
      type: 'string',
      value: '<pm_…>',
      description: 'Use this payment method from now on.',
    },
    wait: waitFlag,
  },
  examples: [
    'durable-billing retry-now ord_1001 --payment-method pm_card_visa',
    'durable-billing retry-now ord_1001 --wait --json',
  ],
  async run(context) {
    const orderId = context.positionals[0] ?? '';
    const paymentMethodId = context.string('payment-method');
    const input = parseInput(
      retryNowSchema,
      paymentMethodId === undefined ? {} : { paymentMethodId },
      'retry-now input',
    );
    const session = await context.connect();
    const handle = session.billing.getCharge(orderId);
    await requireOpen(context, session, handle);
    const answer = await handle.retryNow(input);
    if (!answer.accepted) {
      context.out.result(
        { orderId, workflowId: handle.workflowId, ...answer },
        `retry of order ${orderId} not accepted: ${answer.reason ?? 'no reason given'}`,
      );
      return ExitCode.failure;
    }
    const method = paymentMethodId ? ` with ${paymentMethodId}` : '';
    // Merged: no attempt of its own; the one it joined decides (the reason says which).
    const accepted = answer.merged
      ? `retry of order ${orderId} accepted${method}, merged: ${answer.reason ?? 'joined an attempt already pending or in flight'}`
      : `retry of order ${orderId} accepted${method}: attempting now`;
    if (context.flag('wait')) {
      context.out.note(accepted);
      return waitForOutcome(context, handle, 'succeeded', answer);
    }
    context.out.result({ orderId, workflowId: handle.workflowId, ...answer }, accepted);
    context.out.note(`follow it: durable-billing status ${orderId}`);
    return ExitCode.ok;
  },
};

/** `cancel <orderId> --reason`: the `cancel` signal. */
export const cancelCommand: Command = {
  name: 'cancel',
  summary: 'Stop a charge (its PaymentIntent is canceled unless money has moved).',
  description: [
    'Sends the workflow’s cancel signal with a reason (kept in its history). If the payment',
    'already succeeded the charge ends succeeded, not canceled: --wait then exits 1.',
  ].join('\n'),
  positionals: orderPositional,
  flags: {
    reason: {
      type: 'string',
      value: '<text>',
      required: true,
      description: 'Why (shown in the history).',
    },
    wait: {
      ...waitFlag,
      description: 'Wait until the charge ends; exit 1 unless it ends canceled.',
    },
  },
  examples: ['durable-billing cancel ord_1001 --reason "customer closed the account"'],
  async run(context) {
    const orderId = context.positionals[0] ?? '';
    const { reason } = parseInput(
      cancelSchema,
      { reason: context.required('reason') },
      'cancel input',
    );
    const session = await context.connect();
    const handle = session.billing.getCharge(orderId);
    await requireOpen(context, session, handle);
    await handle.cancel(reason);
    if (context.flag('wait')) return waitForOutcome(context, handle, 'canceled', { reason });
    context.out.result(
      { orderId, workflowId: handle.workflowId, cancelRequested: true, reason },
      `cancel of order ${orderId} requested (${chargeWorkflowId(orderId)})`,
    );
    context.out.note(`follow it: durable-billing status ${orderId}`);
    return ExitCode.ok;
  },
};
