// What app code imports: start a charge for an order, read its status and result, retry it
// now, cancel it. Input is validated before anything starts; one order = one workflow id.
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import {
  dunningOverrideSchema,
  resolveDunningPolicy,
  type DunningOverride,
} from '../shared/dunning.js';
import { chargeWorkflowId } from '../shared/ids.js';
import type { Schema } from '../shared/validate.js';
import {
  cancelSchema,
  chargeInputSchema,
  retryNowSchema,
  type ChargeInput,
  type ParsedChargeInput,
  type RetryNowInput,
} from '../shared/schemas.js';
import {
  BillingAttempt,
  BillingCustomerId,
  BillingOrderId,
  BillingStatus,
} from '../shared/search-attributes.js';
import type { chargeCustomer } from '../workflows/charge-customer.js';
import {
  cancelSignal,
  ChargeState,
  retryNowUpdate,
  statusQuery,
  type ChargeResult,
  type ChargeStatus,
  type RetryNowResult,
} from '../workflows/messages.js';
import { readStartedRun } from './started-run.js';
// Refunds and disputes (issue 14).
import {
  getDispute,
  getRefund,
  listDisputesDue,
  startRefund,
  type DisputeHandle,
  type RefundHandle,
  type RefundRequest,
} from './after-charge.js';

export {
  DisputeHandle,
  RefundHandle,
  disputesDueQuery,
  type ListedDispute,
  type RefundRequest,
} from './after-charge.js';
export type { RefundResult } from '../shared/refunds.js';
export type {
  DisputeResult,
  SubmitEvidenceInput,
  SubmitEvidenceResult,
} from '../shared/disputes.js';

export type { ChargeInput, ChargeResult, ChargeStatus, RetryNowResult };
export { ChargeOutcome, ChargeState } from '../workflows/messages.js';

/** Raised before anything starts when an input does not validate; `message` names each bad field. */
export class InvalidInputError extends Error {
  override readonly name = 'InvalidInputError';
  constructor(
    what: string,
    readonly fields: readonly { field: string; problem: string }[],
  ) {
    super(`invalid ${what}: ${fields.map((f) => `${f.field}: ${f.problem}`).join('; ')}`);
  }
}

/** The parameters that make a charge: an order's existing charge must match them all. */
const CHARGE_PARAMETERS = ['amount', 'currency', 'customerId'] as const;

/** One parameter in which an order's existing charge differs from the one asked for. */
export interface ChargeDifference {
  field: (typeof CHARGE_PARAMETERS)[number];
  /** What the existing run was started with (`(missing)` if its input lacks the field). */
  existing: string | number;
  requested: string | number;
}

/**
 * Raised by `startCharge` when the order already has a charge (running or ended, started by
 * anyone) whose amount, currency or customer differ from the ones asked for. Nothing was started
 * and the existing charge is untouched; `message` names each differing field with both values.
 * A different charge needs its own order id.
 */
export class ChargeConflictError extends Error {
  override readonly name = 'ChargeConflictError';
  constructor(
    readonly orderId: string,
    readonly workflowId: string,
    /**
     * The run whose start input was compared: the order's latest run (for a run made by a reset,
     * the run it was reset from, whose start event it carries).
     */
    readonly runId: string,
    readonly differences: readonly ChargeDifference[],
  ) {
    const fields = differences.map(
      (d) => `${d.field} ${d.existing} (existing) vs ${d.requested} (requested)`,
    );
    super(
      `order ${orderId} is already charged with other parameters: ${fields.join('; ')}. ` +
        `Its charge (workflow ${workflowId}, run ${runId}) stays as it is; ` +
        'charge a different amount, currency or customer under a new order id.',
    );
  }
}

/** Where the existing run's input differs from `requested`; empty when it charges the same. */
function chargeDifferences(existing: unknown, requested: ParsedChargeInput): ChargeDifference[] {
  // Anyone can start the workflow: its input may be of any shape, or none.
  const held: Record<string, unknown> =
    typeof existing === 'object' && existing !== null ? { ...existing } : {};
  return CHARGE_PARAMETERS.filter((field) => held[field] !== requested[field]).map((field) => ({
    field,
    existing: shownValue(held[field]),
    requested: requested[field],
  }));
}

function shownValue(value: unknown): string | number {
  if (typeof value === 'string' || typeof value === 'number') return value;
  return value === undefined ? '(missing)' : JSON.stringify(value);
}

/** Parses `value` with one of the shared schemas; throws `InvalidInputError` naming each bad field. */
export function parseInput<T>(schema: Schema<T, unknown>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new InvalidInputError(
    what,
    result.error.issues.map((i) => ({ field: i.path.join('.') || '(input)', problem: i.message })),
  );
}

/** A charge of one order: its workflow, seen from app code. */
export class ChargeHandle {
  constructor(
    readonly orderId: string,
    readonly workflow: WorkflowHandle<typeof chargeCustomer>,
  ) {}

  get workflowId(): string {
    return this.workflow.workflowId;
  }

  /** Where the charge is now (works while it runs and after it ended). */
  status(): Promise<ChargeStatus> {
    return this.workflow.query(statusQuery);
  }

  /**
   * Waits for the outcome: `succeeded`, `failed` (with the decline) or `canceled`. A run that
   * failed instead (a bug or a misuse, never a decline) throws the SDK's `WorkflowFailedError`,
   * whose `cause` is the workflow's `ApplicationFailure`: `type` `ChargeConflict` (the order's
   * PaymentIntent holds other parameters; `details[0]` is `ChargeConflictDetails`),
   * `WrongWorkflowId`, `InvalidChargeInput`, `StripeInvalidRequest`, ….
   */
  result(): Promise<ChargeResult> {
    return this.workflow.result();
  }

  /** Attempts again now, optionally with a new payment method; `accepted: false` says why not. */
  async retryNow(input: { paymentMethodId?: string } = {}): Promise<RetryNowResult> {
    const args: [RetryNowInput] = [parseInput(retryNowSchema, input, 'retryNow input')];
    try {
      return await this.workflow.executeUpdate(retryNowUpdate, { args });
    } catch (error) {
      // An update cannot reach a closed workflow: say so as the workflow itself would.
      if (!(error instanceof WorkflowNotFoundError)) throw error;
      const { status } = await this.workflow.describe(); // throws again if there is no such charge
      if (status.name === 'RUNNING') throw error;
      return { accepted: false, reason: `the charge already ended (${status.name.toLowerCase()})` };
    }
  }

  /** Stops the charge: the intent is canceled unless money has already moved. */
  cancel(reason: string): Promise<void> {
    return this.workflow.signal(cancelSignal, parseInput(cancelSchema, { reason }, 'cancel input'));
  }
}

export interface BillingClientOptions {
  /** Task queue of the billing worker (DESIGN.md: `billing`). */
  taskQueue?: string;
  /**
   * This deployment's dunning policy (e.g. `loadConfig().DUNNING_POLICY`); a charge's own
   * `dunning` overrides it field by field. The resolved policy travels in the workflow input.
   */
  dunning?: DunningOverride;
}

/** App-facing entry point over a Temporal `Client`. */
export class BillingClient {
  readonly taskQueue: string;
  private readonly dunning: DunningOverride | undefined;

  constructor(
    readonly client: Client,
    options: BillingClientOptions = {},
  ) {
    this.taskQueue = options.taskQueue ?? 'billing';
    this.dunning =
      options.dunning && parseInput(dunningOverrideSchema, options.dunning, 'dunning policy');
  }

  /**
   * Starts the charge of `input.orderId`, or returns the existing one. Validates first: a bad
   * field throws `InvalidInputError` naming it, and nothing starts.
   *
   * Id policy: the workflow id is `charge:<orderId>`. While a charge runs, starting it again
   * returns that run. After it ended, whatever the outcome, the id is never run again (reuse
   * policy REJECT_DUPLICATE) and this returns the ended run, so an order is charged at most once;
   * a new attempt after a final failure is a new order id, or `retryNow` before the charge ends.
   *
   * An existing charge is returned only if it was started (by this client or any other starter)
   * with the same `amount`, `currency` and `customerId`; otherwise this throws
   * `ChargeConflictError` naming each difference. The other fields (payment method, description,
   * metadata, dunning) are the existing charge's own: use `retryNow` to change the method. The
   * returned handle follows the order's latest run. Costs one request for a new charge, two
   * (the start, one page of the run's history) for an existing one.
   */
  async startCharge(input: ChargeInput): Promise<ChargeHandle> {
    const parsed = parseInput(chargeInputSchema, input, 'charge input');
    // The whole policy goes into the input (and the history): a running campaign never changes
    // under a deploy that changes the defaults.
    const valid = { ...parsed, dunning: resolveDunningPolicy(this.dunning, parsed.dunning) };
    const workflowId = chargeWorkflowId(valid.orderId);
    try {
      const handle = await this.client.workflow.start<typeof chargeCustomer>('chargeCustomer', {
        taskQueue: this.taskQueue,
        workflowId,
        args: [valid],
        // FAIL, not USE_EXISTING: a run found must be compared with this input, one created need
        // not be, and USE_EXISTING answers both alike (SDK 1.24's start() drops the response's
        // `started` flag). FAIL tells them apart by the error, at the same cost.
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        typedSearchAttributes: [
          { key: BillingOrderId, value: valid.orderId },
          { key: BillingCustomerId, value: valid.customerId },
          { key: BillingStatus, value: ChargeState.creating },
          { key: BillingAttempt, value: 0 },
        ],
        staticSummary: `charge ${valid.amount} ${valid.currency} to ${valid.customerId} for order ${valid.orderId}`,
      });
      return new ChargeHandle(valid.orderId, handle);
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    }
    // The order has a charge, running or ended: that run is the answer, never a second charge,
    // but only if it charges what this caller asks. Its start event says, whoever started it.
    const existing = await readStartedRun(this.client, workflowId);
    const differences = chargeDifferences(existing.input, valid);
    if (differences.length > 0)
      throw new ChargeConflictError(valid.orderId, workflowId, existing.runId, differences);
    return this.getCharge(valid.orderId);
  }

  /** The charge of `orderId` (its latest run). */
  getCharge(orderId: string): ChargeHandle {
    return new ChargeHandle(
      orderId,
      this.client.workflow.getHandle<typeof chargeCustomer>(chargeWorkflowId(orderId)),
    );
  }

  // ---- refunds and disputes (issue 14; src/client/after-charge.ts) ----

  /**
   * Refunds `request.amount` (default: what remains) of the order's captured payment, once per
   * `request.refundId`: workflow `refund:<orderId>:<refundId>`. Repeating a refund id returns the
   * first request's handle and result, whatever else it asks. The refunds of an order never
   * exceed what Stripe shows captured; a request that would is `refused` with what remains.
   */
  refund(orderId: string, request: RefundRequest): Promise<RefundHandle> {
    return startRefund(this.client, this.taskQueue, orderId, request);
  }

  /** The refund request `refundId` of `orderId` (its latest run). */
  getRefund(orderId: string, refundId: string): RefundHandle {
    return getRefund(this.client, orderId, refundId);
  }

  /** The dispute `disputeId` (workflow `dispute:<disputeId>`, started by its webhook). */
  getDispute(disputeId: string): DisputeHandle {
    return getDispute(this.client, disputeId);
  }

  /** Open disputes that still wait for evidence due within `days`, soonest first. */
  listDisputesDue(days: number, options: { now?: Date; limit?: number } = {}) {
    return listDisputesDue(this.client, days, options);
  }
}
