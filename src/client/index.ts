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
  type RetryNowInput,
  type ChargeInput,
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

  /** Waits for the outcome: `succeeded`, `failed` (with the decline) or `canceled`. */
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
   * returns that run (conflict policy USE_EXISTING). After it ended, whatever the outcome, the
   * id is never run again (reuse policy REJECT_DUPLICATE) and this returns the ended run, so an
   * order is charged at most once; a new attempt after a final failure is a new order id, or
   * `retryNow` before the charge ends.
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
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
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
      // The order's charge already ran to an end: that run is the answer, never a second charge.
      if (error instanceof WorkflowExecutionAlreadyStartedError)
        return this.getCharge(valid.orderId);
      throw error;
    }
  }

  /** The charge of `orderId` (its latest run). */
  getCharge(orderId: string): ChargeHandle {
    return new ChargeHandle(
      orderId,
      this.client.workflow.getHandle<typeof chargeCustomer>(chargeWorkflowId(orderId)),
    );
  }
}
