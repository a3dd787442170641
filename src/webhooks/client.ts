// The receiver's Temporal client: lazy (the receiver starts, and answers 503, while Temporal is
// down), without the SDK's retry interceptor (a handler never retries: Stripe redelivers), and
// with a short reconnect backoff so it recovers within seconds of Temporal coming back.
import { Client, Connection } from '@temporalio/client';
import type { Config } from '../config.js';
import { temporalConnectionOptions } from '../temporal.js';

/** gRPC reconnect backoff bounds (grpc-js defaults grow to 120 s). */
const RECONNECT_BACKOFF_MS = { initial: 250, max: 2000 } as const;

/** A client for the webhook handler; `deadlineMs` also bounds connecting. */
export function createReceiverClient(
  config: Config,
  deadlineMs = config.WEBHOOK_DEADLINE_MS,
): Client {
  const { options, namespace } = temporalConnectionOptions(config);
  const connection = Connection.lazy({
    ...options,
    interceptors: [],
    connectTimeout: deadlineMs,
    channelArgs: {
      'grpc.initial_reconnect_backoff_ms': RECONNECT_BACKOFF_MS.initial,
      'grpc.max_reconnect_backoff_ms': RECONNECT_BACKOFF_MS.max,
    },
  });
  return new Client({ connection, namespace });
}
