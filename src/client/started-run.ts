// What a workflow's current run was started with, read from its first history event, so a run
// started by anyone (this client, the Temporal CLI, a raw SDK call, a reset) can be compared
// with what a caller asks for. One page of one event: never the whole history.
import {
  isGrpcServiceError,
  ServiceError,
  WorkflowNotFoundError,
  type Client,
} from '@temporalio/client';

// gRPC status code (grpc/doc/statuscodes.md); @grpc/grpc-js is not a direct dependency.
const GRPC_NOT_FOUND = 5;

/** The current run of a workflow id and the first argument it was started with. */
export interface StartedRun {
  /**
   * The run that recorded this input (the `originalExecutionRunId` of the first event): the
   * current run itself, or, for a run made by a reset, the run it was reset from, whose start
   * event it copied.
   */
  runId: string;
  /** The first workflow argument, decoded with the client's data converter; `undefined` if none. */
  input: unknown;
}

/**
 * Reads the `WorkflowExecutionStarted` event of `workflowId`'s current run (the latest, whether
 * running or closed) and decodes its first argument through the client's payload codecs and
 * payload converter, as the SDK decodes a result. Costs one `GetWorkflowExecutionHistory` call.
 *
 * Throws `WorkflowNotFoundError` when the id has no run (or its history is gone), and the SDK's
 * `ServiceError` (the gRPC error as `cause`) when the server does not answer.
 *
 * Payloads offloaded to the data converter's experimental external storage are not fetched: a
 * charge input is far smaller than any offload threshold.
 */
export async function readStartedRun(client: Client, workflowId: string): Promise<StartedRun> {
  const namespace = client.options.namespace;
  let response;
  try {
    response = await client.workflowService.getWorkflowExecutionHistory({
      namespace,
      execution: { workflowId },
      // The start event is always the first; the server may add the rest of its batch.
      maximumPageSize: 1,
      skipArchival: true,
    });
  } catch (error) {
    // Mapped as the SDK maps its own calls' gRPC errors (WorkflowClient.rethrowGrpcError).
    if (!isGrpcServiceError(error)) throw error;
    const code: number = error.code;
    if (code === GRPC_NOT_FOUND)
      throw new WorkflowNotFoundError(
        error.details || `workflow ${workflowId} not found`,
        workflowId,
        undefined,
      );
    throw new ServiceError(`failed to read the start event of workflow ${workflowId}`, {
      cause: error,
    });
  }
  const started = response.history?.events?.[0]?.workflowExecutionStartedEventAttributes;
  if (!started)
    throw new ServiceError(
      `the history of workflow ${workflowId} does not begin with WorkflowExecutionStarted; ` +
        'cannot tell what its run was started with',
    );
  const first = started.input?.payloads?.[0];
  let input: unknown;
  if (first) {
    const { payloadCodecs, payloadConverter } = client.options.loadedDataConverter;
    const context = { type: 'workflow', namespace, workflowId } as const;
    // Codecs decode in the reverse order of encoding (the SDK's codec-helpers `decode`).
    let payloads = [first];
    for (const codec of [...payloadCodecs].reverse())
      payloads = await codec.decode(payloads, context);
    const [decoded] = payloads;
    input = decoded && payloadConverter.fromPayload(decoded);
  }
  return { runId: started.originalExecutionRunId ?? '', input };
}
