// The CLI's failures and what each becomes for an operator: one message that names the flag,
// field or address at fault and says what to do, and an exit code (0 ok, 1 failure, 2 usage).
import {
  ApplicationFailure,
  isGrpcServiceError,
  ServiceError,
  WorkflowNotFoundError,
  type WorkflowFailedError,
} from '@temporalio/client';
import { ChargeConflictError, InvalidInputError } from '../client/index.js';
import { ConfigError } from '../config.js';
import { ChargeFailureType } from '../workflows/messages.js';

/** Exit codes: 2 means nothing was attempted (fix the invocation); 1 means it was tried and failed. */
export const ExitCode = { ok: 0, failure: 1, usage: 2 } as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A bad command line: unknown command or flag, missing or malformed value. Exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(
    message: string,
    /** The command whose `--help` to point at, if known. */
    readonly command?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The command ran and did not get what was asked (e.g. a retry refused, a charge that failed). Exit 1. */
export class CommandFailedError extends Error {
  override readonly name = 'CommandFailedError';
}

/** Temporal did not answer at `address`. Exit 1. */
export class TemporalUnreachableError extends Error {
  override readonly name = 'TemporalUnreachableError';
  constructor(
    readonly address: string,
    readonly namespace: string,
    options: { cause: unknown },
  ) {
    const why = options.cause instanceof Error ? options.cause.message : String(options.cause);
    super(
      `cannot reach Temporal at ${address} (namespace ${namespace}): ${why}.\n` +
        'Is the server running there? Point TEMPORAL_ADDRESS (or --address) at its frontend, ' +
        'e.g. 127.0.0.1:7233; `npm start` runs a local one.',
      options,
    );
  }
}

/** The charge of `orderId` does not exist. Exit 1. */
export class ChargeNotFoundError extends Error {
  override readonly name = 'ChargeNotFoundError';
  constructor(
    readonly orderId: string,
    workflowId: string,
    namespace: string,
    options?: ErrorOptions,
  ) {
    super(
      `no charge for order ${orderId} (workflow ${workflowId}) in namespace ${namespace}. ` +
        'Check the order id, or `durable-billing list` to find it.',
      options,
    );
  }
}

/** What an operator does about a run that failed with one of the workflow's own failure types. */
const FAILURE_HINTS: Partial<Record<string, string>> = {
  [ChargeFailureType.conflict]:
    'The order’s PaymentIntent holds another amount, currency or customer than this run asked: ' +
    'charge a different one under a new order id.',
  [ChargeFailureType.wrongWorkflowId]:
    'Charges run as workflow charge:<orderId> of their input’s order; `durable-billing charge` ' +
    'starts them so.',
};

/** How a workflow execution failed, from the cause of the SDK's `WorkflowFailedError`. */
export interface RunFailure {
  /** The `ApplicationFailure` type (`ChargeConflict`, `WrongWorkflowId`, …), else the failure's class (`TerminatedFailure`, …). */
  type: string;
  message: string;
  /** The `ApplicationFailure` details (for `ChargeConflict`: one `ChargeConflictDetails`). */
  details?: unknown[];
}

/** The failure inside `error` (the workflow's own, not the SDK's "Workflow execution failed"). */
export function runFailure(error: WorkflowFailedError): RunFailure {
  const failure = error.cause;
  if (failure instanceof ApplicationFailure)
    return {
      type: failure.type ?? failure.name,
      message: failure.message,
      ...(failure.details && failure.details.length > 0 && { details: [...failure.details] }),
    };
  return failure
    ? { type: failure.name, message: failure.message }
    : { type: error.name, message: error.message };
}

/**
 * The charge's workflow execution failed (a conflict, a misrouted start, a bug, a terminate; a
 * decline is an outcome, not this). The message is the failure's own type and message; the SDK's
 * `WorkflowFailedError` is the `cause`. Exit 1.
 */
export class ChargeRunFailedError extends Error {
  override readonly name = 'ChargeRunFailedError';
  readonly failure: RunFailure;
  constructor(
    readonly orderId: string,
    readonly workflowId: string,
    options: { cause: WorkflowFailedError },
  ) {
    const failure = runFailure(options.cause);
    const hint =
      FAILURE_HINTS[failure.type] ??
      `Its history says why: temporal workflow show --workflow-id ${workflowId}`;
    super(
      `the charge of order ${orderId} (workflow ${workflowId}) failed (${failure.type}): ${failure.message}\n${hint}`,
      options,
    );
    this.failure = failure;
  }
}

/** Charge-input fields as the CLI spells them (`InvalidInputError` names the input's fields). */
const FLAG_OF_FIELD: Record<string, string> = {
  orderId: '--order',
  customerId: '--customer',
  amount: '--amount',
  currency: '--currency',
  paymentMethodId: '--payment-method',
  description: '--description',
  metadata: '--metadata',
  dunning: '--dunning',
  reason: '--reason',
};

/** `amount` → `--amount`; `dunning.retryDelaysDays.0` → `--dunning (retryDelaysDays.0)`. */
export function flagOfField(field: string): string {
  const [head = '', ...rest] = field.split('.');
  const flag = FLAG_OF_FIELD[head];
  if (flag === undefined) return field;
  return rest.length === 0 ? flag : `${flag} (${rest.join('.')})`;
}

// gRPC status codes (grpc/doc/statuscodes.md); @grpc/grpc-js is not a direct dependency.
const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_UNAVAILABLE = 14;

/** True for the gRPC codes that mean "no server answered", not "the server said no". */
export function isUnavailable(error: unknown): boolean {
  const grpc = error instanceof ServiceError ? error.cause : error;
  if (!isGrpcServiceError(grpc)) return false;
  const code: number = grpc.code;
  return code === GRPC_UNAVAILABLE || code === GRPC_DEADLINE_EXCEEDED;
}

/** What to print (on stderr) and which code to exit with, for any error a command throws. */
export function describeFailure(error: unknown): {
  code: ExitCode;
  type: string;
  message: string;
  fields?: { field: string; flag: string; problem: string }[];
  /** More of the error for `--json` (e.g. a conflict's `differences`). */
  details?: Record<string, unknown>;
} {
  if (error instanceof UsageError) {
    const hint = error.command
      ? `Run \`durable-billing ${error.command} --help\` for its flags.`
      : 'Run `durable-billing --help` for the commands.';
    return { code: ExitCode.usage, type: error.name, message: `${error.message}\n${hint}` };
  }
  if (error instanceof InvalidInputError) {
    const fields = error.fields.map((f) => ({ ...f, flag: flagOfField(f.field) }));
    return {
      code: ExitCode.usage,
      type: error.name,
      message: `invalid input, nothing was started:\n${fields.map((f) => `  ${f.flag}: ${f.problem}`).join('\n')}`,
      fields,
    };
  }
  if (error instanceof ConfigError)
    return {
      code: ExitCode.usage,
      type: error.name,
      message: `${error.message}\nFix these environment variables (see the configuration reference in docs/configuration.md).`,
    };
  if (error instanceof TemporalUnreachableError)
    return { code: ExitCode.failure, type: error.name, message: error.message };
  if (error instanceof ChargeConflictError) {
    const { orderId, workflowId, runId, differences } = error;
    return {
      code: ExitCode.failure,
      type: error.name,
      message: error.message,
      details: { orderId, workflowId, runId, differences },
    };
  }
  if (error instanceof ChargeRunFailedError) {
    const { orderId, workflowId, failure } = error;
    return {
      code: ExitCode.failure,
      type: error.name,
      message: error.message,
      details: { orderId, workflowId, failure },
    };
  }
  if (error instanceof WorkflowNotFoundError)
    return {
      code: ExitCode.failure,
      type: error.name,
      message: `workflow ${error.workflowId} not found: ${error.message}`,
    };
  const name = error instanceof Error ? error.name : 'Error';
  return { code: ExitCode.failure, type: name, message: messageWithCauses(error) };
}

/** `message: cause message: …`, each cause once (the SDK often repeats them). */
function messageWithCauses(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error; e !== undefined && parts.length < 5;) {
    const text = e instanceof Error ? e.message : JSON.stringify(e);
    if (!parts.some((p) => p.includes(text))) parts.push(text);
    e = e instanceof Error ? e.cause : undefined;
  }
  return parts.join(': ');
}
